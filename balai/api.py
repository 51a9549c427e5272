"""The JSON API at /api/v1/: one NinjaAPI, one error shape, routers per app."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from balai.core.errors import BalaiError

api = NinjaAPI(
    title="Balai API",
    version="1",
    description=(
        "API platform layanan publik Balai. Setiap kesalahan berbentuk "
        '`{"message", "code", "extra"}`; setiap penulisan menerima header '
        "`Idempotency-Key`."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request: HttpRequest, status: int, message: str, code: str, extra=None):
    return api.create_response(
        request, {"message": message, "code": code, "extra": extra or {}}, status=status
    )


@api.exception_handler(BalaiError)
def on_balai_error(request: HttpRequest, exc: BalaiError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message, exc.code, exc.extra)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path")]
        fields.append({"field": ".".join(loc), "error": err.get("msg", "")})
    return _error(
        request,
        422,
        "Data yang dikirim tidak valid. Periksa kolom yang disebutkan.",
        "validation_error",
        {"fields": fields},
    )


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "Silakan masuk terlebih dahulu.", "unauthenticated")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc), "http_error")


def _register_routers() -> None:
    from balai.accounts.api import offices_router
    from balai.accounts.api import router as accounts_router
    from balai.antrian.api import router as antrian_router
    from balai.documents.api import router as documents_router
    from balai.notify.api import router as notify_router
    from balai.regions.api import router as regions_router
    from balai.registry.api import router as registry_router
    from balai.services.api import applications_router, citizens_router, track_router
    from balai.services.api import router as services_router
    from balai.sync.api import router as sync_router

    api.add_router("/auth", accounts_router)
    api.add_router("/documents", documents_router)
    api.add_router("/offices", offices_router)
    api.add_router("/regions", regions_router)
    api.add_router("/registry", registry_router)
    api.add_router("/services", services_router)
    api.add_router("/applications", applications_router)
    api.add_router("/track", track_router)
    api.add_router("/citizens", citizens_router)
    api.add_router("/notify", notify_router)
    api.add_router("/antrian", antrian_router)
    api.add_router("/sync", sync_router)


_register_routers()
