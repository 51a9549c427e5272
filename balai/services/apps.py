from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "balai.services"
    label = "services"
    verbose_name = "Layanan dan permohonan"
