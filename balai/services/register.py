"""What an application's workflow steps do to the population register, always
through the register's own actions (`balai.registry.actions`), in the step's
transaction. Services never write registry models.

- approve: the service's life event is recorded (birth, death, move, marriage,
  divorce, new KK, KK member added or removed, correction);
- hand-off of a correction: the correction is *proposed* by the officer who
  hands it off, so the registrar who approves it is another person (the
  register's four-eyes rule);
- return or rejection at Disdukcapil of a correction: the proposal is rejected;
- issue: the NIK and KK number SIAK issued are recorded on the resident or KK
  the approval created, when it awaits one.

A missing registry action is reported by name; the step then changes nothing.
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from balai.core.actors import Actor
from balai.core.errors import BalaiError, NotFound
from balai.services.models import Application, RegisterEffect


def registry_action(name: str) -> Callable[..., Any]:
    try:
        module = importlib.import_module("balai.registry.actions")
    except ImportError:  # pragma: no cover - the register ships its actions
        module = None
    fn = getattr(module, name, None) if module is not None else None
    if fn is None:
        raise BalaiError(
            "Pencatatan peristiwa ini di data kependudukan belum tersedia "
            f"(aksi register '{name}'). Langkah ini belum dapat diambil.",
            code="register_action_missing",
            extra={"action": name},
            status_code=501,
        )
    return fn


def _registry():
    return importlib.import_module("balai.registry.actions")


def _date(value: Any, default: datetime.date) -> datetime.date:
    if not value:
        return default
    return datetime.date.fromisoformat(str(value))


def _today() -> datetime.date:
    return timezone.localdate()


def _subjects(application: Application) -> list:
    return [
        s.resident
        for s in application.subjects.select_related("resident").order_by("position")
        if s.resident is not None
    ]


def _resident_by_nik(nik: str):
    from balai.registry.models import Resident

    return Resident.objects.filter(nik=nik).first() if nik else None


def _family_by_kk(kk_number: str):
    from balai.registry.models import Family

    family = Family.objects.filter(kk_number=kk_number, is_active=True).first()
    if family is None:
        raise NotFound(
            "KK dengan nomor itu tidak ditemukan dalam data kependudukan.",
            code="family_not_found",
        )
    return family


def _earlier(application: Application, key: str) -> dict[str, Any]:
    """The register data an earlier step of this application recorded."""
    for event in application.events.order_by("-seq"):
        value = (event.data or {}).get("register", {})
        if key in value:
            return value
    return {}


# --- Steps ---------------------------------------------------------------------


def on_step(
    *, actor: Actor, application: Application, step: Any, note: str = ""
) -> dict[str, Any]:
    """Run what `step` does to the register; return what to keep in its event."""
    effect = application.service.register_effect
    if not effect:
        return {}
    if step.name == "hand_off" and effect == RegisterEffect.CORRECTION:
        return _propose_correction(actor, application)
    if step.applies_register:
        handler = HANDLERS.get(effect)
        return handler(actor, application) if handler else {}
    if step.name in ("return_to_office", "reject_at_dukcapil") and (
        effect == RegisterEffect.CORRECTION
    ):
        return _withdraw_correction(actor, application, note)
    if step.name == "issue":
        return _record_numbers(actor, application)
    return {}


def _propose_correction(actor: Actor, app: Application) -> dict[str, Any]:
    (resident,) = _subjects(app)
    data = app.form_data
    correction = registry_action("propose_correction")(
        actor=actor,
        resident=resident,
        field=data["field"],
        new_value=data["new_value"],
        reason=data.get("reason") or f"Permohonan {app.number}",
        evidence=f"Permohonan {app.number} (berkas terlampir)",
    )
    return {"correction_id": str(correction.pk)}


def _pending_correction(app: Application):
    from balai.registry.models import CorrectionRequest, CorrectionStatus

    correction_id = _earlier(app, "correction_id").get("correction_id")
    if not correction_id:
        return None
    return CorrectionRequest.objects.filter(
        pk=correction_id, status=CorrectionStatus.PENDING
    ).first()


def _withdraw_correction(actor: Actor, app: Application, note: str) -> dict[str, Any]:
    correction = _pending_correction(app)
    if correction is None:
        return {}
    registry_action("reject_correction")(
        actor=actor, correction=correction, note=note or f"Permohonan {app.number}"
    )
    return {"correction_rejected": str(correction.pk)}


def _record_numbers(actor: Actor, app: Application) -> dict[str, Any]:
    """Put the NIK and KK number SIAK issued onto what the approval created."""
    from balai.registry.models import Family, Resident

    numbers = app.issued_numbers or {}
    done: dict[str, Any] = {}
    earlier = _earlier(app, "resident_id")
    resident = Resident.objects.filter(pk=earlier.get("resident_id")).first()
    if numbers.get("nik") and resident is not None and not resident.nik:
        registry_action("record_issued_nik")(
            actor=actor, resident=resident, nik=numbers["nik"]
        )
        done["nik_recorded"] = str(resident.pk)
    family_id = _earlier(app, "family_id").get("family_id")
    family = Family.objects.filter(pk=family_id).first() if family_id else None
    if numbers.get("kk_number") and family is not None and not family.kk_number:
        registry_action("record_issued_kk")(
            actor=actor, family=family, kk_number=numbers["kk_number"]
        )
        done["kk_recorded"] = str(family.pk)
    return done


# --- Approval: one handler per life event ----------------------------------------

HANDLERS: dict[str, Callable[[Actor, Application], dict[str, Any]]] = {}


def handles(effect: str):
    def decorate(fn):
        HANDLERS[effect] = fn
        return fn

    return decorate


def _ids(resident=None, family=None, event=None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if resident is not None:
        out["resident_id"] = str(resident.pk)
        if getattr(resident, "family_id", None):
            out["family_id"] = str(resident.family_id)
    if family is not None:
        out["family_id"] = str(family.pk)
    if event is not None:
        out["event_id"] = str(event.pk)
    return out


@handles(RegisterEffect.BIRTH)
def _birth(actor: Actor, app: Application) -> dict[str, Any]:
    reg = _registry()
    data = app.form_data
    mother = _resident_by_nik(data.get("mother_nik", ""))
    father = _resident_by_nik(data.get("father_nik", ""))
    parent = mother or father
    if parent is None:
        raise BalaiError(
            "Ibu atau ayah harus tercatat dalam data kependudukan.",
            code="parent_not_found",
        )
    baby = registry_action("register_birth")(
        actor=actor,
        family=_family_by_kk(data["kk_number"]),
        person=reg.Person(
            name=data["child_name"],
            sex=data["sex"],
            birth_date=data["birth_date"],
            birth_place=data.get("birth_place", ""),
            religion=parent.religion,
        ),
        mother=mother,
        father=father,
    )
    return _ids(resident=baby)


@handles(RegisterEffect.DEATH)
def _death(actor: Actor, app: Application) -> dict[str, Any]:
    (resident,) = _subjects(app)
    data = app.form_data
    dead = registry_action("register_death")(
        actor=actor,
        resident=resident,
        occurred_on=_date(data.get("death_date"), _today()),
        place=data.get("death_place", ""),
        cause=data.get("cause", ""),
    )
    return _ids(resident=dead)


def _address(reg, data: dict[str, Any]):
    return reg.Address(
        village=data["village_code"],
        street=data.get("street", ""),
        rt=data.get("rt", ""),
        rw=data.get("rw", ""),
    )


@handles(RegisterEffect.MOVE_WITHIN)
def _move_within(actor: Actor, app: Application) -> dict[str, Any]:
    reg = _registry()
    from balai.registry.reference import Shdk

    data = app.form_data
    movers = _subjects(app)
    if data.get("whole_family"):
        family = registry_action("move_within")(
            actor=actor,
            mode="family",
            family=movers[0].family,
            address=_address(reg, data),
            occurred_on=_today(),
            reason=data.get("reason", ""),
        )
    else:
        relations = {
            m.pk: Shdk.KEPALA_KELUARGA if i == 0 else _member_relation(movers[0], m)
            for i, m in enumerate(movers)
        }
        family = registry_action("move_within")(
            actor=actor,
            mode="split",
            residents=movers,
            relations=relations,
            address=_address(reg, data),
            occurred_on=_today(),
            reason=data.get("reason", ""),
        )
    return _ids(family=family)


def _member_relation(head, member) -> int:
    """A member's relation to a new head: the spouse, else as before, else kin."""
    from balai.registry.reference import MaritalStatus, Shdk

    if (
        member.sex != head.sex
        and member.marital_status == MaritalStatus.KAWIN
        and head.marital_status == MaritalStatus.KAWIN
    ):
        return Shdk.ISTRI if member.sex == "P" else Shdk.SUAMI
    if member.shdk and member.shdk != Shdk.KEPALA_KELUARGA:
        return member.shdk
    return Shdk.FAMILI_LAIN


@handles(RegisterEffect.MOVE_OUT)
def _move_out(actor: Actor, app: Application) -> dict[str, Any]:
    data = app.form_data
    event = registry_action("move_out")(
        actor=actor,
        residents=_subjects(app),
        occurred_on=_date(data.get("move_date"), _today()),
        destination=data.get("destination", ""),
        reason=data.get("reason", ""),
    )
    return _ids(event=event)


@handles(RegisterEffect.ARRIVAL)
def _arrival(actor: Actor, app: Application) -> dict[str, Any]:
    reg = _registry()
    data = app.form_data
    resident = registry_action("register_arrival")(
        actor=actor,
        person=reg.Person(
            name=data["name"],
            sex=data["sex"],
            birth_date=data["birth_date"],
            religion=int(data.get("religion") or 1),
            nik=data["nik"],
        ),
        occurred_on=_today(),
        origin=f"SKPWNI {data.get('skpwni_number', '')}".strip(),
        address=_address(reg, data),
    )
    return _ids(resident=resident)


def _couple(app: Application):
    first, second = _subjects(app)
    if first.sex == second.sex:
        raise BalaiError(
            "Pasangan harus seorang laki-laki dan seorang perempuan.",
            code="couple_invalid",
        )
    return (first, second) if first.sex == "L" else (second, first)


@handles(RegisterEffect.MARRIAGE)
def _marriage(actor: Actor, app: Application) -> dict[str, Any]:
    husband, wife = _couple(app)
    event = registry_action("register_marriage")(
        actor=actor,
        husband=husband,
        wife=wife,
        occurred_on=_date(app.form_data.get("marriage_date"), _today()),
    )
    return _ids(event=event)


@handles(RegisterEffect.DIVORCE)
def _divorce(actor: Actor, app: Application) -> dict[str, Any]:
    first, second = _couple(app)
    event = registry_action("register_divorce")(
        actor=actor,
        first=first,
        second=second,
        occurred_on=_date(app.form_data.get("decision_date"), _today()),
    )
    return _ids(event=event)


@handles(RegisterEffect.NEW_KK)
def _new_kk(actor: Actor, app: Application) -> dict[str, Any]:
    reg = _registry()
    from balai.registry.reference import Shdk

    people = _subjects(app)
    head = people[0]
    members = [(head, Shdk.KEPALA_KELUARGA)] + [
        (p, _member_relation(head, p)) for p in people[1:]
    ]
    data = app.form_data
    family = registry_action("create_family")(
        actor=actor,
        members=members,
        occurred_on=_today(),
        address=reg.Address(
            village=head.village_id,
            street=data.get("street", ""),
            rt=data.get("rt", ""),
            rw=data.get("rw", ""),
        ),
        reason=f"Permohonan {app.number}",
    )
    return _ids(family=family)


@handles(RegisterEffect.ADD_MEMBER)
def _add_member(actor: Actor, app: Application) -> dict[str, Any]:
    (resident,) = _subjects(app)
    family = registry_action("move_within")(
        actor=actor,
        mode="join",
        residents=[resident],
        relations={resident.pk: int(app.form_data["shdk"])},
        to_family=_family_by_kk(app.form_data["kk_number"]),
        occurred_on=_today(),
        reason=f"Permohonan {app.number}",
    )
    return _ids(family=family)


@handles(RegisterEffect.REMOVE_MEMBER)
def _remove_member(actor: Actor, app: Application) -> dict[str, Any]:
    """A member leaves his KK for a KK of his own at the same address."""
    from balai.registry.reference import Shdk

    (resident,) = _subjects(app)
    family = registry_action("create_family")(
        actor=actor,
        members=[(resident, Shdk.KEPALA_KELUARGA)],
        occurred_on=_today(),
        reason=app.form_data.get("reason") or f"Permohonan {app.number}",
    )
    return _ids(family=family)


@handles(RegisterEffect.CORRECTION)
def _correction(actor: Actor, app: Application) -> dict[str, Any]:
    correction = _pending_correction(app)
    if correction is None:
        # Not proposed at the hand-off (e.g. filed at Disdukcapil itself).
        raise BalaiError(
            "Usulan koreksi belum tercatat: kembalikan ke kantor penerima agar "
            "petugas loket mengusulkannya.",
            code="correction_missing",
        )
    decided = registry_action("approve_correction")(
        actor=actor, correction=correction, note=f"Permohonan {app.number}"
    )
    return {"correction_id": str(decided.pk), "resident_id": str(decided.resident_id)}
