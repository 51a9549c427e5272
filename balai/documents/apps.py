from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "balai.documents"
    label = "documents"
    verbose_name = "Dokumen"

    def ready(self) -> None:
        from django.core import checks

        from balai.documents.checks import key_dir_check

        checks.register(key_dir_check, checks.Tags.security)
