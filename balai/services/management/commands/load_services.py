from django.core.management.base import BaseCommand, CommandError

from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.services.actions import load_catalogue


class Command(BaseCommand):
    help = (
        "Muat katalog layanan bawaan Balai (aman diulang: layanan yang sudah ada, "
        "termasuk hasil suntingan administrator, tidak diubah)."
    )

    def handle(self, *args, **options):
        try:
            result = load_catalogue(actor=Actor.system(name="load_services"))
        except BalaiError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"layanan: {len(result.created)} baru, {result.unchanged} sudah ada"
        )
