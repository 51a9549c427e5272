from django.urls import path

from balai.registry import views
from balai.registry import views_digitisation as digitisation

app_name = "registry"

urlpatterns = [
    path("", views.search, name="search"),
    path("cari/hasil/", views.search_results, name="search-results"),
    # The register's pages: resident, KK, life events, corrections.
    path("warga/<uuid:pk>/", views.resident, name="resident"),
    path(
        "warga/<uuid:pk>/peristiwa/<slug:kind>/",
        views.resident_event,
        name="resident-event",
    ),
    path("warga/<uuid:pk>/nik/", views.record_nik, name="record-nik"),
    path("kk/<uuid:pk>/", views.family, name="family"),
    path("kk/<uuid:pk>/nomor/", views.record_kk, name="record-kk"),
    path("menunggu-nomor/", views.awaiting_numbers, name="awaiting-numbers"),
    path("kk/<uuid:pk>/kelahiran/", views.birth, name="birth"),
    path("kedatangan/", views.arrival, name="arrival"),
    path("koreksi/", views.corrections, name="corrections"),
    path(
        "koreksi/<uuid:pk>/<slug:verb>/",
        views.correction_decide,
        name="correction-decide",
    ),
    # Digitisation: imports, reconciliation with SIAK, duplicates.
    path("impor/", digitisation.import_list, name="import-list"),
    path("impor/templat.csv", digitisation.import_template, name="import-template"),
    path("impor/petunjuk/", digitisation.import_help, name="import-help"),
    path("impor/<uuid:job_id>/", digitisation.import_job, name="import-job"),
    path(
        "impor/<uuid:job_id>/lanjutkan/",
        digitisation.import_resume,
        name="import-resume",
    ),
    path(
        "impor/<uuid:job_id>/laporan.csv",
        digitisation.import_report,
        name="import-report",
    ),
    path("rekonsiliasi/", digitisation.reconcile_list, name="reconcile-list"),
    path(
        "rekonsiliasi/<uuid:run_id>/",
        digitisation.reconcile_run,
        name="reconcile-run",
    ),
    path(
        "rekonsiliasi/<uuid:run_id>/daftar.csv",
        digitisation.reconcile_export,
        name="reconcile-export",
    ),
    path(
        "rekonsiliasi/butir/<int:item_id>/<slug:verb>/",
        digitisation.reconcile_item,
        name="reconcile-item",
    ),
    path("ganda/", digitisation.duplicate_list, name="duplicate-list"),
    path("ganda/<uuid:pair_id>/", digitisation.duplicate_pair, name="duplicate-pair"),
    path(
        "ganda/<uuid:pair_id>/<slug:verb>/",
        digitisation.duplicate_decide,
        name="duplicate-decide",
    ),
]
