"""`balai seed_applications --applications N`: a synthetic history of past
counter applications over the residents already in the register."""

from __future__ import annotations

import datetime
import random
import secrets
import threading
import time
from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test.utils import override_settings
from django.utils import timezone

from balai.accounts.models import Posting
from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.regions.models import Office, OfficeKind
from balai.registry.models import Resident, ResidentStatus
from balai.services.bulk import PastApplication, PastStep, file_past_applications
from balai.services.models import Application, Service

# (service code, share, form data) of the synthetic history.
SIAK_MIX = [
    ("ktp-el-baru", 0.40, {}),
    ("ktp-el-ganti", 0.20, {"reason": "hilang"}),
    ("kia", 0.20, {}),
]
LETTER_MIX = [
    ("sktm", 0.10, {"purpose": "Keringanan biaya sekolah"}),
    ("surat-pengantar", 0.10, {"addressed_to": "Camat", "purpose": "Pengurusan"}),
]
FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def _staff(system: Actor, office: Office, username: str, role: str, head: bool):
    """A synthetic officer posted at `office` (made once), as an Actor."""
    from balai.accounts.actions import create_posting, create_staff
    from balai.accounts.models import User
    from balai.accounts.selectors import actor_for

    user = User.objects.filter(username=username).first()
    if user is None:
        # A random password nobody is told, stored with a hasher the server
        # does not accept (hundreds of accounts in seconds): nobody logs in.
        with override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
            user = create_staff(
                actor=system,
                username=username,
                full_name=f"Petugas {office.name}",
                password=secrets.token_urlsafe(32),
                check_password=False,
            )
    if not Posting.objects.filter(user=user, office=office, role=role).exists():
        create_posting(
            actor=system,
            user=user,
            office=office,
            position="Kepala" if head else "Petugas",
            role=role,
            start_date=datetime.date(2020, 1, 1),
            is_head=head,
        )
    return actor_for(user=user)


class Staff:
    def __init__(self, system: Actor) -> None:
        offices = Office.objects.filter(is_active=True)
        self.mpp = {}
        self.desa_clerk = {}
        self.desa_head = {}
        for office in offices.filter(kind=OfficeKind.MPP).order_by("code"):
            kec = office.region_id
            self.mpp[kec] = _staff(
                system, office, f"riwayat.loket.{kec}", "counter_officer", False
            )
        dukcapil = offices.get(code="DISDUKCAPIL")
        self.dukcapil = _staff(
            system, dukcapil, "riwayat.dukcapil", "registry_officer", False
        )
        for office in offices.filter(
            kind__in=[OfficeKind.DESA, OfficeKind.KELURAHAN]
        ).order_by("code"):
            village = office.region_id
            self.desa_clerk[village] = _staff(
                system, office, f"riwayat.desa.{village}", "counter_officer", False
            )
            self.desa_head[village] = _staff(
                system, office, f"riwayat.kades.{village}", "leader", True
            )


def _history(
    rng: random.Random,
    *,
    letter: bool,
    clerk: Actor,
    staff: Staff,
    village: str,
    submitted: datetime.datetime,
    until: datetime.datetime,
) -> list[PastStep]:
    """The steps taken since filing, cut at `until` (recent work stays open)."""
    if letter:
        head = staff.desa_head[village]
        path = [
            ("start_verification", clerk, ""),
            ("accept", clerk, ""),
            ("approve", head, ""),
            ("issue", clerk, ""),
            ("collect", clerk, ""),
        ]
    else:
        path = [
            ("start_verification", clerk, ""),
            ("hand_off", clerk, ""),
            ("approve", staff.dukcapil, ""),
            ("issue", staff.dukcapil, ""),
            ("collect", clerk, ""),
        ]
    outcome = rng.random()
    if outcome < 0.05:
        path = [*path[:1], ("reject", clerk, "Berkas persyaratan tidak lengkap.")]
    elif outcome < 0.07:
        path = [("cancel", clerk, "")]
    elif outcome < 0.08:
        path = [*path[:1], ("request_revision", clerk, "Foto KK tidak terbaca.")]
    elif outcome < 0.11:
        path = path[:-1]  # issued, never collected
    steps = []
    at = submitted
    for name, who, note in path:
        at = at + datetime.timedelta(seconds=rng.randint(1200, 60000))
        if at >= until:
            break
        steps.append(PastStep(name=name, at=at, by=who, note=note))
    return steps


def _generate(
    total: int, *, seed: int, days: int, until: datetime.datetime, staff: Staff
) -> Iterator[PastApplication]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    services = {s.code: s for s in Service.objects.all()}
    mix = [(services[code], share, form, False) for code, share, form in SIAK_MIX]
    mix += [(services[code], share, form, True) for code, share, form in LETTER_MIX]
    weights = [m[1] for m in mix]
    people = list(
        Resident.objects.filter(status=ResidentStatus.ALIVE, nik__isnull=False)
        .order_by("id")
        .values_list("id", "village_id", "name")
    )
    if not people:
        raise CommandError("Register kosong: isi dulu dengan balai seed_population.")
    span = days * 86400
    for _n in range(total):
        pk, village, name = people[rng.randrange(len(people))]
        service, _share, form, letter = rng.choices(mix, weights)[0]
        kecamatan = ".".join(village.split(".")[:3])
        clerk = staff.desa_clerk[village] if letter else staff.mpp[kecamatan]
        submitted = until - datetime.timedelta(seconds=rng.randint(60, span))
        resident = Resident(id=pk, village_id=village, name=name)
        yield PastApplication(
            service=service,
            filed_by=clerk,
            submitted_at=submitted,
            applicant=resident,
            form_data=form,
            steps=_history(
                rng,
                letter=letter,
                clerk=clerk,
                staff=staff,
                village=village,
                submitted=submitted,
                until=until,
            ),
        )


class Command(BaseCommand):
    help = (
        "Isi riwayat permohonan loket sintetis (tidak ada orang nyata) atas penduduk "
        "di register, lewat jalur massal layanan: baris dan langkah yang sama "
        "dengan aksi, log perubahan dan audit ikut tertulis."
    )

    def add_arguments(self, parser):
        parser.add_argument("--applications", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1, help="benih acak")
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--days", type=int, default=730, help="rentang riwayat")
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="penulis paralel (bawaan: 2 di PostgreSQL, 1 di SQLite)",
        )

    def handle(self, *args, **options):
        total, size = options["applications"], options["batch"]
        if total < 1 or size < 1:
            raise CommandError("Jumlah permohonan dan ukuran batch harus positif.")
        system = Actor.system(name="seed_applications")
        staff = Staff(system)
        until = timezone.now().replace(microsecond=0)
        workers = options["workers"] or (2 if connection.vendor == "postgresql" else 1)
        started = time.perf_counter()
        before = Application.objects.count()
        items = _generate(
            total, seed=options["seed"], days=options["days"], until=until, staff=staff
        )
        lock = threading.Lock()
        done = {"applications": 0, "events": 0, "batches": 0}
        failures: list[BaseException] = []

        def batches() -> Iterator[tuple[int, list]]:
            batch: list = []
            number = 0
            for item in items:
                batch.append(item)
                if len(batch) == size:
                    number += 1
                    yield number, batch
                    batch = []
            if batch:
                yield number + 1, batch

        def write(number: int, batch: list) -> None:
            try:
                result = file_past_applications(
                    actor=system,
                    applications=batch,
                    label=f"seed_applications seed={options['seed']} batch={number}",
                )
            except BalaiError as exc:
                raise CommandError(exc.message) from exc
            with lock:
                done["applications"] += result.applications
                done["events"] += result.events
                done["batches"] += 1
                if done["batches"] % 20 == 0:
                    self.stdout.write(
                        f"  {done['applications']} permohonan, {done['events']} "
                        f"langkah ({time.perf_counter() - started:.0f} dtk)"
                    )

        source = batches()
        if workers == 1:
            for number, batch in source:
                write(number, batch)
        else:
            feed = threading.Lock()

            def run() -> None:
                try:
                    while not failures:
                        with feed:
                            nxt = next(source, None)
                        if nxt is None:
                            return
                        write(*nxt)
                except BaseException as exc:
                    failures.append(exc)
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=run) for _ in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if failures:
                raise failures[0]
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{done['applications']} permohonan ({done['events']} langkah) tercatat "
            f"dalam {elapsed:.1f} detik; kini {before + done['applications']} "
            "permohonan."
        )
