from django.contrib import admin
from django.urls import include, path

from balai.api import api

admin.site.site_header = "Administrasi Balai"
admin.site.site_title = "Balai"

urlpatterns = [
    path("", include("balai.core.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("akun/", include("balai.accounts.urls")),
    path("wilayah/", include("balai.regions.urls")),
    path("penduduk/", include("balai.registry.urls")),
    path("layanan/", include("balai.services.urls")),
    path("antrian/", include("balai.antrian.urls")),
    path("sinkron/", include("balai.sync.urls")),
    # Document verification (/verifikasi, the QR target /v/<payload>) and delivery.
    path("", include("balai.documents.urls")),
    path("admin/", admin.site.urls),
]
