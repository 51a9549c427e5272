from django.core.management.base import BaseCommand, CommandError

from balai.audit.verify import chains, verify_all


class Command(BaseCommand):
    help = "Periksa setiap rantai log audit terhadap tautan dan checkpoint-nya."

    def handle(self, *args, **options):
        findings = verify_all()
        for finding in findings:
            self.stderr.write(str(finding))
        if findings:
            raise CommandError(f"{len(findings)} rantai audit tidak utuh.")
        self.stdout.write(f"Log audit utuh: {len(chains())} rantai diperiksa.")
