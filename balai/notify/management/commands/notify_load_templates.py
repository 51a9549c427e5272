from django.core.management.base import BaseCommand

from balai.core.actors import Actor
from balai.notify.actions import seed_templates


class Command(BaseCommand):
    help = "Muat templat pesan bawaan yang belum ada (aman diulang)."

    def handle(self, *args, **options):
        created = seed_templates(actor=Actor.system(name="notify_load_templates"))
        self.stdout.write(f"templat pesan: {len(created)} baru")
