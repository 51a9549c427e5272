"""Past applications written in bulk: a history loaded at once (a benchmark's
million past cases, an office's earlier paper register), the same rows the
real actions write, through COPY on PostgreSQL.

`file_past_applications` takes each application as it was filed at a counter
and the workflow steps taken on it since, and writes what
`actions.submit_application` and then `actions.transition_application` would
have written for them, step by step: the application row (number from the
office's counter, status, version, owner office after hand-offs, the SLA
fields recomputed after every step with `sla.refresh`), its subjects, one
`ApplicationEvent` per step (seq, transition, from/to status, time, officer,
acting office, owning office, note) and the change records of every row
(`balai.registry.bulk.insert`). Every step is checked with `workflow.check`
as the officer named on it, so an impossible history is refused.

What it does not write, on purpose:
- receipts and office letters (signed PDFs): a history is not re-issued; the
  submit event carries no "receipt" and an issue step no "document";
- SIAK PDFs (the issue step of a SIAK service keeps only the numbers given);
- messages to applicants (the past is not announced again);
- register changes: services that change the register are refused (their
  approval must go through the register's own actions).

Audit: one entry per batch (not one per row) binding a digest of every row
written, as `registry.actions.register_residents_bulk` does. Timestamps are
whole seconds (see `balai.registry.bulk`).
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import F

from balai.accounts.models import Role
from balai.audit.actions import record_many
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.core.ids import new_id
from balai.core.serialize import json_value
from balai.regions.models import Office, OfficeKind
from balai.registry.models import Resident
from balai.services import calendar as cal
from balai.services import sla, workflow
from balai.services.actions import (
    COUNTER_ROLES,
    format_number,
    new_tracking_code,
    siak_office_code,
)
from balai.services.models import (
    Application,
    ApplicationCounter,
    ApplicationEvent,
    ApplicationSubject,
    Channel,
    Relation,
    ResponsibleKind,
    Service,
    Status,
)
from balai.services.schema import validate_form_data


@dataclass(frozen=True)
class PastStep:
    """One workflow step taken on a past application."""

    name: str
    at: datetime.datetime
    by: Actor
    note: str = ""
    # What SIAK issued (an issue step of a SIAK service only).
    numbers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PastApplication:
    """An application as it was filed at a counter, and the steps since."""

    service: Service
    filed_by: Actor
    submitted_at: datetime.datetime
    applicant: Resident
    subjects: Sequence[Resident] = ()
    channel: str = Channel.COUNTER
    relation: str = Relation.SELF
    form_data: Mapping[str, Any] = field(default_factory=dict)
    applicant_phone: str = ""
    steps: Sequence[PastStep] = ()


@dataclass
class PastResult:
    applications: int = 0
    subjects: int = 0
    events: int = 0
    application_ids: list = field(default_factory=list)


class _Offices:
    """Offices by id and by code, and the responsible office per (service,
    desa): `actions._responsible_office`'s rules, read from memory."""

    def __init__(self) -> None:
        self.by_id = {o.pk: o for o in Office.objects.all()}
        self.by_code = {o.code: o for o in self.by_id.values()}
        self.village_office: dict[str, Office] = {}
        for office in sorted(self.by_id.values(), key=lambda o: o.code):
            if office.is_active and office.kind in (
                OfficeKind.DESA,
                OfficeKind.KELURAHAN,
            ):
                self.village_office.setdefault(office.region_id, office)

    def responsible(self, service: Service, village_code: str) -> Office:
        if service.responsible_kind == ResponsibleKind.REGENCY:
            office = self.by_code.get(service.responsible_office_code)
        elif service.responsible_kind == ResponsibleKind.MPP:
            kecamatan = ".".join(village_code.split(".")[:3])
            office = self.by_code.get(f"MPP-{kecamatan}")
            if office is not None and office.kind != OfficeKind.MPP:
                office = None
        else:
            office = self.village_office.get(village_code)
        if office is None or not office.is_active:
            raise BalaiError(
                "Kantor yang melayani permohonan ini belum terdaftar.",
                code="office_missing",
            )
        return office


def _whole(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:
        raise BalaiError("Waktu riwayat harus lengkap dengan zona waktu.")
    # In UTC, as the database gives it back (the change payloads compare).
    return moment.astimezone(datetime.UTC).replace(microsecond=0)


def _row(obj) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _numbers(items: Sequence[tuple[Office, datetime.datetime]]) -> list[str]:
    """Reserve the next serials of each (filed office, WITA year) in one go;
    the counters stay locked to the commit, as `actions._next_number` does."""
    wanted: dict[tuple[str, int], int] = defaultdict(int)
    keys = [(office.code, cal.to_wita(at).year) for office, at in items]
    for key in keys:
        wanted[key] += 1
    order = sorted(wanted)
    last: dict[tuple[str, int], int] = {}
    if connection.vendor == "postgresql":
        table = ApplicationCounter._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {table} (office_code, year, last_serial)
                SELECT * FROM unnest(%s::text[], %s::int[], %s::int[])
                ON CONFLICT (office_code, year) DO UPDATE
                SET last_serial = {table}.last_serial + EXCLUDED.last_serial
                RETURNING office_code, year, last_serial
                """,  # noqa: S608 - the table name is the model's
                [
                    [k[0] for k in order],
                    [k[1] for k in order],
                    [wanted[k] for k in order],
                ],
            )
            for office_code, year, serial in cursor.fetchall():
                last[(office_code, year)] = serial
    else:
        for key in order:
            counter, _made = (
                ApplicationCounter.objects.select_for_update().get_or_create(
                    office_code=key[0], year=key[1]
                )
            )
            ApplicationCounter.objects.filter(pk=counter.pk).update(
                last_serial=F("last_serial") + wanted[key]
            )
            last[key] = counter.last_serial + wanted[key]
    serial = {key: last[key] - wanted[key] for key in order}
    out = []
    for key in keys:
        serial[key] += 1
        out.append(format_number(key[0], key[1], serial[key]))
    return out


def _check_filing(
    past: PastApplication, offices: _Offices
) -> tuple[Office, Office, list[Resident]]:
    """Refuse what submit_application would refuse at a counter; return the
    filed office, the responsible office and the subjects."""
    service, officer = past.service, past.filed_by
    if service.register_effect:
        raise BalaiError(
            f"Layanan {service.code} mengubah data kependudukan: riwayatnya tidak "
            "dapat dimuat massal.",
            code="bulk_register_effect",
        )
    if past.channel == Channel.ONLINE or not service.offered_at_counter:
        raise BalaiError(
            "Riwayat massal hanya untuk permohonan loket.", code="channel_not_offered"
        )
    if past.relation not in Relation.values or past.relation == Relation.PROXY:
        raise BalaiError("Hubungan dengan subjek tidak didukung.", code="relation")
    officer.require_role(*COUNTER_ROLES)
    if not officer.covers(past.applicant.village_id):
        raise BalaiError(
            "Pemohon di luar wilayah kantor ini.", code="applicant_no_match"
        )
    subjects = list(past.subjects) or [past.applicant]
    if past.relation == Relation.SELF and subjects != [past.applicant]:
        raise BalaiError(
            "Hubungan 'diri sendiri' hanya bila pemohon sendiri subjeknya.",
            code="relation_mismatch",
        )
    if len(subjects) > max(service.max_subjects, 1):
        raise BalaiError("Terlalu banyak subjek.", code="subjects_too_many")
    if any(not officer.covers(s.village_id) for s in subjects):
        raise BalaiError("Subjek di luar wilayah kantor ini.", code="subject_no_match")
    responsible = offices.responsible(service, subjects[0].village_id)
    filed = offices.by_id[officer.office_id]
    if not (
        filed.pk == responsible.pk
        or (
            service.responsible_kind == ResponsibleKind.REGENCY
            and filed.kind == OfficeKind.MPP
        )
    ):
        raise BalaiError(
            f"Permohonan ini dilayani {responsible.name}, bukan {filed.name}.",
            code="wrong_office",
        )
    return filed, responsible, subjects


class _Event(NamedTuple):
    """What the SLA clock reads of an event (`sla.pauses_of`, completion)."""

    seq: int
    to_status: str
    at: datetime.datetime


@action("services.application.file_past_bulk")
def file_past_applications(
    *, actor: Actor, applications: Sequence[PastApplication], label: str = ""
) -> PastResult:
    """Write past counter applications and their workflow steps at once, as
    the real actions would have written them (see the module's doc)."""
    from balai.registry.actions import bulk_digest
    from balai.registry.bulk import full_row, insert

    if not actor.is_system:
        actor.require_role(Role.SERVICE_ADMIN)
    offices = _Offices()
    calendar = sla.regency_calendar()
    services = {
        s.pk: s
        for s in Service.objects.filter(pk__in={p.service.pk for p in applications})
    }
    checked = []
    for past in applications:
        filed, responsible, subjects = _check_filing(past, offices)
        checked.append((past, services[past.service.pk], filed, responsible, subjects))

    result = PastResult()
    app_rows: list[dict] = []
    app_routes: list[tuple[str, str]] = []
    subject_rows: list[dict] = []
    subject_routes: list[tuple[str, str]] = []
    event_rows: list[dict] = []
    event_routes: list[tuple[str, str]] = []
    event_template = full_row(ApplicationEvent, {})
    forms: dict[tuple, dict] = {}
    for past, service, filed, responsible, subjects in checked:
        officer = past.filed_by
        now = _whole(past.submitted_at)
        # The same form validates to the same data: checked once per batch.
        form_key = (service.pk, json.dumps(past.form_data, sort_keys=True))
        if form_key not in forms:
            forms[form_key] = validate_form_data(
                service.form_schema, dict(past.form_data)
            )
        app = Application(
            id=new_id(),
            created_at=now,
            updated_at=now,
            number="",
            tracking_code=new_tracking_code(),
            service=service,
            service_revision=service.revision,
            workflow=service.workflow,
            time_limit_days=service.time_limit_days,
            channel=past.channel,
            status=Status.SUBMITTED,
            version=1,
            owner_office=responsible,
            filed_office=filed,
            kecamatan_code=".".join(filed.region_id.split(".")[:3]),
            region_code=filed.region_id,
            applicant_user=None,
            applicant_resident=past.applicant,
            applicant_name=past.applicant.name[:150],
            applicant_phone=past.applicant_phone[:20],
            relation=past.relation,
            form_data=dict(forms[form_key]),
            submitted_at=now,
            clock_started_at=now,
            held_for_identity=False,
        )
        events = [
            {
                **event_template,
                "id": new_id(),
                "application_id": app.pk,
                "seq": 1,
                "transition": "submit",
                "from_status": "",
                "to_status": Status.SUBMITTED,
                "at": now,
                "actor_id": str(officer.user_id or ""),
                "actor_name": officer.username,
                "by_applicant": False,
                "office_id": filed.pk,
                "owner_office_code": responsible.code,
                "note": "",
                "data": {"channel": past.channel, "held_for_identity": False},
            }
        ]
        clock = [_Event(1, Status.SUBMITTED, now)]
        # The clock fields are refreshed after every step by the actions; the
        # result only differs once work is completed (completed_at is the
        # first completion), so: at that step, and after the last one.
        refreshed = True
        for step in past.steps:
            at = _whole(step.at)
            if at < app.updated_at:
                raise BalaiError(
                    f"Langkah {step.name} lebih awal dari langkah sebelumnya.",
                    code="bulk_steps_order",
                )
            found, as_who = workflow.check(
                step.by, app, step.name, note=step.note, service=service
            )
            if as_who != "officer":
                raise BalaiError("Riwayat massal hanya langkah petugas.")
            data: dict[str, Any] = {}
            if found.records_siak:
                if set(step.numbers) != set(service.siak_outputs):
                    raise BalaiError(
                        "Nomor SIAK tidak sesuai keluaran layanan.",
                        code="siak_number_unexpected",
                    )
                app.issued_numbers = {k: str(v) for k, v in step.numbers.items()}
                data["numbers"] = app.issued_numbers
            elif step.numbers:
                raise BalaiError(
                    "Nomor hanya dicatat pada langkah terbit SIAK.",
                    code="siak_number_unexpected",
                )
            if found.target == Status.REJECTED:
                app.decision_note = step.note.strip()
            if found.moves_to == workflow.TO_DISDUKCAPIL:
                app.owner_office = offices.by_code[siak_office_code()]
            elif found.moves_to == workflow.TO_FILED_OFFICE:
                app.owner_office = filed
            from_status = app.status
            app.status = found.target
            app.version += 1
            events.append(
                {
                    **event_template,
                    "id": new_id(),
                    "application_id": app.pk,
                    "seq": app.version,
                    "transition": found.name,
                    "from_status": from_status,
                    "to_status": found.target,
                    "at": at,
                    "actor_id": str(step.by.user_id or ""),
                    "actor_name": step.by.username,
                    "by_applicant": False,
                    "office_id": step.by.office_id,
                    "owner_office_code": app.owner_office.code,
                    "note": step.note.strip(),
                    "data": json_value(data),
                }
            )
            clock.append(_Event(app.version, found.target, at))
            app.updated_at = at
            refreshed = False
            if app.status in workflow.COMPLETED and app.completed_at is None:
                sla.refresh(app, clock, calendar)
                refreshed = True
        if not refreshed or len(clock) == 1:
            sla.refresh(app, clock, calendar)
        route = (app.owner_office.code, app.region_code)
        app_rows.append(_row(app))
        app_routes.append(route)
        for position, resident in enumerate(subjects):
            subject_rows.append(
                {
                    "id": new_id(),
                    "application_id": app.pk,
                    "resident_id": resident.pk,
                    "position": position,
                }
            )
            subject_routes.append(route)
        event_rows.extend(events)
        event_routes.extend((e["owner_office_code"], app.region_code) for e in events)
        result.application_ids.append(app.pk)

    # The serials last: their counters stay locked from here to the commit.
    numbers = _numbers([(c[2], _whole(c[0].submitted_at)) for c in checked])
    for row, number in zip(app_rows, numbers, strict=True):
        row["number"] = number
    insert(Application, app_rows, routes=app_routes)
    insert(ApplicationSubject, subject_rows, routes=subject_routes)
    insert(ApplicationEvent, event_rows, routes=event_routes)
    result.applications = len(app_rows)
    result.subjects = len(subject_rows)
    result.events = len(event_rows)
    record_many(
        actor=actor,
        targets=[],
        summary={
            "label": label,
            "applications": result.applications,
            "subjects": result.subjects,
            "events": result.events,
            "rows_sha256": bulk_digest(
                result.application_ids,
                [r["id"] for r in subject_rows],
                [r["id"] for r in event_rows],
            ),
        },
    )
    return result
