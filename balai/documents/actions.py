"""Writes of the documents app: issue and revoke letters, number series, keys
and revocation lists, SIAK PDFs.

`issue_document` is what the services app calls; nothing here imports
services. Each action is atomic and audited (`balai.audit.actions.record`).
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import re
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from balai.accounts.models import Posting, Role
from balai.accounts.selectors import office_head
from balai.audit.actions import record, record_many
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError, Conflict, PermissionDenied
from balai.core.nodes import REGENCY_NODE, node_serves, serving_node
from balai.core.rows import db_value, insert_rows, select_rows, update_row
from balai.core.serialize import json_value
from balai.documents import conf, keys, payload, render, storage, trust
from balai.documents.models import (
    DocumentKind,
    DocumentRevocation,
    DocumentSequence,
    IssuedDocument,
    KeyCertificate,
    KeyRevocation,
    RevocationList,
    SiakDocument,
    SiakKind,
)
from balai.documents.numbering import check_format, format_number
from balai.regions.models import Office

ISSUER_ROLES = (
    Role.COUNTER_OFFICER,
    Role.REGISTRY_OFFICER,
    Role.REGISTRAR,
    Role.SERVICE_ADMIN,
    Role.LEADER,
    Role.SYSADMIN,
)
NUMBERING_ROLES = (Role.SERVICE_ADMIN, Role.SYSADMIN)
SIAK_ROLES = (Role.REGISTRAR, Role.SYSADMIN)
# The registry officer records SIAK's output at Disdukcapil (decision 0005,
# step `issue`): he may store the PDF too, posted there only.
SIAK_OFFICER_ROLE = Role.REGISTRY_OFFICER
# Letters an officer signs for himself (what he received or completed); the
# others are signed by the head of the office.
OFFICER_SIGNED = {DocumentKind.RECEIPT, DocumentKind.COMPLETION}
MAX_SUBJECT_JSON = 8 * 1024
MAX_FACTS_JSON = 16 * 1024
NIK_RE = re.compile(r"^\d{16}$")
MAX_BATCH = 5000


def _require_node(office: Office) -> None:
    if not node_serves(office):
        raise BalaiError(
            f"{office.name} dilayani oleh node {serving_node(office)}; "
            "dokumennya hanya dapat ditulis di sana.",
            code="wrong_node",
            status_code=409,
        )


def _plain(value: Any, label: str, limit: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BalaiError(f"{label} harus berupa objek.", code="invalid")
    plain = json_value(value)
    if len(json.dumps(plain, ensure_ascii=False)) > limit:
        raise BalaiError(f"{label} terlalu besar.", code="too_large")
    return plain


def clean_subject(subject: Any) -> dict[str, Any]:
    """Check the subject: a name is required, a NIK (if any) is 16 digits."""
    plain = _plain(subject, "Data pemohon", MAX_SUBJECT_JSON)
    name = " ".join(str(plain.get("name") or "").split())
    if not name or len(name) > 150:
        raise BalaiError(
            "Nama pemohon wajib diisi (maksimal 150 karakter).", code="name_required"
        )
    if any(ord(c) < 0x20 for c in name):
        raise BalaiError("Nama pemohon memuat karakter tidak sah.", code="invalid")
    nik = str(plain.get("nik") or "").strip()
    if nik and not NIK_RE.match(nik):
        raise BalaiError("NIK harus 16 angka.", code="nik_invalid")
    return {**plain, "name": name, "nik": nik}


def _signing_posting(
    *, kind: str, office: Office, on: dt.date, actor: Actor
) -> Posting:
    if kind in OFFICER_SIGNED and actor.user_id:
        own = _own_posting(actor=actor, office=office, on=on)
        if own is not None:
            return own
    head = office_head(office=office, on=on)
    if head is None:
        raise BalaiError(
            f"Belum ada pejabat penanda tangan (kepala) {office.name} "
            f"pada tanggal {on:%d-%m-%Y}. Catat penugasannya terlebih dahulu.",
            code="no_signer",
        )
    return head


def _own_posting(*, actor: Actor, office: Office, on: dt.date) -> Posting | None:
    """The actor's own post in `office` on `on` that signs: a head's first,
    a definitive one before an acting one, the newest."""
    if actor.postings_on == on:
        # Read with the actor, this request: no second query.
        held = [p for p in actor.postings if p.office_id == office.pk]
        held.sort(key=lambda p: (not p.is_head, p.is_acting, -p.start_date.toordinal()))
        return held[0] if held else None
    return (
        Posting.objects.filter(user_id=actor.user_id, office=office, start_date__lte=on)
        .exclude(end_date__lt=on)
        .select_related("user")
        .order_by("-is_head", "is_acting", "-start_date")
        .first()
    )


def lock_sequence(*, office: Office, kind: str, year: int) -> DocumentSequence:
    """Return the series row locked for this transaction (made if missing),
    with the highest serial of the series already held (`highest_issued`),
    read in the same statement."""
    sequence = _locked_sequence(office=office, kind=kind, year=year)
    if sequence is None:
        try:
            with transaction.atomic():
                DocumentSequence.objects.create(
                    office=office, owner_office=office, kind=kind, year=year
                )
        except IntegrityError:
            pass  # made meanwhile by a concurrent issuer: lock that one
        sequence = _locked_sequence(office=office, kind=kind, year=year)
    sequence.office = office
    return sequence


def _locked_sequence(
    *, office: Office, kind: str, year: int
) -> DocumentSequence | None:
    # One plain statement: every letter and receipt passes here, and the ORM
    # took a millisecond to build the query with its subquery.
    quote = connection.ops.quote_name
    seq, doc = DocumentSequence._meta, IssuedDocument._meta
    columns = ", ".join(f"s.{quote(f.column)}" for f in seq.concrete_fields)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    rows = DocumentSequence.objects.raw(
        f"SELECT {columns}, (SELECT MAX(d.serial) FROM {quote(doc.db_table)} d "  # noqa: S608
        "WHERE d.office_id = s.office_id AND d.kind = s.kind AND d.year = s.year"
        f") AS highest_issued FROM {quote(seq.db_table)} s "
        f"WHERE s.office_id = %s AND s.kind = %s AND s.year = %s{lock}",
        [seq.get_field("office").get_db_prep_value(office.pk, connection), kind, year],
    )
    return next(iter(rows), None)


def _past_issued(sequence: DocumentSequence) -> DocumentSequence:
    """Move a locked series past the highest letter of it already held.

    A node restored from a backup can get back from the regency a letter
    numbered past the series row it keeps (its own change to the row was
    refused as changed elsewhere, the new letter was not): the next number
    must still be free.
    """
    highest = sequence.highest_issued
    if highest is not None and highest > sequence.last_serial:
        sequence.last_serial = highest
    return sequence


def current_signer(at: dt.datetime, *, fresh: bool = False) -> keys.NodeSigner:
    """This node's signing key at `at`: certified, current, not revoked.

    The trust store is cached per process; a revocation made elsewhere is
    caught by one extra look at the database before the key is used.
    """
    store = trust.build_server_trust() if fresh else trust.server_trust()
    if store.root_public is None:
        raise BalaiError(
            "Kunci tanda tangan dokumen belum disiapkan (balai keys_init_root).",
            code="no_signing_key",
            status_code=503,
        )
    revoked = {k: s.revoked_at for k, s in store.key_revocations.items()}
    try:
        signer = keys.load_signer(
            node=settings.BALAI_NODE, certs=store.certs, revoked=revoked, at=at
        )
    except keys.KeyProblem as exc:
        raise BalaiError(str(exc), code="no_signing_key", status_code=503) from exc
    if not fresh and _revoked_in_database(signer.key_id, at):
        trust.invalidate()
        return current_signer(at, fresh=True)
    return signer


def _revoked_in_database(key_id: str, at: dt.datetime) -> bool:
    # A plain statement: every receipt passes here, and building the ORM's
    # query cost more than running it (key_id is unique).
    return bool(
        select_rows(
            KeyRevocation,
            where="key_id = %s AND revoked_at <= %s",
            params=[key_id, db_value(KeyRevocation, "revoked_at", at)],
        )
    )


@dataclass(frozen=True)
class Letter:
    """One letter to issue in a batch (`issue_documents`)."""

    kind: str
    office: Office
    subject: dict[str, Any]
    facts: dict[str, Any]
    application_ref: str = ""
    signed_on: dt.date | None = None


@dataclass
class _Draft:
    letter: Letter
    on: dt.date
    posting: Posting
    sequence: DocumentSequence | None = None
    serial: int = 0
    number: str = ""
    signed: payload.Signed | None = None
    html: str = ""
    title: str = ""


def _check(actor: Actor, letter: Letter) -> Letter:
    """Validate one letter (role, scope, node, subject, facts, date)."""
    actor.require_role(*ISSUER_ROLES)
    office = letter.office
    actor.require_covers(office.region_id)
    if letter.kind not in DocumentKind.values:
        raise BalaiError("Jenis dokumen tidak dikenal.", code="kind_unknown")
    _require_node(office)
    application_ref = str(letter.application_ref or "").strip()
    if len(application_ref) > 64:
        raise BalaiError("Nomor permohonan terlalu panjang.", code="invalid")
    today = timezone.localdate()
    on = letter.signed_on or today
    if on > today:
        raise BalaiError(
            "Tanggal surat tidak boleh di masa depan.", code="date_in_future"
        )
    return Letter(
        kind=letter.kind,
        office=office,
        subject=clean_subject(letter.subject),
        facts=_plain(letter.facts, "Keterangan", MAX_FACTS_JSON),
        application_ref=application_ref,
        signed_on=on,
    )


def _compose(
    draft: _Draft,
    *,
    actor: Actor,
    signer: keys.NodeSigner,
    signed_at: dt.datetime,
    layout: bool = True,
) -> None:
    """Number, sign and (unless `layout` is off) lay out one letter whose
    serial is taken."""
    letter, sequence = draft.letter, draft.sequence
    office, kind, on = letter.office, letter.kind, draft.on
    draft.number = format_number(
        sequence.number_format or conf.number_format(),
        code=sequence.classification or conf.classification(kind),
        serial=draft.serial,
        office_short=office.short_name,
        office_code=office.code,
        on=on,
        kind=kind,
    )
    nik_masked = payload.mask_nik(letter.subject["nik"])
    draft.signed = payload.sign(
        facts=payload.Facts(
            kind=kind,
            number=draft.number,
            name=letter.subject["name"],
            nik_masked=nik_masked,
            date=on,
            office_code=office.code,
            key_id=signer.key_id,
            signed_at=signed_at,
        ),
        signer=signer,
        public_url=conf.public_url(),
    )
    posting = draft.posting
    draft.title = str(DocumentKind(kind).label)
    if not layout:
        # Rendered after commit from the stored row (`stored_html`): laying it
        # out here too cost a submission ~8 ms of CPU for HTML nobody read.
        return
    draft.html = render.render_html(
        kind,
        render.letter_context(
            kind=kind,
            kind_label=draft.title,
            office=office,
            number=draft.number,
            signed_on=on,
            signed_at=signed_at,
            subject=letter.subject,
            facts=letter.facts,
            signer=_signer_info(posting),
            qr_text=draft.signed.url,
            nik_masked=nik_masked,
            application_ref=letter.application_ref,
            issued_by=actor.username,
        ),
    )


def _signer_info(posting: Posting) -> dict[str, Any]:
    user = posting.user
    return {
        "name": user.display_name,
        "title": posting.title,
        "position": posting.position,
        "is_acting": posting.is_acting,
        "nip": user.nip,
    }


def _document(
    draft: _Draft, *, actor: Actor, signer: keys.NodeSigner, pdf: bytes | None
) -> IssuedDocument:
    letter, signed = draft.letter, draft.signed
    info = _signer_info(draft.posting)
    return IssuedDocument(
        kind=letter.kind,
        office=letter.office,
        owner_office=letter.office,
        year=draft.on.year,
        serial=draft.serial,
        number=draft.number,
        application_ref=letter.application_ref,
        subject=letter.subject,
        facts=letter.facts,
        subject_name=letter.subject["name"],
        nik_masked=signed.facts.nik_masked,
        signed_on=draft.on,
        signed_at=signed.facts.signed_at,
        signer_name=info["name"],
        signer_title=info["title"],
        signer_nip=info["nip"],
        signer_posting_id=draft.posting.pk,
        key_id=signer.key_id,
        qr_text=signed.url,
        digest=signed.digest,
        template=render_template_name(letter.kind),
        # No PDF yet ("" ): rendered on its first download (`render_later`).
        pdf_sha256=storage.put(pdf) if pdf is not None else "",
        pdf_size=len(pdf) if pdf is not None else 0,
        issued_by=actor.username,
    )


def _details(document: IssuedDocument) -> dict[str, Any]:
    return {
        "number": document.number,
        "kind": document.kind,
        "office": document.office.code,
        "application_ref": document.application_ref,
        "key_id": document.key_id,
        "digest": document.digest,
        "signer_posting": str(document.signer_posting_id),
    }


def _sequence_details(sequence: DocumentSequence) -> dict[str, Any]:
    return {
        "office": sequence.office.code,
        "kind": sequence.kind,
        "year": sequence.year,
        "serial": sequence.last_serial,
    }


def _render_one(job: tuple[str, str, str]) -> bytes:
    html, title, qr_text = job
    return render.write_pdf(html, title=title, qr_text=qr_text)


def _render_pool(workers: int, count: int) -> ProcessPoolExecutor | None:
    """Forked render workers when there are many letters, else None.

    The workers only turn HTML into PDF bytes: no database, no keys.
    """
    if workers <= 1 or count < 2 * workers or not hasattr(os, "fork"):
        return None
    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _issue(
    *,
    actor: Actor,
    letters: Sequence[Letter],
    workers: int,
    render_later: bool = False,
) -> list[IssuedDocument]:
    checked = [_check(actor, letter) for letter in letters]
    drafts = []
    postings: dict[tuple, Posting] = {}
    for letter in checked:
        key = (letter.office.pk, letter.kind in OFFICER_SIGNED, letter.signed_on)
        if key not in postings:
            postings[key] = _signing_posting(
                kind=letter.kind, office=letter.office, on=letter.signed_on, actor=actor
            )
        drafts.append(_Draft(letter=letter, on=letter.signed_on, posting=postings[key]))
    signed_at = timezone.now().replace(microsecond=0)
    signer = current_signer(signed_at)
    # Lock every series involved, always in the same order (no deadlock).
    series = sorted(
        {
            (d.letter.office.pk, d.letter.kind, d.on.year): d.letter.office
            for d in drafts
        }.items(),
        key=lambda item: (str(item[0][0]), item[0][1], item[0][2]),
    )
    sequences = {
        key: _past_issued(lock_sequence(office=office, kind=key[1], year=key[2]))
        for key, office in series
    }
    pool = None if render_later else _render_pool(workers, len(drafts))
    try:
        pending = []
        for draft in drafts:
            key = (draft.letter.office.pk, draft.letter.kind, draft.on.year)
            sequence = sequences[key]
            sequence.last_serial += 1
            draft.sequence, draft.serial = sequence, sequence.last_serial
            _compose(
                draft,
                actor=actor,
                signer=signer,
                signed_at=signed_at,
                layout=not render_later,
            )
            job = (draft.html, draft.title, draft.signed.url)
            # Workers render while the next letters are laid out.
            pending.append(pool.submit(_render_one, job) if pool else job)
        pdfs = [
            None if render_later else p.result() if pool else _render_one(p)
            for p in pending
        ]
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    documents = [
        _document(d, actor=actor, signer=signer, pdf=pdf)
        for d, pdf in zip(drafts, pdfs, strict=True)
    ]
    insert_rows(documents)
    changed = list(sequences.values())
    for sequence in changed:
        update_row(sequence, fields=["last_serial", "updated_at"])
    record_many(
        actor=actor,
        targets=[*changed, *documents],
        details=[_sequence_details(s) for s in changed]
        + [_details(d) for d in documents],
    )
    return documents


def stored_html(document: IssuedDocument) -> str:
    """Lay a signed document out again from its row (number, signer, QR)."""
    posting = Posting.objects.filter(pk=document.signer_posting_id).first()
    signer = {
        "name": document.signer_name,
        "title": document.signer_title,
        "position": posting.position if posting else document.signer_title,
        "is_acting": posting.is_acting if posting else False,
        "nip": document.signer_nip,
    }
    return render.render_html(
        document.kind,
        render.letter_context(
            kind=document.kind,
            kind_label=str(DocumentKind(document.kind).label),
            office=document.office,
            number=document.number,
            signed_on=document.signed_on,
            signed_at=document.signed_at,
            subject=document.subject,
            facts=document.facts,
            signer=signer,
            qr_text=document.qr_text,
            nik_masked=document.nik_masked,
            application_ref=document.application_ref,
            issued_by=document.issued_by,
        ),
    )


def pdf_of(document: IssuedDocument) -> bytes:
    """The PDF of an issued document. One issued with `render_later` and not
    rendered yet is rendered now (outside any lock) and kept, on the node that
    serves its office; elsewhere it is only served (the owner's copy syncs)."""
    if document.pdf_sha256:
        return storage.get(document.pdf_sha256)
    pdf = render.write_pdf(
        stored_html(document),
        title=str(DocumentKind(document.kind).label),
        qr_text=document.qr_text,
    )
    if node_serves(document.office):
        store_rendered_pdf(
            actor=Actor.system(name="render-dokumen", office=document.office),
            document=document,
            pdf=pdf,
        )
    return pdf


@action("documents.pdf.store")
def store_rendered_pdf(
    *, actor: Actor, document: IssuedDocument, pdf: bytes
) -> IssuedDocument:
    """Keep the PDF rendered after commit; the first render wins."""
    if not actor.is_system:
        raise PermissionDenied()
    current = (
        IssuedDocument.objects.select_for_update()
        .select_related("office")
        .get(pk=document.pk)
    )
    if current.pdf_sha256:
        return current
    current.pdf_sha256, current.pdf_size = storage.put(pdf), len(pdf)
    current.save(update_fields=["pdf_sha256", "pdf_size", "updated_at"])
    record(
        actor=actor,
        target=current,
        details={"number": current.number, "pdf_sha256": current.pdf_sha256},
    )
    return current


def render_pending(document_ids: Sequence[str]) -> int:
    """Render the PDFs of these documents that have none yet; return how many."""
    done = 0
    for document in IssuedDocument.objects.filter(
        pk__in=list(document_ids), pdf_sha256=""
    ).select_related("office"):
        pdf_of(document)
        done += 1
    return done


@action("documents.issue")
def issue_document(
    *,
    actor: Actor,
    kind: str,
    office: Office,
    subject: dict[str, Any],
    facts: dict[str, Any],
    application_ref: str = "",
    signed_on: dt.date | None = None,
    render_later: bool = False,
) -> IssuedDocument:
    """Number, sign and render a letter of `office`; return the stored document.

    The serial is taken under a lock on the (office, kind, year) row in this
    transaction: a failure anywhere (no signer, template error) rolls the
    number back, so series have no gaps and no repeats. With `render_later`
    the row (number, signed QR) is written now and the PDF is rendered on its
    first download (`pdf_of`), so the caller's transaction stays short and a
    letter nobody downloads (most receipts) costs no rendering.
    """
    letter = Letter(
        kind=kind,
        office=office,
        subject=subject,
        facts=facts,
        application_ref=application_ref,
        signed_on=signed_on,
    )
    return _issue(
        actor=actor,
        letters=[letter],
        workers=1,
        render_later=render_later,
    )[0]


@action("documents.issue_batch")
def issue_documents(
    *, actor: Actor, letters: Sequence[Letter], workers: int | None = None
) -> list[IssuedDocument]:
    """Issue many letters in one transaction (all or none), numbered in order.

    PDFs are rendered by `workers` processes (default: the CPU count, at most
    4). The series involved stay locked until the batch commits: run large
    batches outside office hours, on the regency's PostgreSQL.
    """
    if not letters:
        return []
    if len(letters) > MAX_BATCH:
        raise BalaiError(
            f"Paling banyak {MAX_BATCH} surat sekali terbit.", code="batch_too_large"
        )
    count = workers if workers is not None else min(os.cpu_count() or 1, 4)
    return _issue(actor=actor, letters=list(letters), workers=max(1, count))


def render_template_name(kind: str) -> str:
    source = render.template_source(kind)
    custom = conf.letter_template_dir()
    origin = "custom" if custom and source.parent == custom else "builtin"
    return f"{origin}:{source.name}"


@action("documents.sequence.set_start")
def set_sequence_start(
    *,
    actor: Actor,
    office: Office,
    kind: str,
    year: int,
    next_serial: int,
    number_format: str = "",
    classification: str = "",
) -> DocumentSequence:
    """Continue a paper series: the next letter gets `next_serial`.

    Refused when that would repeat a number Balai already issued.
    """
    actor.require_role(*NUMBERING_ROLES)
    actor.require_covers(office.region_id)
    if kind not in DocumentKind.values:
        raise BalaiError("Jenis dokumen tidak dikenal.", code="kind_unknown")
    _require_node(office)
    if not isinstance(next_serial, int) or not 1 <= next_serial <= 9_999_999:
        raise BalaiError("Nomor berikutnya harus 1 sampai 9999999.", code="invalid")
    if not 2000 <= int(year) <= 2100:
        raise BalaiError("Tahun tidak sah.", code="invalid")
    if number_format:
        check_format(number_format)
    classification = classification.strip()
    if len(classification) > 20 or not classification.isascii():
        raise BalaiError("Kode klasifikasi tidak sah.", code="invalid")
    sequence = lock_sequence(office=office, kind=kind, year=int(year))
    highest = sequence.highest_issued or 0
    if next_serial <= highest:
        raise Conflict(
            f"Nomor urut {next_serial} sudah terpakai; nomor tertinggi yang "
            f"diterbitkan Balai adalah {highest}.",
            code="serial_used",
        )
    before = sequence.last_serial
    sequence.last_serial = next_serial - 1
    if number_format:
        sequence.number_format = number_format
    if classification:
        sequence.classification = classification
    sequence.save()
    record(
        actor=actor,
        target=sequence,
        details={
            "office": office.code,
            "kind": kind,
            "year": year,
            "from": before,
            "next_serial": next_serial,
            "number_format": sequence.number_format,
            "classification": sequence.classification,
        },
    )
    return sequence


def may_revoke(actor: Actor, office: Office) -> bool:
    """The issuing office's head (or Plt.) today, or a system administrator."""
    if actor.has_role(Role.SYSADMIN):
        return True
    if not actor.user_id:
        return False
    today = timezone.localdate()
    return (
        Posting.objects.filter(
            user_id=actor.user_id, office=office, is_head=True, start_date__lte=today
        )
        .exclude(end_date__lt=today)
        .exists()
    )


@action("documents.revoke")
def revoke_document(
    *, actor: Actor, document: IssuedDocument, reason: str
) -> DocumentRevocation:
    """Withdraw an issued document; verifiers then answer "revoked"."""
    office = document.office
    actor.require_covers(office.region_id)
    if not may_revoke(actor, office):
        raise PermissionDenied(
            "Hanya kepala kantor penerbit atau administrator sistem yang dapat "
            "mencabut dokumen."
        )
    _require_node(office)
    reason = " ".join(str(reason or "").split())
    if not 5 <= len(reason) <= 300:
        raise BalaiError(
            "Alasan pencabutan wajib diisi (5 sampai 300 karakter).",
            code="reason_required",
        )
    if DocumentRevocation.objects.filter(document=document).exists():
        raise Conflict("Dokumen ini sudah dicabut.", code="already_revoked")
    revocation = DocumentRevocation.objects.create(
        document=document,
        digest=document.digest,
        revoked_at=timezone.now().replace(microsecond=0),
        reason=reason,
        revoked_by=actor.username,
    )
    record(
        actor=actor,
        target=revocation,
        details={
            "number": document.number,
            "digest": document.digest,
            "reason": reason,
        },
    )
    if can_sign_lists():
        _publish(actor=actor, root_key=None)
    trust.invalidate_on_commit()
    return revocation


# --- keys and revocation lists ----------------------------------------------------


def can_sign_lists() -> bool:
    """Whether this node holds a usable regency key (it publishes the lists)."""
    if settings.BALAI_NODE != REGENCY_NODE:
        return False
    try:
        current_signer(timezone.now(), fresh=True)
    except BalaiError:
        return False
    return True


@action("documents.key.register")
def register_certificate(
    *, actor: Actor, certificate: keys.Certificate
) -> KeyCertificate:
    """Keep a root-signed key certificate (public) so every verifier has it."""
    actor.require_role(Role.SYSADMIN)
    root_public = keys.load_root_public()
    if root_public is None:
        raise BalaiError("Kunci publik akar belum ada.", code="no_trust_anchor")
    try:
        cert = keys.parse_certificate(
            certificate.text, certificate.signature, root_public=root_public
        )
    except keys.KeyProblem as exc:
        raise BalaiError(str(exc), code="certificate_invalid") from exc
    existing = KeyCertificate.objects.filter(key_id=cert.key_id).first()
    if existing is not None:
        if existing.certificate != cert.text:
            raise Conflict("Id kunci ini sudah dipakai sertifikat lain.")
        return existing
    row = KeyCertificate.objects.create(
        key_id=cert.key_id,
        node=cert.node,
        public_key=keys.b64(cert.public_key),
        not_before=cert.not_before,
        not_after=cert.not_after,
        issued_at=cert.issued_at,
        certificate=cert.text,
        signature=cert.signature,
    )
    record(
        actor=actor,
        target=row,
        details={
            "key_id": cert.key_id,
            "node": cert.node,
            "not_before": cert.not_before,
            "not_after": cert.not_after,
        },
    )
    trust.invalidate_on_commit()
    return row


@action("documents.key.revoke")
def register_key_revocation(
    *,
    actor: Actor,
    statement: keys.KeyRevocationStatement,
    root_key: Any = None,
) -> KeyRevocation:
    """Keep a root-signed key revocation; publish a new list when possible."""
    actor.require_role(Role.SYSADMIN)
    root_public = keys.load_root_public()
    if root_public is None:
        raise BalaiError("Kunci publik akar belum ada.", code="no_trust_anchor")
    try:
        checked = keys.parse_key_revocation(
            statement.text, statement.signature, root_public=root_public
        )
    except keys.KeyProblem as exc:
        raise BalaiError(str(exc), code="revocation_invalid") from exc
    if KeyRevocation.objects.filter(key_id=checked.key_id).exists():
        raise Conflict("Kunci ini sudah dicabut.", code="already_revoked")
    row = KeyRevocation.objects.create(
        key_id=checked.key_id,
        revoked_at=checked.revoked_at,
        reason=checked.reason,
        statement=checked.text,
        signature=checked.signature,
    )
    record(
        actor=actor,
        target=row,
        details={
            "key_id": checked.key_id,
            "revoked_at": checked.revoked_at,
            "reason": checked.reason,
        },
    )
    if root_key is not None or can_sign_lists():
        _publish(actor=actor, root_key=root_key)
    trust.invalidate_on_commit()
    return row


def _publish(*, actor: Actor, root_key: Any) -> RevocationList:
    issued_at = timezone.now().replace(microsecond=0)
    if root_key is not None:
        sign, signer_name = root_key.sign, keys.ROOT_SIGNER
    else:
        node_signer = current_signer(issued_at, fresh=True)
        sign, signer_name = node_signer.sign, node_signer.key_id
    last = RevocationList.objects.select_for_update().order_by("-seq").first()
    seq = (last.seq if last else 0) + 1
    documents = [
        {
            "digest": r.digest,
            "reason": r.reason,
            "revoked_at": keys.utc_text(r.revoked_at),
        }
        for r in DocumentRevocation.objects.order_by("digest")
    ]
    key_items = [
        {"signature": r.signature, "statement": r.statement}
        for r in KeyRevocation.objects.order_by("key_id")
    ]
    text = keys.canonical_json(
        {
            "documents": documents,
            "issued_at": keys.utc_text(issued_at),
            "keys": key_items,
            "seq": seq,
            "version": 1,
        }
    )
    signature = keys.b64(sign(keys.REVOCATION_LIST_DOMAIN + text.encode("ascii")))
    row = RevocationList.objects.create(
        seq=seq, issued_at=issued_at, signer=signer_name, body=text, signature=signature
    )
    record(
        actor=actor,
        target=row,
        action="documents.revocations.publish",
        details={
            "seq": seq,
            "documents": len(documents),
            "keys": len(key_items),
            "signer": signer_name,
        },
    )
    trust.invalidate_on_commit()
    return row


@action("documents.revocations.publish")
def publish_revocation_list(*, actor: Actor, root_key: Any = None) -> RevocationList:
    """Sign and keep the current revocation list (regency key, or the root)."""
    actor.require_role(Role.SYSADMIN)
    if root_key is None and not can_sign_lists():
        raise BalaiError(
            "Node ini tidak memegang kunci kabupaten yang berlaku; daftar "
            "pencabutan diterbitkan oleh server kabupaten.",
            code="no_signing_key",
        )
    return _publish(actor=actor, root_key=root_key)


# --- SIAK documents ---------------------------------------------------------------


def _looks_like_pdf(data: bytes) -> bool:
    return data[:5] == b"%PDF-" and b"%%EOF" in data[-2048:]


@action("documents.siak.store")
def store_siak_document(
    *,
    actor: Actor,
    kind: str,
    number: str,
    subject_resident_id: uuid.UUID | str,
    pdf_bytes: bytes,
    application_ref: str = "",
) -> SiakDocument:
    """Keep the TTE-signed PDF SIAK issued, for delivery to the citizen."""
    siak_office = getattr(settings, "BALAI_SIAK_OFFICE", "DISDUKCAPIL")
    if not (actor.has_role(SIAK_OFFICER_ROLE) and actor.office_code == siak_office):
        actor.require_role(*SIAK_ROLES)
    if kind not in SiakKind.values:
        raise BalaiError("Jenis dokumen SIAK tidak dikenal.", code="kind_unknown")
    number = str(number or "").strip()
    if not number or len(number) > 64 or not number.isprintable():
        raise BalaiError("Nomor dokumen SIAK wajib diisi.", code="number_required")
    try:
        resident_id = uuid.UUID(str(subject_resident_id))
    except ValueError as exc:
        raise BalaiError("Id penduduk tidak sah.", code="invalid") from exc
    if not isinstance(pdf_bytes, bytes | bytearray) or not pdf_bytes:
        raise BalaiError("Berkas PDF wajib dilampirkan.", code="pdf_required")
    if len(pdf_bytes) > conf.max_siak_bytes():
        raise BalaiError("Berkas PDF terlalu besar.", code="too_large")
    pdf_bytes = bytes(pdf_bytes)
    if not _looks_like_pdf(pdf_bytes):
        raise BalaiError("Berkas ini bukan PDF yang utuh.", code="not_pdf")
    region_code = _resident_region(resident_id)
    sha = storage.put(pdf_bytes)
    office = (
        Office.objects.filter(pk=actor.office_id).first() if actor.office_id else None
    )
    document = SiakDocument.objects.create(
        kind=kind,
        number=number,
        subject_resident_id=resident_id,
        application_ref=str(application_ref or "").strip()[:64],
        sha256=sha,
        size=len(pdf_bytes),
        region_code=region_code,
        owner_office=office,
        stored_by=actor.username,
    )
    record(
        actor=actor,
        target=document,
        details={
            "kind": kind,
            "number": number,
            "sha256": sha,
            "size": len(pdf_bytes),
            "application_ref": document.application_ref,
        },
    )
    return document


def _resident_region(resident_id: uuid.UUID) -> str:
    from balai.registry.models import Resident

    return (
        Resident.objects.filter(pk=resident_id)
        .values_list("village_id", flat=True)
        .first()
        or ""
    )
