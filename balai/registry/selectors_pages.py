"""Reads the register's pages and API need beside `selectors`: the KK card,
one correction, looking residents and KKs up by number, and the residents and
KKs awaiting a number from SIAK. Always scoped."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from balai.core.actors import Actor
from balai.core.errors import BalaiError, NotFound
from balai.registry.actions import ISSUED_NUMBER_ROLES
from balai.registry.models import CorrectionRequest, Family, Resident, ResidentStatus
from balai.registry.selectors import (
    FamilyDetail,
    _require_reader,
    _uuid_or_404,
    family_detail,
    mask_nik,
)


@dataclass(frozen=True)
class CardRow:
    """A member as printed on a KK: every column, the NIK masked."""

    resident: Resident
    nik: str


@dataclass(frozen=True)
class KkCard:
    detail: FamilyDetail
    rows: list[CardRow]

    @property
    def family(self) -> Family:
        return self.detail.family


def kk_card(actor: Actor, family_id: uuid.UUID | str, purpose: str | None) -> KkCard:
    """Return a KK laid out like the card: the KK number whole (and the read
    logged) for a role that may see it and a purpose; members' NIKs masked."""
    detail = family_detail(actor, family_id, purpose)
    members = (
        Resident.objects.filter(family=detail.family, status="hidup")
        .select_related("village")
        .order_by("shdk", "birth_date", "id")
    )
    return KkCard(
        detail=detail, rows=[CardRow(resident=m, nik=mask_nik(m.nik)) for m in members]
    )


def get_correction(actor: Actor, correction_id: uuid.UUID | str) -> CorrectionRequest:
    """Return one correction in the actor's scope, or NotFound."""
    _require_reader(actor)
    pk = _uuid_or_404(correction_id)
    correction = (
        CorrectionRequest.objects.select_related("resident")
        .filter(pk=pk)
        .filter(actor.scope_q("resident__village__code"))
        .first()
    )
    if correction is None:
        raise NotFound()
    return correction


def corrections_of(actor: Actor, resident: Resident) -> QuerySet[CorrectionRequest]:
    """Return a resident's corrections, newest first."""
    actor.require_covers(resident.village_id)
    return CorrectionRequest.objects.filter(resident=resident).order_by("-created_at")


def resident_by_nik(actor: Actor, nik: str, *, label: str = "") -> Resident:
    """Return the resident in scope holding `nik`, or refuse in Indonesian."""
    text = (nik or "").strip().replace(" ", "")
    if len(text) != 16 or not text.isdigit():
        raise BalaiError(
            _("%(label)s harus 16 angka.") % {"label": label or "NIK"},
            code="nik_invalid",
        )
    resident = Resident.objects.filter(actor.scope_q("village__code"), nik=text).first()
    if resident is None:
        raise BalaiError(
            _("Penduduk dengan NIK %(nik)s tidak ditemukan di wilayah Anda.")
            % {"nik": mask_nik(text)},
            code="resident_unknown",
        )
    return resident


def family_by_kk(actor: Actor, kk_number: str) -> Family:
    """Return the KK in scope with this number, or refuse in Indonesian."""
    text = (kk_number or "").strip().replace(" ", "")
    if len(text) != 16 or not text.isdigit():
        raise BalaiError(_("Nomor KK harus 16 angka."), code="kk_invalid")
    family = Family.objects.filter(
        actor.scope_q("village__code"), kk_number=text
    ).first()
    if family is None:
        raise BalaiError(
            _("KK nomor %(kk)s tidak ditemukan di wilayah Anda.")
            % {"kk": mask_nik(text)},
            code="family_unknown",
        )
    return family


# --- Awaiting a number from SIAK ---------------------------------------------------

AWAITING_LIMIT = 100


@dataclass(frozen=True)
class AwaitingNumbers:
    """The oldest residents awaiting a NIK and KKs awaiting a number, with how
    many wait in all (the lists hold at most `limit` each)."""

    residents: list[Resident]
    residents_total: int
    families: list[Family]
    families_total: int


def awaiting_numbers(actor: Actor, *, limit: int = AWAITING_LIMIT) -> AwaitingNumbers:
    """Return what waits for SIAK in the actor's scope, oldest first: living
    residents without a NIK, and active KKs without a number."""
    actor.require_role(*ISSUED_NUMBER_ROLES)
    residents = Resident.objects.filter(
        actor.scope_q("village__code"),
        nik__isnull=True,
        status=ResidentStatus.ALIVE,
    )
    families = Family.objects.filter(
        actor.scope_q("village__code"), kk_number__isnull=True, is_active=True
    )
    return AwaitingNumbers(
        residents=list(
            residents.select_related("village", "family").order_by("created_at", "id")[
                :limit
            ]
        ),
        residents_total=residents.count(),
        families=list(
            families.select_related("village", "head").order_by("created_at", "id")[
                :limit
            ]
        ),
        families_total=families.count(),
    )
