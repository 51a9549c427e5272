"""JSON API of the population register, mounted at /api/v1/registry.

Search (masked NIKs), a resident's whole record (read logged, purpose asked),
a KK, every life event, corrections with a second person's approval, and the
numbers SIAK issued (NIK, KK number) to those registered awaiting one.
Every write honours `Idempotency-Key`; every error is {"message","code","extra"};
a record outside the caller's office scope is 404, as if it did not exist.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from balai.accounts.auth import STAFF_AUTH, api_actor
from balai.core.api import idempotency_key
from balai.registry import actions, selectors, selectors_pages
from balai.registry.models import CorrectionRequest, Family, LifeEvent, Resident
from balai.registry.search import search_residents
from balai.registry.selectors import mask_nik

router = Router(tags=["registry"], auth=STAFF_AUTH)


class ErrorOut(Schema):
    message: str
    code: str
    extra: dict


ERRORS = dict.fromkeys((400, 401, 403, 404, 409, 422), ErrorOut)


def _responses(ok: int, schema: Any) -> dict:
    return {ok: schema, **ERRORS}


def _key(request: HttpRequest) -> dict[str, str]:
    key = idempotency_key(request)
    return {"idempotency_key": key} if key else {}


# --- Schemas -------------------------------------------------------------------------


class ResidentRowOut(Schema):
    id: uuid.UUID
    name: str
    nik: str
    kk_number: str
    sex: str
    birth_date: datetime.date
    age: int
    village_code: str
    village_name: str
    status: str
    score: float


class ResidentListOut(Schema):
    count: int
    page: int
    num_pages: int
    items: list[ResidentRowOut]


class EventOut(Schema):
    id: uuid.UUID
    kind: str
    occurred_on: datetime.date
    recorded_at: datetime.datetime
    resident_id: uuid.UUID | None
    family_id: uuid.UUID | None
    group_id: uuid.UUID | None
    entered_by: str
    approved_by: str


class MemberOut(Schema):
    id: uuid.UUID
    name: str
    nik: str
    sex: str
    birth_date: datetime.date
    shdk: int | None
    status: str


class ResidentOut(Schema):
    id: uuid.UUID
    nik: str
    nik_whole: bool
    name: str
    sex: str
    birth_place: str
    birth_date: datetime.date
    religion: int
    marital_status: int
    education: int
    occupation: int
    blood_type: int
    citizenship: int
    shdk: int | None
    father_name: str
    father_nik: str
    mother_name: str
    mother_nik: str
    village_code: str
    dusun: str
    rt: str
    rw: str
    street: str
    status: str
    flags: list[str]
    family_id: uuid.UUID | None
    kk_number: str
    members: list[MemberOut]
    events: list[EventOut]
    purpose: str


class FamilyOut(Schema):
    id: uuid.UUID
    kk_number: str
    kk_whole: bool
    head_id: uuid.UUID | None
    village_code: str
    village_name: str
    kecamatan_code: str
    postal_code: str
    dusun: str
    rt: str
    rw: str
    street: str
    is_active: bool
    members: list[MemberOut]


class WrittenResidentOut(Schema):
    id: uuid.UUID
    name: str
    nik: str
    status: str
    family_id: uuid.UUID | None


class WrittenFamilyOut(Schema):
    id: uuid.UUID
    kk_number: str
    village_code: str


class CorrectionOut(Schema):
    id: uuid.UUID
    resident_id: uuid.UUID
    field: str
    old_value: Any = None
    new_value: Any = None
    reason: str
    evidence: str
    status: str
    entered_by: str
    decided_by: str
    event_id: uuid.UUID | None


class PersonIn(Schema):
    name: str
    sex: str
    birth_date: str
    religion: int
    birth_place: str = ""
    nik: str | None = None
    education: int = 1
    occupation: int = 1
    blood_type: int = 13
    citizenship: int = 1
    father_name: str = ""
    mother_name: str = ""


class AddressIn(Schema):
    village: str
    dusun: str = ""
    rt: str = ""
    rw: str = ""
    street: str = ""


class BirthIn(Schema):
    family_id: uuid.UUID
    person: PersonIn
    shdk: int = 4
    mother_id: uuid.UUID | None = None
    father_id: uuid.UUID | None = None


class DeathIn(Schema):
    occurred_on: str
    place: str = ""
    cause: str = ""
    death_cert_number: str = ""
    spouse_id: uuid.UUID | None = None


class RelationIn(Schema):
    resident_id: uuid.UUID
    shdk: int


class MoveWithinIn(Schema):
    mode: str
    occurred_on: str
    members: list[RelationIn] = []
    to_family_id: uuid.UUID | None = None
    family_id: uuid.UUID | None = None
    address: AddressIn | None = None
    kk_number: str | None = None
    reason: str = ""


class MoveOutIn(Schema):
    resident_ids: list[uuid.UUID]
    occurred_on: str
    destination: str
    reason: str = ""


class ArrivalIn(Schema):
    person: PersonIn
    occurred_on: str
    origin: str
    to_family_id: uuid.UUID | None = None
    shdk: int | None = None
    address: AddressIn | None = None
    kk_number: str | None = None


class MarriageIn(Schema):
    husband_id: uuid.UUID
    wife_id: uuid.UUID
    occurred_on: str
    marriage_cert_number: str = ""
    dispensation: str = ""


class DivorceIn(Schema):
    first_id: uuid.UUID
    second_id: uuid.UUID
    occurred_on: str
    divorce_cert_number: str = ""


class NewFamilyIn(Schema):
    members: list[RelationIn]
    occurred_on: str | None = None
    address: AddressIn | None = None
    kk_number: str | None = None
    reason: str = ""


class CorrectionIn(Schema):
    resident_id: uuid.UUID
    field: str
    new_value: Any = None
    reason: str = ""
    evidence: str = ""


class DecisionIn(Schema):
    note: str = ""


class IssuedNikIn(Schema):
    nik: str


class IssuedKkIn(Schema):
    kk_number: str


class AwaitingResidentOut(Schema):
    id: uuid.UUID
    name: str
    sex: str
    birth_date: datetime.date
    village_code: str
    village_name: str
    family_id: uuid.UUID | None
    since: datetime.datetime


class AwaitingFamilyOut(Schema):
    id: uuid.UUID
    head_name: str
    village_code: str
    village_name: str
    since: datetime.datetime


class AwaitingOut(Schema):
    residents_total: int
    residents: list[AwaitingResidentOut]
    families_total: int
    families: list[AwaitingFamilyOut]


# --- Output helpers -------------------------------------------------------------------


def _event(e: LifeEvent) -> dict:
    return {
        "id": e.id,
        "kind": e.kind,
        "occurred_on": e.occurred_on,
        "recorded_at": e.recorded_at,
        "resident_id": e.resident_id,
        "family_id": e.family_id,
        "group_id": e.group_id,
        "entered_by": e.entered_by,
        "approved_by": e.approved_by,
    }


def _member(m) -> dict:
    return {
        "id": m.id,
        "name": m.name,
        "nik": m.nik,
        "sex": m.sex,
        "birth_date": m.birth_date,
        "shdk": m.shdk,
        "status": m.status,
    }


def _written_resident(r: Resident) -> dict:
    return {
        "id": r.pk,
        "name": r.name,
        "nik": mask_nik(r.nik),
        "status": r.status,
        "family_id": r.family_id,
    }


def _written_family(f: Family) -> dict:
    return {
        "id": f.pk,
        "kk_number": mask_nik(f.kk_number),
        "village_code": f.village_id,
    }


def _correction(c: CorrectionRequest) -> dict:
    return {
        "id": c.pk,
        "resident_id": c.resident_id,
        "field": c.field,
        "old_value": c.old_value,
        "new_value": c.new_value,
        "reason": c.reason,
        "evidence": c.evidence,
        "status": c.status,
        "entered_by": c.entered_by,
        "decided_by": c.decided_by,
        "event_id": c.event_id,
    }


def _person(p: PersonIn) -> actions.Person:
    return actions.Person(**p.dict())


def _address(a: AddressIn | None) -> actions.Address | None:
    return actions.Address(**a.dict()) if a is not None else None


def _resident(actor, pk) -> Resident | None:
    return selectors.get_resident(actor, pk) if pk is not None else None


def _family(actor, pk) -> Family | None:
    return selectors.get_family(actor, pk) if pk is not None else None


# --- Reads ---------------------------------------------------------------------------


class SearchQuery(Schema):
    q: str = ""
    kecamatan: str | None = None
    desa: str | None = None
    sex: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    status: str | None = None
    page: int = 1


@router.get("/residents", response=_responses(200, ResidentListOut))
def list_residents(request: HttpRequest, filters: Query[SearchQuery]):
    """Search residents by name (typos forgiven), NIK or KK number; NIKs masked."""
    actor = api_actor(request)
    data = filters.dict()
    result = search_residents(actor, data.pop("q"), **data)
    return {
        "count": result.total,
        "page": result.number,
        "num_pages": result.num_pages,
        "items": [
            {
                "id": r.id,
                "name": r.name,
                "nik": r.nik,
                "kk_number": r.kk_number,
                "sex": r.sex,
                "birth_date": r.birth_date,
                "age": r.age,
                "village_code": r.village_code,
                "village_name": r.village_name,
                "status": r.status,
                "score": r.score,
            }
            for r in result.rows
        ],
    }


@router.get("/residents/{resident_id}", response=_responses(200, ResidentOut))
def get_resident(request: HttpRequest, resident_id: str, purpose: str = "layanan"):
    """A resident's whole record; the read is written to the access log."""
    d = selectors.get_resident_detail(api_actor(request), resident_id, purpose)
    r = d.resident
    return {
        **{
            f: getattr(r, f)
            for f in (
                "name",
                "sex",
                "birth_place",
                "birth_date",
                "religion",
                "marital_status",
                "education",
                "occupation",
                "blood_type",
                "citizenship",
                "shdk",
                "father_name",
                "mother_name",
                "dusun",
                "rt",
                "rw",
                "street",
                "status",
                "flags",
                "family_id",
            )
        },
        "id": r.pk,
        "nik": d.nik,
        "nik_whole": d.nik_whole,
        "father_nik": d.father_nik,
        "mother_nik": d.mother_nik,
        "village_code": r.village_id,
        "kk_number": d.kk_number,
        "members": [_member(m) for m in d.members],
        "events": [_event(e) for e in d.events],
        "purpose": d.purpose,
    }


@router.get("/families/{family_id}", response=_responses(200, FamilyOut))
def get_family(request: HttpRequest, family_id: str, purpose: str | None = None):
    """A KK and its members (NIKs masked; the KK number whole with a purpose)."""
    d = selectors.family_detail(api_actor(request), family_id, purpose)
    f = d.family
    return {
        "id": f.pk,
        "kk_number": d.kk_number,
        "kk_whole": d.kk_whole,
        "head_id": f.head_id,
        "village_code": f.village_id,
        "village_name": f.village.name,
        "kecamatan_code": f.kecamatan_code,
        "postal_code": f.village.postal_code,
        "dusun": f.dusun,
        "rt": f.rt,
        "rw": f.rw,
        "street": f.street,
        "is_active": f.is_active,
        "members": [_member(m) for m in d.members],
    }


@router.get("/corrections", response=_responses(200, list[CorrectionOut]))
def list_corrections(request: HttpRequest):
    """Corrections waiting for a registrar's decision, oldest first."""
    actor = api_actor(request)
    actor.require_role(*actions.OFFICER_ROLES)
    return [_correction(c) for c in selectors.pending_corrections(actor)]


# --- Life events ---------------------------------------------------------------------


@router.post("/births", response=_responses(201, WrittenResidentOut))
def post_birth(request: HttpRequest, body: BirthIn):
    actor = api_actor(request)
    baby = actions.register_birth(
        actor=actor,
        family=_family(actor, body.family_id),
        person=_person(body.person),
        shdk=body.shdk,
        mother=_resident(actor, body.mother_id),
        father=_resident(actor, body.father_id),
        **_key(request),
    )
    return 201, _written_resident(baby)


@router.post(
    "/residents/{resident_id}/death", response=_responses(201, WrittenResidentOut)
)
def post_death(request: HttpRequest, resident_id: uuid.UUID, body: DeathIn):
    actor = api_actor(request)
    dead = actions.register_death(
        actor=actor,
        resident=_resident(actor, resident_id),
        occurred_on=body.occurred_on,
        place=body.place,
        cause=body.cause,
        death_cert_number=body.death_cert_number,
        spouse=_resident(actor, body.spouse_id),
        **_key(request),
    )
    return 201, _written_resident(dead)


@router.post("/moves/within", response=_responses(201, WrittenFamilyOut))
def post_move_within(request: HttpRequest, body: MoveWithinIn):
    actor = api_actor(request)
    movers = [_resident(actor, m.resident_id) for m in body.members]
    family = actions.move_within(
        actor=actor,
        mode=body.mode,
        occurred_on=body.occurred_on,
        residents=movers,
        relations={m.resident_id: m.shdk for m in body.members},
        to_family=_family(actor, body.to_family_id),
        family=_family(actor, body.family_id),
        address=_address(body.address),
        kk_number=body.kk_number,
        reason=body.reason,
        **_key(request),
    )
    return 201, _written_family(family)


@router.post("/moves/out", response=_responses(201, EventOut))
def post_move_out(request: HttpRequest, body: MoveOutIn):
    actor = api_actor(request)
    event = actions.move_out(
        actor=actor,
        residents=[_resident(actor, pk) for pk in body.resident_ids],
        occurred_on=body.occurred_on,
        destination=body.destination,
        reason=body.reason,
        **_key(request),
    )
    return 201, _event(event)


@router.post("/arrivals", response=_responses(201, WrittenResidentOut))
def post_arrival(request: HttpRequest, body: ArrivalIn):
    actor = api_actor(request)
    person = actions.register_arrival(
        actor=actor,
        person=_person(body.person),
        occurred_on=body.occurred_on,
        origin=body.origin,
        to_family=_family(actor, body.to_family_id),
        shdk=body.shdk,
        address=_address(body.address),
        kk_number=body.kk_number,
        **_key(request),
    )
    return 201, _written_resident(person)


@router.post("/marriages", response=_responses(201, EventOut))
def post_marriage(request: HttpRequest, body: MarriageIn):
    actor = api_actor(request)
    event = actions.register_marriage(
        actor=actor,
        husband=_resident(actor, body.husband_id),
        wife=_resident(actor, body.wife_id),
        occurred_on=body.occurred_on,
        marriage_cert_number=body.marriage_cert_number,
        dispensation=body.dispensation,
        **_key(request),
    )
    return 201, _event(event)


@router.post("/divorces", response=_responses(201, EventOut))
def post_divorce(request: HttpRequest, body: DivorceIn):
    actor = api_actor(request)
    event = actions.register_divorce(
        actor=actor,
        first=_resident(actor, body.first_id),
        second=_resident(actor, body.second_id),
        occurred_on=body.occurred_on,
        divorce_cert_number=body.divorce_cert_number,
        **_key(request),
    )
    return 201, _event(event)


@router.post("/families", response=_responses(201, WrittenFamilyOut))
def post_family(request: HttpRequest, body: NewFamilyIn):
    """A new KK for people already in the register; exactly one head."""
    actor = api_actor(request)
    family = actions.create_family(
        actor=actor,
        members=[(_resident(actor, m.resident_id), m.shdk) for m in body.members],
        occurred_on=body.occurred_on,
        address=_address(body.address),
        kk_number=body.kk_number,
        reason=body.reason,
        **_key(request),
    )
    return 201, _written_family(family)


# --- Corrections ---------------------------------------------------------------------


@router.post("/corrections", response=_responses(201, CorrectionOut))
def post_correction(request: HttpRequest, body: CorrectionIn):
    actor = api_actor(request)
    correction = actions.propose_correction(
        actor=actor,
        resident=_resident(actor, body.resident_id),
        field=body.field,
        new_value=body.new_value,
        reason=body.reason,
        evidence=body.evidence,
        **_key(request),
    )
    return 201, _correction(correction)


def _decide(request: HttpRequest, correction_id: str, body: DecisionIn, verb: str):
    actor = api_actor(request)
    actor.require_role(*actions.APPROVER_ROLES)
    correction = selectors_pages.get_correction(actor, correction_id)
    decide = (
        actions.approve_correction if verb == "approve" else actions.reject_correction
    )
    return _correction(
        decide(actor=actor, correction=correction, note=body.note, **_key(request))
    )


@router.post(
    "/corrections/{correction_id}/approve", response=_responses(200, CorrectionOut)
)
def approve_correction(request: HttpRequest, correction_id: str, body: DecisionIn):
    """Approve a correction; never by the officer who proposed it."""
    return _decide(request, correction_id, body, "approve")


@router.post(
    "/corrections/{correction_id}/reject", response=_responses(200, CorrectionOut)
)
def reject_correction(request: HttpRequest, correction_id: str, body: DecisionIn):
    """Reject a correction with a reason; the register is unchanged."""
    return _decide(request, correction_id, body, "reject")


# --- Numbers issued by SIAK ----------------------------------------------------------


@router.get("/awaiting-numbers", response=_responses(200, AwaitingOut))
def list_awaiting_numbers(request: HttpRequest):
    """Residents awaiting a NIK and KKs awaiting a number, oldest first."""
    w = selectors_pages.awaiting_numbers(api_actor(request))
    return {
        "residents_total": w.residents_total,
        "residents": [
            {
                "id": r.pk,
                "name": r.name,
                "sex": r.sex,
                "birth_date": r.birth_date,
                "village_code": r.village_id,
                "village_name": r.village.name,
                "family_id": r.family_id,
                "since": r.created_at,
            }
            for r in w.residents
        ],
        "families_total": w.families_total,
        "families": [
            {
                "id": f.pk,
                "head_name": f.head.name if f.head else "",
                "village_code": f.village_id,
                "village_name": f.village.name,
                "since": f.created_at,
            }
            for f in w.families
        ],
    }


@router.post(
    "/residents/{resident_id}/nik", response=_responses(200, WrittenResidentOut)
)
def post_issued_nik(request: HttpRequest, resident_id: uuid.UUID, body: IssuedNikIn):
    """Record the NIK SIAK issued to a resident awaiting one (checked by the
    register's NIK rules; a NIK another resident holds is refused, 409)."""
    actor = api_actor(request)
    actor.require_role(*actions.ISSUED_NUMBER_ROLES)
    resident = actions.record_issued_nik(
        actor=actor,
        resident=_resident(actor, resident_id),
        nik=body.nik,
        **_key(request),
    )
    return _written_resident(resident)


@router.post(
    "/families/{family_id}/kk-number", response=_responses(200, WrittenFamilyOut)
)
def post_issued_kk(request: HttpRequest, family_id: uuid.UUID, body: IssuedKkIn):
    """Record the KK number SIAK issued to a KK awaiting one."""
    actor = api_actor(request)
    actor.require_role(*actions.ISSUED_NUMBER_ROLES)
    family = actions.record_issued_kk(
        actor=actor,
        family=_family(actor, family_id),
        kk_number=body.kk_number,
        **_key(request),
    )
    return _written_family(family)
