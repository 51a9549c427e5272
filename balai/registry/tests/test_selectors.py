"""The register's read side: whole records are logged; the citizen sees who read."""

import datetime
import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balai.audit.models import AccessLog
from balai.core.actors import Actor
from balai.core.errors import BalaiError, NotFound, PermissionDenied
from balai.registry.selectors import (
    family_detail,
    get_resident_detail,
    mask_nik,
    who_read_my_record,
)

TENGGARONG_VILLAGE = "64.02.06.1001"
TABANG_VILLAGE = "64.02.12.2001"


def citizen_of(resident) -> Actor:
    return Actor(
        user_id=uuid.uuid4(),
        username=f"warga-{resident.pk}",
        roles=frozenset({"citizen"}),
        scope=(),
        is_citizen=True,
        resident_id=resident.pk,
    )


@pytest.fixture
def counter(make_staff, actor_of):
    """A counter officer at the Tenggarong MPP."""
    return actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))


@pytest.fixture
def helpdesk(make_staff, actor_of):
    return actor_of(make_staff(office="MPP-64.02.06", role="helpdesk_officer"))


# --- masking --------------------------------------------------------------------


def test_mask_nik():
    assert mask_nik("6402061201900012") == "6402********0012"
    assert mask_nik(None) == ""
    assert mask_nik("") == ""
    assert mask_nik("12345") == "*****"


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_mask_never_gives_the_number_whole(number):
    masked = mask_nik(number)
    assert masked != number
    assert len(masked) == len(number)
    if len(number) == 16:
        assert re.fullmatch(r"\d{4}\*{8}\d{4}", masked)


# --- a resident's whole record ----------------------------------------------------


def test_reading_a_record_writes_the_access_log(make_resident, counter):
    person = make_resident(name="Siti Aminah", village=TENGGARONG_VILLAGE)
    detail = get_resident_detail(counter, person.pk, "layanan")
    assert detail.resident == person
    assert detail.nik == person.nik
    assert detail.nik_whole
    log = AccessLog.objects.get(subject_id=str(person.pk))
    assert log.subject_type == "registry.resident"
    assert log.actor_id == str(counter.user_id)
    assert log.actor_name == counter.username
    assert log.office_code == "MPP-64.02.06"
    assert log.purpose == "layanan"
    assert log.what == "record_nik"
    assert log.at is not None


def test_a_role_without_whole_numbers_sees_them_masked(make_resident, helpdesk):
    head = make_resident(name="Rudi Hartono", kk_number="6402060101240003")
    detail = get_resident_detail(helpdesk, head.pk, "verifikasi")
    assert not detail.nik_whole
    assert detail.nik == mask_nik(head.nik)
    assert detail.kk_number == "6402********0003"
    assert AccessLog.objects.get(subject_id=str(head.pk)).what == "record"


def test_record_holds_family_and_events_in_order(make_resident, counter, system_actor):
    from balai.registry.actions import register_death

    head = make_resident(name="Rudi Hartono", kk_number="6402060101240004")
    child = make_resident(name="Rina Hartono", family=head.family, shdk=4)
    register_death(actor=system_actor, resident=head, occurred_on=datetime.date.today())
    detail = get_resident_detail(counter, head.pk, "layanan")
    assert detail.family == head.family
    assert detail.kk_number == "6402060101240004"
    assert {m.id for m in detail.members} == {head.pk, child.pk}
    assert [m.is_subject for m in detail.members if m.id == head.pk] == [True]
    # Members' NIKs are masked even for a role that sees the subject's whole.
    assert all(re.fullmatch(r"\d{4}\*{8}\d{4}", m.nik) for m in detail.members)
    kinds = [e.kind for e in detail.events]
    assert kinds[-1] == "mati"
    days = [(e.occurred_on, e.recorded_at) for e in detail.events]
    assert days == sorted(days)


def test_a_purpose_is_required_and_nothing_is_logged_without_it(make_resident, counter):
    person = make_resident(name="Siti Aminah")
    for purpose in (None, "", "iseng", "pribadi"):
        with pytest.raises(BalaiError) as err:
            get_resident_detail(counter, person.pk, purpose)
        assert err.value.code == "purpose_required"
    assert not AccessLog.objects.filter(subject_id=str(person.pk)).exists()


def test_out_of_scope_is_not_found_and_not_logged(make_resident, counter):
    tabang = make_resident(name="Awang Long", village=TABANG_VILLAGE)
    with pytest.raises(NotFound):
        get_resident_detail(counter, tabang.pk, "layanan")
    with pytest.raises(NotFound):
        get_resident_detail(counter, "bukan-uuid", "layanan")
    with pytest.raises(NotFound):
        get_resident_detail(counter, uuid.uuid4(), "layanan")
    assert not AccessLog.objects.filter(subject_id=str(tabang.pk)).exists()


def test_roles_that_do_not_read_the_register_are_refused(
    make_resident, make_staff, actor_of
):
    person = make_resident(name="Siti Aminah")
    operator = actor_of(make_staff(office="DISDUKCAPIL", role="network_operator"))
    with pytest.raises(PermissionDenied):
        get_resident_detail(operator, person.pk, "layanan")
    assert not AccessLog.objects.filter(subject_id=str(person.pk)).exists()


def test_a_citizen_reads_only_his_own_record(make_resident):
    me = make_resident(name="Siti Aminah")
    other = make_resident(name="Siti Aminah")
    citizen = citizen_of(me)
    detail = get_resident_detail(citizen, me.pk, None)
    assert detail.nik == me.nik
    assert detail.purpose == "pribadi"
    with pytest.raises(NotFound):
        get_resident_detail(citizen, other.pk, "layanan")
    assert (
        AccessLog.objects.filter(subject_id=str(me.pk), purpose="pribadi").count() == 1
    )
    assert not AccessLog.objects.filter(subject_id=str(other.pk)).exists()


# --- a family ---------------------------------------------------------------------


def test_family_detail_masks_the_kk_unless_a_purpose_is_given(make_resident, counter):
    head = make_resident(name="Rudi Hartono", kk_number="6402060101240005")
    child = make_resident(name="Rina Hartono", family=head.family, shdk=4)
    detail = family_detail(counter, head.family_id)
    assert detail.kk_number == "6402********0005"
    assert not detail.kk_whole
    assert detail.head.id == head.pk
    assert [m.id for m in detail.members] == [head.pk, child.pk]
    assert not AccessLog.objects.filter(subject_id=str(head.family_id)).exists()
    whole = family_detail(counter, head.family_id, purpose="layanan")
    assert whole.kk_number == "6402060101240005"
    log = AccessLog.objects.get(subject_id=str(head.family_id))
    assert (log.subject_type, log.what) == ("registry.family", "family_kk")


def test_family_out_of_scope_is_not_found(make_resident, counter):
    tabang = make_resident(name="Awang Long", village=TABANG_VILLAGE)
    with pytest.raises(NotFound):
        family_detail(counter, tabang.family_id)


# --- "Siapa yang melihat data saya" -----------------------------------------------


def test_citizen_sees_who_read_his_record(make_resident, make_staff, actor_of):
    me = make_resident(name="Siti Aminah", village=TENGGARONG_VILLAGE)
    someone_else = make_resident(name="Budi Santoso", village=TENGGARONG_VILLAGE)
    first = actor_of(
        make_staff(office="MPP-64.02.06", role="counter_officer", username="loket1")
    )
    second = actor_of(
        make_staff(office="DISDUKCAPIL", role="registrar", username="dukcapil1")
    )
    citizen = citizen_of(me)
    get_resident_detail(first, me.pk, "layanan")
    get_resident_detail(second, me.pk, "verifikasi")
    get_resident_detail(first, someone_else.pk, "layanan")
    get_resident_detail(citizen, me.pk, None)  # his own read is not listed

    rows = who_read_my_record(citizen)
    assert [r.reader for r in rows] == ["Pegawai dukcapil1", "Pegawai loket1"]
    assert [r.office_code for r in rows] == ["DISDUKCAPIL", "MPP-64.02.06"]
    assert rows[1].office_name == "Mal Pelayanan Publik Kecamatan Tenggarong"
    assert [r.purpose for r in rows] == ["verifikasi", "layanan"]
    assert rows[1].purpose_label == "pelayanan"
    assert rows[0].at >= rows[1].at


def test_who_read_my_record_names_the_position_and_pages(
    make_resident, make_staff, actor_of
):
    me = make_resident(name="Siti Aminah", village=TENGGARONG_VILLAGE)
    clerk = actor_of(
        make_staff(
            office="MPP-64.02.06",
            role="counter_officer",
            username="loket9",
            position="Petugas Loket 2",
        )
    )
    for _ in range(3):
        get_resident_detail(clerk, me.pk, "layanan")
    citizen = citizen_of(me)
    rows = who_read_my_record(citizen)
    assert [r.position for r in rows] == ["Petugas Loket 2"] * 3
    ids = list(
        AccessLog.objects.filter(subject_id=str(me.pk))
        .order_by("-at", "-id")
        .values_list("at", flat=True)
    )
    assert [r.at for r in who_read_my_record(citizen, limit=2)] == ids[:2]
    assert [r.at for r in who_read_my_record(citizen, limit=2, offset=2)] == ids[2:]
    assert who_read_my_record(citizen, limit=2, offset=3) == []


def test_only_a_citizen_asks_who_read_his_record(counter, make_resident):
    with pytest.raises(PermissionDenied):
        who_read_my_record(counter)
    nobody = Actor(
        user_id=uuid.uuid4(),
        username="warga",
        roles=frozenset({"citizen"}),
        scope=(),
        is_citizen=True,
    )
    with pytest.raises(PermissionDenied):
        who_read_my_record(nobody)
