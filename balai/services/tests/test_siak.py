"""The SIAK PDF recorded at the `issue` step goes to the documents app
(`store_siak_document`): content-addressed, delivered with the access log;
the application keeps its attachment too."""

import pytest
from django.test import Client

from balai.services.models import AttachmentKind
from balai.services.tests.conftest import JAHAB, pdf_bytes

pytestmark = pytest.mark.django_db


def test_issue_stores_the_siak_pdf_in_documents(
    resident, citizen, apply_online, counter, registrar, officer_at, step, upload
):
    from balai.audit.models import AccessLog
    from balai.documents.models import SiakDocument
    from balai.registry.models import Resident

    mother = resident(village=JAHAB, sex="P", name="Ibu Siak")
    _, actor = citizen(mother)
    app = apply_online(
        actor,
        "akta-kelahiran",
        {
            "child_name": "Bayi Siak",
            "sex": "P",
            "birth_date": "2026-11-01",
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
    content = pdf_bytes("akta 6402-LU-01112026-0009")
    pdf = upload(officer, kind=AttachmentKind.SIAK_DOCUMENT, content=content)
    app = step(
        officer,
        app,
        "issue",
        attachments=[pdf.pk],
        numbers={
            "nik": "6402064111260009",
            "akta_number": "6402-LU-01112026-0009",
            "kk_number": mother.family.kk_number,
        },
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
