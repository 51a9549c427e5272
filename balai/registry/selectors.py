"""Reads of the register, always limited to the actor's scope.

Kept small and additive: the search work adds its selectors beside these.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from balai.audit.actions import log_access
from balai.audit.models import AccessLog, AccessPurpose
from balai.core.actors import Actor
from balai.core.errors import BalaiError, NotFound, PermissionDenied
from balai.registry.models import CorrectionRequest, Family, LifeEvent, Resident

# Roles that may read residents' records (lists and pages). Owned by search.
READ_ROLES = (
    "counter_officer",
    "registry_officer",
    "registrar",
    "helpdesk_officer",
    "auditor",
)
# Roles that see a whole NIK / KK number on a record's page; others see it masked.
WHOLE_NUMBER_ROLES = ("counter_officer", "registry_officer", "registrar")
RESIDENT_SUBJECT = "registry.resident"


def mask_nik(number: str | None) -> str:
    """Return a NIK or KK number with its middle hidden: `6402********0012`.

    Never the whole number: the first 4 and last 4 digits stay (16 characters
    in all); a value too short to keep both ends is hidden entirely; '' for
    no number.
    """
    text = (number or "").strip()
    if not text:
        return ""
    if len(text) < 12:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def residents_for(actor: Actor) -> QuerySet[Resident]:
    """Return the residents the actor may see."""
    return Resident.objects.filter(actor.scope_q("village__code"))


def families_for(actor: Actor) -> QuerySet[Family]:
    return Family.objects.filter(actor.scope_q("village__code"))


def get_resident(actor: Actor, resident_id: uuid.UUID | str) -> Resident:
    """Return one resident, or NotFound if missing or outside the actor's scope
    (a citizen sees only himself)."""
    try:
        pk = uuid.UUID(str(resident_id))
    except ValueError as exc:
        raise NotFound() from exc
    resident = (
        Resident.objects.select_related("family", "village", "owner_office")
        .filter(pk=pk)
        .first()
    )
    if resident is None:
        raise NotFound()
    if actor.is_citizen:
        if actor.resident_id != resident.pk:
            raise NotFound()
        return resident
    actor.require_covers(resident.village_id)
    return resident


def get_family(actor: Actor, family_id: uuid.UUID | str) -> Family:
    try:
        pk = uuid.UUID(str(family_id))
    except ValueError as exc:
        raise NotFound() from exc
    family = (
        Family.objects.select_related("head", "village", "owner_office")
        .filter(pk=pk)
        .first()
    )
    if family is None:
        raise NotFound()
    actor.require_covers(family.village_id)
    return family


def family_members(actor: Actor, family: Family) -> QuerySet[Resident]:
    """Return the living members of a KK, head first."""
    actor.require_covers(family.village_id)
    return Resident.objects.filter(family=family, status="hidup").order_by(
        "shdk", "birth_date", "id"
    )


def resident_events(actor: Actor, resident: Resident) -> QuerySet[LifeEvent]:
    """Return a resident's life events in order."""
    actor.require_covers(resident.village_id)
    return LifeEvent.objects.filter(resident=resident).order_by("seq")


def pending_corrections(actor: Actor) -> QuerySet[CorrectionRequest]:
    return (
        CorrectionRequest.objects.filter(
            status="menunggu", **_scope_kwargs(actor, "resident__village__code")
        )
        .select_related("resident")
        .order_by("created_at")
    )


def _scope_kwargs(actor: Actor, field_name: str) -> dict:
    return {} if actor.scope is None else {"pk__in": _scoped_ids(actor, field_name)}


def _scoped_ids(actor: Actor, field_name: str) -> QuerySet:
    return CorrectionRequest.objects.filter(actor.scope_q(field_name)).values("pk")


# --- The register's read side for people: whole records, logged -----------------
# A resident's whole record (with the whole NIK for a role that may see it) is
# read only through `get_resident_detail`, and every such read is written to
# the access log (UU 27/2022), which the citizen reads back through
# `who_read_my_record` ("Siapa yang melihat data saya").


def may_see_whole_number(actor: Actor) -> bool:
    """Tell whether the actor's role shows whole NIK/KK numbers on a record."""
    return actor.has_role(*WHOLE_NUMBER_ROLES)


def _require_reader(actor: Actor) -> None:
    if actor.is_citizen:
        raise PermissionDenied()
    actor.require_role(*READ_ROLES)


def _staff_purpose(purpose: str | None) -> str:
    if purpose not in AccessPurpose.values or purpose == AccessPurpose.SELF:
        raise BalaiError(
            "Sebutkan keperluan membuka data penduduk ini.",
            code="purpose_required",
            extra={
                "purposes": [p for p in AccessPurpose.values if p != AccessPurpose.SELF]
            },
        )
    return str(purpose)


def _uuid_or_404(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, ValidationError) as exc:
        raise NotFound() from exc


@dataclass(frozen=True)
class MemberRow:
    """A member of a family as listed on a record: NIK masked."""

    id: uuid.UUID
    name: str
    nik: str
    sex: str
    birth_date: Any
    shdk: int | None
    shdk_label: str
    status: str
    is_subject: bool


@dataclass(frozen=True)
class ResidentDetail:
    """A resident's whole record as the caller may see it.

    Render `nik`, `kk_number`, `father_nik` and `mother_nik` from here, never
    from `resident`, which holds the whole numbers whatever the role.
    """

    resident: Resident
    nik: str
    nik_whole: bool
    kk_number: str
    father_nik: str
    mother_nik: str
    family: Family | None
    members: list[MemberRow]
    events: list[LifeEvent]
    purpose: str


@dataclass(frozen=True)
class FamilyDetail:
    family: Family
    kk_number: str
    kk_whole: bool
    head: MemberRow | None
    members: list[MemberRow]


@dataclass(frozen=True)
class AccessRow:
    """One read of the citizen's record, as shown to the citizen."""

    at: Any
    reader: str
    office_code: str
    office_name: str
    purpose: str
    purpose_label: str
    what: str
    # The reader's position (jabatan) at that office on that day, else his role.
    position: str = ""


def _member_rows(family: Family, subject_id: uuid.UUID | None) -> list[MemberRow]:
    members = family.members.order_by("shdk", "birth_date", "id").only(
        "id", "name", "nik", "sex", "birth_date", "shdk", "status", "family_id"
    )
    return [
        MemberRow(
            id=m.id,
            name=m.name,
            nik=mask_nik(m.nik),
            sex=m.sex,
            birth_date=m.birth_date,
            shdk=m.shdk,
            shdk_label=m.get_shdk_display() if m.shdk else "",
            status=m.status,
            is_subject=m.id == subject_id,
        )
        for m in members
    ]


def get_resident_detail(
    actor: Actor, resident_id: uuid.UUID | str, purpose: str | None
) -> ResidentDetail:
    """Return a resident's whole record, and write the read to the access log.

    Staff need a reading role, the resident in their scope (otherwise
    NotFound, as if he did not exist) and a purpose (AccessPurpose); the NIK
    is whole only for WHOLE_NUMBER_ROLES. A citizen reads only his own record.
    """
    pk = _uuid_or_404(resident_id)
    qs = Resident.objects.select_related(
        "village", "village__parent", "family", "owner_office"
    )
    if actor.is_citizen:
        if actor.resident_id is None or actor.resident_id != pk:
            raise NotFound()
        purpose, whole = AccessPurpose.SELF, True
    else:
        _require_reader(actor)
        purpose = _staff_purpose(purpose)
        qs = qs.filter(actor.scope_q("village__code"))
        whole = may_see_whole_number(actor)
    resident = qs.filter(pk=pk).first()
    if resident is None:
        raise NotFound()
    log_access(
        actor=actor,
        subject=resident,
        purpose=purpose,
        what="record_nik" if whole else "record",
    )
    family = resident.family

    def show(number: str | None) -> str:
        return (number or "") if whole else mask_nik(number)

    events_q = Q(resident=resident)
    if family is not None:
        events_q |= Q(family=family, resident__isnull=True)
    events = list(
        LifeEvent.objects.filter(events_q)
        .select_related("office")
        .order_by("occurred_on", "recorded_at", "id")
    )
    return ResidentDetail(
        resident=resident,
        nik=show(resident.nik),
        nik_whole=whole,
        kk_number=show(family.kk_number) if family else "",
        father_nik=show(resident.father_nik),
        mother_nik=show(resident.mother_nik),
        family=family,
        members=_member_rows(family, resident.id) if family else [],
        events=events,
        purpose=purpose,
    )


def family_detail(
    actor: Actor, family_id: uuid.UUID | str, purpose: str | None = None
) -> FamilyDetail:
    """Return a family (KK) and its members, NIKs masked.

    The KK number is whole only when a purpose is given by a role that may
    see whole numbers; that read is logged against the family.
    """
    _require_reader(actor)
    pk = _uuid_or_404(family_id)
    family = (
        Family.objects.select_related("village", "head")
        .filter(actor.scope_q("village__code"), pk=pk)
        .first()
    )
    if family is None:
        raise NotFound()
    whole = purpose is not None and may_see_whole_number(actor)
    if whole:
        log_access(
            actor=actor,
            subject=family,
            purpose=_staff_purpose(purpose),
            what="family_kk",
        )
    members = _member_rows(family, None)
    head = next((m for m in members if m.id == family.head_id), None)
    return FamilyDetail(
        family=family,
        kk_number=(family.kk_number or "") if whole else mask_nik(family.kk_number),
        kk_whole=whole,
        head=head,
        members=members,
    )


def who_read_my_record(
    actor: Actor, *, limit: int = 200, offset: int = 0
) -> list[AccessRow]:
    """Return who read the citizen's own record and when, newest first.

    For the page "Siapa yang melihat data saya". The citizen's own reads are
    left out. `offset`/`limit` page through them.
    """
    if not actor.is_citizen or actor.resident_id is None:
        raise PermissionDenied()
    from balai.accounts.models import User
    from balai.regions.models import Office

    offset = max(0, int(offset))
    logs = list(
        AccessLog.objects.filter(
            subject_type=RESIDENT_SUBJECT, subject_id=str(actor.resident_id)
        )
        .exclude(actor_id=str(actor.user_id or ""))
        .order_by("-at", "-id")[offset : offset + max(0, int(limit))]
    )
    offices = dict(
        Office.objects.filter(code__in={r.office_code for r in logs}).values_list(
            "code", "name"
        )
    )
    user_ids = {r.actor_id for r in logs if r.actor_id}
    names = {
        str(u.pk): u.display_name
        for u in User.objects.filter(pk__in=user_ids).only(
            "id", "username", "first_name", "last_name"
        )
    }
    purposes = dict(AccessPurpose.choices)
    positions = _positions_of(logs, user_ids)
    return [
        AccessRow(
            at=r.at,
            reader=names.get(r.actor_id) or r.actor_name,
            office_code=r.office_code,
            office_name=offices.get(r.office_code, ""),
            purpose=r.purpose,
            purpose_label=str(purposes.get(r.purpose, r.purpose)),
            what=r.what,
            position=positions(r),
        )
        for r in logs
    ]


def _positions_of(logs: list[AccessLog], user_ids: set[str]):
    """Return a function giving the reader's position (jabatan) at the read's
    office on its day (WITA), or his role's name; '' when unknown."""
    from django.utils import timezone

    from balai.accounts.models import Posting, Role

    postings: dict[tuple[str, str], list] = {}
    for posting in Posting.objects.filter(user_id__in=user_ids).select_related(
        "office"
    ):
        postings.setdefault((str(posting.user_id), posting.office.code), []).append(
            posting
        )
    roles = dict(Role.choices)

    def position(row: AccessLog) -> str:
        day = timezone.localdate(row.at)
        for posting in postings.get((row.actor_id, row.office_code), []):
            if posting.start_date <= day and (
                posting.end_date is None or posting.end_date >= day
            ):
                return posting.position or str(roles.get(posting.role, posting.role))
        return ""

    return position
