from django.urls import path

from balai.accounts import views

app_name = "accounts"

urlpatterns = [
    path("masuk/", views.LoginView.as_view(), name="login"),
    path("keluar/", views.LogoutView.as_view(), name="logout"),
    path("otp/", views.otp_verify, name="otp-verify"),
    path("otp/siapkan/", views.otp_setup, name="otp-setup"),
    path("petugas/", views.staff_home, name="staff-home"),
    path("petugas/kantor/", views.switch_office, name="switch-office"),
    path("warga/", views.citizen_home, name="citizen-home"),
    path(
        "kantor/<str:code>/petugas/",
        views.office_staff_roster,
        name="office-staff",
    ),
]
