"""The SIAK PDF recorded at the `issue` step goes to the documents app
(`store_siak_document`): content-addressed, delivered with the access log;
the application keeps its attachment too."""

import re
import uuid

import pytest
from django.test import Client

from balai.core.actors import Actor
from balai.services.models import AttachmentKind
from balai.services.tests.conftest import JAHAB, pdf_bytes

pytestmark = pytest.mark.django_db


def _issue_akta(fx, *, mother_name, child_name, sex, birth_date, nik, akta):
    """A mother's online application for her newborn's akta, handed off,
    approved and issued at Disdukcapil with the SIAK PDF: (application, pdf
    bytes, mother's user, clerk who stored it). `fx` is the tuple of the
    fixtures it builds with, in the order unpacked below."""
    resident, citizen, apply_online, counter, registrar, officer_at, step, upload = fx
    mother = resident(village=JAHAB, sex="P", name=mother_name)
    user, actor = citizen(mother)
    app = apply_online(
        actor,
        "akta-kelahiran",
        {
            "child_name": child_name,
            "sex": sex,
            "birth_date": birth_date,
            "birth_place": "Tenggarong",
            "mother_nik": mother.nik,
            "kk_number": mother.family.kk_number,
        },
        relation="parent",
    )
    step(counter, app, "start_verification")
    step(counter, app, "hand_off")
    step(registrar, app, "approve")
    clerk, officer = officer_at("DISDUKCAPIL", "registry_officer")
    content = pdf_bytes(f"akta {akta}")
    pdf = upload(officer, kind=AttachmentKind.SIAK_DOCUMENT, content=content)
    app = step(
        officer,
        app,
        "issue",
        attachments=[pdf.pk],
        numbers={
            "nik": nik,
            "akta_number": akta,
            "kk_number": mother.family.kk_number,
        },
    )
    return app, content, user, clerk


def test_issue_stores_the_siak_pdf_in_documents(
    resident, citizen, apply_online, counter, registrar, officer_at, step, upload
):
    from balai.audit.models import AccessLog
    from balai.documents.models import SiakDocument
    from balai.registry.models import Resident

    app, content, _, clerk = _issue_akta(
        (resident, citizen, apply_online, counter, registrar, officer_at, step, upload),
        mother_name="Ibu Siak",
        child_name="Bayi Siak",
        sex="P",
        birth_date="2026-11-01",
        nik="6402064111260009",
        akta="6402-LU-01112026-0009",
    )
    baby = Resident.objects.get(name="Bayi Siak")
    document = SiakDocument.objects.get(application_ref=app.number)
    assert document.kind == "akta_lahir"
    assert document.number == "6402-LU-01112026-0009"
    assert document.subject_resident_id == baby.pk
    assert document.stored_by == clerk.username
    stored = app.events.get(transition="issue").data["siak_document"]
    assert stored["id"] == str(document.pk)
    # The attachment stays on the application.
    assert app.attachments.filter(kind=AttachmentKind.SIAK_DOCUMENT).exists()
    # Staff print it through the documents app; the read is access-logged.
    client = Client()
    client.force_login(clerk)
    page = client.get(f"/layanan/petugas/permohonan/{app.pk}/").content.decode()
    link = f"/dokumen/siak/{document.pk}/download"
    assert link in page
    before = AccessLog.objects.count()
    response = client.get(link)
    assert response.status_code == 200
    assert response.content == content
    assert AccessLog.objects.count() == before + 1


def test_a_registry_officer_elsewhere_may_not_store_siak_pdfs(officer_at, resident):
    from balai.core.errors import PermissionDenied
    from balai.documents.actions import store_siak_document

    _, officer = officer_at("MPP-64.02.06", "registry_officer")
    with pytest.raises(PermissionDenied):
        store_siak_document(
            actor=officer,
            kind="akta_lahir",
            number="X-1",
            subject_resident_id=resident().pk,
            pdf_bytes=pdf_bytes(),
        )


# --- Every download of a SIAK PDF is in the access log -------------------------


@pytest.fixture
def issued_akta(
    resident, citizen, apply_online, counter, registrar, officer_at, step, upload
):
    """A mother's online application for her newborn's akta, issued with the
    SIAK PDF: (application, document, pdf bytes, mother's user, clerk)."""
    from balai.documents.models import SiakDocument

    app, content, user, clerk = _issue_akta(
        (resident, citizen, apply_online, counter, registrar, officer_at, step, upload),
        mother_name="Ibu Unduh",
        child_name="Bayi Unduh",
        sex="L",
        birth_date="2026-11-02",
        nik="6402060211260010",
        akta="6402-LU-02112026-0010",
    )
    document = SiakDocument.objects.filter(application_ref=app.number).first()
    return app, document, content, user, clerk


def siak_links(html: str) -> list[str]:
    return re.findall(r'<a[^>]*href="([^"]+)"[^>]*data-siak-document', html)


def new_logs(before):
    from balai.audit.models import AccessLog

    return list(AccessLog.objects.exclude(pk__in=before).order_by("at"))


def log_ids():
    from balai.audit.models import AccessLog

    return set(AccessLog.objects.values_list("pk", flat=True))


def test_the_applicant_downloads_from_his_application_page_logged(issued_akta):
    app, document, content, parent, _ = issued_akta
    client = Client()
    client.force_login(parent)
    page = client.get(f"/layanan/permohonan/{app.pk}/").content.decode()
    (link,) = siak_links(page)
    assert link == f"/dokumen/siak/{document.pk}/download"
    before = log_ids()
    response = client.get(link)
    assert response.status_code == 200
    assert response.content == content
    (log,) = new_logs(before)
    # Whose record: the newborn's; who: the parent; why: the service.
    assert (log.subject_type, log.subject_id) == (
        "registry.resident",
        str(document.subject_resident_id),
    )
    assert (log.actor_id, log.actor_name) == (str(parent.pk), parent.username)
    assert (log.purpose, log.what) == ("layanan", "download")


def test_a_tracking_page_download_with_the_code_is_logged(issued_akta, catalogue):
    app, document, content, _, _ = issued_akta
    anonymous = Client()
    query = {"nomor": app.number, "kode": app.tracking_code}
    page = anonymous.get("/layanan/lacak/", query).content.decode()
    (link,) = siak_links(page)
    assert link.startswith(f"/dokumen/siak/{document.pk}/lacak/")
    assert app.tracking_code not in link
    before = log_ids()
    response = anonymous.get(link)
    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Disposition"].startswith("attachment;")
    (log,) = new_logs(before)
    assert (log.actor_id, log.actor_name) == ("", "pelacakan dengan kode")
    assert log.subject_id == str(document.subject_resident_id)
    assert (log.purpose, log.what) == ("layanan", "track_download")
    # The owner of the record sees it among who read his data.
    from balai.registry.selectors import who_read_my_record

    baby = Actor(
        user_id=uuid.uuid4(),
        username="bayi",
        roles=frozenset({"citizen"}),
        scope=(),
        is_citizen=True,
        resident_id=document.subject_resident_id,
    )
    assert "pelacakan dengan kode" in [r.reader for r in who_read_my_record(baby)]


def test_the_journey_link_from_the_tracking_page_downloads_the_pdf(issued_akta):
    # As in the browser journey: the parent, signed in, tracks and clicks.
    app, _, content, parent, _ = issued_akta
    client = Client()
    client.force_login(parent)
    query = {"nomor": app.number, "kode": app.tracking_code}
    page = client.get("/layanan/lacak/", query).content.decode()
    link = siak_links(page)[0]
    before = log_ids()
    response = client.get(link)
    assert response.status_code == 200
    assert response.content == content
    (log,) = new_logs(before)
    assert (log.actor_name, log.what) == (parent.username, "track_download")


def test_a_tracking_link_is_not_a_key_to_other_documents(issued_akta, monkeypatch):
    from balai.services import siak

    app, document, _, _, _ = issued_akta
    client = Client()
    other = uuid.uuid4()
    before = log_ids()
    forged = siak.track_token(other, app.number)
    assert client.get(f"/dokumen/siak/{document.pk}/lacak/{forged}").status_code == 404
    wrong_number = siak.track_token(document.pk, "KEL-64.02.06.1001-2026-999999")
    url = f"/dokumen/siak/{document.pk}/lacak/{wrong_number}"
    assert client.get(url).status_code == 404
    good = siak.track_token(document.pk, app.number)
    assert client.get(f"/dokumen/siak/{document.pk}/lacak/{good}x").status_code == 404
    monkeypatch.setattr(siak, "TRACK_TOKEN_MAX_AGE", -1)
    assert client.get(f"/dokumen/siak/{document.pk}/lacak/{good}").status_code == 404
    assert new_logs(before) == []
    # A wrong code shows no link at all.
    page = client.get("/layanan/lacak/", {"nomor": app.number, "kode": "XXXXXXXX"})
    assert siak_links(page.content.decode()) == []


def test_the_attachment_link_goes_through_the_logged_path(
    issued_akta, resident, citizen
):
    app, document, content, parent, clerk = issued_akta
    pdf = app.attachments.get(kind=AttachmentKind.SIAK_DOCUMENT)
    url = f"/layanan/berkas/{pdf.pk}/"
    for user in (parent, clerk):
        client = Client()
        client.force_login(user)
        before = log_ids()
        response = client.get(url, follow=True)
        assert response.redirect_chain == [
            (f"/dokumen/siak/{document.pk}/download", 302)
        ]
        assert response.status_code == 200
        assert response.content == content
        (log,) = new_logs(before)
        assert (log.actor_name, log.what) == (user.username, "download")
    # Another citizen gets neither the attachment nor the document.
    stranger, _ = citizen(resident(village=JAHAB, name="Orang Lain"))
    client = Client()
    client.force_login(stranger)
    before = log_ids()
    assert client.get(url).status_code == 404
    assert client.get(f"/dokumen/siak/{document.pk}/download").status_code == 404
    assert new_logs(before) == []


@pytest.fixture
def documents_keep_nothing(monkeypatch):
    """The documents app did not keep the PDF (no number, or not installed)."""
    from balai.services import siak

    monkeypatch.setattr(siak, "store", lambda **kwargs: {})


def test_a_siak_attachment_the_documents_app_does_not_keep_is_logged_too(
    documents_keep_nothing, issued_akta
):
    from balai.documents.models import SiakDocument

    app, _, content, parent, _ = issued_akta
    assert not SiakDocument.objects.exists()
    pdf = app.attachments.get(kind=AttachmentKind.SIAK_DOCUMENT)
    client = Client()
    client.force_login(parent)
    page = client.get(f"/layanan/permohonan/{app.pk}/").content.decode()
    assert siak_links(page) == [f"/layanan/berkas/{pdf.pk}/"]
    before = log_ids()
    response = client.get(f"/layanan/berkas/{pdf.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    (log,) = new_logs(before)
    baby = app.events.get(transition="approve").data["register"]["resident_id"]
    assert (log.subject_type, log.subject_id) == ("registry.resident", baby)
    assert (log.actor_name, log.purpose, log.what) == (
        parent.username,
        "layanan",
        "download",
    )
