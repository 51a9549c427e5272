from django.core.management.base import BaseCommand

from balai.core.actors import Actor
from balai.services.actions import check_deadlines


class Command(BaseCommand):
    help = "Periksa batas waktu permohonan: peringatan dan pelanggaran (sekali saja)."

    def handle(self, *args, **options):
        result = check_deadlines(actor=Actor.system(name="sla"))
        self.stdout.write(
            f"peringatan: {result.warnings}, terlambat: {result.breaches}"
        )
