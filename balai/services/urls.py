from django.urls import path

from balai.services import views

app_name = "services"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("lacak/", views.track, name="track"),
    path("daftar/", views.sign_up, name="sign-up"),
    path("daftar/verifikasi/", views.verify_code, name="verify-code"),
    path("saya/", views.my_applications, name="my-applications"),
    path("saya/akses/", views.my_access_log, name="my-access-log"),
    path("permohonan/<uuid:pk>/", views.my_application, name="my-application"),
    path("permohonan/<uuid:pk>/survei/", views.survey, name="survey"),
    path("berkas/<uuid:pk>/", views.attachment, name="attachment"),
    path("petugas/", views.inbox, name="inbox"),
    path(
        "petugas/permohonan/<uuid:pk>/",
        views.officer_application,
        name="officer-application",
    ),
    path("petugas/terlambat/", views.overdue, name="overdue"),
    path("petugas/verifikasi-warga/", views.counter_verify, name="counter-verify"),
    path("petugas/loket/", views.counter_start, name="counter-start"),
    path("petugas/loket/<slug:code>/", views.counter_file, name="counter-file"),
    path(
        "petugas/loket/<slug:code>/kirim/",
        views.counter_submit,
        name="counter-submit",
    ),
    path("kelola/", views.admin_catalogue, name="admin-catalogue"),
    path("kelola/libur/", views.admin_holidays, name="admin-holidays"),
    path(
        "kelola/libur/<uuid:pk>/cabut/",
        views.admin_holiday_withdraw,
        name="admin-holiday-withdraw",
    ),
    path("kelola/<slug:code>/", views.admin_service, name="admin-service"),
    path("<slug:code>/", views.service_detail, name="service"),
    path("<slug:code>/ajukan/", views.apply, name="apply"),
    path("<slug:code>/periksa/", views.review, name="review"),
]
