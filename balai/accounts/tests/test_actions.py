import datetime
import uuid

import pytest
from django.contrib.auth import authenticate

from balai.accounts.actions import (
    create_citizen_account,
    create_posting,
    create_staff,
    end_posting,
    normalize_phone,
)
from balai.accounts.models import AccountKind, User
from balai.audit.models import AuditEntry
from balai.core.errors import BalaiError, NotFound, PermissionDenied
from balai.regions.models import Office

pytestmark = pytest.mark.django_db

STRONG = "Mahakam-Tepian-2026"


# --- citizen accounts ------------------------------------------------------------


def test_a_counter_officer_opens_a_citizen_account(make_staff, actor_of, rf):
    officer = actor_of(make_staff(role="counter_officer"))
    resident = uuid.uuid4()
    user = create_citizen_account(
        actor=officer,
        username="siti.warga",
        password=STRONG,
        phone="0812-5555-0101",
        resident_id=str(resident),
    )
    user.refresh_from_db()
    assert user.kind == AccountKind.CITIZEN
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert user.phone == "+6281255550101"
    assert user.resident_id == resident
    assert user.postings.count() == 0
    assert user.password.startswith(("argon2", "md5")), "hashed, never plain"
    assert authenticate(rf.post("/"), username="siti.warga", password=STRONG) == user
    entry = AuditEntry.objects.get(object_id=str(user.pk))
    assert entry.action == "accounts.citizen.create"
    assert entry.chain == officer.office_code
    assert STRONG not in str(entry.details)
    assert entry.details["resident_id"] == str(resident)


def test_a_citizen_account_without_phone_or_resident(system_actor):
    user = create_citizen_account(
        actor=system_actor, username="warga.baru", password=STRONG
    )
    assert (user.phone, user.resident_id) == ("", None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("081234567890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("(0541) 661234", "+62541661234"),
    ],
)
def test_phone_numbers_are_normalised(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "0812", "+1 415 555 0100", "08x2345678"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(BalaiError) as info:
        normalize_phone(raw)
    assert info.value.code == "phone_invalid"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"username": "Warga.Satu"}, "username_taken"),
        ({"username": "a b"}, "username_invalid"),
        ({"username": "  "}, "username_required"),
        ({"password": "12345678901"}, "weak_password"),
        ({"phone": "999"}, "phone_invalid"),
        ({"resident_id": "bukan-uuid"}, "resident_invalid"),
    ],
)
def test_citizen_account_refusals_write_nothing(system_actor, kwargs, code):
    create_citizen_account(actor=system_actor, username="warga.satu", password=STRONG)
    users, entries = User.objects.count(), AuditEntry.objects.count()
    args = {"username": "warga.dua", "password": STRONG, **kwargs}
    with pytest.raises(BalaiError) as info:
        create_citizen_account(actor=system_actor, **args)
    assert info.value.code == code
    assert (User.objects.count(), AuditEntry.objects.count()) == (users, entries)


def test_one_citizen_account_per_resident(system_actor):
    resident = uuid.uuid4()
    create_citizen_account(
        actor=system_actor, username="ayah", password=STRONG, resident_id=resident
    )
    with pytest.raises(BalaiError) as info:
        create_citizen_account(
            actor=system_actor, username="ayah2", password=STRONG, resident_id=resident
        )
    assert info.value.code == "resident_has_account"


@pytest.mark.parametrize("role", ["leader", "network_operator", "auditor"])
def test_other_roles_cannot_open_citizen_accounts(make_staff, actor_of, role):
    actor = actor_of(make_staff(role=role, office="DPMPTSP"))
    with pytest.raises(PermissionDenied):
        create_citizen_account(actor=actor, username="warga.x", password=STRONG)
    assert not User.objects.filter(username="warga.x").exists()


def test_a_citizen_cannot_be_posted_to_an_office(system_actor):
    citizen = create_citizen_account(
        actor=system_actor, username="warga.y", password=STRONG
    )
    with pytest.raises(BalaiError) as info:
        create_posting(
            actor=system_actor,
            user=citizen,
            office=Office.objects.get(code="MPP-64.02.06"),
            position="Petugas",
            role="counter_officer",
            start_date=datetime.date(2025, 1, 1),
        )
    assert info.value.code == "not_staff"


# --- staff and postings ------------------------------------------------------------


def test_staff_usernames_are_unique_regardless_of_case(system_actor):
    create_staff(
        actor=system_actor, username="Budi", full_name="Budi S", password=STRONG
    )
    with pytest.raises(BalaiError) as info:
        create_staff(
            actor=system_actor, username="budi", full_name="Budi T", password=STRONG
        )
    assert info.value.code == "username_taken"


def test_postings_are_made_only_within_the_admins_scope(make_staff, actor_of):
    # A system administrator posted at a kecamatan MPP administers that kecamatan.
    local_admin = actor_of(make_staff(office="MPP-64.02.06", role="sysadmin"))
    user = make_staff()
    with pytest.raises(NotFound):
        create_posting(
            actor=local_admin,
            user=user,
            office=Office.objects.get(code="MPP-64.02.12"),
            position="Petugas",
            role="counter_officer",
            start_date=datetime.date(2025, 1, 1),
        )
    posting = create_posting(
        actor=local_admin,
        user=user,
        office=Office.objects.get(code="MPP-64.02.06"),
        position="Petugas",
        role="registry_officer",
        start_date=datetime.date(2025, 1, 1),
    )
    assert posting.office.code == "MPP-64.02.06"


def test_only_system_administrators_post_staff(make_staff, actor_of):
    leader = actor_of(make_staff(role="leader"))
    with pytest.raises(PermissionDenied):
        create_posting(
            actor=leader,
            user=make_staff(),
            office=Office.objects.get(code="MPP-64.02.06"),
            position="Petugas",
            role="counter_officer",
            start_date=datetime.date(2025, 1, 1),
        )


def test_two_definitive_heads_cannot_overlap_but_a_plt_may(make_staff, system_actor):
    make_staff(office="MPP-64.02.12", role="leader", position="Camat", is_head=True)
    office = Office.objects.get(code="MPP-64.02.12")
    with pytest.raises(BalaiError) as info:
        create_posting(
            actor=system_actor,
            user=make_staff(role="counter_officer"),
            office=office,
            position="Camat",
            role="leader",
            start_date=datetime.date(2025, 1, 1),
            is_head=True,
        )
    assert info.value.code == "head_overlap"
    plt = create_posting(
        actor=system_actor,
        user=make_staff(role="counter_officer"),
        office=office,
        position="Camat",
        role="leader",
        start_date=datetime.date(2025, 1, 1),
        is_head=True,
        is_acting=True,
    )
    assert plt.title == "Plt. Camat"


def test_ending_a_posting_keeps_its_history(make_staff, system_actor):
    user = make_staff()
    posting = user.postings.get()
    end_posting(
        actor=system_actor, posting=posting, end_date=datetime.date(2025, 1, 31)
    )
    posting.refresh_from_db()
    assert posting.end_date == datetime.date(2025, 1, 31)
    with pytest.raises(BalaiError) as info:
        end_posting(
            actor=system_actor, posting=posting, end_date=datetime.date(2023, 1, 1)
        )
    assert info.value.code == "dates_reversed"
