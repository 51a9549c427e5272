from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AntrianConfig(AppConfig):
    name = "balai.antrian"
    label = "antrian"
    verbose_name = _("Antrean loket")
