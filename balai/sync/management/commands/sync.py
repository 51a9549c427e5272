from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from balai.core.nodes import REGENCY_NODE


class Command(BaseCommand):
    help = (
        "Sinkron node kecamatan dengan kabupaten: satu putaran lewat jaringan; "
        "atau --export/--import/--import-answer untuk bundel USB tanpa jaringan."
    )

    def add_arguments(self, parser):
        parser.add_argument("--export", type=Path, help="node: tulis bundel ke berkas")
        parser.add_argument(
            "--import",
            dest="import_",
            type=Path,
            help="kabupaten: terapkan bundel node",
        )
        parser.add_argument(
            "--answer",
            type=Path,
            help="kabupaten: berkas jawaban (bawaan: BERKAS.jawaban)",
        )
        parser.add_argument(
            "--import-answer", type=Path, help="node: terapkan jawaban kabupaten"
        )

    def handle(self, *args, **options):
        from balai.sync.client import SyncError, run_round
        from balai.sync.outbox import SyncNotReady

        at_regency = settings.BALAI_NODE == REGENCY_NODE
        try:
            if options["import_"]:
                if not at_regency:
                    raise CommandError("--import dijalankan di server kabupaten.")
                from balai.sync.bundle import import_bundle

                source = options["import_"]
                answer = options["answer"] or source.with_name(source.name + ".jawaban")
                result = import_bundle(source, answer)
                self.stdout.write(
                    f"diterapkan {result['applied']} perubahan, konflik "
                    f"{result['conflicts']}; jawaban ({result['pulled']} perubahan "
                    f"untuk node) di {answer}"
                )
                return
            if at_regency:
                raise CommandError(
                    "Server kabupaten tidak menjalankan putaran sinkron; node yang "
                    "menghubunginya. Untuk bundel USB: balai sync --import BERKAS."
                )
            if options["export"]:
                from balai.sync.bundle import export

                result = export(options["export"])
                self.stdout.write(
                    f"bundel ditulis: {result['changes']} perubahan dalam "
                    f"{result['batches']} kiriman, {options['export']}"
                )
                return
            if options["import_answer"]:
                from balai.sync.bundle import import_answer

                result = import_answer(options["import_answer"])
                self.stdout.write(
                    f"jawaban diterapkan: {result['pulled']} perubahan, "
                    f"konflik baru {result['conflicts']}"
                )
                return
            report = run_round()
        except (SyncError, SyncNotReady) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        self.stdout.write(report.summary())
