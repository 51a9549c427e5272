"""The workflows: one transitions table per workflow kind, checked here only.

Every status change of an application goes through `check()`: the step must
exist in the table of the application's workflow kind, start from the current
status, and be taken by someone the table allows (the applicant, or an officer
with one of the step's roles in the office that owns the application). See
docs/decisions/0005-services-workflow.md for the tables in prose.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from balai.accounts.models import Role
from balai.core.actors import Actor
from balai.core.errors import BalaiError, PermissionDenied
from balai.services.models import RegisterEffect, Status, WorkflowKind

S = Status

# Where ownership goes on a step.
TO_DISDUKCAPIL = "disdukcapil"
TO_FILED_OFFICE = "filed_office"

FRONT = frozenset({Role.COUNTER_OFFICER, Role.REGISTRY_OFFICER})
HEAD = frozenset({Role.LEADER})
DUKCAPIL = frozenset({Role.REGISTRY_OFFICER, Role.REGISTRAR})
REGISTRAR = frozenset({Role.REGISTRAR})

OPEN = frozenset(
    {S.SUBMITTED, S.VERIFICATION, S.NEEDS_REVISION, S.PROCESSING, S.APPROVED}
)
# The service is delivered (or refused): the SLA clock stops for good.
COMPLETED = frozenset({S.ISSUED, S.COLLECTED, S.REJECTED})
FINAL = frozenset({S.COLLECTED, S.REJECTED, S.CANCELLED})
# The applicant is being waited on: the SLA clock is stopped.
PAUSED = frozenset({S.NEEDS_REVISION})


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str] = frozenset()
    applicant: bool = False
    note_required: bool = False
    moves_to: str = ""
    # Approval applies the service's life event to the register.
    applies_register: bool = False
    # Issue records what SIAK issued (numbers and the SIAK PDF).
    records_siak: bool = False


def T(name, label, sources, target, **kw) -> Transition:
    return Transition(name, label, frozenset(sources), target, **kw)


START = T(
    "start_verification",
    _("Mulai verifikasi"),
    {S.SUBMITTED},
    S.VERIFICATION,
    roles=FRONT,
)
REVISE = T(
    "request_revision",
    _("Minta perbaikan"),
    {S.VERIFICATION},
    S.NEEDS_REVISION,
    roles=FRONT,
    note_required=True,
)
RESUBMIT = T(
    "resubmit",
    _("Kirim perbaikan"),
    {S.NEEDS_REVISION},
    S.VERIFICATION,
    roles=FRONT,
    applicant=True,
)
CANCEL = T(
    "cancel",
    _("Batalkan permohonan"),
    {S.SUBMITTED, S.VERIFICATION, S.NEEDS_REVISION},
    S.CANCELLED,
    roles=FRONT,
    applicant=True,
)
COLLECT = T(
    "collect",
    _("Serahkan kepada pemohon"),
    {S.ISSUED},
    S.COLLECTED,
    roles=FRONT,
    applicant=True,
)
INTAKE_REJECT_FROM = {S.SUBMITTED, S.VERIFICATION, S.NEEDS_REVISION}

TABLES: dict[str, dict[str, Transition]] = {
    WorkflowKind.OFFICE_LETTER: {
        t.name: t
        for t in [
            START,
            REVISE,
            RESUBMIT,
            CANCEL,
            T(
                "accept",
                _("Terima berkas lengkap"),
                {S.VERIFICATION},
                S.PROCESSING,
                roles=FRONT,
            ),
            T("approve", _("Setujui"), {S.PROCESSING}, S.APPROVED, roles=HEAD),
            T(
                "reject",
                _("Tolak"),
                INTAKE_REJECT_FROM | {S.PROCESSING},
                S.REJECTED,
                roles=FRONT | HEAD,
                note_required=True,
            ),
            T(
                "issue",
                _("Terbitkan surat"),
                {S.APPROVED},
                S.ISSUED,
                roles=FRONT | HEAD,
            ),
            COLLECT,
        ]
    },
    WorkflowKind.SIAK: {
        t.name: t
        for t in [
            START,
            REVISE,
            RESUBMIT,
            CANCEL,
            T(
                "hand_off",
                _("Serahkan ke Disdukcapil"),
                {S.VERIFICATION},
                S.PROCESSING,
                roles=FRONT,
                moves_to=TO_DISDUKCAPIL,
            ),
            T(
                "return_to_office",
                _("Kembalikan ke kantor penerima"),
                {S.PROCESSING},
                S.VERIFICATION,
                roles=DUKCAPIL,
                note_required=True,
                moves_to=TO_FILED_OFFICE,
            ),
            T(
                "approve",
                _("Setujui"),
                {S.PROCESSING},
                S.APPROVED,
                roles=DUKCAPIL,
                applies_register=True,
            ),
            T(
                "reject",
                _("Tolak"),
                INTAKE_REJECT_FROM,
                S.REJECTED,
                roles=FRONT,
                note_required=True,
            ),
            T(
                "reject_at_dukcapil",
                _("Tolak"),
                {S.PROCESSING, S.APPROVED},
                S.REJECTED,
                roles=DUKCAPIL,
                note_required=True,
            ),
            T(
                "issue",
                _("Catat terbitan SIAK"),
                {S.APPROVED},
                S.ISSUED,
                roles=frozenset({Role.REGISTRY_OFFICER}),
                records_siak=True,
                moves_to=TO_FILED_OFFICE,
            ),
            COLLECT,
        ]
    },
    WorkflowKind.REGISTER_CHANGE: {
        t.name: t
        for t in [
            START,
            REVISE,
            RESUBMIT,
            CANCEL,
            T(
                "hand_off",
                _("Serahkan ke pencatat sipil"),
                {S.VERIFICATION},
                S.PROCESSING,
                roles=FRONT,
                moves_to=TO_DISDUKCAPIL,
            ),
            T(
                "return_to_office",
                _("Kembalikan ke kantor penerima"),
                {S.PROCESSING},
                S.VERIFICATION,
                roles=DUKCAPIL,
                note_required=True,
                moves_to=TO_FILED_OFFICE,
            ),
            T(
                "approve",
                _("Setujui perubahan data"),
                {S.PROCESSING},
                S.APPROVED,
                roles=REGISTRAR,
                applies_register=True,
            ),
            T(
                "reject",
                _("Tolak"),
                INTAKE_REJECT_FROM,
                S.REJECTED,
                roles=FRONT,
                note_required=True,
            ),
            T(
                "reject_at_dukcapil",
                _("Tolak"),
                {S.PROCESSING},
                S.REJECTED,
                roles=REGISTRAR,
                note_required=True,
            ),
            T(
                "issue",
                _("Terbitkan bukti perubahan"),
                {S.APPROVED},
                S.ISSUED,
                roles=DUKCAPIL,
                moves_to=TO_FILED_OFFICE,
            ),
            COLLECT,
        ]
    },
}


def table(workflow: str) -> dict[str, Transition]:
    try:
        return TABLES[workflow]
    except KeyError:
        raise BalaiError(
            "Jenis alur layanan tidak dikenal.", code="workflow_unknown"
        ) from None


def transition(workflow: str, name: str) -> Transition:
    step = table(workflow).get(name)
    if step is None:
        raise BalaiError(
            "Langkah ini tidak ada pada alur layanan tersebut.",
            code="transition_unknown",
        )
    return step


def is_applicant(actor: Actor, application) -> bool:
    return bool(
        actor.is_citizen
        and actor.user_id is not None
        and application.applicant_user_id == actor.user_id
    )


def acting_as(actor: Actor, application, step: Transition) -> str:
    """Return "applicant" or "officer" if the actor may take `step`, else ""."""
    if step.applicant and is_applicant(actor, application):
        return "applicant"
    if actor.is_citizen:
        return ""
    if actor.is_system:
        return "officer"
    if not actor.roles.intersection(step.roles):
        return ""
    if actor.office_id is None or actor.office_id != application.owner_office_id:
        return ""
    return "officer"


def decides_register(step: Transition, service) -> bool:
    """A step that decides a register change: only a registrar takes it.

    Approving any register change; returning or refusing a correction at
    Disdukcapil (it rejects the proposed correction in the register)."""
    effect = getattr(service, "register_effect", "")
    if not effect:
        return False
    if step.applies_register:
        return True
    return effect == RegisterEffect.CORRECTION and step.name in (
        "return_to_office",
        "reject_at_dukcapil",
    )


def check(
    actor: Actor, application, name: str, *, note: str = "", service=None
) -> tuple[Transition, str]:
    """Refuse unless `actor` may take step `name` on `application` now.

    Returns the step and whether it is taken as "applicant" or "officer".
    """
    step = transition(application.workflow, name)
    as_who = acting_as(actor, application, step)
    if not as_who:
        raise PermissionDenied(
            "Anda tidak berwenang mengambil langkah ini pada permohonan ini."
        )
    if application.status not in step.sources:
        raise BalaiError(
            f"Langkah “{step.label}” tidak dapat diambil saat status permohonan "
            f"“{Status(application.status).label}”.",
            code="transition_not_allowed",
            extra={"status": application.status, "transition": name},
            status_code=409,
        )
    if step.note_required and not note.strip():
        raise BalaiError("Alasan wajib diisi untuk langkah ini.", code="note_required")
    service = service or application.service
    if (
        decides_register(step, service)
        and as_who == "officer"
        and not actor.is_system
        and Role.REGISTRAR not in actor.roles
    ):
        raise PermissionDenied(
            "Perubahan data kependudukan hanya diputuskan oleh pencatat sipil."
        )
    if name == "start_verification" and application.held_for_identity:
        raise BalaiError(
            "Identitas pemohon belum diverifikasi. Verifikasi akun pemohon di "
            "loket terlebih dahulu.",
            code="applicant_unverified",
            status_code=409,
        )
    return step, as_who


def available(actor: Actor, application) -> list[Transition]:
    """Return the steps `actor` could take on `application` now (for pages)."""
    steps = []
    for step in table(application.workflow).values():
        if application.status in step.sources and acting_as(actor, application, step):
            steps.append(step)
    return steps
