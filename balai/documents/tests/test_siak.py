"""SIAK-issued PDFs: stored by hash outside the web root, delivered, access-logged."""

import hashlib
import uuid

import pytest
from django.conf import settings as django_settings

from balai.accounts.actions import create_citizen_account
from balai.audit.models import AccessLog, AccessPurpose, AuditEntry
from balai.core.errors import BalaiError, NotFound, PermissionDenied
from balai.documents import conf, storage
from balai.documents.actions import store_siak_document
from balai.documents.selectors import deliver_siak, siak_documents_of

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def registrar(make_staff):
    return make_staff(office="DISDUKCAPIL", role="registrar")


@pytest.fixture
def resident(make_resident):
    return make_resident(village="64.02.12.2001", name="BUDI SANTOSO")


def store(actor, resident_id, pdf=PDF, **kw):
    return store_siak_document(
        actor=actor,
        kind=kw.pop("kind", "kk"),
        number=kw.pop("number", "6402120101260001"),
        subject_resident_id=resident_id,
        pdf_bytes=pdf,
        application_ref=kw.pop("application_ref", "APL-2026-000001"),
    )


def test_stored_by_content_hash_outside_the_web_root(registrar, actor_of, resident):
    doc = store(actor_of(registrar), resident.pk)
    assert doc.sha256 == hashlib.sha256(PDF).hexdigest()
    assert doc.region_code == "64.02.12.2001"
    path = storage.path_of(doc.sha256)
    assert path.read_bytes() == PDF
    assert path.is_relative_to(conf.store_dir())
    web_roots = [
        django_settings.STATIC_ROOT,
        django_settings.STORAGES["default"]["OPTIONS"]["location"],
    ]
    assert not any(path.is_relative_to(root) for root in web_roots)
    twin = store(actor_of(registrar), resident.pk, number="AKTA-1", kind="akta_lahir")
    assert twin.sha256 == doc.sha256, "same bytes, one blob"
    assert AuditEntry.objects.filter(action="documents.siak.store").count() == 2


def test_refuses_what_is_not_a_whole_pdf_or_not_a_siak_kind(
    registrar, actor_of, resident, make_staff
):
    actor = actor_of(registrar)
    for bad in (b"", b"GIF89a", b"%PDF-1.7 truncated"):
        with pytest.raises(BalaiError):
            store(actor, resident.pk, pdf=bad)
    with pytest.raises(BalaiError) as info:
        store(actor, resident.pk, kind="sktm")
    assert info.value.code == "kind_unknown"
    with pytest.raises(BalaiError):
        store(actor, "not-a-uuid")
    clerk = actor_of(make_staff(office="MPP-64.02.12", role="counter_officer"))
    with pytest.raises(PermissionDenied):
        store(clerk, resident.pk)


def test_counter_prints_and_citizen_downloads_each_logged(
    client, registrar, actor_of, resident, make_staff, system_actor
):
    doc = store(actor_of(registrar), resident.pk)
    clerk = make_staff(office="MPP-64.02.12", role="counter_officer")
    client.force_login(clerk)
    printed = client.get(f"/dokumen/siak/{doc.pk}/print")
    assert printed.status_code == 200
    assert printed.content == PDF
    assert printed["Content-Disposition"].startswith("inline;")
    citizen = create_citizen_account(
        actor=system_actor,
        username="budi",
        password="kata-sandi-warga-123",
        resident_id=resident.pk,
        check_password=False,
    )
    client.force_login(citizen)
    download = client.get(f"/dokumen/siak/{doc.pk}/download")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/dokumen/siak/{doc.pk}/print").status_code == 404
    logs = list(
        AccessLog.objects.filter(subject_id=str(resident.pk))
        .order_by("at")
        .values_list("what", "actor_name", "purpose", "subject_type")
    )
    assert logs[-2:] == [
        ("print", clerk.username, AccessPurpose.SERVICE, "registry.resident"),
        ("download", "budi", AccessPurpose.SELF, "registry.resident"),
    ]


def test_access_is_refused_to_others_and_anonymous(
    client, registrar, actor_of, resident, make_staff, make_resident, system_actor
):
    doc = store(actor_of(registrar), resident.pk)
    url = f"/dokumen/siak/{doc.pk}/download"
    assert client.get(url).status_code == 302
    other_kecamatan = make_staff(office="MPP-64.02.01", role="counter_officer")
    client.force_login(other_kecamatan)
    assert client.get(url).status_code == 404
    stranger = make_resident(village="64.02.12.2002", name="ORANG LAIN")
    other_citizen = create_citizen_account(
        actor=system_actor,
        username="lain",
        password="kata-sandi-warga-123",
        resident_id=stranger.pk,
        check_password=False,
    )
    client.force_login(other_citizen)
    assert client.get(url).status_code == 404
    assert not AccessLog.objects.filter(what__in=["download", "print"]).exists()
    with pytest.raises(NotFound):
        deliver_siak(
            actor=actor_of(other_kecamatan), document_id=doc.pk, what="download"
        )


def test_a_resident_not_in_this_register_is_served_by_the_regency_only(
    registrar, actor_of, make_staff
):
    unknown = uuid.uuid4()
    doc = store(actor_of(registrar), unknown)
    assert doc.region_code == ""
    kecamatan = actor_of(make_staff(office="MPP-64.02.12", role="counter_officer"))
    with pytest.raises(NotFound):
        deliver_siak(actor=kecamatan, document_id=doc.pk, what="print")
    _, data = deliver_siak(actor=actor_of(registrar), document_id=doc.pk, what="print")
    assert data == PDF
    log = AccessLog.objects.get(what="print")
    assert (log.subject_type, log.subject_id) == ("documents.siakdocument", str(doc.pk))


def test_a_damaged_blob_is_not_delivered(registrar, actor_of, resident):
    doc = store(actor_of(registrar), resident.pk)
    storage.path_of(doc.sha256).write_bytes(PDF + b"tampered")
    with pytest.raises(BalaiError) as info:
        deliver_siak(actor=actor_of(registrar), document_id=doc.pk, what="download")
    assert info.value.code == "blob_missing"


def test_staff_list_a_residents_siak_documents_in_scope(
    registrar, actor_of, resident, make_staff
):
    store(actor_of(registrar), resident.pk)
    tabang = actor_of(make_staff(office="MPP-64.02.12", role="registry_officer"))
    muntai = actor_of(make_staff(office="MPP-64.02.01", role="registry_officer"))
    assert siak_documents_of(actor=tabang, resident_id=resident.pk).count() == 1
    assert siak_documents_of(actor=muntai, resident_id=resident.pk).count() == 0
