from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from balai.core.nodes import REGENCY_NODE


class Command(BaseCommand):
    help = (
        "Mulai epoch baru di node (setelah memulihkan cadangan): perubahan yang "
        "belum diterima kabupaten diberi nomor baru, agar tidak tertukar dengan "
        "perubahan lama yang sudah diterima."
    )

    def handle(self, *args, **options):
        from balai.sync.outbox import SyncNotReady, start_new_epoch

        if settings.BALAI_NODE == REGENCY_NODE:
            raise CommandError("Perintah ini untuk node kecamatan.")
        try:
            epoch, count = start_new_epoch()
        except SyncNotReady as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"epoch {epoch} dimulai; {count} perubahan diberi nomor baru")
