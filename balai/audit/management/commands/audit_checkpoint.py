from django.core.management.base import BaseCommand

from balai.audit.actions import make_checkpoints


class Command(BaseCommand):
    help = "Tandatangani kepala setiap rantai audit yang bertambah (checkpoint)."

    def handle(self, *args, **options):
        made = make_checkpoints()
        self.stdout.write(f"{len(made)} checkpoint dibuat.")
