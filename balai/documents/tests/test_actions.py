"""Issuing, numbering, signing officials and revoking, through the real actions."""

import datetime as dt
import io
from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from balai.accounts.actions import create_posting, end_posting
from balai.audit.models import AuditEntry
from balai.core.errors import BalaiError, Conflict, NotFound, PermissionDenied
from balai.core.models import ChangeRecord
from balai.documents import storage
from balai.documents.actions import (
    Letter,
    issue_document,
    issue_documents,
    publish_revocation_list,
    revoke_document,
    set_sequence_start,
)
from balai.documents.models import (
    DocumentRevocation,
    DocumentSequence,
    IssuedDocument,
    RevocationList,
)
from balai.documents.selectors import verify
from balai.documents.tests.conftest import DESA
from balai.regions.models import Office

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():
    return Office.objects.get(code=DESA)


def pdf_text(document) -> str:
    reader = PdfReader(io.BytesIO(storage.get(document.pdf_sha256)))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def issue(actor, office, subject, **kw):
    return issue_document(
        actor=actor,
        kind=kw.pop("kind", "sktm"),
        office=office,
        subject=subject,
        facts=kw.pop("facts", {"purpose": "Beasiswa"}),
        **kw,
    )


def test_issue_numbers_signs_renders_and_audits(
    root_key, desa_head, desa_clerk, actor_of, office, subject
):
    actor = actor_of(desa_clerk)
    doc = issue(actor, office, subject, application_ref="APL-2026-000123")
    today = timezone.localdate()
    roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
    assert doc.number == f"400.9/0001/DS-GS/{roman[today.month - 1]}/{today.year}"
    assert (doc.serial, doc.year) == (1, today.year)
    assert doc.signer_name == desa_head.display_name
    assert doc.signer_title == "Kepala Desa Gunung Sari"
    assert doc.nik_masked == "6402********0012"
    assert storage.get(doc.pdf_sha256)[:5] == b"%PDF-"
    assert verify(text=doc.qr_text).status == "valid"
    entries = AuditEntry.objects.filter(action="documents.issue")
    assert {e.object_type for e in entries} == {
        "documents.issueddocument",
        "documents.documentsequence",
    }
    assert ChangeRecord.objects.filter(
        model="documents.issueddocument", object_id=str(doc.pk)
    ).exists()
    second = issue(actor, office, subject)
    assert second.serial == 2
    assert second.number.startswith("400.9/0002/")


def test_series_are_per_office_kind_and_year(
    root_key, desa_head, desa_clerk, make_staff, actor_of, office, subject
):
    actor = actor_of(desa_clerk)
    assert issue(actor, office, subject, kind="sktm").serial == 1
    assert issue(actor, office, subject, kind="domisili").serial == 1
    assert issue(actor, office, subject, kind="sktm").serial == 2
    other = Office.objects.get(code="DESA-64.02.12.2002")
    make_staff(office=other.code, role="leader", is_head=True, position="Kepala Desa")
    clerk = make_staff(office=other.code, role="counter_officer")
    assert issue(actor_of(clerk), other, subject, kind="sktm").serial == 1
    last_year = timezone.localdate().replace(month=1, day=2) - dt.timedelta(days=5)
    old = issue(actor, office, subject, kind="sktm", signed_on=last_year)
    assert (old.serial, old.year) == (1, last_year.year)
    assert old.number.endswith(f"/XII/{last_year.year}")


def test_set_sequence_start_continues_a_paper_series(
    root_key, desa_head, desa_clerk, make_staff, actor_of, office, subject
):
    admin = actor_of(make_staff(office=DESA, role="service_admin"))
    year = timezone.localdate().year
    set_sequence_start(
        actor=admin, office=office, kind="sktm", year=year, next_serial=137
    )
    doc = issue(actor_of(desa_clerk), office, subject)
    assert doc.serial == 137
    assert "/0137/" in doc.number
    with pytest.raises(Conflict):
        set_sequence_start(
            actor=admin, office=office, kind="sktm", year=year, next_serial=137
        )
    # Moving forward is allowed (the paper book went on meanwhile).
    set_sequence_start(
        actor=admin,
        office=office,
        kind="sktm",
        year=year,
        next_serial=200,
        number_format="{code}/{serial:03d}/{office}/{year}",
        classification="474",
    )
    assert (
        issue(actor_of(desa_clerk), office, subject).number == f"474/200/DS-GS/{year}"
    )


def test_set_sequence_start_checks_role_and_format(
    root_key, desa_clerk, make_staff, actor_of, office
):
    with pytest.raises(PermissionDenied):
        set_sequence_start(
            actor=actor_of(desa_clerk),
            office=office,
            kind="sktm",
            year=2026,
            next_serial=5,
        )
    admin = actor_of(make_staff(office=DESA, role="service_admin"))
    for bad in (
        "{office.__class__}",
        "{serial!r}",
        "{nomor}",
        "no serial",
        "{serial:>40}",
    ):
        with pytest.raises(BalaiError):
            set_sequence_start(
                actor=admin,
                office=office,
                kind="sktm",
                year=2026,
                next_serial=5,
                number_format=bad,
            )


def test_the_signer_is_whoever_was_posted_on_the_signing_date(
    root_key, make_staff, system_actor, actor_of, office, subject
):
    """Two successive heads and a Plt. in between."""
    first = make_staff(
        office=DESA,
        role="leader",
        is_head=True,
        position="Kepala Desa Gunung Sari",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2026, 3, 31),
        nip="197001012000031001",
    )
    acting = make_staff(
        office=DESA,
        role="leader",
        is_head=True,
        is_acting=True,
        position="Kepala Desa Gunung Sari",
        start_date=dt.date(2026, 4, 1),
        end_date=dt.date(2026, 6, 30),
        nip="198002022005011002",
    )
    second = make_staff(
        office=DESA,
        role="leader",
        is_head=True,
        position="Kepala Desa Gunung Sari",
        start_date=dt.date(2026, 7, 1),
        nip="",
    )
    clerk = actor_of(
        make_staff(office=DESA, role="counter_officer", start_date=dt.date(2024, 1, 1))
    )
    a = issue(clerk, office, subject, signed_on=dt.date(2026, 3, 31))
    b = issue(clerk, office, subject, signed_on=dt.date(2026, 4, 1))
    c = issue(clerk, office, subject, signed_on=dt.date(2026, 7, 1))
    assert (a.signer_name, a.signer_title, a.signer_nip) == (
        first.display_name,
        "Kepala Desa Gunung Sari",
        "197001012000031001",
    )
    assert (b.signer_name, b.signer_title) == (
        acting.display_name,
        "Plt. Kepala Desa Gunung Sari",
    )
    assert (c.signer_name, c.signer_title) == (
        second.display_name,
        "Kepala Desa Gunung Sari",
    )
    # And that is the name, position and NIP printed on each letter.
    texts = [pdf_text(d) for d in (a, b, c)]
    assert first.display_name in texts[0]
    assert "NIP. 19700101 200003 1 001" in texts[0]
    assert "Plt. Kepala Desa Gunung Sari," in texts[1]
    assert acting.display_name in texts[1]
    assert "NIP. 19800202 200501 1 002" in texts[1]
    assert first.display_name not in texts[1]
    assert second.display_name in texts[2]
    assert "Plt." not in texts[2]
    assert "NIP." not in texts[2], "a head without NIP prints none"


def test_a_definitive_head_signs_before_an_acting_one(
    root_key, make_staff, actor_of, office, subject
):
    head = make_staff(office=DESA, role="leader", is_head=True, position="Kepala Desa")
    make_staff(
        office=DESA, role="leader", is_head=True, is_acting=True, position="Kepala Desa"
    )
    clerk = actor_of(make_staff(office=DESA, role="counter_officer"))
    assert issue(clerk, office, subject).signer_name == head.display_name


def test_no_posted_head_means_no_letter_and_no_number_used(
    root_key, make_staff, actor_of, office, subject
):
    clerk = actor_of(make_staff(office=DESA, role="counter_officer"))
    with pytest.raises(BalaiError) as info:
        issue(clerk, office, subject)
    assert info.value.code == "no_signer"
    assert not IssuedDocument.objects.exists()
    assert not DocumentSequence.objects.filter(last_serial__gt=0).exists()


def test_a_failing_render_rolls_the_serial_back(
    root_key, desa_head, desa_clerk, actor_of, office, subject, settings, tmp_path
):
    actor = actor_of(desa_clerk)
    assert issue(actor, office, subject).serial == 1
    broken = tmp_path / "letters"
    broken.mkdir()
    (broken / "sktm.html").write_text("{% if %}", encoding="utf-8")
    settings.BALAI_LETTER_TEMPLATE_DIR = str(broken)
    with pytest.raises(BalaiError) as info:
        issue(actor, office, subject)
    assert info.value.code == "template_invalid"
    settings.BALAI_LETTER_TEMPLATE_DIR = ""
    assert issue(actor, office, subject).serial == 2, "no gap after the failure"


def test_receipts_are_signed_by_the_receiving_officer(
    root_key, desa_head, desa_clerk, actor_of, office, subject
):
    doc = issue(
        actor_of(desa_clerk),
        office,
        subject,
        kind="receipt",
        facts={"service": "Surat Keterangan Tidak Mampu", "items": ["KTP", "KK"]},
    )
    assert doc.signer_name == desa_clerk.display_name
    assert doc.signer_title == "Kaur Umum"
    assert doc.number.startswith("TT/0001/")


def _receipt(actor, office, subject):
    return issue(
        actor,
        office,
        subject,
        kind="receipt",
        facts={"service": "Surat Keterangan Tidak Mampu", "items": ["KTP"]},
    )


def test_a_receipt_is_signed_under_the_postings_read_with_the_actor(
    root_key, desa_head, make_staff, system_actor, actor_of, office, subject
):
    clerk = make_staff(office=DESA, role="counter_officer", position="Kaur Umum")
    create_posting(
        actor=system_actor,
        user=clerk,
        office=office,
        position="Sekretaris Desa",
        role="leader",
        start_date=dt.date(2025, 1, 1),
        is_head=True,
        is_acting=True,
    )
    actor = actor_of(clerk)

    with CaptureQueriesContext(connection) as queries:
        doc = _receipt(actor, office, subject)

    # His heading post signs before his own clerk's post, as the query orders.
    assert doc.signer_title == "Plt. Sekretaris Desa"  # acting: "Plt." added
    assert not [q for q in queries if "accounts_posting" in q["sql"]]


def test_an_actor_read_on_another_day_has_his_postings_read_again(
    root_key, desa_head, make_staff, actor_of, office, subject
):
    clerk = make_staff(office=DESA, role="counter_officer", position="Kaur Umum")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    actor = replace(actor_of(clerk), postings=(), postings_on=yesterday)

    with CaptureQueriesContext(connection) as queries:
        doc = _receipt(actor, office, subject)

    assert doc.signer_title == "Kaur Umum"
    assert [q for q in queries if "accounts_posting" in q["sql"]]


def test_issuing_checks_role_scope_subject_and_date(
    root_key, desa_head, desa_clerk, make_staff, actor_of, office, subject
):
    auditor = actor_of(make_staff(office=DESA, role="auditor"))
    with pytest.raises(PermissionDenied):
        issue(auditor, office, subject)
    outsider = actor_of(make_staff(office="MPP-64.02.01", role="counter_officer"))
    with pytest.raises(NotFound):
        issue(outsider, office, subject)
    actor = actor_of(desa_clerk)
    for bad, code in (
        ({**subject, "name": "  "}, "name_required"),
        ({**subject, "nik": "12345"}, "nik_invalid"),
        ({**subject, "notes": "x" * 9000}, "too_large"),
    ):
        with pytest.raises(BalaiError) as info:
            issue(actor, office, bad)
        assert info.value.code == code
    with pytest.raises(BalaiError) as info:
        issue(
            actor,
            office,
            subject,
            signed_on=timezone.localdate() + dt.timedelta(days=1),
        )
    assert info.value.code == "date_in_future"
    with pytest.raises(BalaiError) as info:
        issue(actor, office, subject, kind="akta")
    assert info.value.code == "kind_unknown"
    assert not IssuedDocument.objects.exists()


def test_only_the_node_serving_the_office_issues(
    root_key, desa_head, desa_clerk, actor_of, office, subject, settings
):
    settings.BALAI_KECAMATAN_NODES = "64.02.12"  # Tabang runs its own node
    with pytest.raises(BalaiError) as info:
        issue(actor_of(desa_clerk), office, subject)
    assert info.value.code == "wrong_node"


def test_without_keys_issuing_refuses_clearly(
    desa_head, desa_clerk, actor_of, office, subject
):
    with pytest.raises(BalaiError) as info:
        issue(actor_of(desa_clerk), office, subject)
    assert info.value.code == "no_signing_key"
    assert not DocumentSequence.objects.filter(last_serial__gt=0).exists()


def test_idempotency_key_replays_the_same_document(
    root_key, desa_head, desa_clerk, actor_of, office, subject
):
    actor = actor_of(desa_clerk)
    a = issue(actor, office, subject, idempotency_key="form-1")
    b = issue(actor, office, subject, idempotency_key="form-1")
    assert a.pk == b.pk
    assert IssuedDocument.objects.count() == 1


def test_revocation_by_the_head_is_published_and_verifies_revoked(
    root_key, desa_head, desa_clerk, actor_of, office, subject
):
    doc = issue(actor_of(desa_clerk), office, subject)
    revocation = revoke_document(
        actor=actor_of(desa_head), document=doc, reason="Data penghasilan tidak benar"
    )
    assert revocation.digest == doc.digest
    published = RevocationList.objects.get()
    assert doc.digest in published.body
    verdict = verify(text=doc.qr_text)
    assert (verdict.status, verdict.revocation_reason) == (
        "revoked",
        "Data penghasilan tidak benar",
    )
    assert verdict.revoked_at == revocation.revoked_at
    assert AuditEntry.objects.filter(action="documents.revoke").exists()
    with pytest.raises(Conflict):
        revoke_document(actor=actor_of(desa_head), document=doc, reason="sekali lagi")


def test_revocation_is_refused_to_others(
    root_key, desa_head, desa_clerk, make_staff, actor_of, office, subject
):
    doc = issue(actor_of(desa_clerk), office, subject)
    with pytest.raises(PermissionDenied):
        revoke_document(actor=actor_of(desa_clerk), document=doc, reason="salah ketik")
    other_head = make_staff(
        office="DESA-64.02.12.2002", role="leader", is_head=True, position="Kepala Desa"
    )
    with pytest.raises(NotFound):  # another desa: out of scope, as if absent
        revoke_document(actor=actor_of(other_head), document=doc, reason="salah ketik")
    with pytest.raises(BalaiError) as info:
        revoke_document(actor=actor_of(desa_head), document=doc, reason="x")
    assert info.value.code == "reason_required"
    sysadmin = make_staff(office="DISKOMINFO", role="sysadmin")
    revoke_document(
        actor=actor_of(sysadmin), document=doc, reason="permintaan inspektorat"
    )
    assert DocumentRevocation.objects.filter(document=doc).exists()


def test_a_former_head_may_no_longer_revoke(
    root_key, desa_clerk, make_staff, system_actor, actor_of, office, subject
):
    head = make_staff(office=DESA, role="leader", is_head=True, position="Kepala Desa")
    doc = issue(actor_of(desa_clerk), office, subject)
    end_posting(
        actor=system_actor,
        posting=head.postings.get(),
        end_date=timezone.localdate() - dt.timedelta(days=1),
    )
    # He stays in the office as staff, so the document is in his scope.
    create_posting(
        actor=system_actor,
        user=head,
        office=office,
        position="Staf Desa",
        role="counter_officer",
        start_date=timezone.localdate(),
    )
    with pytest.raises(PermissionDenied):
        revoke_document(actor=actor_of(head), document=doc, reason="salah ketik nama")


def test_publish_needs_the_regency_key_or_the_root(
    root_key, make_staff, actor_of, settings
):
    sysadmin = actor_of(make_staff(office="DISKOMINFO", role="sysadmin"))
    first = publish_revocation_list(actor=sysadmin)
    assert first.seq == 1
    assert first.signer != "root"
    second = publish_revocation_list(actor=sysadmin, root_key=root_key)
    assert (second.seq, second.signer) == (2, "root")
    settings.BALAI_NODE = "64.02.12"
    with pytest.raises(BalaiError):
        publish_revocation_list(actor=sysadmin)


def test_a_batch_is_numbered_in_order_rendered_in_workers_and_all_or_nothing(
    root_key, desa_head, desa_clerk, actor_of, office, subject
):
    actor = actor_of(desa_clerk)
    letters = [
        Letter(
            kind="sktm" if i % 3 else "domisili",
            office=office,
            subject={**subject, "name": f"WARGA {i:02d}"},
            facts={"purpose": "Bantuan sosial"},
            application_ref=f"APL-{i:03d}",
        )
        for i in range(12)
    ]
    documents = issue_documents(actor=actor, letters=letters, workers=2)
    assert [d.subject_name for d in documents] == [f"WARGA {i:02d}" for i in range(12)]
    sktm = [d.serial for d in documents if d.kind == "sktm"]
    domisili = [d.serial for d in documents if d.kind == "domisili"]
    assert sktm == list(range(1, 9))
    assert domisili == list(range(1, 5))
    for document in documents:
        assert verify(text=document.qr_text).status == "valid"
        text = pdf_text(document)
        assert document.number in text
        assert document.subject_name in text
    assert DocumentSequence.objects.get(office=office, kind="sktm").last_serial == 8
    bad = [
        *letters[:3],
        Letter(kind="sktm", office=office, subject={"name": ""}, facts={}),
    ]
    with pytest.raises(BalaiError):
        issue_documents(actor=actor, letters=bad, workers=2)
    assert IssuedDocument.objects.count() == 12, "nothing of the failed batch stays"
    assert issue(actor, office, subject).serial == 9
