from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "balai.sync"
    label = "sync"
    verbose_name = "Sinkronisasi node"

    def ready(self) -> None:
        # A node's clock may be set wrong; tests and the fault bench shift it
        # on purpose (BALAI_CLOCK_OFFSET_SECONDS). No order depends on it.
        from balai.sync import clock

        clock.install_offset_from_env()
