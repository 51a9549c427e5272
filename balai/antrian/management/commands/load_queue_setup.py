from django.core.management.base import BaseCommand, CommandError

from balai.antrian.actions import ensure_queue_setup
from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.regions.models import Office, OfficeKind


class Command(BaseCommand):
    help = (
        "Siapkan jalur antrean (A, B, C, P) dan loket bawaan di setiap MPP, atau "
        "di kantor yang disebut; yang sudah ada dibiarkan (aman diulang)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--office",
            action="append",
            default=[],
            help="kode kantor, mis. MPP-64.02.12",
        )

    def handle(self, *args, **options):
        offices = None
        if options["office"]:
            offices = list(
                Office.objects.filter(code__in=options["office"], kind=OfficeKind.MPP)
            )
            missing = set(options["office"]) - {o.code for o in offices}
            if missing:
                raise CommandError("MPP tidak dikenal: " + ", ".join(sorted(missing)))
        try:
            result = ensure_queue_setup(
                actor=Actor.system(name="load_queue_setup"), offices=offices
            )
        except BalaiError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{len(result.offices)} MPP: {result.lanes} jalur baru, "
            f"{result.counters} loket baru"
        )
