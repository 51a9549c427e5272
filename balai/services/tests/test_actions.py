"""The services' writes: catalogue, applications, the workflow with its hand-off
and SIAK numbers, optimistic locking, the SLA clock on real applications,
survey, citizen sign-up and the deadline check."""

import datetime as dt
import io
import os
import re
import threading
from dataclasses import replace

import pytest
from django.db import IntegrityError, transaction

from balai.audit.models import AuditEntry
from balai.core.errors import BalaiError, Conflict, NotFound, PermissionDenied
from balai.regions.models import Office
from balai.services import actions as A
from balai.services.models import (
    AlertKind,
    Application,
    ApplicationEvent,
    AttachmentKind,
    Service,
    ServiceVersion,
    SlaAlert,
    Status,
    SurveyResponse,
    WorkflowKind,
)
from balai.services.tests.conftest import JAHAB, MPP, TABANG_DESA, pdf_bytes

pytestmark = pytest.mark.django_db

REQUIRED_SEED = {
    "ktp-el-baru",
    "ktp-el-ganti",
    "ktp-el-ubah",
    "kk-baru",
    "kk-tambah-anggota",
    "kk-kurang-anggota",
    "kk-ubah-data",
    "kia",
    "akta-kelahiran",
    "akta-kematian",
    "pindah-keluar",
    "pindah-datang",
    "pindah-dalam",
    "akta-perkawinan",
    "akta-perceraian",
    "koreksi-data",
    "sktm",
    "sku",
    "domisili",
    "surat-pengantar",
}
SKTM = {"purpose": "Beasiswa sekolah anak", "monthly_income": 1500000}


# --- Catalogue ----------------------------------------------------------------


def test_seed_has_every_required_service_free_where_the_law_says(catalogue):
    assert set(catalogue) >= REQUIRED_SEED
    for service in catalogue.values():
        if service.workflow == WorkflowKind.SIAK:
            assert service.fee_rupiah == 0
        assert service.time_limit_to_confirm  # no published limit known yet
        assert service.revision == 1
        assert service.versions.count() == 1
    assert catalogue["koreksi-data"].workflow == WorkflowKind.REGISTER_CHANGE
    assert catalogue["pindah-dalam"].workflow == WorkflowKind.REGISTER_CHANGE
    assert catalogue["sktm"].workflow == WorkflowKind.OFFICE_LETTER


def test_loading_again_keeps_edits_and_writes_nothing(catalogue, system_actor):
    admin = system_actor
    A.update_service(
        actor=admin,
        service=catalogue["kia"],
        changes={"time_limit_days": 7},
        expected_revision=1,
    )
    audit_before = AuditEntry.objects.count()
    result = A.load_catalogue(actor=system_actor)
    assert result.created == []
    assert result.unchanged == Service.objects.count()
    assert AuditEntry.objects.count() == audit_before
    assert Service.objects.get(code="kia").time_limit_days == 7


def test_load_services_command_is_idempotent(catalogue):
    from django.core.management import call_command

    count = Service.objects.count()
    call_command("load_services", verbosity=0)
    assert Service.objects.count() == count


def test_update_keeps_history_with_who_and_diff(catalogue, officer_at):
    _, admin = officer_at("DPMPTSP", "service_admin")
    service = A.update_service(
        actor=admin,
        service=catalogue["sktm"],
        changes={"time_limit_days": 2, "time_limit_to_confirm": False},
        expected_revision=1,
        note="Standar pelayanan desa 2026",
    )
    assert service.revision == 2
    version = ServiceVersion.objects.get(service=service, revision=2)
    assert version.changed_by == admin.username
    assert version.diff == {
        "time_limit_days": [1, 2],
        "time_limit_to_confirm": [True, False],
    }
    assert version.note == "Standar pelayanan desa 2026"


def test_stale_catalogue_edit_is_a_conflict(catalogue, officer_at):
    _, admin = officer_at("DPMPTSP", "service_admin")
    A.update_service(
        actor=admin,
        service=catalogue["sku"],
        changes={"time_limit_days": 3},
        expected_revision=1,
    )
    with pytest.raises(Conflict):
        A.update_service(
            actor=admin,
            service=catalogue["sku"],
            changes={"time_limit_days": 4},
            expected_revision=1,
        )


def test_siak_services_stay_free(catalogue, officer_at):
    _, admin = officer_at("DPMPTSP", "service_admin")
    with pytest.raises(BalaiError) as exc:
        A.update_service(
            actor=admin,
            service=catalogue["akta-kelahiran"],
            changes={"fee_rupiah": 10000},
            expected_revision=1,
        )
    assert exc.value.code == "siak_fee_forbidden"
    # The database refuses it too, whatever path tries.
    with pytest.raises(IntegrityError), transaction.atomic():
        Service.objects.filter(code="kia").update(fee_rupiah=5000)


def test_catalogue_edits_need_a_service_admin_and_a_valid_schema(catalogue, officer_at):
    _, clerk = officer_at(MPP, "counter_officer")
    with pytest.raises(PermissionDenied):
        A.update_service(
            actor=clerk,
            service=catalogue["sku"],
            changes={"time_limit_days": 2},
            expected_revision=1,
        )
    _, admin = officer_at("DPMPTSP", "service_admin")
    with pytest.raises(BalaiError) as exc:
        A.update_service(
            actor=admin,
            service=catalogue["sku"],
            changes={"form_schema": {"type": "object", "properties": {"x": 1}}},
            expected_revision=1,
        )
    assert exc.value.code == "schema_invalid"
    with pytest.raises(BalaiError) as exc:
        A.update_service(
            actor=admin,
            service=catalogue["sku"],
            changes={"workflow": "siak"},
            expected_revision=1,
        )
    assert exc.value.code == "service_field_fixed"
    with pytest.raises(BalaiError):
        A.update_service(
            actor=admin,
            service=catalogue["sku"],
            changes={"responsible_kind": "regency", "responsible_office_code": "X"},
            expected_revision=1,
        )


# --- Submitting ---------------------------------------------------------------


def test_citizen_applies_online(resident, citizen, apply_online, sent, clock):
    clock("2026-03-02 09:00")
    person = resident(phone="081234567890")
    user, actor = citizen(person, phone="081234567890")
    app = apply_online(actor, "sktm", SKTM)
    desa = Office.objects.get(region_id=JAHAB)
    assert app.number == f"{desa.code}-2026-000001"
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}", app.tracking_code)
    assert app.status == Status.SUBMITTED
    assert app.version == 1
    assert app.owner_office == desa
    assert app.channel == "online"
    assert app.applicant_user == user
    assert [s.resident for s in app.subjects.all()] == [person]
    assert app.due_date == dt.date(2026, 3, 3)  # day 0 Monday, 1 working day
    event = app.events.get()
    assert (event.seq, event.transition, event.to_status) == (1, "submit", "submitted")
    assert event.by_applicant
    assert sent[0]["template"] == "permohonan_diterima"
    assert sent[0]["context"]["nomor"] == app.number
    assert AuditEntry.objects.filter(object_id=str(app.pk)).exists()


def test_numbers_count_per_office_and_year(resident, citizen, apply_online, clock):
    clock("2026-12-31 09:00")
    _, actor = citizen(resident())
    first = apply_online(actor, "sktm", SKTM)
    second = apply_online(actor, "sktm", SKTM)
    clock("2027-01-04 09:00")
    third = apply_online(actor, "sktm", SKTM)
    assert first.number.endswith("-2026-000001")
    assert second.number.endswith("-2026-000002")
    assert third.number.endswith("-2027-000001")


def test_double_submit_with_one_key_files_one_application(
    resident, citizen, catalogue, upload
):
    _, actor = citizen(resident())
    files = [upload(actor, "kk").pk]
    kwargs = {
        "actor": actor,
        "service": catalogue["sktm"],
        "channel": "online",
        "form_data": SKTM,
        "attachments": files,
        "idempotency_key": "kunci-formulir-1",
    }
    first = A.submit_application(**kwargs)
    second = A.submit_application(**kwargs)
    assert first.pk == second.pk
    assert Application.objects.count() == 1


def test_form_data_is_checked_against_the_schema(resident, citizen, apply_online):
    _, actor = citizen(resident())
    with pytest.raises(BalaiError) as exc:
        apply_online(actor, "sktm", {"monthly_income": -5, "extra": 1})
    assert exc.value.code == "form_invalid"
    fields = {f["field"] for f in exc.value.extra["fields"]}
    assert {"purpose", "monthly_income"} <= fields
    assert Application.objects.count() == 0


def test_online_needs_the_required_uploads(resident, citizen, catalogue):
    _, actor = citizen(resident())
    with pytest.raises(BalaiError) as exc:
        A.submit_application(
            actor=actor, service=catalogue["sktm"], channel="online", form_data=SKTM
        )
    assert exc.value.code == "requirements_missing"
    assert Application.objects.count() == 0


def test_counter_only_service_is_refused_online(resident, citizen, apply_online):
    _, actor = citizen(resident())
    with pytest.raises(BalaiError) as exc:
        apply_online(actor, "ktp-el-baru", {})
    assert exc.value.code == "channel_not_offered"


def test_family_member_applies_for_a_death(
    resident, make_resident, citizen, apply_online
):
    head = resident(name="Bapak Kepala")
    mother = make_resident(family=head.family, name="Nenek Uji", shdk=7)
    _, actor = citizen(head)
    app = apply_online(
        actor,
        "akta-kematian",
        {"death_date": "2026-03-01", "death_place": "Tenggarong"},
        relation="family_member",
        subjects=[{"nik": mother.nik}],
    )
    assert app.relation == "family_member"
    assert [s.resident for s in app.subjects.all()] == [mother]
    assert app.owner_office.code == MPP


def test_stranger_needs_a_power_of_attorney_and_the_right_name(
    resident, citizen, apply_online, upload
):
    other = resident(name="Orang Lain Sekali")
    _, actor = citizen(resident())
    subject = [{"nik": other.nik, "name": "Orang Lain Sekali"}]
    with pytest.raises(NotFound) as exc:
        apply_online(actor, "sktm", SKTM, relation="family_member", subjects=subject)
    assert exc.value.code == "subject_no_match"
    with pytest.raises(BalaiError) as exc:
        apply_online(actor, "sktm", SKTM, relation="proxy", subjects=subject)
    assert exc.value.code == "power_of_attorney_missing"
    wrong_name = [{"nik": other.nik, "name": "Nama Salah"}]
    kuasa = upload(actor, "kuasa", kind=AttachmentKind.POWER_OF_ATTORNEY)
    with pytest.raises(NotFound):
        apply_online(
            actor,
            "sktm",
            SKTM,
            relation="proxy",
            subjects=wrong_name,
            attachments=[kuasa.pk],
        )
    kuasa = upload(actor, "kuasa", kind=AttachmentKind.POWER_OF_ATTORNEY)
    app = apply_online(
        actor, "sktm", SKTM, relation="proxy", subjects=subject, attachments=[kuasa.pk]
    )
    assert app.attachments.filter(kind="power_of_attorney").count() == 1


def test_unknown_nik_gets_the_same_answer_as_a_stranger(
    resident, citizen, apply_online
):
    _, actor = citizen(resident())
    with pytest.raises(NotFound) as exc:
        apply_online(
            actor,
            "sktm",
            SKTM,
            relation="family_member",
            subjects=[{"nik": "6402060101900999"}],
        )
    assert exc.value.message == A.NO_MATCH


def test_newborn_is_a_new_person_in_the_form(resident, citizen, apply_online):
    mother = resident(sex="P", name="Ibu Bayi", birth_date=dt.date(1995, 5, 5))
    _, actor = citizen(mother)
    app = apply_online(
        actor,
        "akta-kelahiran",
        {
            "child_name": "Bayi Baru",
            "sex": "L",
            "birth_date": "2026-02-20",
            "birth_place": "Tenggarong",
            "mother_nik": mother.nik,
            "kk_number": mother.family.kk_number,
        },
        relation="parent",
    )
    assert app.subjects.count() == 0
    assert app.form_data["child_name"] == "Bayi Baru"


def test_counter_officer_files_for_a_walk_in(resident, counter, catalogue, clock):
    clock("2026-03-02 10:00")
    person = resident()
    app = A.submit_application(
        actor=counter,
        service=catalogue["ktp-el-baru"],
        channel="counter",
        form_data={},
        relation="self",
        subjects=[{"nik": person.nik}],
        applicant={"nik": person.nik, "phone": "0812"},
    )
    assert app.channel == "counter"
    assert app.applicant_user is None
    assert app.applicant_name == person.name
    assert app.filed_office.code == MPP
    assert app.number == f"{MPP}-2026-000001"
    assert app.events.get().office.code == MPP


def test_counter_officer_cannot_reach_another_kecamatan(resident, counter, catalogue):
    far = resident(village=TABANG_DESA)
    with pytest.raises(NotFound):
        A.submit_application(
            actor=counter,
            service=catalogue["kia"],
            channel="counter",
            form_data={},
            relation="parent",
            subjects=[{"nik": far.nik}],
            applicant={"name": "Ayah"},
        )


def test_unverified_citizen_application_waits(
    resident, citizen, apply_online, counter, step, clock
):
    clock("2026-03-02 09:00")
    person = resident()
    user, actor = citizen(person, verified=False)
    app = apply_online(actor, "kia", {})
    assert app.held_for_identity
    assert app.due_date is None
    with pytest.raises(BalaiError) as exc:
        step(counter, app, "start_verification")
    assert exc.value.code == "applicant_unverified"
    clock("2026-03-04 10:00")
    A.verify_citizen_at_counter(actor=counter, user=user, nik_seen=person.nik)
    app.refresh_from_db()
    assert not app.held_for_identity
    assert app.due_date == dt.date(2026, 3, 9)  # clock from Wed 4, 3 days
    step(counter, app, "start_verification")


# --- The SIAK hand-off --------------------------------------------------------


def test_siak_hand_off_and_numbers(
    resident, citizen, apply_online, counter, dukcapil_officer, step, upload
):
    person = resident()
    _, actor = citizen(person)
    app = apply_online(actor, "ktp-el-ganti", {"reason": "hilang"})
    mpp = Office.objects.get(code=MPP)
    assert app.owner_office == mpp
    step(counter, app, "start_verification")
    app = step(counter, app, "hand_off")
    assert app.owner_office.code == "DISDUKCAPIL"
    assert app.events.last().owner_office_code == "DISDUKCAPIL"
    # The kecamatan no longer owns it: its officer cannot act on it now.
    with pytest.raises(PermissionDenied):
        step(counter, app, "reject")
    app = step(dukcapil_officer, app, "approve")
    with pytest.raises(BalaiError) as exc:
        step(dukcapil_officer, app, "issue")
    assert exc.value.code == "siak_document_missing"
    pdf = upload(
        dukcapil_officer, kind=AttachmentKind.SIAK_DOCUMENT, content=pdf_bytes("ktp")
    )
    app = step(dukcapil_officer, app, "issue", attachments=[pdf.pk])
    assert app.status == Status.ISSUED
    assert app.owner_office == mpp  # back to the kecamatan for delivery
    assert app.attachments.filter(kind="siak_document").count() == 1
    app = step(actor, app, "collect")
    assert app.status == Status.COLLECTED
    assert [e.to_status for e in app.events.order_by("seq")] == [
        "submitted",
        "verification",
        "processing",
        "approved",
        "issued",
        "collected",
    ]


def test_siak_numbers_are_required_and_checked(
    resident,
    make_resident,
    citizen,
    apply_online,
    counter,
    registrar,
    dukcapil_officer,
    step,
    upload,
):
    head = resident()
    mother = make_resident(family=head.family, name="Almarhumah", shdk=7)
    _, actor = citizen(head)
    app = apply_online(
        actor,
        "akta-kematian",
        {"death_date": "2026-03-01", "death_place": "Tenggarong"},
        relation="family_member",
        subjects=[{"nik": mother.nik}],
    )
    step(counter, app, "start_verification")
    step(counter, app, "hand_off")
    step(registrar, app, "approve")
    # Recording what SIAK issued is the registry officer's, not the registrar's.
    pdf = upload(registrar, kind=AttachmentKind.SIAK_DOCUMENT)
    with pytest.raises(PermissionDenied):
        step(registrar, app, "issue", attachments=[pdf.pk])
    pdf = upload(dukcapil_officer, kind=AttachmentKind.SIAK_DOCUMENT)
    with pytest.raises(BalaiError) as exc:
        step(dukcapil_officer, app, "issue", attachments=[pdf.pk])
    assert exc.value.code == "siak_number_missing"
    pdf = upload(dukcapil_officer, kind=AttachmentKind.SIAK_DOCUMENT)
    with pytest.raises(BalaiError) as exc:
        step(
            dukcapil_officer,
            app,
            "issue",
            attachments=[pdf.pk],
            numbers={"akta_number": "6402-KM-01032026-0001", "kk_number": "123"},
        )
    assert exc.value.code == "siak_number_invalid"
    pdf = upload(dukcapil_officer, kind=AttachmentKind.SIAK_DOCUMENT)
    numbers = {
        "akta_number": "6402-KM-01032026-0001",
        "kk_number": head.family.kk_number,
    }
    app = step(dukcapil_officer, app, "issue", attachments=[pdf.pk], numbers=numbers)
    assert app.issued_numbers == numbers
    assert app.events.last().data["numbers"] == numbers


def test_siak_document_must_be_a_pdf(dukcapil_officer, upload):
    from balai.services.tests.conftest import jpeg_bytes

    with pytest.raises(BalaiError) as exc:
        upload(
            dukcapil_officer,
            kind=AttachmentKind.SIAK_DOCUMENT,
            content=jpeg_bytes(),
            name="akta.jpg",
        )
    assert exc.value.code == "siak_document_not_pdf"


def test_only_disdukcapil_staff_upload_siak_documents(
    resident, citizen, counter, upload
):
    _, actor = citizen(resident())
    for who in (actor, counter):
        with pytest.raises(PermissionDenied):
            upload(who, kind=AttachmentKind.SIAK_DOCUMENT)


# --- Optimistic locking -------------------------------------------------------


def test_two_officers_at_once_one_wins(
    resident, citizen, apply_online, counter, officer_at
):
    _, actor = citizen(resident())
    app = apply_online(actor, "sktm", SKTM)
    desa = app.owner_office
    _, desa_clerk = officer_at(desa.code, "counter_officer")
    _, desa_clerk2 = officer_at(desa.code, "counter_officer")
    seen = Application.objects.get(pk=app.pk)
    A.transition_application(
        actor=desa_clerk,
        application=seen,
        name="start_verification",
        expected_version=seen.version,
    )
    with pytest.raises(Conflict) as exc:
        A.transition_application(
            actor=desa_clerk2,
            application=seen,
            name="reject",
            expected_version=seen.version,
            note="data kurang",
        )
    assert exc.value.code == "stale_version"
    assert desa_clerk.username in exc.value.message
    app.refresh_from_db()
    assert app.status == Status.VERIFICATION
    assert app.version == 2
    assert app.events.count() == 2


def test_status_is_checked_against_the_events(
    resident, citizen, apply_online, officer_at, step
):
    _, actor = citizen(resident())
    app = apply_online(actor, "sktm", SKTM)
    _, clerk = officer_at(app.owner_office.code, "counter_officer")
    assert A.derived_status(app) == (Status.SUBMITTED, 1)
    # Someone edits the row behind the events' back: the next step refuses.
    Application.objects.filter(pk=app.pk).update(status=Status.PROCESSING)
    with pytest.raises(BalaiError) as exc:
        step(clerk, app, "approve")
    assert exc.value.code == "status_inconsistent"


def test_events_are_append_only_numbered(
    resident, citizen, apply_online, officer_at, step
):
    _, actor = citizen(resident())
    app = apply_online(actor, "sktm", SKTM)
    _, clerk = officer_at(app.owner_office.code, "counter_officer")
    step(clerk, app, "start_verification")
    step(clerk, app, "request_revision", note="Foto KK buram")
    step(actor, app, "resubmit")
    seqs = list(app.events.order_by("seq").values_list("seq", "transition"))
    assert seqs == [
        (1, "submit"),
        (2, "start_verification"),
        (3, "request_revision"),
        (4, "resubmit"),
    ]
    revision = ApplicationEvent.objects.get(application=app, seq=3)
    assert revision.note == "Foto KK buram"
    assert revision.office == app.owner_office


def test_every_status_change_queues_one_message_to_the_applicant(
    resident, citizen, apply_online, officer_at, step, system_actor
):
    from balai.notify.actions import seed_templates
    from balai.notify.models import OutboxMessage

    seed_templates(actor=system_actor)
    person = resident(phone="081234567890")
    _, actor = citizen(person, phone="081234567890")
    app = apply_online(actor, "sktm", SKTM)
    desa = app.owner_office.code
    _, clerk = officer_at(desa, "counter_officer")
    _, head = officer_at(desa, "leader", is_head=True)

    def outbox() -> list:
        return list(OutboxMessage.objects.order_by("created_at", "id"))

    assert [m.template_code for m in outbox()] == ["permohonan_diterima"]

    journey = [
        (clerk, "start_verification", {}, "status_berubah", "Verifikasi"),
        (clerk, "request_revision", {"note": "Foto KK buram"}, "perlu_perbaikan", ""),
        (actor, "resubmit", {}, "status_berubah", "Verifikasi"),
        (clerk, "accept", {}, "status_berubah", "Diproses"),
        (head, "approve", {}, "status_berubah", "Disetujui"),
    ]
    for who, name, kwargs, template, label in journey:
        before = len(outbox())
        app = step(who, app, name, **kwargs)
        (message,) = outbox()[before:]
        assert message.template_code == template, name
        assert message.recipient == "+6281234567890"
        assert app.number in message.body
        if template == "status_berubah":
            assert str(Status(app.status).label) == label
            assert label in message.body
        else:
            assert "Foto KK buram" in message.body
    # A refused step (the applicant may not approve, nor a step twice) changes
    # nothing and sends nothing.
    before = len(outbox())
    with pytest.raises(BalaiError):
        step(actor, app, "issue")
    with pytest.raises(BalaiError):
        step(head, app, "approve")
    assert len(outbox()) == before
    assert Application.objects.get(pk=app.pk).status == Status.APPROVED


# --- The SLA clock on real applications ---------------------------------------


def test_revision_stops_the_clock(
    resident, citizen, apply_online, officer_at, step, clock
):
    clock("2026-03-02 09:00")  # Monday
    _, actor = citizen(resident())
    app = apply_online(actor, "domisili", {"address": "Jl. Uji", "purpose": "Bank"})
    _, clerk = officer_at(app.owner_office.code, "counter_officer")
    assert app.due_date == dt.date(2026, 3, 3)
    step(clerk, app, "start_verification")
    clock("2026-03-02 11:00")
    app = step(clerk, app, "request_revision", note="Alamat kurang lengkap")
    assert app.due_date is None  # stopped
    clock("2026-03-05 10:00")  # Thursday, in hours: a new day 0
    app = step(actor, app, "resubmit")
    # Monday counted as used (0 of 1 day: day 0), 1 day left from Thursday.
    assert app.due_date == dt.date(2026, 3, 6)


def test_completion_on_time_and_late(
    resident, citizen, apply_online, officer_at, step, clock, letter_keys
):
    clock("2026-03-02 09:00")
    letter_keys()
    _, actor = citizen(resident())
    app = apply_online(
        actor,
        "sku",
        {
            "business_name": "Warung Uji",
            "business_kind": "Warung makan",
            "business_address": "Jl. Uji",
            "purpose": "Kredit usaha",
        },
    )
    desa = app.owner_office.code
    _, clerk = officer_at(desa, "counter_officer")
    _, head = officer_at(desa, "leader", is_head=True)
    step(clerk, app, "start_verification")
    step(clerk, app, "accept")
    step(head, app, "approve")
    clock("2026-03-04 09:00")  # a day after the due date (Tue 3)
    app = step(clerk, app, "issue")
    assert app.completed_at is not None
    assert app.on_time is False
    # The letter was issued by the documents app: numbered, signed, stored.
    from balai.documents.models import IssuedDocument

    letter = app.events.get(transition="issue").data["document"]
    document = IssuedDocument.objects.get(pk=letter["id"])
    assert document.application_ref == app.number
    assert letter["kind"] == "usaha"
    step(actor, app, "collect")


def test_local_holiday_moves_open_deadlines(
    resident, citizen, apply_online, officer_at, clock
):
    clock("2026-03-02 09:00")
    _, actor = citizen(resident())
    app = apply_online(actor, "kia", {})
    assert app.due_date == dt.date(2026, 3, 5)
    _, admin = officer_at("DPMPTSP", "service_admin")
    holiday = A.add_local_holiday(
        actor=admin, date=dt.date(2026, 3, 4), name="Hari Jadi Kota Tenggarong (uji)"
    )
    app.refresh_from_db()
    assert app.due_date == dt.date(2026, 3, 6)
    with pytest.raises(BalaiError):
        A.add_local_holiday(actor=admin, date=dt.date(2026, 3, 4), name="lagi")
    with pytest.raises(BalaiError) as exc:
        A.add_local_holiday(actor=admin, date=dt.date(2026, 3, 19), name="Nyepi")
    assert exc.value.code == "holiday_national"
    A.withdraw_local_holiday(actor=admin, holiday=holiday)
    app.refresh_from_db()
    assert app.due_date == dt.date(2026, 3, 5)


def test_deadline_into_2028_is_flagged(resident, citizen, apply_online, clock):
    clock("2027-12-28 09:00")
    _, actor = citizen(resident())
    app = apply_online(
        actor,
        "koreksi-data",
        {
            "field": "birth_place",
            "new_value": "Samarinda",
            "reason": "Salah tulis",
        },
    )
    assert app.due_date == dt.date(2028, 1, 4)
    assert app.deadline_flagged
    assert "2028" in app.deadline_note


def test_breach_notifies_the_office_head_once(
    resident, citizen, apply_online, officer_at, system_actor, clock, monkeypatch
):
    from balai.services import notifications

    heads = []
    monkeypatch.setattr(
        notifications,
        "notify_office_head",
        lambda **kw: heads.append(kw) or "kepala",
    )
    clock("2026-03-02 09:00")
    _, actor = citizen(resident())
    app = apply_online(actor, "kia", {})  # due Thu 5 March
    result = A.check_deadlines(actor=system_actor, today=dt.date(2026, 3, 4))
    assert (result.warnings, result.breaches) == (1, 0)
    result = A.check_deadlines(actor=system_actor, today=dt.date(2026, 3, 4))
    assert (result.warnings, result.breaches) == (0, 0)
    result = A.check_deadlines(actor=system_actor, today=dt.date(2026, 3, 6))
    assert (result.warnings, result.breaches) == (0, 1)
    assert heads[0]["office"] == app.owner_office
    assert heads[0]["template"] == "sla_terlampaui"
    assert heads[0]["context"]["nomor"] == app.number
    A.check_deadlines(actor=system_actor, today=dt.date(2026, 3, 9))
    assert len(heads) == 1
    assert SlaAlert.objects.filter(application=app, kind=AlertKind.BREACH).count() == 1


# --- Survey -------------------------------------------------------------------


SCORES = {
    "persyaratan": 4,
    "prosedur": 3,
    "waktu": 3,
    "biaya": 4,
    "produk": 4,
    "kompetensi": 3,
    "perilaku": 4,
    "pengaduan": 2,
    "sarana": 3,
}


def test_survey_after_completion_once(
    resident, citizen, apply_online, officer_at, step
):
    _, actor = citizen(resident())
    app = apply_online(actor, "sktm", SKTM)
    with pytest.raises(BalaiError) as exc:
        A.submit_survey(actor=actor, application=app, scores=SCORES)
    assert exc.value.code == "survey_too_early"
    _, clerk = officer_at(app.owner_office.code, "counter_officer")
    step(clerk, app, "start_verification")
    step(clerk, app, "reject", note="Bukan warga desa ini")
    with pytest.raises(BalaiError) as exc:
        A.submit_survey(actor=actor, application=app, scores={**SCORES, "waktu": 5})
    assert exc.value.code == "survey_score_range"
    with pytest.raises(BalaiError) as exc:
        A.submit_survey(
            actor=actor,
            application=app,
            scores={k: v for k, v in SCORES.items() if k != "sarana"},
        )
    assert exc.value.code == "survey_incomplete"
    response = A.submit_survey(
        actor=actor, application=app, scores=SCORES, comment="Cepat"
    )
    assert response.pengaduan == 2
    assert response.kecamatan_code == "64.02.06"
    with pytest.raises(Conflict):
        A.submit_survey(actor=actor, application=app, scores=SCORES)
    assert SurveyResponse.objects.count() == 1
    _, stranger = citizen(resident())
    with pytest.raises(NotFound):
        A.submit_survey(actor=stranger, application=app, scores=SCORES)


# --- Citizen sign-up ----------------------------------------------------------


def test_sign_up_matches_the_register_and_sends_a_code(resident, system_actor, sent):
    person = resident(phone="081234567890", mother_name="Hj. Siti Aminah")
    result = A.citizen_sign_up(
        actor=system_actor,
        nik=person.nik,
        kk_number=person.family.kk_number,
        mother_name="siti aminah",
        password="kata-sandi-warga-123",
    )
    user = result.user
    assert user.kind == "citizen"
    assert user.resident_id == person.pk
    assert not user.is_verified_citizen
    assert result.code_sent
    assert result.phone_hint.endswith("890")
    (message,) = sent
    assert message["template"] == "otp_pendaftaran"
    code = message["context"]["kode"]
    with pytest.raises(BalaiError):
        A.verify_citizen_code(actor=system_actor, user=user, code="000000"[:6])
    A.verify_citizen_code(actor=system_actor, user=user, code=code)
    user.refresh_from_db()
    assert user.is_verified_citizen
    with pytest.raises(BalaiError):  # a code works once
        A.verify_citizen_code(actor=system_actor, user=user, code=code)


@pytest.mark.parametrize("wrong", ["nik", "kk", "mother"])
def test_sign_up_mismatch_says_only_does_not_match(resident, system_actor, wrong):
    person = resident()
    values = {
        "nik": person.nik,
        "kk_number": person.family.kk_number,
        "mother_name": "Siti Aminah",
    }
    values[{"nik": "nik", "kk": "kk_number", "mother": "mother_name"}[wrong]] = (
        "6402060101900001" if wrong != "mother" else "Ratna"
    )
    with pytest.raises(BalaiError) as exc:
        A.citizen_sign_up(actor=system_actor, password="kata-sandi-123", **values)
    assert exc.value.code == "no_match"
    assert exc.value.message == "Data tidak cocok dengan data kependudukan."


def test_sign_up_without_phone_stays_unverified(resident, system_actor, sent):
    person = resident()
    result = A.citizen_sign_up(
        actor=system_actor,
        nik=person.nik,
        kk_number=person.family.kk_number,
        mother_name="Siti Aminah",
        password="kata-sandi-warga-123",
    )
    assert not result.code_sent
    assert sent == []
    assert not result.user.is_verified_citizen
    with pytest.raises(Conflict):
        A.citizen_sign_up(
            actor=system_actor,
            nik=person.nik,
            kk_number=person.family.kk_number,
            mother_name="Siti Aminah",
            password="kata-sandi-warga-123",
        )


def test_wrong_codes_lock_the_code(resident, system_actor, sent):
    person = resident(phone="081234567890")
    user = A.citizen_sign_up(
        actor=system_actor,
        nik=person.nik,
        kk_number=person.family.kk_number,
        mother_name="Siti Aminah",
        password="kata-sandi-warga-123",
    ).user
    good = sent[0]["context"]["kode"]
    bad = "111111" if good != "111111" else "222222"
    for _ in range(A.OTP_MAX_ATTEMPTS):
        with pytest.raises(BalaiError):
            A.verify_citizen_code(actor=system_actor, user=user, code=bad)
    with pytest.raises(BalaiError) as exc:
        A.verify_citizen_code(actor=system_actor, user=user, code=good)
    assert exc.value.code == "otp_locked"


ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgis"))


@pytest.fixture
def regions_loaded(transactional_db):
    """A transactional test may start from an emptied database: load again."""
    from django.core.management import call_command

    call_command("load_regions", verbosity=0, stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_two_officers_in_two_threads_one_wins(
    regions_loaded, catalogue, resident, citizen, apply_online, officer_at
):
    from django.db import connections

    _, actor = citizen(resident())
    app = apply_online(actor, "sktm", SKTM)
    office = app.owner_office.code
    clerks = [officer_at(office, "counter_officer")[1] for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def work(clerk, name, note):
        try:
            seen = Application.objects.get(pk=app.pk)
            barrier.wait()
            A.transition_application(
                actor=clerk,
                application=seen,
                name=name,
                expected_version=1,
                note=note,
            )
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        except BaseException as exc:  # reported below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=work, args=(clerks[0], "start_verification", "")),
        threading.Thread(target=work, args=(clerks[1], "reject", "Bukan warga")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["conflict", "won"]
    app.refresh_from_db()
    assert app.version == 2
    assert app.events.count() == 2


def test_the_actors_office_comes_with_his_postings(
    make_staff, actor_of, django_assert_num_queries
):
    actor = actor_of(make_staff(office=MPP, role="counter_officer"))

    with django_assert_num_queries(0):
        office = A.actor_office(actor)

    assert office.code == MPP


def test_an_actor_without_postings_read_has_his_office_looked_up(
    make_staff, actor_of, django_assert_num_queries
):
    actor = replace(
        actor_of(make_staff(office=MPP, role="counter_officer")), postings=()
    )

    with django_assert_num_queries(1):
        office = A.actor_office(actor)

    assert office.code == MPP
