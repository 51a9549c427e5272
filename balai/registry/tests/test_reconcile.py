"""Reconciliation with SIAK: the differences found, and nothing changed in
the register until reviewed; corrections need two people."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from balai.core.errors import BalaiError, Conflict, PermissionDenied
from balai.registry import reconcile
from balai.registry.imports import pipeline
from balai.registry.imports.samples import SIAK_HEADER
from balai.registry.models import (
    CorrectionRequest,
    CorrectionStatus,
    EventKind,
    LifeEvent,
    Resident,
)
from balai.registry.models_digitisation import (
    ImportIssue,
    ItemKind,
    ItemStatus,
    JobStatus,
    ReconcileItem,
)
from balai.registry.reference import Occupation
from balai.registry.tests.digitisation_helpers import one_family, siak_table, write_rows

pytestmark = pytest.mark.django_db

COL = {name: i for i, name in enumerate(SIAK_HEADER)}
HEAD, WIFE, SON = "6402061203850001", "6402065507880002", "6402060102150003"


@pytest.fixture
def officer(make_staff, actor_of):
    return actor_of(make_staff(office="DISDUKCAPIL", role="registry_officer"))


@pytest.fixture
def registrar(make_staff, actor_of):
    return actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))


@pytest.fixture
def other_registrar(make_staff, actor_of):
    return actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))


@pytest.fixture
def register(tmp_path, officer):
    """The register holds one KK, imported from SIAK."""
    rows = siak_table([one_family()])
    pipeline.run_import(actor=officer, path=write_rows(tmp_path / "awal.csv", rows))
    return rows


def fresh_export(tmp_path, rows, name="baru.csv"):
    return write_rows(tmp_path / name, rows)


def test_differences_are_listed_and_nothing_changes(tmp_path, officer, register):
    rows = [list(r) for r in register]
    rows[1][COL["Pekerjaan"]] = "Petani/Pekebun"  # the head's occupation
    rows[2][COL["Desa/Kel"]] = "TIMBAU"  # the wife: a move, not a correction
    del rows[3]  # the son: in Balai, not in SIAK
    newcomer = list(rows[1])
    newcomer[COL["NIK"]] = "6402060506100006"
    newcomer[COL["Nama Penduduk"]] = "SITI RAHMAH"
    newcomer[COL["Kelamin"]] = "Perempuan"
    newcomer[COL["NIK"]] = "6402064506100006"
    newcomer[COL["Tanggal Lahir"]] = "05-06-2010"
    newcomer[COL["SHDK"]] = "Anak"
    rows.append(newcomer)
    before = (Resident.objects.count(), LifeEvent.objects.count())
    run = reconcile.run_reconciliation(actor=officer, path=fresh_export(tmp_path, rows))
    assert (run.status, run.only_siak, run.only_balai, run.differences) == (
        JobStatus.DONE,
        1,
        1,
        2,
    )
    assert run.villages == ["64.02.06.1001", "64.02.06.1004"]
    items = {(i.kind, i.nik, i.field): i for i in run.items.all()}
    job = items[(ItemKind.FIELD, HEAD, "occupation")]
    assert (job.siak_value, job.balai_value, job.acceptable) == (
        Occupation.PETANI_PEKEBUN,
        Occupation.BELUM_TIDAK_BEKERJA,
        True,
    )
    assert not items[(ItemKind.FIELD, WIFE, "village")].acceptable
    assert (ItemKind.ONLY_BALAI, SON, "") in items
    assert items[(ItemKind.ONLY_SIAK, "6402064506100006", "")].siak_row["name"] == (
        "SITI RAHMAH"
    )
    assert before == (Resident.objects.count(), LifeEvent.objects.count())


def test_case_and_spacing_are_not_differences(tmp_path, officer, register):
    rows = [list(r) for r in register]
    rows[1][COL["Nama Penduduk"]] = "Ahmad  rusdi"
    run = reconcile.run_reconciliation(actor=officer, path=fresh_export(tmp_path, rows))
    assert run.differences == 0


def test_a_correction_needs_a_second_person(
    tmp_path, officer, registrar, other_registrar, register
):
    rows = [list(r) for r in register]
    rows[1][COL["Pekerjaan"]] = "Petani/Pekebun"
    run = reconcile.run_reconciliation(actor=officer, path=fresh_export(tmp_path, rows))
    item = run.items.get(field="occupation")
    # The registrar proposes...
    reconcile.accept_item(actor=registrar, item=item)
    item.refresh_from_db()
    assert item.status == ItemStatus.PROPOSED
    assert item.correction.status == CorrectionStatus.PENDING
    head = Resident.objects.get(nik=HEAD)
    assert head.occupation == Occupation.BELUM_TIDAK_BEKERJA  # nothing changed yet
    # ...and may not approve his own proposal.
    with pytest.raises(PermissionDenied):
        reconcile.approve_item(actor=registrar, item=item)
    # An officer may not approve at all.
    with pytest.raises(PermissionDenied):
        reconcile.approve_item(actor=officer, item=item)
    reconcile.approve_item(actor=other_registrar, item=item)
    item.refresh_from_db()
    head.refresh_from_db()
    assert item.status == ItemStatus.APPLIED
    assert head.occupation == Occupation.PETANI_PEKEBUN
    event = LifeEvent.objects.get(resident=head, kind=EventKind.CORRECTION)
    assert event.entered_by == registrar.username
    assert event.approved_by == other_registrar.username
    assert "SIAK" in event.data["evidence"]


def test_rejected_proposal_leaves_the_register(tmp_path, officer, registrar, register):
    rows = [list(r) for r in register]
    rows[1][COL["Pekerjaan"]] = "Petani/Pekebun"
    run = reconcile.run_reconciliation(actor=officer, path=fresh_export(tmp_path, rows))
    item = run.items.get(field="occupation")
    reconcile.accept_item(actor=officer, item=item)
    reconcile.reject_item(actor=registrar, item=item, note="SIAK keliru")
    item.refresh_from_db()
    assert item.status == ItemStatus.DISMISSED
    assert item.correction.status == CorrectionStatus.REJECTED
    assert Resident.objects.get(nik=HEAD).occupation == Occupation.BELUM_TIDAK_BEKERJA


def with_newcomer(register):
    """The export again, with a new member of the registered KK."""
    rows = [list(r) for r in register]
    newcomer = list(rows[3])
    newcomer[COL["NIK"]] = "6402064506100006"
    newcomer[COL["Nama Penduduk"]] = "SITI RAHMAH"
    newcomer[COL["Kelamin"]] = "Perempuan"
    newcomer[COL["Tanggal Lahir"]] = "05-06-2010"
    rows.append(newcomer)
    return rows


def test_an_import_refuses_a_new_member_of_a_registered_kk_and_says_where_it_goes(
    tmp_path, officer, register
):
    summary = pipeline.run_import(
        actor=officer, path=fresh_export(tmp_path, with_newcomer(register))
    )

    assert not Resident.objects.filter(nik="6402064506100006").exists()
    assert summary.imported == 0
    refused = ImportIssue.objects.get(job_id=summary.job_id, code="kk_in_register")
    assert "rekonsiliasi" in refused.message


def test_person_only_in_siak_becomes_an_arrival(tmp_path, officer, register):
    rows = with_newcomer(register)
    run = reconcile.run_reconciliation(actor=officer, path=fresh_export(tmp_path, rows))
    item = run.items.get(kind=ItemKind.ONLY_SIAK)
    reconcile.accept_item(actor=officer, item=item)
    item.refresh_from_db()
    siti = Resident.objects.get(nik="6402064506100006")
    assert item.status == ItemStatus.APPLIED
    assert item.resident == siti
    assert siti.family == Resident.objects.get(nik=HEAD).family
    assert LifeEvent.objects.get(resident=siti).kind == EventKind.ARRIVAL


def test_items_that_are_not_corrections_can_only_be_dismissed(
    tmp_path, officer, register
):
    rows = [list(r) for r in register]
    del rows[3]
    run = reconcile.run_reconciliation(actor=officer, path=fresh_export(tmp_path, rows))
    item = run.items.get(kind=ItemKind.ONLY_BALAI)
    with pytest.raises(BalaiError) as caught:
        reconcile.accept_item(actor=officer, item=item)
    assert caught.value.code == "not_acceptable"
    with pytest.raises(BalaiError):
        reconcile.dismiss_item(actor=officer, item=item, note="")
    reconcile.dismiss_item(actor=officer, item=item, note="Pindah, belum tercatat")
    with pytest.raises(Conflict):
        reconcile.dismiss_item(actor=officer, item=item, note="lagi")


def test_a_kecamatan_officer_sees_only_his_kecamatan(
    tmp_path, make_staff, actor_of, officer, register
):
    tabang_officer = actor_of(
        make_staff(office="MPP-64.02.12", role="registry_officer")
    )
    rows = [list(r) for r in register]
    rows[1][COL["Pekerjaan"]] = "Petani/Pekebun"
    run = reconcile.run_reconciliation(
        actor=tabang_officer, path=fresh_export(tmp_path, rows)
    )
    assert (run.differences, run.only_balai, run.only_siak) == (0, 0, 0)
    regency_run = reconcile.run_reconciliation(
        actor=officer, path=fresh_export(tmp_path, rows, "b.csv")
    )
    item = regency_run.items.get(field="occupation")
    with pytest.raises(BalaiError):
        reconcile.accept_item(actor=tabang_officer, item=item)


def test_command(tmp_path, register):
    rows = [list(r) for r in register]
    rows[1][COL["Pekerjaan"]] = "Petani/Pekebun"
    out = io.StringIO()
    call_command("reconcile_siak", str(fresh_export(tmp_path, rows)), stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == (
        "only_siak=0 only_balai=0 differences=1"
    )
    assert ReconcileItem.objects.get().status == ItemStatus.OPEN


@pytest.fixture
def web(client):
    def login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return login


def test_pages(tmp_path, web, make_staff, register, django_capture_on_commit_callbacks):
    assert (
        web(make_staff(office="MPP-64.02.06", role="counter_officer"))
        .get(reverse("registry:reconcile-list"))
        .status_code
        == 403
    )
    proposer = make_staff(office="DISDUKCAPIL", role="registry_officer")
    client = web(proposer)
    rows = [list(r) for r in register]
    rows[1][COL["Pekerjaan"]] = "Petani/Pekebun"
    path = fresh_export(tmp_path, rows)
    with path.open("rb") as fh, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:reconcile-list"), {"berkas": fh})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    item = ReconcileItem.objects.get()
    assert "pekerjaan" in page.content.decode()
    client.post(reverse("registry:reconcile-item", args=[item.pk, "terima"]))
    item.refresh_from_db()
    assert item.status == ItemStatus.PROPOSED
    approver = web(make_staff(office="DISDUKCAPIL", role="registrar"))
    approver.post(reverse("registry:reconcile-item", args=[item.pk, "setujui"]))
    item.refresh_from_db()
    assert item.status == ItemStatus.APPLIED
    assert CorrectionRequest.objects.get().status == CorrectionStatus.APPROVED
    export = approver.get(reverse("registry:reconcile-export", args=[item.run_id]))
    assert export.status_code == 200
