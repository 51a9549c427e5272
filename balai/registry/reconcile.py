"""Reconciliation with SIAK: compare a fresh SIAK export with the register.

`run_reconciliation` reads the export (the import's readers and SIAK layout),
matches people by NIK and lists, as `ReconcileItem`s of one `ReconcileRun`:

- people in SIAK who are not in the register (``hanya_siak``);
- people alive in the register, in the villages the export covers, who are
  not in it (``hanya_balai``; an export of one kecamatan says nothing about
  the others);
- each field on which SIAK and the register disagree (``beda``).

Nothing in the register changes until an officer reviews an item:

- a field difference is *proposed* as a correction (`propose_correction`) by
  the officer who accepts it, and *approved* by a registrar who is not that
  officer (`approve_correction` refuses the proposer): two people, always;
- a person only in SIAK is registered as an arrival (`register_arrival`)
  into his KK if the register has it, or as the head of a new KK;
- the rest (an address, a death, someone only in Balai) is for the officer
  to record through the usual events; those items can only be dismissed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from balai.audit.actions import record_many
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError, Conflict, NotFound
from balai.registry.actions import (
    APPROVER_ROLES,
    BULK_ROLES,
    LABELS,
    Address,
    Person,
    approve_correction,
    propose_correction,
    register_arrival,
    reject_correction,
)
from balai.registry.imports import layouts
from balai.registry.imports.pipeline import (
    DEFAULTS,
    build_context,
    max_file_bytes,
    scan,
    scope_key,
)
from balai.registry.imports.readers import read_rows
from balai.registry.models import (
    CorrectionStatus,
    Family,
    Resident,
    ResidentStatus,
)
from balai.registry.models_digitisation import (
    ItemKind,
    ItemStatus,
    JobStatus,
    ReconcileItem,
    ReconcileRun,
)
from balai.registry.reference import Shdk

ROLES = BULK_ROLES
_CHUNK = 2000

# Fields compared, in the order an officer reads them. Those a correction
# can change are "acceptable"; the place (desa, RT, RW, address, KK) changes
# through a move, not a correction.
PERSON_COMPARED = (
    "name",
    "sex",
    "birth_place",
    "birth_date",
    "religion",
    "marital_status",
    "shdk",
    "education",
    "occupation",
    "blood_type",
    "disability",
    "father_nik",
    "father_name",
    "mother_nik",
    "mother_name",
    "passport_number",
    "birth_cert_number",
    "marriage_cert_number",
    "marriage_date",
    "divorce_cert_number",
    "divorce_date",
    "ektp_recorded",
)
PLACE_COMPARED = ("village", "rt", "rw", "street", "kk_number")
_TEXT = frozenset(
    {
        "name",
        "birth_place",
        "father_name",
        "mother_name",
        "passport_number",
        "birth_cert_number",
        "marriage_cert_number",
        "divorce_cert_number",
        "street",
    }
)
_RESIDENT_VALUES = (
    "id",
    "nik",
    "status",
    "village_id",
    "rt",
    "rw",
    "street",
    "family__kk_number",
    *(f for f in PERSON_COMPARED),
)
LABELS_EXTRA = {
    "village": "desa/kelurahan",
    "kk_number": "nomor KK",
    "status": "status",
}


def field_label(name: str) -> str:
    return LABELS.get(name) or LABELS_EXTRA.get(name, name)


def _plain(value: Any) -> Any:
    """A value as JSON keeps it."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _same(name: str, siak: Any, balai: Any) -> bool:
    if name in _TEXT:
        return (
            " ".join(str(siak or "").split()).casefold()
            == " ".join(str(balai or "").split()).casefold()
        )
    if siak in (None, "") and balai in (None, ""):
        return True
    return siak == balai


def _scope(actor: Actor, qs: QuerySet, field_name: str) -> QuerySet:
    return qs.filter(actor.scope_q(field_name))


# --- Running a comparison -----------------------------------------------------


def _siak_rows(path: Path, actor: Actor, run: ReconcileRun) -> Iterator[tuple]:
    """Yield (line, values) of each readable, in-scope SIAK row."""
    context = build_context()
    scanned, mapper = scan(
        path, layout=layouts.SIAK, context=context, max_bytes=max_file_bytes()
    )
    run.rows = scanned.rows
    run.sha256 = scanned.sha256
    rows = read_rows(scanned.path, scanned.kind, scanned.info)
    for line, cells in rows:
        if line <= scanned.header.line:
            continue
        mapped = mapper.map(line, cells)
        if mapped.blank:
            continue
        values = mapped.values
        failed = {i.code for i in mapped.issues if i.severity == layouts.REJECT} - {
            "not_alive",
            "kk_missing",
        }
        if failed or not values.get("nik"):
            run.rows_unreadable += 1
            continue
        if not actor.covers(values.get("village") or ""):
            continue
        for name, default in DEFAULTS.items():
            if values.get(name) is None:
                values[name] = default
        yield line, values


def _compare(
    run: ReconcileRun, line: int, siak: dict[str, Any], row: dict[str, Any]
) -> list[ReconcileItem]:
    items: list[ReconcileItem] = []
    resident_id = row["id"]
    village = row["village_id"]
    alive_in_siak = (siak.get("life_status") or layouts.ALIVE) == layouts.ALIVE
    if not alive_in_siak and row["status"] == ResidentStatus.ALIVE:
        items.append(
            ReconcileItem(
                run=run,
                kind=ItemKind.FIELD,
                nik=row["nik"],
                resident_id=resident_id,
                village_code=village,
                field="status",
                siak_value=siak.get("life_status"),
                balai_value=row["status"],
                line=line,
                acceptable=False,
            )
        )
        return items
    if row["status"] != ResidentStatus.ALIVE:
        return items
    for name in PERSON_COMPARED:
        if name not in siak:
            continue
        value, current = siak[name], row[name]
        if _same(name, value, current):
            continue
        acceptable = True
        if name == "shdk" and Shdk.KEPALA_KELUARGA in (value, current):
            acceptable = False  # a new head is a new KK, not a correction
        items.append(
            ReconcileItem(
                run=run,
                kind=ItemKind.FIELD,
                nik=row["nik"],
                resident_id=resident_id,
                village_code=village,
                field=name,
                siak_value=_plain(value),
                balai_value=_plain(current),
                line=line,
                acceptable=acceptable,
            )
        )
    place = {
        "village": row["village_id"],
        "rt": row["rt"],
        "rw": row["rw"],
        "street": row["street"],
        "kk_number": row["family__kk_number"] or "",
    }
    for name in PLACE_COMPARED:
        value = siak.get(name) or ""
        if name not in siak and name != "village":
            continue
        if _same(name, value, place[name]):
            continue
        items.append(
            ReconcileItem(
                run=run,
                kind=ItemKind.FIELD,
                nik=row["nik"],
                resident_id=resident_id,
                village_code=village,
                field=name,
                siak_value=value,
                balai_value=place[name],
                line=line,
                acceptable=False,
            )
        )
    return items


def _only_siak(run: ReconcileRun, line: int, siak: dict[str, Any]) -> ReconcileItem:
    stored = {
        k: _plain(v)
        for k, v in siak.items()
        if k
        in (
            *PERSON_COMPARED,
            "nik",
            "kk_number",
            "village",
            "dusun",
            "rt",
            "rw",
            "street",
            "citizenship",
            "phone",
            "life_status",
        )
    }
    return ReconcileItem(
        run=run,
        kind=ItemKind.ONLY_SIAK,
        nik=siak["nik"],
        village_code=siak.get("village") or "",
        siak_row=stored,
        line=line,
        acceptable=(siak.get("life_status") or layouts.ALIVE) == layouts.ALIVE,
    )


@action("registry.reconcile.run")
def run_reconciliation(
    *,
    actor: Actor,
    path: str | Path,
    file_name: str = "",
    run: ReconcileRun | None = None,
) -> ReconcileRun:
    """Compare a SIAK export with the register; list what differs. Writes
    only the run and its items, all at once: a failed run leaves nothing."""
    actor.require_role(*ROLES)
    path = Path(path)
    if run is None:
        run = ReconcileRun.objects.create(
            file_name=(file_name or path.name)[:255],
            started_by_id=str(actor.user_id or f"system:{actor.username}"),
            started_by=actor.username,
            office_code=actor.office_code,
            scope_key=scope_key(actor),
            status=JobStatus.RUNNING,
        )
    else:
        run = ReconcileRun.objects.select_for_update().get(pk=run.pk)
        if run.status == JobStatus.DONE:
            return run
        run.items.all().delete()
    run.rows_unreadable = 0
    villages: set[str] = set()
    in_siak: set[int | str] = set()
    pending: list[tuple[int, dict]] = []
    items: list[ReconcileItem] = []
    counts = {"only_siak": 0, "only_balai": 0, "differences": 0}

    def flush() -> None:
        niks = [values["nik"] for _line, values in pending]
        found = {
            r["nik"]: r
            for r in Resident.objects.filter(nik__in=niks).values(*_RESIDENT_VALUES)
        }
        for line, values in pending:
            row = found.get(values["nik"])
            if row is None:
                if (values.get("life_status") or layouts.ALIVE) != layouts.ALIVE:
                    continue  # dead in SIAK and unknown here: nothing to do
                items.append(_only_siak(run, line, values))
                counts["only_siak"] += 1
            else:
                found_items = _compare(run, line, values, row)
                items.extend(found_items)
                counts["differences"] += len(found_items)
        pending.clear()
        if len(items) >= _CHUNK:
            ReconcileItem.objects.bulk_create(items, batch_size=_CHUNK)
            items.clear()

    for line, values in _siak_rows(path, actor, run):
        nik = values["nik"]
        in_siak.add(int(nik) if nik.isdigit() else nik)
        if values.get("village"):
            villages.add(values["village"])
        pending.append((line, values))
        if len(pending) >= _CHUNK:
            flush()
    if pending:
        flush()
    # Alive here, in a village the export covers, and not in the export.
    here = _scope(
        actor,
        Resident.objects.filter(
            status=ResidentStatus.ALIVE, village_id__in=sorted(villages)
        ),
        "village__code",
    ).values_list("id", "nik", "village_id")
    for resident_id, nik, village in here.iterator(chunk_size=_CHUNK):
        key = int(nik) if nik and nik.isdigit() else nik
        if nik and key in in_siak:
            continue
        items.append(
            ReconcileItem(
                run=run,
                kind=ItemKind.ONLY_BALAI,
                nik=nik or "",
                resident_id=resident_id,
                village_code=village,
                acceptable=False,
                note="" if nik else _("Menunggu NIK dari SIAK."),
            )
        )
        counts["only_balai"] += 1
        if len(items) >= _CHUNK:
            ReconcileItem.objects.bulk_create(items, batch_size=_CHUNK)
            items.clear()
    ReconcileItem.objects.bulk_create(items, batch_size=_CHUNK)
    run.villages = sorted(villages)
    run.only_siak = counts["only_siak"]
    run.only_balai = counts["only_balai"]
    run.differences = counts["differences"]
    run.status = JobStatus.DONE
    run.finished_at = timezone.now()
    run.save()
    record_many(
        actor=actor,
        targets=[run],
        details=[
            {
                "sha256": run.sha256,
                "rows": run.rows,
                "only_siak": run.only_siak,
                "only_balai": run.only_balai,
                "differences": run.differences,
            }
        ],
        change=None,
    )
    return run


@action("registry.reconcile.fail")
def fail_reconciliation(*, actor: Actor, run: ReconcileRun, error: str) -> ReconcileRun:
    run = ReconcileRun.objects.select_for_update().get(pk=run.pk)
    run.status = JobStatus.FAILED
    run.error = error[:2000]
    run.finished_at = timezone.now()
    run.save()
    record_many(actor=actor, targets=[run], details=[{"error": run.error}], change=None)
    return run


# --- Reviewing items ----------------------------------------------------------


def runs_for(actor: Actor) -> QuerySet[ReconcileRun]:
    actor.require_role(*ROLES)
    if actor.scope is None:
        return ReconcileRun.objects.all()
    return ReconcileRun.objects.filter(scope_key=scope_key(actor))


def get_run(actor: Actor, run_id: Any) -> ReconcileRun:
    run = runs_for(actor).filter(pk=run_id).first()
    if run is None:
        raise NotFound()
    return run


def items_for(
    actor: Actor, run: ReconcileRun, *, kind: str = "", status: str = ""
) -> QuerySet[ReconcileItem]:
    qs = run.items.select_related("resident", "correction").filter(
        actor.scope_q("village_code")
    )
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs


def _locked_item(actor: Actor, item: ReconcileItem | int) -> ReconcileItem:
    pk = item.pk if isinstance(item, ReconcileItem) else item
    found = (
        ReconcileItem.objects.select_for_update(of=("self",))
        .select_related("run")
        .filter(pk=pk)
        .first()
    )
    if found is None or not actor.covers(found.village_code):
        raise NotFound()
    return found


def _decided(actor: Actor, item: ReconcileItem, status: str, note: str = "") -> None:
    item.status = status
    item.decided_by = actor.username
    item.decided_at = timezone.now()
    if note:
        item.note = note.strip()
    item.save()
    record_many(
        actor=actor,
        targets=[item],
        details=[{"status": status, "field": item.field, "nik": item.nik}],
        change=None,
    )


@action("registry.reconcile.accept")
def accept_item(*, actor: Actor, item: ReconcileItem, note: str = "") -> ReconcileItem:
    """Accept a difference: a field difference becomes a proposed correction
    (a registrar other than this officer approves it); a person only in SIAK
    is registered as an arrival."""
    actor.require_role(*ROLES)
    item = _locked_item(actor, item)
    if item.status != ItemStatus.OPEN:
        raise Conflict(_("Butir ini sudah ditinjau."))
    if not item.acceptable:
        raise BalaiError(
            _(
                "Perbedaan ini tidak dapat diterima sebagai koreksi; catat lewat "
                "peristiwa yang sesuai (pindah, kematian, KK baru)."
            ),
            code="not_acceptable",
        )
    run = item.run
    evidence = _("Ekspor SIAK %(file)s (SHA-256 %(sha)s…) baris %(line)s") % {
        "file": run.file_name[:120],
        "sha": run.sha256[:12],
        "line": item.line or "-",
    }
    if item.kind == ItemKind.FIELD:
        correction = propose_correction(
            actor=actor,
            resident=item.resident,
            field=item.field,
            new_value=item.siak_value,
            reason=note.strip()
            or _("Rekonsiliasi SIAK %(date)s: data SIAK berbeda.")
            % {"date": timezone.localdate(run.created_at).strftime("%d-%m-%Y")},
            evidence=evidence[:255],
        )
        item.correction = correction
        _decided(actor, item, ItemStatus.PROPOSED, note)
        return item
    if item.kind == ItemKind.ONLY_SIAK:
        item.resident = _arrival(actor, item, evidence)
        _decided(actor, item, ItemStatus.APPLIED, note)
        return item
    raise BalaiError(_("Butir ini hanya dapat diabaikan."), code="not_acceptable")


def _arrival(actor: Actor, item: ReconcileItem, evidence: str) -> Resident:
    row = dict(item.siak_row or {})
    person_fields = {
        name: row.get(name, DEFAULTS.get(name))
        for name in Person.__dataclass_fields__
        if name in row or name in DEFAULTS
    }
    for name, default in DEFAULTS.items():
        if person_fields.get(name) is None and default is not None:
            person_fields[name] = default
    person = Person(**person_fields)
    shdk = row.get("shdk")
    kk = row.get("kk_number") or None
    family = Family.objects.filter(kk_number=kk).first() if kk else None
    origin = _("SIAK (rekonsiliasi): %(evidence)s") % {"evidence": evidence}
    if family is not None:
        return register_arrival(
            actor=actor,
            person=person,
            occurred_on=timezone.localdate(),
            origin=origin[:255],
            to_family=family,
            shdk=shdk,
        )
    if shdk != Shdk.KEPALA_KELUARGA:
        raise BalaiError(
            _(
                "KK %(kk)s belum ada di register: terima dulu kepala keluarganya, "
                "lalu anggota ini."
            )
            % {"kk": kk or "-"},
            code="head_first",
        )
    return register_arrival(
        actor=actor,
        person=person,
        occurred_on=timezone.localdate(),
        origin=origin[:255],
        address=Address(
            village=row.get("village") or "",
            dusun=row.get("dusun") or "",
            rt=row.get("rt") or "",
            rw=row.get("rw") or "",
            street=row.get("street") or "",
        ),
        kk_number=kk,
    )


@action("registry.reconcile.dismiss")
def dismiss_item(*, actor: Actor, item: ReconcileItem, note: str) -> ReconcileItem:
    """Close an item without changing the register, with the reason."""
    actor.require_role(*ROLES)
    item = _locked_item(actor, item)
    if item.status != ItemStatus.OPEN:
        raise Conflict(_("Butir ini sudah ditinjau."))
    if not note.strip():
        raise BalaiError(_("Alasan wajib diisi."), code="note_required")
    _decided(actor, item, ItemStatus.DISMISSED, note)
    return item


@action("registry.reconcile.approve")
def approve_item(*, actor: Actor, item: ReconcileItem, note: str = "") -> ReconcileItem:
    """A registrar approves the correction another officer proposed."""
    actor.require_role(*APPROVER_ROLES)
    item = _locked_item(actor, item)
    if item.status != ItemStatus.PROPOSED or item.correction_id is None:
        raise Conflict(_("Butir ini tidak sedang menunggu persetujuan."))
    approve_correction(actor=actor, correction=item.correction, note=note)
    _decided(actor, item, ItemStatus.APPLIED)
    return item


@action("registry.reconcile.reject")
def reject_item(*, actor: Actor, item: ReconcileItem, note: str) -> ReconcileItem:
    """A registrar turns down the proposed correction; the register is unchanged."""
    actor.require_role(*APPROVER_ROLES)
    item = _locked_item(actor, item)
    if item.status != ItemStatus.PROPOSED or item.correction_id is None:
        raise Conflict(_("Butir ini tidak sedang menunggu persetujuan."))
    correction = reject_correction(actor=actor, correction=item.correction, note=note)
    if correction.status != CorrectionStatus.REJECTED:
        raise Conflict(_("Koreksi tidak dapat ditolak."))
    _decided(actor, item, ItemStatus.DISMISSED, note)
    return item
