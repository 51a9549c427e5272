from django.core.management.base import BaseCommand

from balai.antrian.actions import mark_missed_appointments
from balai.core.actors import Actor


class Command(BaseCommand):
    help = (
        "Tandai janji temu yang slotnya sudah lewat tanpa kedatangan sebagai "
        "'tidak datang' (aman diulang)."
    )

    def handle(self, *args, **options):
        run = mark_missed_appointments(actor=Actor.system(name="janji-temu"))
        offices = ", ".join(run.offices) or "-"
        self.stdout.write(f"tidak datang: {run.missed} (kantor: {offices})")
