from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from balai.regions import selectors


@require_GET
def kecamatan_list(request: HttpRequest) -> HttpResponse:
    """List every kecamatan with its desa and kelurahan."""
    return render(
        request,
        "regions/kecamatan_list.html",
        {"kecamatan": selectors.kecamatan_with_villages()},
    )
