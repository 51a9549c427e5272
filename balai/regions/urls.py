from django.urls import path

from balai.regions import views

app_name = "regions"

urlpatterns = [
    path("", views.kecamatan_list, name="kecamatan-list"),
]
