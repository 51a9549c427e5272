"""Approved applications change the register, through the register's actions,
in the approval's transaction; a refused register change leaves the
application where it was."""

import datetime as dt

import pytest

from balai.core.errors import BalaiError, PermissionDenied
from balai.registry.models import (
    CorrectionRequest,
    CorrectionStatus,
    EventKind,
    LifeEvent,
    Resident,
    ResidentStatus,
)
from balai.registry.reference import MaritalStatus, Shdk
from balai.services.models import Application, AttachmentKind, Status
from balai.services.tests.conftest import JAHAB, TIMBAU

pytestmark = pytest.mark.django_db


@pytest.fixture
def to_dukcapil(counter, step):
    """Verify and hand an application off to Disdukcapil."""

    def run(app):
        step(counter, app, "start_verification")
        return step(counter, app, "hand_off")

    return run


def test_death_is_recorded_on_approval(
    resident, make_resident, citizen, apply_online, to_dukcapil, registrar, step
):
    head = resident()
    grandmother = make_resident(family=head.family, name="Nenek", shdk=Shdk.ORANG_TUA)
    _, actor = citizen(head)
    app = apply_online(
        actor,
        "akta-kematian",
        {"death_date": "2026-03-01", "death_place": "RSUD AM Parikesit"},
        relation="family_member",
        subjects=[{"nik": grandmother.nik}],
    )
    to_dukcapil(app)
    grandmother.refresh_from_db()
    assert grandmother.status == ResidentStatus.ALIVE  # nothing before approval
    app = step(registrar, app, "approve")
    grandmother.refresh_from_db()
    assert grandmother.status == ResidentStatus.DEAD
    event = LifeEvent.objects.get(resident=grandmother, kind=EventKind.DEATH)
    assert event.occurred_on == dt.date(2026, 3, 1)
    assert event.data["place"] == "RSUD AM Parikesit"
    approval = app.events.get(transition="approve")
    assert approval.data["register"]["resident_id"] == str(grandmother.pk)


def test_a_refused_register_change_leaves_everything_as_it_was(
    resident, make_resident, citizen, apply_online, to_dukcapil, registrar, step
):
    head = resident()
    member = make_resident(family=head.family, name="Anggota", shdk=Shdk.FAMILI_LAIN)
    _, actor = citizen(head)
    app = apply_online(
        actor,
        "akta-kematian",
        # A death before the person was born: the register refuses it.
        {"death_date": "1950-01-01", "death_place": "Tenggarong"},
        relation="family_member",
        subjects=[{"nik": member.nik}],
    )
    to_dukcapil(app)
    with pytest.raises(BalaiError):
        step(registrar, app, "approve")
    app.refresh_from_db()
    assert app.status == Status.PROCESSING
    assert not app.events.filter(transition="approve").exists()
    member.refresh_from_db()
    assert member.status == ResidentStatus.ALIVE


def test_birth_then_the_nik_siak_issued(
    resident,
    citizen,
    apply_online,
    to_dukcapil,
    registrar,
    dukcapil_officer,
    step,
    upload,
):
    mother = resident(sex="P", name="Ibu Bayi", birth_date=dt.date(1995, 5, 5))
    _, actor = citizen(mother)
    app = apply_online(
        actor,
        "akta-kelahiran",
        {
            "child_name": "Bayi Baru Lahir",
            "sex": "L",
            "birth_date": "2026-02-20",
            "birth_place": "Tenggarong",
            "mother_nik": mother.nik,
            "kk_number": mother.family.kk_number,
        },
        relation="parent",
    )
    to_dukcapil(app)
    app = step(registrar, app, "approve")
    baby = Resident.objects.get(name="Bayi Baru Lahir")
    assert baby.family_id == mother.family_id
    assert baby.mother_nik == mother.nik
    assert baby.nik in (None, "")  # BALAI_NUMBERS=siak: awaiting SIAK
    nik = "640206" + "200226" + "0001"
    pdf = upload(dukcapil_officer, kind=AttachmentKind.SIAK_DOCUMENT)
    app = step(
        dukcapil_officer,
        app,
        "issue",
        attachments=[pdf.pk],
        numbers={
            "nik": nik,
            "akta_number": "6402-LU-20022026-0001",
            "kk_number": mother.family.kk_number,
        },
    )
    baby.refresh_from_db()
    assert baby.nik == nik
    assert app.events.get(transition="issue").data["register"]["nik_recorded"] == str(
        baby.pk
    )


def test_move_within_the_regency(
    resident, citizen, apply_online, to_dukcapil, registrar, step
):
    person = resident(village=JAHAB)
    _, actor = citizen(person)
    app = apply_online(
        actor,
        "pindah-dalam",
        {
            "village_code": TIMBAU,
            "street": "Jl. Pindah 1",
            "rt": "002",
            "reason": "Pekerjaan",
            "whole_family": True,
        },
    )
    to_dukcapil(app)
    step(registrar, app, "approve")
    person.refresh_from_db()
    assert person.village_id == TIMBAU
    assert person.family.village_id == TIMBAU
    assert LifeEvent.objects.filter(
        resident=person, kind=EventKind.MOVE_WITHIN
    ).exists()


def test_only_a_registrar_approves_a_register_change(
    resident, citizen, apply_online, to_dukcapil, dukcapil_officer, step
):
    person = resident()
    _, actor = citizen(person)
    app = apply_online(
        actor,
        "pindah-dalam",
        {"village_code": TIMBAU, "street": "Jl. X", "reason": "Kerja"},
    )
    to_dukcapil(app)
    with pytest.raises(PermissionDenied):
        step(dukcapil_officer, app, "approve")


def test_correction_is_proposed_at_hand_off_and_approved_by_the_registrar(
    resident, citizen, apply_online, to_dukcapil, registrar, step
):
    person = resident(birth_place="Tengarong")
    _, actor = citizen(person)
    app = apply_online(
        actor,
        "koreksi-data",
        {"field": "birth_place", "new_value": "Tenggarong", "reason": "Salah ketik"},
    )
    app = to_dukcapil(app)
    proposal = CorrectionRequest.objects.get(resident=person)
    assert proposal.status == CorrectionStatus.PENDING
    person.refresh_from_db()
    assert person.birth_place == "Tengarong"
    step(registrar, app, "approve")
    person.refresh_from_db()
    proposal.refresh_from_db()
    assert person.birth_place == "Tenggarong"
    assert proposal.status == CorrectionStatus.APPROVED
    assert proposal.decided_by == registrar.username


def test_a_returned_correction_is_withdrawn_from_the_register(
    resident, citizen, apply_online, to_dukcapil, registrar, counter, step
):
    person = resident(birth_place="Tengarong")
    _, actor = citizen(person)
    app = apply_online(
        actor,
        "koreksi-data",
        {"field": "birth_place", "new_value": "Tenggarong", "reason": "Salah ketik"},
    )
    to_dukcapil(app)
    app = step(registrar, app, "return_to_office", note="Bukti kurang jelas")
    assert app.owner_office.code == "MPP-64.02.06"
    proposal = CorrectionRequest.objects.get(resident=person)
    assert proposal.status == CorrectionStatus.REJECTED
    # Handed off again, it is proposed again and can be approved.
    app = step(counter, app, "hand_off")
    step(registrar, app, "approve")
    person.refresh_from_db()
    assert person.birth_place == "Tenggarong"


def test_marriage_filed_at_the_counter(
    resident, counter, catalogue, to_dukcapil, registrar, step
):
    from balai.services.actions import submit_application

    groom = resident(name="Calon Suami", birth_date=dt.date(1995, 1, 1), religion=2)
    bride = resident(
        name="Calon Istri", sex="P", birth_date=dt.date(1997, 1, 1), religion=2
    )
    app = submit_application(
        actor=counter,
        service=catalogue["akta-perkawinan"],
        channel="counter",
        form_data={"marriage_date": "2026-02-14", "place": "Gereja Tenggarong"},
        relation="spouse",
        subjects=[{"nik": bride.nik}, {"nik": groom.nik}],
        applicant={"nik": groom.nik},
    )
    to_dukcapil(app)
    step(registrar, app, "approve")
    for person in (groom, bride):
        person.refresh_from_db()
        assert person.marital_status == MaritalStatus.KAWIN
        assert person.marriage_date == dt.date(2026, 2, 14)


def test_new_kk_for_a_couple(
    resident, counter, catalogue, to_dukcapil, registrar, step
):
    from balai.services.actions import submit_application

    husband = resident(
        name="Suami Baru",
        marital_status=MaritalStatus.KAWIN,
        birth_date=dt.date(1990, 1, 1),
    )
    wife = resident(
        name="Istri Baru",
        sex="P",
        marital_status=MaritalStatus.KAWIN,
        birth_date=dt.date(1992, 1, 1),
    )
    app = submit_application(
        actor=counter,
        service=catalogue["kk-baru"],
        channel="counter",
        form_data={"street": "Jl. Keluarga Baru 5", "rt": "003"},
        relation="head_of_family",
        subjects=[{"nik": husband.nik}, {"nik": wife.nik}],
        applicant={"nik": husband.nik},
    )
    to_dukcapil(app)
    step(registrar, app, "approve")
    husband.refresh_from_db()
    wife.refresh_from_db()
    assert husband.family_id == wife.family_id
    assert husband.shdk == Shdk.KEPALA_KELUARGA
    assert wife.shdk == Shdk.ISTRI
    assert husband.family.street == "Jl. Keluarga Baru 5"


def test_move_out_of_the_regency(
    resident, citizen, apply_online, to_dukcapil, registrar, step
):
    person = resident()
    _, actor = citizen(person)
    app = apply_online(
        actor,
        "pindah-keluar",
        {"destination": "Kota Balikpapan, Kalimantan Timur", "reason": "Kerja"},
    )
    to_dukcapil(app)
    step(registrar, app, "approve")
    person.refresh_from_db()
    assert person.status == ResidentStatus.MOVED_OUT


def test_only_approval_writes_the_register(
    resident, citizen, apply_online, counter, step
):
    person = resident()
    _, actor = citizen(person)
    app = apply_online(
        actor, "pindah-keluar", {"destination": "Samarinda", "reason": "Kerja"}
    )
    before = LifeEvent.objects.count()
    step(counter, app, "start_verification")
    step(counter, app, "reject", note="Berkas tidak sah")
    assert LifeEvent.objects.count() == before
    assert Application.objects.get(pk=app.pk).status == Status.REJECTED


def test_divorce_is_recorded_on_approval(
    resident, counter, catalogue, to_dukcapil, registrar, step, system_actor
):
    from balai.registry.actions import register_marriage
    from balai.services.actions import submit_application

    husband = resident(name="Suami Cerai", birth_date=dt.date(1988, 5, 1))
    wife = resident(name="Istri Cerai", sex="P", birth_date=dt.date(1990, 7, 1))
    bystander = resident(name="Tetangga", sex="P", marital_status=MaritalStatus.KAWIN)
    register_marriage(
        actor=system_actor,
        husband=husband,
        wife=wife,
        occurred_on=dt.date(2015, 6, 20),
    )
    app = submit_application(
        actor=counter,
        service=catalogue["akta-perceraian"],
        channel="counter",
        form_data={
            "decision_number": "123/Pdt.G/2026/PA.Tgr",
            "decision_date": "2026-02-10",
        },
        relation="spouse",
        # The wife first: the register is told who is the husband by sex.
        subjects=[{"nik": wife.nik}, {"nik": husband.nik}],
        applicant={"nik": wife.nik},
    )
    to_dukcapil(app)
    for person in (husband, wife):
        person.refresh_from_db()
        assert person.marital_status == MaritalStatus.KAWIN  # nothing before approval
    assert not LifeEvent.objects.filter(kind=EventKind.DIVORCE).exists()

    app = step(registrar, app, "approve")
    assert app.status == Status.APPROVED
    events = LifeEvent.objects.filter(kind=EventKind.DIVORCE)
    assert {e.resident_id for e in events} == {husband.pk, wife.pk}
    for person, other in ((husband, wife), (wife, husband)):
        person.refresh_from_db()
        assert person.marital_status == MaritalStatus.CERAI_HIDUP
        assert person.divorce_date == dt.date(2026, 2, 10)
        assert person.marriage_date == dt.date(2015, 6, 20)
        event = events.get(resident=person)
        assert event.occurred_on == dt.date(2026, 2, 10)
        assert event.data["spouse_id"] == str(other.pk)
    approval = app.events.get(transition="approve")
    assert approval.data["register"]["event_id"] in {str(e.pk) for e in events}
    bystander.refresh_from_db()
    assert bystander.marital_status == MaritalStatus.KAWIN


def test_a_divorce_of_people_not_married_is_refused_and_changes_nothing(
    resident, counter, catalogue, to_dukcapil, registrar, step
):
    from balai.services.actions import submit_application

    first = resident(name="Bujang", birth_date=dt.date(1990, 1, 1))
    second = resident(name="Gadis", sex="P", birth_date=dt.date(1992, 1, 1))
    app = submit_application(
        actor=counter,
        service=catalogue["akta-perceraian"],
        channel="counter",
        form_data={
            "decision_number": "9/Pdt.G/2026/PN.Tgr",
            "decision_date": "2026-02-10",
        },
        relation="spouse",
        subjects=[{"nik": first.nik}, {"nik": second.nik}],
        applicant={"nik": first.nik},
    )
    app = to_dukcapil(app)
    with pytest.raises(BalaiError):
        step(registrar, app, "approve")
    app.refresh_from_db()
    assert app.status == Status.PROCESSING
    assert not LifeEvent.objects.filter(kind=EventKind.DIVORCE).exists()
    for person in (first, second):
        person.refresh_from_db()
        assert person.marital_status != MaritalStatus.CERAI_HIDUP
