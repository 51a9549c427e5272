from django.core.management.base import BaseCommand

from balai.notify.sending import send_due_messages


class Command(BaseCommand):
    help = (
        "Kirim pesan yang sudah jatuh tempo: percobaan pertama yang tertinggal, "
        "pengiriman ulang setelah jeda, dan pengiriman yang terhenti."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=200)

    def handle(self, *args, **options):
        run = send_due_messages(limit=options["limit"])
        self.stdout.write(
            f"diproses {run.picked}: terkirim {run.sent}, diterima {run.delivered}, "
            f"dicoba ulang nanti {run.retrying}, gagal {run.failed}"
        )
