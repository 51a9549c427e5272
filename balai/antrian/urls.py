from django.urls import path

from balai.antrian import views

app_name = "antrian"

urlpatterns = [
    path("", views.index, name="index"),
    path("loket/", views.console, name="console"),
    path("loket/<uuid:counter_id>/panggil/", views.call_next, name="call-next"),
    path("statistik/", views.stats, name="stats"),
    path("tiket/<uuid:ticket_id>/", views.ticket, name="ticket"),
    path("tiket/<uuid:ticket_id>/alihkan/", views.transfer, name="transfer"),
    path("tiket/<uuid:ticket_id>/tautkan/", views.link, name="link"),
    path(
        "tiket/<uuid:ticket_id>/<slug:verb>/",
        views.ticket_action,
        name="ticket-action",
    ),
    path("<str:office_code>/anjungan/", views.kiosk, name="kiosk"),
    path("<str:office_code>/layar/", views.display, name="display"),
]
