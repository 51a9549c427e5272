"""Reads about accounts and postings, and turning a user into an `Actor`."""

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from balai.accounts.models import (
    PERSONAL_DATA_ROLES,
    AccountKind,
    Posting,
    Role,
    User,
)
from balai.core.actors import Actor
from balai.core.errors import NotFound
from balai.core.rows import db_value, select_rows
from balai.regions.models import Office, OfficeKind


def today() -> datetime.date:
    return timezone.localdate()


def active_postings(
    *, user: User, on: datetime.date | None = None
) -> QuerySet[Posting]:
    """Return the postings `user` holds on a day (today by default)."""
    day = on or today()
    return (
        Posting.objects.filter(user=user, start_date__lte=day)
        .exclude(end_date__lt=day)
        .select_related("office", "office__region")
        .order_by("start_date")
    )


def office_head(*, office: Office, on: datetime.date | None = None) -> Posting | None:
    """Return the posting that heads `office` on a day: the official who signs."""
    day = on or today()
    candidates = (
        Posting.objects.filter(office=office, is_head=True, start_date__lte=day)
        .exclude(end_date__lt=day)
        .select_related("user")
        # A definitive holder signs before an acting one (Plt.).
        .order_by("is_acting", "-start_date")
    )
    return candidates.first()


def _scope_for(posting: Posting) -> tuple[str, ...] | None:
    office = posting.office
    if office.kind == OfficeKind.REGENCY:
        return None
    return (office.region_id,)


def actor_for(*, user: User, office_code: str | None = None) -> Actor:
    """Return the actor for a logged-in user, acting for one of his offices."""
    if user.kind == AccountKind.CITIZEN:
        return Actor(
            user_id=user.pk,
            username=user.username,
            roles=frozenset({"citizen"}),
            scope=(),
            is_citizen=True,
            resident_id=user.resident_id,
        )
    # This runs on every request: plain statements (building the ORM's join
    # cost more than running it), whole rows (a receipt is signed under one
    # of them, see Actor.postings), the offices without their regions.
    day = today()
    when = db_value(Posting, "start_date", day)
    held = select_rows(
        Posting,
        where="user_id = %s AND start_date <= %s "
        "AND (end_date IS NULL OR end_date >= %s)",
        params=[db_value(Posting, "user", user.pk), when, when],
        order_by="start_date",
    )
    offices = _offices_by_id({p.office_id for p in held})
    for posting in held:
        posting.user = user
        posting.office = offices[posting.office_id]
    postings = [p for p in held if p.office.code == office_code] or held
    if not postings:
        roles = frozenset({"sysadmin"}) if user.is_superuser else frozenset()
        return Actor(
            user_id=user.pk,
            username=user.username,
            roles=roles,
            scope=None if user.is_superuser else (),
        )
    office = postings[0].office
    same_office = [p for p in postings if p.office_id == office.pk]
    scopes = [_scope_for(p) for p in same_office]
    scope: tuple[str, ...] | None
    if any(s is None for s in scopes):
        scope = None
    else:
        scope = tuple(sorted({code for s in scopes if s for code in s}))
    return Actor(
        user_id=user.pk,
        username=user.username,
        office_id=office.pk,
        office_code=office.code,
        roles=frozenset(p.role for p in same_office),
        scope=scope,
        postings=tuple(held),
        postings_on=day,
    )


def _offices_by_id(ids: set) -> dict:
    if not ids:
        return {}
    found = select_rows(
        Office,
        where=f"id IN ({', '.join(['%s'] * len(ids))})",
        params=[db_value(Office, "id", pk) for pk in ids],
    )
    return {office.pk: office for office in found}


def needs_second_factor(*, user: User) -> bool:
    """Tell whether this user reads personal data and so needs a second factor."""
    if not user.is_authenticated or user.kind != AccountKind.STAFF:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return active_postings(user=user).filter(role__in=PERSONAL_DATA_ROLES).exists()


# Roles that may read an office's staff roster (who holds which post there).
ROSTER_ROLES = (
    Role.LEADER,
    Role.SERVICE_ADMIN,
    Role.HELPDESK_OFFICER,
    Role.AUDITOR,
    Role.SYSADMIN,
)


def office_in_scope(*, actor: Actor, code: str) -> Office:
    """Return the office `code` if the actor's scope covers it, else NotFound.

    A kecamatan officer reaches his MPP and the desa/kelurahan offices of his
    kecamatan; regency offices reach every office. An office out of scope is
    answered exactly like one that does not exist.
    """
    office = (
        Office.objects.select_related("region")
        .filter(actor.scope_q("region__code"), code=code)
        .first()
    )
    if office is None:
        raise NotFound("Kantor tidak ditemukan.", code="office_not_found")
    return office


def office_staff(
    *,
    actor: Actor,
    code: str,
    on: datetime.date | None = None,
    history: bool = False,
) -> tuple[Office, QuerySet[Posting]]:
    """Return an office and its postings: those active on a day, or all of them.

    The head of the office comes first, then acting heads, then the rest by
    position and name.
    """
    actor.require_role(*ROSTER_ROLES)
    office = office_in_scope(actor=actor, code=code)
    postings = Posting.objects.filter(office=office).select_related("user")
    if not history:
        day = on or today()
        postings = postings.filter(start_date__lte=day).exclude(end_date__lt=day)
    postings = postings.order_by(
        "-is_head",
        "is_acting",
        "position",
        "user__first_name",
        "user__last_name",
        "-start_date",
    )
    return office, postings


def staff_user(*, username: str) -> User:
    """Return the active staff account with this username, or NotFound."""
    user = User.objects.filter(
        username=username.strip(), kind=AccountKind.STAFF, is_active=True
    ).first()
    if user is None:
        raise NotFound("Akun petugas tidak ditemukan.", code="staff_not_found")
    return user
