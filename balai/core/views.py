"""Public pages that belong to no domain: home and health."""

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from balai.regions import selectors as regions


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The public home page: what Balai is, its parts, the regency in figures."""
    per_level = dict(
        regions.regions()
        .filter(code__startswith=settings.BALAI_REGENCY)
        .order_by()
        .values_list("level")
        .annotate(n=Count("code"))
    )
    return render(
        request,
        "core/home.html",
        {
            "n_kecamatan": per_level.get("kecamatan", 0),
            "n_desa": per_level.get("desa", 0),
            "n_kelurahan": per_level.get("kelurahan", 0),
        },
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return JsonResponse({"status": "error", "database": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})
