"""`balai demo`: load regions and seed demo data, idempotently."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from balai.core.actors import Actor

# Each domain seeds its own demo data; order follows the dependency arrows.
SEEDERS = [
    "balai.accounts.demo.seed",
    "balai.registry.demo.seed",
    "balai.notify.demo.seed",
    "balai.services.demo.seed",
    "balai.antrian.demo.seed",
]


class Command(BaseCommand):
    help = "Muat wilayah dan data demo (aman diulang: tidak menggandakan apa pun)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true")

    def handle(self, *args, **options):
        if not (settings.BALAI_DEMO or settings.DEBUG):
            raise CommandError(
                "Data demo hanya untuk mode demo (BALAI_DEMO=1), bukan produksi."
            )
        call_command("load_regions", stdout=self.stdout)
        # Receipts and letters are signed at submission: the demo needs the
        # regency's root key and this server's certified signing key.
        call_command("keys_init_root", if_missing=True, stdout=self.stdout)
        actor = Actor.system(name="demo")
        logins: list[tuple[str, str, str]] = []
        for path in SEEDERS:
            result = import_string(path)(actor=actor)
            logins.extend(result or [])
        if logins and not options["quiet_logins"]:
            self.stdout.write("\nLogin petugas demo (kata sandi sama untuk semua):")
            for username, password, what in logins:
                self.stdout.write(f"  {username:<28} {password:<18} {what}")
