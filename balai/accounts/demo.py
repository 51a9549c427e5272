"""Demo staff: one of each role, posted where the demo needs them."""

import datetime

from balai.accounts.actions import create_posting, create_staff
from balai.accounts.models import Posting, Role, User
from balai.core.actors import Actor
from balai.regions.models import Office

DEMO_PASSWORD = "balai-demo-2026"  # noqa: S105 - demo only, printed on purpose

# username, full name, office code, position, role, is_head
DEMO_STAFF = [
    ("admin", "Admin Sistem", "DISKOMINFO", "Pranata Komputer", Role.SYSADMIN, False),
    (
        "loket.tenggarong",
        "Rina Handayani",
        "MPP-64.02.06",
        "Petugas Loket",
        Role.COUNTER_OFFICER,
        False,
    ),
    (
        "registrasi.tenggarong",
        "Ahmad Fauzi",
        "MPP-64.02.06",
        "Petugas Registrasi",
        Role.REGISTRY_OFFICER,
        False,
    ),
    (
        "camat.tenggarong",
        "Drs. Syahrani",
        "MPP-64.02.06",
        "Camat Tenggarong",
        Role.LEADER,
        True,
    ),
    (
        "loket.tabang",
        "Yohanes Lirung",
        "MPP-64.02.12",
        "Petugas Loket",
        Role.COUNTER_OFFICER,
        False,
    ),
    (
        "registrasi.tabang",
        "Dayang Norhayati",
        "MPP-64.02.12",
        "Petugas Registrasi",
        Role.REGISTRY_OFFICER,
        False,
    ),
    (
        "helpdesk.tabang",
        "Andi Saputra",
        "MPP-64.02.12",
        "Petugas Helpdesk",
        Role.HELPDESK_OFFICER,
        False,
    ),
    (
        "camat.tabang",
        "Awang Kurniawan",
        "MPP-64.02.12",
        "Camat Tabang",
        Role.LEADER,
        True,
    ),
    (
        "pencatat.disdukcapil",
        "Siti Aminah",
        "DISDUKCAPIL",
        "Pencatat Sipil",
        Role.REGISTRAR,
        False,
    ),
    (
        "registrasi.disdukcapil",
        "Budi Santoso",
        "DISDUKCAPIL",
        "Petugas Registrasi",
        Role.REGISTRY_OFFICER,
        False,
    ),
    (
        "kadis.disdukcapil",
        "H. Aji Rahman",
        "DISDUKCAPIL",
        "Kepala Dinas",
        Role.LEADER,
        True,
    ),
    (
        "admin.layanan",
        "Nur Aisyah",
        "DPMPTSP",
        "Analis Layanan",
        Role.SERVICE_ADMIN,
        False,
    ),
    (
        "operator.jaringan",
        "Rudi Hartono",
        "DISKOMINFO",
        "Operator Jaringan",
        Role.NETWORK_OPERATOR,
        False,
    ),
    ("auditor", "Maria Ulfa", "INSPEKTORAT", "Auditor", Role.AUDITOR, False),
    ("pimpinan", "Bupati (demo)", "DPMPTSP", "Pimpinan", Role.LEADER, False),
]


def seed(*, actor: Actor) -> list[tuple[str, str, str]]:
    """Create the demo staff and their postings; skip what exists."""
    start = datetime.date(2025, 1, 2)
    logins = []
    offices = {
        o.code: o for o in Office.objects.filter(code__in={s[2] for s in DEMO_STAFF})
    }
    for username, full_name, office_code, position, role, is_head in DEMO_STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = create_staff(
                actor=actor,
                username=username,
                full_name=full_name,
                password=DEMO_PASSWORD,
                nip="",
                check_password=False,
                is_sysadmin=role == Role.SYSADMIN,
            )
        office = offices[office_code]
        if not Posting.objects.filter(user=user, office=office, role=role).exists():
            create_posting(
                actor=actor,
                user=user,
                office=office,
                position=position,
                role=role,
                start_date=start,
                is_head=is_head,
            )
        logins.append((username, DEMO_PASSWORD, f"{position}, {office.name}"))
    return logins
