"""Fixtures of the services tests: the catalogue, officers, residents with a
KK number, citizen accounts, a frozen WITA clock, captured messages. All data
is built through the real actions."""

import datetime as dt
import io
import itertools

import pytest
from django.core.cache import cache
from django.utils import timezone

from balai.services import notifications
from balai.services.calendar import WITA

TENGGARONG = "64.02.06"
JAHAB = "64.02.06.1001"  # a kelurahan of Tenggarong
TIMBAU = "64.02.06.1004"
TABANG_DESA = "64.02.12.2001"
MPP = "MPP-64.02.06"
_kk = itertools.count(1)


def pdf_bytes(text: str = "dokumen") -> bytes:
    """A small well-formed PDF."""
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        + f"% {text}\n".encode()
        + b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return body


def jpeg_bytes(*, exif: bool = False, size=(8, 8)) -> bytes:
    from PIL import Image

    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "KameraRahasia"  # Make
        data[0x9286] = "lokasi rumah"  # UserComment
        image.save(out, format="JPEG", exif=data)
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def letter_keys(db, settings, tmp_path):
    """`letter_keys()`: make the signing keys the documents app signs letters
    with (its own command), valid from now (call it after setting the clock)."""
    from django.core.management import call_command

    from balai.documents import trust

    settings.BALAI_KEY_DIR = tmp_path / "keys"
    settings.BALAI_DOCUMENT_STORE = tmp_path / "dokumen"

    def make():
        trust.invalidate()
        call_command("keys_init_root", verbosity=0, stdout=io.StringIO())
        trust.invalidate()

    yield make
    trust.invalidate()


@pytest.fixture
def catalogue(db, system_actor):
    from balai.services.actions import load_catalogue
    from balai.services.models import Service

    load_catalogue(actor=system_actor)
    return {s.code: s for s in Service.objects.all()}


@pytest.fixture
def clock(monkeypatch):
    """Freeze `timezone.now()` at a WITA moment: `clock("2026-03-02 09:00")`."""

    class Clock:
        now = None

        def __call__(self, text: str) -> dt.datetime:
            self.now = dt.datetime.fromisoformat(text).replace(tzinfo=WITA)
            return self.now

    frozen = Clock()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: frozen.now or real_now())
    return frozen


@pytest.fixture
def sent(monkeypatch):
    """Capture the messages the services queue (instead of the outbox)."""
    messages = []

    def capture(*, actor, template, recipient, context, required=False):
        messages.append(
            {"template": template, "to": recipient, "context": dict(context)}
        )
        return True

    monkeypatch.setattr(notifications, "queue_text", capture)
    return messages


@pytest.fixture
def officer_at(make_staff, actor_of):
    """`officer_at(office, role)` → (user, actor)."""

    def make(office: str = MPP, role: str = "counter_officer", **kwargs):
        user = make_staff(office=office, role=role, **kwargs)
        return user, actor_of(user)

    return make


@pytest.fixture
def counter(officer_at):
    return officer_at(MPP, "counter_officer")[1]


@pytest.fixture
def registrar(officer_at):
    return officer_at("DISDUKCAPIL", "registrar")[1]


@pytest.fixture
def dukcapil_officer(officer_at):
    return officer_at("DISDUKCAPIL", "registry_officer")[1]


@pytest.fixture
def resident(make_resident):
    """`resident(...)`: a resident heading his own KK with a KK number."""

    def make(**kwargs):
        village = kwargs.get("village", JAHAB)
        if "family" not in kwargs:
            kwargs.setdefault(
                "kk_number", "".join(village.split(".")[:3]) + f"150125{next(_kk):04d}"
            )
        kwargs.setdefault("mother_name", "Siti Aminah")
        return make_resident(**kwargs)

    return make


@pytest.fixture
def citizen(db, system_actor, actor_of):
    """`citizen(resident, verified=True)` → (user, actor) for a resident."""
    from balai.accounts.actions import create_citizen_account
    from balai.accounts.models import User

    def make(person, *, verified: bool = True, phone: str = ""):
        user = create_citizen_account(
            actor=system_actor,
            username=f"warga-{person.nik}",
            password="kata-sandi-warga-123",
            phone=phone,
            resident_id=person.pk,
            check_password=False,
        )
        if verified:
            User.objects.filter(pk=user.pk).update(is_verified_citizen=True)
            user.refresh_from_db()
        return user, actor_of(user)

    return make


@pytest.fixture
def upload(db):
    """`upload(actor, requirement_code, kind=..., content=...)` → Attachment."""
    from balai.services.actions import upload_attachment

    def make(actor, code="", *, kind="requirement", content=None, name="berkas.pdf"):
        return upload_attachment(
            actor=actor,
            file=io.BytesIO(content if content is not None else pdf_bytes(code)),
            kind=kind,
            requirement_code=code,
            original_name=name,
        )

    return make


@pytest.fixture
def apply_online(catalogue, upload):
    """`apply_online(actor, code, form_data, **kw)`: upload every required file,
    then submit online."""
    from balai.services.actions import submit_application

    def submit(actor, code, form_data, **kwargs):
        service = catalogue[code]
        files = [
            upload(actor, r["code"]).pk
            for r in service.requirements
            if r["mode"] == "upload" and r["required"]
        ]
        files += kwargs.pop("attachments", [])
        return submit_application(
            actor=actor,
            service=service,
            channel="online",
            form_data=form_data,
            attachments=files,
            **kwargs,
        )

    return submit


@pytest.fixture
def step(db):
    """`step(actor, application, name, **kw)`: take a step at its current version."""
    from balai.services.actions import transition_application
    from balai.services.models import Application

    def take(actor, application, name, **kwargs):
        fresh = Application.objects.get(pk=application.pk)
        kwargs.setdefault("note", "catatan")
        return transition_application(
            actor=actor,
            application=fresh,
            name=name,
            expected_version=fresh.version,
            **kwargs,
        )

    return take


@pytest.fixture(autouse=True)
def _receipts_off(request, monkeypatch):
    """Receipts render a signed PDF per submission: tests about other things
    skip them; tests that use the `receipts` fixture get the real ones."""
    if "receipts" in request.fixturenames:
        return
    from balai.services import receipts as receipt_module

    monkeypatch.setattr(receipt_module, "issue_receipt", lambda **kwargs: {})


@pytest.fixture
def receipts(db, letter_keys, make_staff):
    """Real receipts: signing keys, and a head at the offices tests file at
    (online receipts are signed by the head of the filing office)."""
    from balai.regions.models import Office

    letter_keys()
    for office in Office.objects.filter(
        region_id__in=[JAHAB, TIMBAU, TENGGARONG]
    ).exclude(kind="regency") | Office.objects.filter(code__in=[MPP, "DISDUKCAPIL"]):
        make_staff(office=office.code, role="leader", is_head=True)
