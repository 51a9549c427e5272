"""The register's actions: what they write, and what they refuse."""

import datetime

import pytest
from django.test import override_settings

from balai.audit.models import AuditEntry
from balai.core.errors import BalaiError, Conflict, NotFound, PermissionDenied
from balai.core.models import ChangeRecord
from balai.registry import actions as A
from balai.registry.events import EventNotAllowed
from balai.registry.models import (
    CorrectionStatus,
    EventKind,
    Family,
    Flag,
    LifeEvent,
    Resident,
    ResidentStatus,
)
from balai.registry.rebuild import check
from balai.registry.reference import MaritalStatus, Religion, Shdk

pytestmark = pytest.mark.django_db

JAHAB = "64.02.06.1001"  # a kelurahan of Tenggarong
TIMBAU = "64.02.06.1004"  # another one
TABANG = "64.02.12.2001"  # a desa of Tabang
SEBERANG = "64.02.16.2001"  # a desa of Tenggarong Seberang


@pytest.fixture
def officer(make_staff, actor_of):
    return actor_of(make_staff(office="MPP-64.02.06", role="registry_officer"))


@pytest.fixture
def counter(make_staff, actor_of):
    return actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))


@pytest.fixture
def registrar(make_staff, actor_of):
    return actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))


@pytest.fixture
def regency_officer(make_staff, actor_of):
    return actor_of(make_staff(office="DISDUKCAPIL", role="registry_officer"))


@pytest.fixture
def couple(make_resident):
    """A married couple in Jahab: the husband heads the KK."""
    husband = make_resident(
        village=JAHAB,
        name="Awang Darmawan",
        birth_date=datetime.date(1985, 4, 2),
        marital_status=MaritalStatus.KAWIN,
    )
    wife = make_resident(
        family=husband.family,
        shdk=Shdk.ISTRI,
        name="Dayang Aisyah",
        sex="P",
        birth_date=datetime.date(1988, 9, 20),
        marital_status=MaritalStatus.KAWIN,
    )
    return husband, wife


def snapshot():
    return (
        LifeEvent.objects.count(),
        Resident.objects.count(),
        Family.objects.count(),
        AuditEntry.objects.count(),
        ChangeRecord.objects.count(),
        list(Resident.objects.order_by("pk").values_list("version", "status")),
    )


def baby(**kw):
    values = {
        "name": "Aji Raffi",
        "sex": "L",
        "birth_date": datetime.date(2025, 3, 1),
        "religion": Religion.ISLAM,
    }
    values.update(kw)
    return A.Person(**values)


# --- Registration, owner office, audit ------------------------------------------


def test_registration_writes_projection_events_audit_and_change_log(make_resident):
    before_audit = AuditEntry.objects.count()
    before_changes = ChangeRecord.objects.count()
    resident = make_resident(village=TABANG, name="Yohanes Lirung", religion=2)
    assert resident.owner_office.code == "MPP-64.02.12"
    assert resident.family.owner_office.code == "MPP-64.02.12"
    assert resident.kecamatan_code == "64.02.12"
    assert resident.family.head_id == resident.pk
    assert resident.name_key
    events = list(LifeEvent.objects.filter(resident=resident))
    assert [(e.kind, e.seq) for e in events] == [(EventKind.REGISTRATION, 1)]
    assert events[0].data["set"]["name"] == "Yohanes Lirung"
    # Change records: the family, the resident and both events.
    assert ChangeRecord.objects.count() - before_changes == 4
    assert AuditEntry.objects.count() - before_audit == 1
    assert check() == []


def test_birth_awaits_its_nik_from_siak(couple, counter):
    husband, wife = couple
    child = A.register_birth(
        actor=counter, family=husband.family, person=baby(), mother=wife, father=husband
    )
    assert child.nik is None
    assert child.flags == [Flag.AWAITING_NIK]
    assert (child.mother_name, child.mother_nik) == (wife.name, wife.nik)
    assert (child.father_name, child.father_nik) == (husband.name, husband.nik)
    assert child.family_id == husband.family_id
    assert child.shdk == Shdk.ANAK
    assert child.village_id == JAHAB
    assert child.events.get().kind == EventKind.BIRTH
    assert check() == []


@override_settings(BALAI_NUMBERS="local")
def test_birth_in_local_mode_gets_a_nik_from_balai(couple, counter):
    husband, wife = couple
    child = A.register_birth(
        actor=counter,
        family=husband.family,
        person=baby(sex="P", birth_date=datetime.date(2025, 3, 1)),
        mother=wife,
    )
    assert child.nik == "6402064103250001"
    assert child.flags == []


def test_record_issued_nik(couple, officer, counter):
    husband, wife = couple
    child = A.register_birth(
        actor=counter, family=husband.family, person=baby(), mother=wife
    )
    with pytest.raises(PermissionDenied):
        A.record_issued_nik(actor=counter, resident=child, nik="6402060103250001")
    before = snapshot()
    with pytest.raises(BalaiError) as exc:
        A.record_issued_nik(actor=officer, resident=child, nik="6402063202250000")
    assert exc.value.code == "nik_invalid"
    assert "0000" in exc.value.message
    assert "tanggal" in exc.value.message
    assert snapshot() == before
    child = A.record_issued_nik(actor=officer, resident=child, nik="6402060103250001")
    assert child.nik == "6402060103250001"
    assert child.flags == []
    assert [e.kind for e in child.events.order_by("seq")] == [
        EventKind.BIRTH,
        EventKind.NIK_ISSUED,
    ]
    with pytest.raises(EventNotAllowed):
        A.record_issued_nik(actor=officer, resident=child, nik="6402060103250002")
    assert check() == []


def test_a_nik_that_disagrees_with_sex_is_kept_and_flagged(couple, officer, counter):
    husband, _wife = couple
    child = A.register_birth(actor=counter, family=husband.family, person=baby())
    # SIAK's number says a girl: kept, flagged for an officer to check.
    child = A.record_issued_nik(actor=officer, resident=child, nik="6402064103250001")
    assert child.flags == [Flag.NIK_TO_CHECK]


def test_record_issued_kk(make_resident, officer):
    resident = make_resident(village=JAHAB, kk_number=None)
    family = resident.family
    assert family.kk_number is None
    with pytest.raises(BalaiError) as exc:
        A.record_issued_kk(actor=officer, family=family, kk_number="6402063202250001")
    assert exc.value.code == "kk_invalid"
    family = A.record_issued_kk(
        actor=officer, family=family, kk_number="6402060102250001"
    )
    assert family.kk_number == "6402060102250001"
    with pytest.raises(EventNotAllowed):
        A.record_issued_kk(actor=officer, family=family, kk_number="6402060102250002")


# --- Death and what it forbids ---------------------------------------------------


def test_nothing_happens_after_a_death(couple, counter):
    husband, wife = couple
    A.register_death(
        actor=counter,
        resident=husband,
        occurred_on=datetime.date(2025, 1, 5),
        place="RSUD AM Parikesit",
        spouse=wife,
    )
    husband.refresh_from_db()
    wife.refresh_from_db()
    assert husband.status == ResidentStatus.DEAD
    assert husband.status_date == datetime.date(2025, 1, 5)
    assert wife.marital_status == MaritalStatus.CERAI_MATI
    family = husband.family
    family.refresh_from_db()
    assert family.head_id is None, "the KK has no living head now"
    assert family.is_active
    before = snapshot()
    attempts = [
        lambda: A.register_death(
            actor=counter, resident=husband, occurred_on=datetime.date(2025, 2, 1)
        ),
        lambda: A.move_out(
            actor=counter,
            residents=[husband],
            occurred_on=datetime.date(2025, 2, 1),
            destination="Kota Samarinda",
        ),
        lambda: A.propose_correction(
            actor=counter,
            resident=husband,
            field="name",
            new_value="Awang Darmawan Syah",
            reason="salah ketik",
            evidence="akta kematian",
        ),
        lambda: A.move_within(
            actor=counter,
            mode="split",
            residents=[husband],
            relations={husband.pk: Shdk.KEPALA_KELUARGA},
            address=A.Address(village=TIMBAU),
            occurred_on=datetime.date(2025, 2, 1),
        ),
    ]
    for attempt in attempts:
        with pytest.raises(EventNotAllowed) as exc:
            attempt()
        assert "meninggal" in exc.value.message
    assert snapshot() == before
    assert check() == []


def test_death_date_must_be_possible(make_resident, counter):
    resident = make_resident(birth_date=datetime.date(1990, 1, 1))
    before = snapshot()
    for day, word in (
        ("2024-02-30", "bukan tanggal"),
        (datetime.date(1989, 12, 31), "lebih awal"),
        (datetime.date.today() + datetime.timedelta(days=2), "masa depan"),
    ):
        with pytest.raises(BalaiError) as exc:
            A.register_death(actor=counter, resident=resident, occurred_on=day)
        assert word in exc.value.message
    assert snapshot() == before


# --- Moves -----------------------------------------------------------------------


def test_move_out_then_come_back(couple, counter):
    husband, wife = couple
    A.move_out(
        actor=counter,
        residents=[husband, wife],
        occurred_on=datetime.date(2024, 6, 1),
        destination="Kota Balikpapan",
    )
    husband.refresh_from_db()
    assert husband.status == ResidentStatus.MOVED_OUT
    assert not Family.objects.get(pk=husband.family_id).is_active
    with pytest.raises(EventNotAllowed) as exc:
        A.move_within(
            actor=counter,
            mode="split",
            residents=[husband],
            relations={husband.pk: Shdk.KEPALA_KELUARGA},
            address=A.Address(village=TIMBAU),
            occurred_on=datetime.date(2024, 7, 1),
        )
    assert "pindah keluar" in exc.value.message
    back = A.register_arrival(
        actor=counter,
        person=A.Person(
            name=husband.name,
            sex="L",
            birth_date=husband.birth_date,
            religion=husband.religion,
            nik=husband.nik,
        ),
        occurred_on=datetime.date(2025, 1, 2),
        origin="Kota Balikpapan",
        address=A.Address(village=TIMBAU, rt="4"),
    )
    assert back.pk == husband.pk
    assert back.status == ResidentStatus.ALIVE
    assert back.village_id == TIMBAU
    assert back.family.head_id == back.pk
    assert back.rt == "004"
    assert check() == []


def test_join_a_kk_but_never_as_a_second_head(couple, make_resident, counter):
    husband, _wife = couple
    single = make_resident(village=TIMBAU, name="Andi Baso")
    before = snapshot()
    with pytest.raises(BalaiError) as exc:
        A.move_within(
            actor=counter,
            mode="join",
            residents=[single],
            relations={single.pk: Shdk.KEPALA_KELUARGA},
            to_family=husband.family,
            occurred_on=datetime.date(2025, 1, 10),
        )
    assert "kepala keluarga" in exc.value.message
    assert snapshot() == before
    family = A.move_within(
        actor=counter,
        mode="join",
        residents=[single],
        relations={single.pk: Shdk.FAMILI_LAIN},
        to_family=husband.family,
        occurred_on=datetime.date(2025, 1, 10),
    )
    single.refresh_from_db()
    assert family.pk == husband.family_id
    assert (single.family_id, single.shdk, single.village_id) == (
        family.pk,
        Shdk.FAMILI_LAIN,
        JAHAB,
    )
    old = Family.objects.get(events__resident__isnull=True, members=None)
    assert not old.is_active
    assert old.head_id is None
    assert check() == []


def test_split_into_a_new_kk(couple, make_resident, counter):
    husband, _wife = couple
    son = make_resident(
        family=husband.family,
        shdk=Shdk.ANAK,
        name="Awang Rizky",
        birth_date=datetime.date(2003, 5, 5),
    )
    with pytest.raises(BalaiError) as exc:
        A.move_within(
            actor=counter,
            mode="split",
            residents=[son],
            relations={son.pk: Shdk.ANAK},
            address=A.Address(village=TIMBAU),
            occurred_on=datetime.date(2025, 1, 10),
        )
    assert "tepat satu kepala keluarga" in exc.value.message
    new = A.move_within(
        actor=counter,
        mode="split",
        residents=[son],
        relations={son.pk: Shdk.KEPALA_KELUARGA},
        address=A.Address(village=TIMBAU, rt="12", street="Jl. Pesut"),
        occurred_on=datetime.date(2025, 1, 10),
    )
    assert new.head_id == son.pk
    assert new.kk_number is None
    assert new.is_active
    assert new.village_id == TIMBAU
    husband.family.refresh_from_db()
    assert husband.family.head_id == husband.pk
    assert check() == []


def test_a_kecamatan_officer_stays_in_his_kecamatan(couple, counter, regency_officer):
    husband, wife = couple
    # Moving the whole family to Tenggarong Seberang: outside his scope.
    with pytest.raises(NotFound):
        A.move_within(
            actor=counter,
            mode="family",
            family=husband.family,
            address=A.Address(village=SEBERANG),
            occurred_on=datetime.date(2025, 1, 10),
        )
    family = A.move_within(
        actor=regency_officer,
        mode="family",
        family=husband.family,
        address=A.Address(village=SEBERANG, dusun="Dusun II"),
        occurred_on=datetime.date(2025, 1, 10),
    )
    husband.refresh_from_db()
    wife.refresh_from_db()
    assert family.village_id == SEBERANG
    assert family.owner_office.code == "MPP-64.02.16"
    assert husband.owner_office.code == wife.owner_office.code == "MPP-64.02.16"
    assert (husband.dusun, wife.kecamatan_code) == ("Dusun II", "64.02.16")
    # Now the Tenggarong officer cannot see them at all.
    with pytest.raises(NotFound):
        A.register_death(
            actor=counter, resident=husband, occurred_on=datetime.date(2025, 2, 1)
        )
    assert check() == []


def test_out_of_scope_resident_is_not_found(make_resident, counter):
    far = make_resident(village=TABANG)
    before = snapshot()
    with pytest.raises(NotFound):
        A.register_death(
            actor=counter, resident=far, occurred_on=datetime.date(2025, 1, 1)
        )
    assert snapshot() == before


def test_roles(make_staff, actor_of, make_resident):
    leader = actor_of(make_staff(office="MPP-64.02.06", role="leader"))
    resident = make_resident()
    with pytest.raises(PermissionDenied):
        A.register_death(
            actor=leader, resident=resident, occurred_on=datetime.date(2025, 1, 1)
        )


# --- Arrivals ----------------------------------------------------------------------


def test_arrival_with_a_nik_from_elsewhere(counter):
    # A NIK of Kota Makassar (73.71.xx), issued long ago: kept as it is.
    resident = A.register_arrival(
        actor=counter,
        person=A.Person(
            name="Andi Mappanyukki",
            sex="L",
            birth_date=datetime.date(1979, 8, 17),
            religion=Religion.ISLAM,
            nik="7371011708790004",
        ),
        occurred_on=datetime.date(2025, 2, 3),
        origin="Kota Makassar",
        address=A.Address(village=JAHAB, rt="7"),
    )
    assert resident.nik == "7371011708790004"
    assert resident.flags == []
    assert resident.events.get().kind == EventKind.ARRIVAL
    assert resident.events.get().data["origin"] == "Kota Makassar"


def test_arrival_with_an_unknown_kecamatan_is_flagged(counter):
    resident = A.register_arrival(
        actor=counter,
        person=A.Person(
            name="Slamet Riyadi",
            sex="L",
            birth_date=datetime.date(1960, 1, 5),
            religion=Religion.ISLAM,
            nik="3399990501600012",
        ),
        occurred_on=datetime.date(2025, 2, 3),
        origin="Jawa Tengah",
        address=A.Address(village=JAHAB),
    )
    assert resident.flags == [Flag.NIK_TO_CHECK]


def test_arrival_with_an_impossible_nik_is_refused_with_every_reason(counter):
    before = snapshot()
    with pytest.raises(BalaiError) as exc:
        A.register_arrival(
            actor=counter,
            person=A.Person(
                name="Slamet",
                sex="L",
                birth_date="1960-02-30",
                religion=99,
                nik="9912993202600000",
            ),
            occurred_on=datetime.date(2025, 2, 3),
            origin="Jawa Tengah",
            address=A.Address(village=JAHAB),
        )
    fields = {e["field"] for e in exc.value.extra["errors"]}
    assert {"nik", "religion"} <= fields
    assert any("tanggal lahir" in e["field"] for e in exc.value.extra["errors"])
    assert "provinsi 99" in exc.value.message
    assert "0000" in exc.value.message
    assert snapshot() == before


def test_arrival_of_someone_already_here_is_refused(make_resident, counter):
    resident = make_resident()
    with pytest.raises(Conflict):
        A.register_arrival(
            actor=counter,
            person=A.Person(
                name="X",
                sex=resident.sex,
                birth_date=resident.birth_date,
                religion=1,
                nik=resident.nik,
            ),
            occurred_on=datetime.date(2025, 2, 3),
            origin="Kota Samarinda",
            address=A.Address(village=JAHAB),
        )


# --- Marriage, divorce, new KK ---------------------------------------------------


def test_marriage_and_divorce(make_resident, counter):
    groom = make_resident(birth_date=datetime.date(1998, 1, 1))
    bride = make_resident(sex="P", birth_date=datetime.date(2008, 6, 1))
    with pytest.raises(BalaiError) as exc:
        A.register_marriage(
            actor=counter,
            husband=groom,
            wife=bride,
            occurred_on=datetime.date(2025, 1, 1),
        )
    assert "dispensasi" in exc.value.message
    event = A.register_marriage(
        actor=counter,
        husband=groom,
        wife=bride,
        occurred_on=datetime.date(2025, 1, 1),
        dispensation="12/Pdt.P/2024/PA.Tgr",
        marriage_cert_number="0123/045/I/2025",
    )
    groom.refresh_from_db()
    bride.refresh_from_db()
    assert groom.marital_status == bride.marital_status == MaritalStatus.KAWIN
    assert groom.marriage_date == datetime.date(2025, 1, 1)
    assert LifeEvent.objects.filter(group_id=event.group_id).count() == 2
    with pytest.raises(EventNotAllowed):
        A.register_marriage(
            actor=counter,
            husband=groom,
            wife=bride,
            occurred_on=datetime.date(2025, 1, 2),
        )
    A.register_divorce(
        actor=counter,
        first=groom,
        second=bride,
        occurred_on=datetime.date(2025, 3, 1),
        divorce_cert_number="99/AC/2025/PA.Tgr",
    )
    bride.refresh_from_db()
    assert bride.marital_status == MaritalStatus.CERAI_HIDUP
    with pytest.raises(EventNotAllowed):
        A.register_divorce(
            actor=counter,
            first=groom,
            second=bride,
            occurred_on=datetime.date(2025, 3, 2),
        )
    assert check() == []


def test_new_kk_has_exactly_one_head(couple, counter):
    husband, wife = couple
    before = snapshot()
    with pytest.raises(BalaiError) as exc:
        A.create_family(
            actor=counter,
            members={
                husband.pk: Shdk.KEPALA_KELUARGA,
                wife.pk: Shdk.KEPALA_KELUARGA,
            },
        )
    assert "tepat satu kepala keluarga" in exc.value.message
    assert snapshot() == before
    family = A.new_kk(
        actor=counter,
        members=[(wife, Shdk.KEPALA_KELUARGA)],
        address=A.Address(village=TIMBAU),
        occurred_on=datetime.date(2025, 1, 1),
    )
    assert family.head_id == wife.pk
    wife.refresh_from_db()
    assert wife.village_id == TIMBAU
    assert check() == []


# --- Corrections -------------------------------------------------------------------


def test_correction_needs_a_second_person(make_resident, make_staff, actor_of):
    resident = make_resident(birth_date=datetime.date(1990, 1, 15))
    nik = resident.nik
    registrar_user = make_staff(office="DISDUKCAPIL", role="registrar")
    registrar = actor_of(registrar_user)
    correction = A.propose_correction(
        actor=registrar,
        resident=resident,
        field="birth_date",
        new_value="1990-01-16",
        reason="salah ketik saat pendataan",
        evidence="akta kelahiran 6402-LT-16011990-0001",
    )
    assert correction.status == CorrectionStatus.PENDING
    resident.refresh_from_db()
    assert resident.birth_date == datetime.date(1990, 1, 15), "nothing changes yet"
    with pytest.raises(PermissionDenied) as exc:
        A.approve_correction(actor=registrar, correction=correction)
    assert exc.value.code == "same_person"
    counter = actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))
    with pytest.raises(PermissionDenied):
        A.approve_correction(actor=counter, correction=correction)
    other = actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))
    A.approve_correction(actor=other, correction=correction, note="sesuai akta")
    resident.refresh_from_db()
    correction.refresh_from_db()
    assert resident.birth_date == datetime.date(1990, 1, 16)
    assert resident.nik == nik, "a corrected birth date keeps the old NIK"
    assert resident.flags == [Flag.NIK_TO_CHECK]
    event = correction.event
    assert event.kind == EventKind.CORRECTION
    assert (event.entered_by, event.approved_by) == (
        registrar_user.username,
        other.username,
    )
    assert event.data["old"] == "1990-01-15"
    assert event.data["new"] == "1990-01-16"
    assert event.data["evidence"].startswith("akta")
    with pytest.raises(Conflict):
        A.approve_correction(actor=other, correction=correction)
    assert check() == []


def test_correction_back_to_the_nik_date_clears_the_flag(
    make_resident, counter, registrar
):
    resident = make_resident(birth_date=datetime.date(1990, 1, 15))
    for value in ("1990-01-16", "1990-01-15"):
        correction = A.propose_correction(
            actor=counter,
            resident=resident,
            field="birth_date",
            new_value=value,
            reason="koreksi",
            evidence="akta",
        )
        A.approve_correction(actor=registrar, correction=correction)
    resident.refresh_from_db()
    assert resident.flags == []
    assert resident.version == 3


def test_correction_refusals(make_resident, counter, registrar):
    resident = make_resident(birth_date=datetime.date(1990, 1, 15))
    cases = [
        ("birth_date", "1990-02-30", "bukan tanggal"),
        ("birth_date", "2999-01-01", "masa depan"),
        ("nik", "6402061501900000", "0000"),
        ("religion", 42, "daftar SIAK"),
        ("status", "mati", "tidak valid"),
        ("shdk", Shdk.ANAK, "Kepala keluarga"),
        ("version", 7, "tidak dapat dikoreksi"),
        ("name", resident.name, "sama"),
    ]
    before = snapshot()
    for field, value, word in cases:
        with pytest.raises(BalaiError) as exc:
            A.propose_correction(
                actor=counter,
                resident=resident,
                field=field,
                new_value=value,
                reason="r",
                evidence="e",
            )
        assert word in exc.value.message, (field, exc.value.message)
    with pytest.raises(BalaiError) as exc:
        A.propose_correction(
            actor=counter,
            resident=resident,
            field="name",
            new_value="Nama Baru",
            reason="",
            evidence="",
        )
    assert {e["field"] for e in exc.value.extra["errors"]} == {"reason", "evidence"}
    assert snapshot() == before


def test_stale_correction_and_rejection(make_resident, counter, registrar):
    resident = make_resident(name="Muhammad Yusuf")
    first = A.propose_correction(
        actor=counter,
        resident=resident,
        field="name",
        new_value="Muhammad Yusuf Effendi",
        reason="r",
        evidence="e",
    )
    second = A.propose_correction(
        actor=counter,
        resident=resident,
        field="birth_place",
        new_value="Tenggarong",
        reason="r",
        evidence="e",
    )
    A.reject_correction(actor=registrar, correction=second, note="bukti kurang")
    second.refresh_from_db()
    assert second.status == CorrectionStatus.REJECTED
    resident.refresh_from_db()
    assert resident.birth_place == ""
    A.approve_correction(actor=registrar, correction=first)
    third = A.propose_correction(
        actor=counter,
        resident=resident,
        field="name",
        new_value="M. Yusuf Effendi",
        reason="r",
        evidence="e",
    )
    A.approve_correction(actor=registrar, correction=third)
    resident.refresh_from_db()
    assert resident.name == "M. Yusuf Effendi"
    # A correction proposed before an event changed the same field is stale.
    stale = A.propose_correction(
        actor=counter,
        resident=resident,
        field="marital_status",
        new_value=MaritalStatus.CERAI_HIDUP,
        reason="r",
        evidence="e",
    )
    bride = make_resident(sex="P", birth_date=datetime.date(1992, 2, 2))
    A.register_marriage(
        actor=counter,
        husband=resident,
        wife=bride,
        occurred_on=datetime.date(2025, 1, 1),
    )
    with pytest.raises(Conflict) as exc:
        A.approve_correction(actor=registrar, correction=stale)
    assert "sudah berubah" in exc.value.message
    resident.refresh_from_db()
    assert resident.marital_status == MaritalStatus.KAWIN
    assert check() == []


def test_correction_to_invalid(make_resident, counter, registrar):
    resident = make_resident()
    correction = A.propose_correction(
        actor=counter,
        resident=resident,
        field="status",
        new_value="tidak_valid",
        reason="data ganda",
        evidence="berita acara verifikasi",
    )
    A.approve_correction(actor=registrar, correction=correction)
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.INVALID
    with pytest.raises(EventNotAllowed):
        A.register_death(
            actor=counter, resident=resident, occurred_on=datetime.date(2025, 1, 1)
        )


# --- Bulk -------------------------------------------------------------------------


def person(name, sex="L", birth=datetime.date(1980, 1, 1), **kw):
    return A.Person(name=name, sex=sex, birth_date=birth, religion=1, **kw)


def test_bulk_refuses_the_batch_with_every_problem_and_where(officer):
    families = [
        A.FamilyInput(
            address=A.Address(village=JAHAB),
            members=[
                A.Member(person=person("A", nik="6402060101800001"), shdk=1),
                A.Member(person=person("B", sex="P", nik="6402064101800001"), shdk=1),
            ],
        ),
        A.FamilyInput(
            address=A.Address(village="64.02.06.9999"),
            members=[A.Member(person=person("C", nik="6402060101800001"), shdk=1)],
        ),
        A.FamilyInput(
            address=A.Address(village=TABANG),
            members=[A.Member(person=person("D"), shdk=1)],
        ),
    ]
    before = snapshot()
    with pytest.raises(BalaiError) as exc:
        A.register_residents_bulk(actor=officer, families=families)
    errors = exc.value.extra["errors"]
    messages = [(e["where"], e["message"]) for e in errors]
    assert any(w == "KK ke-1" and "tepat satu kepala" in m for w, m in messages)
    assert any(w == "KK ke-2" and "tidak dikenal" in m for w, m in messages)
    assert any(w == "KK ke-2 anggota ke-1" and "juga dipakai" in m for w, m in messages)
    assert any(w == "KK ke-3" and "di luar wilayah" in m for w, m in messages)
    assert snapshot() == before


def test_bulk_needs_a_registry_role(counter):
    with pytest.raises(PermissionDenied):
        A.register_residents_bulk(actor=counter, families=[])


def test_idempotent_birth(couple, counter):
    husband, _wife = couple
    first = A.register_birth(
        actor=counter, family=husband.family, person=baby(), idempotency_key="k-1"
    )
    again = A.register_birth(
        actor=counter, family=husband.family, person=baby(), idempotency_key="k-1"
    )
    assert first.pk == again.pk
    assert Resident.objects.filter(name="Aji Raffi").count() == 1


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({}, []),
        ({"name": "  Siti Aminah  ", "father_nik": "6402061234"}, ["father_nik"]),
        ({"name": "", "birth_date": "31-02-1990", "sex": "X"}, ["name"]),
        ({"nik": "6402064107900001", "sex": "P"}, []),
        ({"marriage_date": "1980-01-01"}, ["tanggal perkawinan"]),
        ({"phone": "08-12", "divorce_date": datetime.date(2999, 1, 1)}, ["phone"]),
    ],
)
def test_clean_person_values_agrees_with_clean_person(changes, refused):
    person = A.Person(
        name="Budi Santoso",
        sex="L",
        birth_date=datetime.date(1990, 7, 1),
        religion=Religion.ISLAM,
        nik="6402060107900001",
    )
    person = A.Person(**{**person.__dict__, **changes})
    day = datetime.date(2026, 11, 28)
    by_person, by_values = A.Problems(), A.Problems()
    expected = A.clean_person(person, by_person, where="x", today_=day)
    got = A.clean_person_values(dict(person.__dict__), by_values, where="x", today_=day)
    assert got == expected
    assert by_values.items == by_person.items
    # The cases do what they are meant to: some clean, some with problems.
    assert {p["field"] for p in by_person.items} >= set(refused)
    assert bool(by_person.items) == bool(refused)
