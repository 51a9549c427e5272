from django.urls import path

from balai.sync import views

app_name = "sync"

urlpatterns = [
    path("", views.status, name="status"),
    path("konflik/", views.conflicts, name="conflicts"),
    path("konflik/<uuid:pk>/", views.conflict_detail, name="conflict"),
]
