from django.urls import path

from balai.registry import views

app_name = "registry"

urlpatterns = [
    path("", views.search, name="search"),
]
