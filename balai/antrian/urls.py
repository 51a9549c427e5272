from django.urls import path

from balai.antrian import views

app_name = "antrian"

urlpatterns = [
    path("", views.index, name="index"),
    path("loket/", views.console, name="console"),
    path("loket/<uuid:counter_id>/panggil/", views.call_next, name="call-next"),
    path("statistik/", views.stats, name="stats"),
    path("janji-temu/", views.my_appointments, name="my-appointments"),
    path("janji-temu/baru/", views.new_appointment, name="new-appointment"),
    path(
        "janji-temu/konfirmasi/",
        views.confirm_appointment,
        name="confirm-appointment",
    ),
    path(
        "janji-temu/pengaturan/",
        views.appointment_settings,
        name="appointment-settings",
    ),
    path(
        "janji-temu/<uuid:appointment_id>/batal/",
        views.cancel_appointment,
        name="cancel-appointment",
    ),
    path("loket/janji-temu/", views.officer_check_in, name="checkin"),
    path(
        "loket/janji-temu/daftar/",
        views.office_appointments,
        name="office-appointments",
    ),
    path(
        "loket/janji-temu/<uuid:appointment_id>/tidak-datang/",
        views.office_mark_missed,
        name="office-mark-missed",
    ),
    path(
        "loket/janji-temu/batal-hari/",
        views.office_cancel_day,
        name="office-cancel-day",
    ),
    path(
        "loket/janji-temu/<uuid:appointment_id>/batal/",
        views.office_cancel_appointment,
        name="office-cancel-appointment",
    ),
    path("tiket/<uuid:ticket_id>/", views.ticket, name="ticket"),
    path("tiket/<uuid:ticket_id>/alihkan/", views.transfer, name="transfer"),
    path("tiket/<uuid:ticket_id>/tautkan/", views.link, name="link"),
    path(
        "tiket/<uuid:ticket_id>/<slug:verb>/",
        views.ticket_action,
        name="ticket-action",
    ),
    path("<str:office_code>/anjungan/", views.kiosk, name="kiosk"),
    path(
        "<str:office_code>/anjungan/janji-temu/",
        views.kiosk_check_in,
        name="kiosk-checkin",
    ),
    path("<str:office_code>/layar/", views.display, name="display"),
]
