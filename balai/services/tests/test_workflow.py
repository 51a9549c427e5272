"""The transition tables, checked in one place: every allowed step, a sample of
refused ones, roles and offices. Pure: no database."""

import uuid
from types import SimpleNamespace

import pytest

from balai.core.actors import Actor
from balai.core.errors import BalaiError, PermissionDenied
from balai.services import workflow
from balai.services.models import RegisterEffect, Status, WorkflowKind

S = Status
OWNER = uuid.uuid4()
OTHER = uuid.uuid4()
CITIZEN = uuid.uuid4()

# The tables as the decision (docs/decisions/0005) states them, written out
# independently of the code: (step, from, to, roles, applicant may, note).
FRONT = {"counter_officer", "registry_officer"}
DUKCAPIL = {"registry_officer", "registrar"}
INTAKE = [
    ("start_verification", {S.SUBMITTED}, S.VERIFICATION, FRONT, False, False),
    ("request_revision", {S.VERIFICATION}, S.NEEDS_REVISION, FRONT, False, True),
    ("resubmit", {S.NEEDS_REVISION}, S.VERIFICATION, FRONT, True, False),
    (
        "cancel",
        {S.SUBMITTED, S.VERIFICATION, S.NEEDS_REVISION},
        S.CANCELLED,
        FRONT,
        True,
        False,
    ),
    ("collect", {S.ISSUED}, S.COLLECTED, FRONT, True, False),
]
EXPECTED = {
    WorkflowKind.OFFICE_LETTER: [
        *INTAKE,
        ("accept", {S.VERIFICATION}, S.PROCESSING, FRONT, False, False),
        ("approve", {S.PROCESSING}, S.APPROVED, {"leader"}, False, False),
        (
            "reject",
            {S.SUBMITTED, S.VERIFICATION, S.NEEDS_REVISION, S.PROCESSING},
            S.REJECTED,
            FRONT | {"leader"},
            False,
            True,
        ),
        ("issue", {S.APPROVED}, S.ISSUED, FRONT | {"leader"}, False, False),
    ],
    WorkflowKind.SIAK: [
        *INTAKE,
        ("hand_off", {S.VERIFICATION}, S.PROCESSING, FRONT, False, False),
        ("return_to_office", {S.PROCESSING}, S.VERIFICATION, DUKCAPIL, False, True),
        ("approve", {S.PROCESSING}, S.APPROVED, DUKCAPIL, False, False),
        (
            "reject",
            {S.SUBMITTED, S.VERIFICATION, S.NEEDS_REVISION},
            S.REJECTED,
            FRONT,
            False,
            True,
        ),
        (
            "reject_at_dukcapil",
            {S.PROCESSING, S.APPROVED},
            S.REJECTED,
            DUKCAPIL,
            False,
            True,
        ),
        ("issue", {S.APPROVED}, S.ISSUED, {"registry_officer"}, False, False),
    ],
    WorkflowKind.REGISTER_CHANGE: [
        *INTAKE,
        ("hand_off", {S.VERIFICATION}, S.PROCESSING, FRONT, False, False),
        ("return_to_office", {S.PROCESSING}, S.VERIFICATION, DUKCAPIL, False, True),
        ("approve", {S.PROCESSING}, S.APPROVED, {"registrar"}, False, False),
        (
            "reject",
            {S.SUBMITTED, S.VERIFICATION, S.NEEDS_REVISION},
            S.REJECTED,
            FRONT,
            False,
            True,
        ),
        ("reject_at_dukcapil", {S.PROCESSING}, S.REJECTED, {"registrar"}, False, True),
        ("issue", {S.APPROVED}, S.ISSUED, DUKCAPIL, False, False),
    ],
}
ALL_ROLES = {
    "counter_officer",
    "registry_officer",
    "registrar",
    "leader",
    "helpdesk_officer",
    "service_admin",
    "auditor",
    "sysadmin",
    "network_operator",
}
CASES = [
    (kind, *row) for kind, rows in EXPECTED.items() for row in rows
]  # (kind, name, sources, target, roles, applicant, note)


def app(kind, status, *, held=False, effect=""):
    return SimpleNamespace(
        workflow=kind,
        status=status,
        owner_office_id=OWNER,
        applicant_user_id=CITIZEN,
        held_for_identity=held,
        service=SimpleNamespace(register_effect=effect),
    )


def officer(role, office=OWNER):
    return Actor(
        user_id=uuid.uuid4(),
        username=role,
        office_id=office,
        office_code="X",
        roles=frozenset({role}),
        scope=None,
    )


def citizen(user_id=CITIZEN):
    return Actor(
        user_id=user_id,
        username="warga",
        roles=frozenset({"citizen"}),
        scope=(),
        is_citizen=True,
    )


def test_tables_hold_exactly_the_decided_steps():
    for kind, rows in EXPECTED.items():
        table = workflow.TABLES[kind]
        assert set(table) == {r[0] for r in rows}, kind
        for name, sources, target, roles, applicant, note in rows:
            step = table[name]
            assert step.sources == frozenset(sources), (kind, name)
            assert step.target == target, (kind, name)
            assert step.roles == frozenset(roles), (kind, name)
            assert step.applicant is applicant, (kind, name)
            assert step.note_required is note, (kind, name)


def test_ownership_moves_on_hand_off_and_back_for_delivery():
    for kind in (WorkflowKind.SIAK, WorkflowKind.REGISTER_CHANGE):
        table = workflow.TABLES[kind]
        assert table["hand_off"].moves_to == workflow.TO_DISDUKCAPIL
        assert table["return_to_office"].moves_to == workflow.TO_FILED_OFFICE
        assert table["issue"].moves_to == workflow.TO_FILED_OFFICE
    assert workflow.TABLES[WorkflowKind.SIAK]["issue"].records_siak
    assert not any(
        t.moves_to for t in workflow.TABLES[WorkflowKind.OFFICE_LETTER].values()
    )


@pytest.mark.parametrize(
    ("kind", "name", "sources", "target", "roles", "applicant", "note"), CASES
)
def test_every_allowed_step_for_every_allowed_role(
    kind, name, sources, target, roles, applicant, note
):
    for status in sources:
        for role in roles:
            step, who = workflow.check(
                officer(role), app(kind, status), name, note="alasan"
            )
            assert (step.target, who) == (target, "officer")
        if applicant:
            step, who = workflow.check(citizen(), app(kind, status), name, note="x")
            assert who == "applicant"


@pytest.mark.parametrize(
    ("kind", "name", "sources", "target", "roles", "applicant", "note"), CASES
)
def test_other_roles_other_offices_and_other_citizens_are_refused(
    kind, name, sources, target, roles, applicant, note
):
    status = sorted(sources)[0]
    for role in ALL_ROLES - set(roles):
        with pytest.raises(PermissionDenied):
            workflow.check(officer(role), app(kind, status), name, note="x")
    for role in roles:
        with pytest.raises(PermissionDenied):
            workflow.check(officer(role, OTHER), app(kind, status), name, note="x")
    with pytest.raises(PermissionDenied):
        workflow.check(citizen(uuid.uuid4()), app(kind, status), name, note="x")
    if not applicant:
        with pytest.raises(PermissionDenied):
            workflow.check(citizen(), app(kind, status), name, note="x")


@pytest.mark.parametrize(
    ("kind", "name", "sources", "target", "roles", "applicant", "note"), CASES
)
def test_steps_are_refused_from_any_other_status(
    kind, name, sources, target, roles, applicant, note
):
    role = sorted(roles)[0]
    for status in set(S.values) - set(sources):
        with pytest.raises(BalaiError) as exc:
            workflow.check(officer(role), app(kind, status), name, note="x")
        assert exc.value.code == "transition_not_allowed"
        assert exc.value.status_code == 409


def test_final_statuses_allow_nothing():
    for kind in EXPECTED:
        for status in (S.COLLECTED, S.REJECTED, S.CANCELLED):
            assert not [
                t for t in workflow.TABLES[kind].values() if status in t.sources
            ]


def test_reason_required_where_the_table_says():
    with pytest.raises(BalaiError) as exc:
        workflow.check(
            officer("counter_officer"),
            app(WorkflowKind.OFFICE_LETTER, S.VERIFICATION),
            "reject",
            note="  ",
        )
    assert exc.value.code == "note_required"
    with pytest.raises(BalaiError):
        workflow.check(
            officer("counter_officer"),
            app(WorkflowKind.SIAK, S.VERIFICATION),
            "request_revision",
        )


def test_unknown_step_is_refused():
    with pytest.raises(BalaiError) as exc:
        workflow.check(
            officer("counter_officer"),
            app(WorkflowKind.OFFICE_LETTER, S.VERIFICATION),
            "hand_off",
        )
    assert exc.value.code == "transition_unknown"


def test_register_changes_are_decided_by_a_registrar_only():
    siak_birth = app(WorkflowKind.SIAK, S.PROCESSING, effect=RegisterEffect.BIRTH)
    with pytest.raises(PermissionDenied):
        workflow.check(officer("registry_officer"), siak_birth, "approve")
    workflow.check(officer("registrar"), siak_birth, "approve")
    # Without a register effect (a KTP-el), a registry officer may approve.
    workflow.check(
        officer("registry_officer"), app(WorkflowKind.SIAK, S.PROCESSING), "approve"
    )
    correction = app(WorkflowKind.SIAK, S.PROCESSING, effect=RegisterEffect.CORRECTION)
    with pytest.raises(PermissionDenied):
        workflow.check(
            officer("registry_officer"), correction, "return_to_office", note="x"
        )
    workflow.check(officer("registrar"), correction, "return_to_office", note="x")


def test_held_applications_wait_for_identity():
    with pytest.raises(BalaiError) as exc:
        workflow.check(
            officer("counter_officer"),
            app(WorkflowKind.SIAK, S.SUBMITTED, held=True),
            "start_verification",
        )
    assert exc.value.code == "applicant_unverified"


def test_available_lists_only_what_the_actor_may_take():
    names = {
        t.name
        for t in workflow.available(
            officer("counter_officer"), app(WorkflowKind.SIAK, S.VERIFICATION)
        )
    }
    assert names == {"request_revision", "cancel", "hand_off", "reject"}
    names = {
        t.name
        for t in workflow.available(citizen(), app(WorkflowKind.SIAK, S.NEEDS_REVISION))
    }
    assert names == {"resubmit", "cancel"}
