from django.conf import settings
from django.http import HttpRequest


def balai(request: HttpRequest) -> dict:
    return {
        "BALAI_DEMO": settings.BALAI_DEMO,
        "BALAI_NODE": settings.BALAI_NODE,
        "BALAI_REGENCY": settings.BALAI_REGENCY,
    }
