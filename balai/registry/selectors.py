"""Reads of the register, always limited to the actor's scope.

Kept small and additive: the search work adds its selectors beside these.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from balai.core.actors import Actor
from balai.core.errors import NotFound
from balai.registry.models import CorrectionRequest, Family, LifeEvent, Resident

# Roles that may read the register. (READ_ROLES and mask_nik belong to the
# search work; they were lost when this file was overwritten by mistake and
# put back as search.py uses them: the search engineer should check them.)
READ_ROLES = ("counter_officer", "registry_officer", "registrar")


def mask_nik(number: str | None) -> str:
    """Return a NIK or KK number with its middle hidden (UU 27/2022):
    `6402061201900001` -> `640206******0001`; '' for no number."""
    number = (number or "").strip()
    if len(number) <= 10:
        return number
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def residents_for(actor: Actor) -> QuerySet[Resident]:
    """Return the residents the actor may see."""
    return Resident.objects.filter(actor.scope_q("village_id"))


def families_for(actor: Actor) -> QuerySet[Family]:
    return Family.objects.filter(actor.scope_q("village_id"))


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
            status="menunggu", **_scope_kwargs(actor, "resident__village_id")
        )
        .select_related("resident")
        .order_by("created_at")
    )


def _scope_kwargs(actor: Actor, field_name: str) -> dict:
    return {} if actor.scope is None else {"pk__in": _scoped_ids(actor, field_name)}


def _scoped_ids(actor: Actor, field_name: str) -> QuerySet:
    return CorrectionRequest.objects.filter(actor.scope_q(field_name)).values("pk")
