"""The bulk path of past applications writes the rows the real actions write."""

import datetime as dt

import pytest

from balai.core.models import ChangeRecord
from balai.core.serialize import model_payload
from balai.services.bulk import PastApplication, PastStep, file_past_applications
from balai.services.calendar import WITA
from balai.services.models import (
    Application,
    ApplicationEvent,
    ApplicationSubject,
    Status,
)
from balai.services.tests.conftest import JAHAB, MPP
from balai.sync import routing

pytestmark = pytest.mark.django_db

# created_at: the real action stamps the wall clock (the frozen clock does not
# reach a field default); the bulk path stamps the submission time.
APP_SKIP = {"id", "number", "tracking_code", "created_at"}
EVENT_SKIP = {"id", "application_id"}


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=WITA)


def _rows(app: Application):
    fields = [f.attname for f in Application._meta.concrete_fields]
    row = {f: getattr(app, f) for f in fields if f not in APP_SKIP}
    events = [
        {
            f.attname: getattr(e, f.attname)
            for f in ApplicationEvent._meta.concrete_fields
            if f.attname not in EVENT_SKIP
        }
        for e in app.events.order_by("seq")
    ]
    subjects = list(
        ApplicationSubject.objects.filter(application=app).values_list(
            "resident_id", "position"
        )
    )
    return row, events, subjects


def test_bulk_writes_what_submit_and_the_steps_write(
    catalogue, clock, officer_at, resident, system_actor
):
    from balai.services.actions import submit_application, transition_application

    _user, counter = officer_at(MPP, "counter_officer")
    _user, dukcapil = officer_at("DISDUKCAPIL", "registry_officer")
    person = resident(village=JAHAB)
    service = catalogue["ktp-el-ganti"]
    form = {"reason": "hilang"}
    # Two histories: handed off and approved at Disdukcapil (open), and
    # refused at intake (completed: completed_at and on_time set).
    histories = [
        [
            ("2026-03-02 10:00", counter, "start_verification", ""),
            ("2026-03-02 11:30", counter, "hand_off", ""),
            ("2026-03-04 09:15", dukcapil, "approve", ""),
        ],
        [
            ("2026-03-02 10:00", counter, "start_verification", ""),
            ("2026-03-09 08:00", counter, "reject", "Berkas tidak lengkap."),
        ],
    ]
    real = []
    for history in histories:
        clock("2026-03-02 09:00")
        app = submit_application(
            actor=counter,
            service=service,
            channel="counter",
            form_data=form,
            relation="self",
            applicant={"nik": person.nik},
        )
        for when, who, name, note in history:
            clock(when)
            app = transition_application(
                actor=who,
                application=Application.objects.get(pk=app.pk),
                name=name,
                expected_version=app.version,
                note=note,
            )
        real.append(Application.objects.get(pk=app.pk))

    clock("2026-03-10 12:00")
    result = file_past_applications(
        actor=system_actor,
        applications=[
            PastApplication(
                service=service,
                filed_by=counter,
                submitted_at=_at("2026-03-02 09:00"),
                applicant=person,
                form_data=form,
                steps=[
                    PastStep(name=name, at=_at(when), by=who, note=note)
                    for when, who, name, note in history
                ],
            )
            for history in histories
        ],
    )
    assert result.applications == 2
    bulk = [Application.objects.get(pk=pk) for pk in result.application_ids]
    assert [a.status for a in bulk] == [Status.APPROVED, Status.REJECTED]
    assert bulk[0].owner_office.code == "DISDUKCAPIL"
    # Refused after the three working days: completed, late.
    assert bulk[1].completed_at == _at("2026-03-09 08:00")
    assert bulk[1].on_time is False
    for mine, theirs in zip(bulk, real, strict=True):
        ours, others = _rows(mine), _rows(theirs)
        assert ours[0] == others[0]
        assert ours[1] == others[1]
        assert ours[2] == others[2]
    # Numbers continue the office's series after the two real ones.
    assert [a.number[-6:] for a in bulk] == ["000003", "000004"]
    # Every row written has its change record; at the regency by reference
    # (decision 0012): no payload stored, a pull sends the row as it is.
    objs = [
        *bulk,
        *ApplicationEvent.objects.filter(application__in=bulk),
        *ApplicationSubject.objects.filter(application__in=bulk),
    ]
    changes = []
    for obj in objs:
        change = ChangeRecord.objects.get(
            model=obj._meta.label_lower, object_id=str(obj.pk)
        )
        assert change.op == "upsert"
        assert change.payload is None
        changes.append(
            {
                "model": change.model,
                "object_id": change.object_id,
                "op": change.op,
                "payload": change.payload,
                "global_seq": change.global_seq or change.seq,
            }
        )
    served = routing.fill_by_reference(changes, routing.NodeRoute("64.02.99"))
    assert [c["payload"] for c in served] == [model_payload(obj) for obj in objs]


def test_bulk_refuses_a_step_the_workflow_refuses(
    catalogue, officer_at, resident, system_actor
):
    from balai.core.errors import PermissionDenied

    _user, counter = officer_at(MPP, "counter_officer")
    person = resident(village=JAHAB)
    with pytest.raises(PermissionDenied):
        file_past_applications(
            actor=system_actor,
            applications=[
                PastApplication(
                    service=catalogue["ktp-el-baru"],
                    filed_by=counter,
                    submitted_at=_at("2026-03-02 09:00"),
                    applicant=person,
                    steps=[
                        PastStep(
                            name="start_verification",
                            at=_at("2026-03-02 10:00"),
                            by=counter,
                        ),
                        PastStep(
                            name="hand_off", at=_at("2026-03-02 11:00"), by=counter
                        ),
                        # Approval is Disdukcapil's, not the counter's.
                        PastStep(
                            name="approve", at=_at("2026-03-02 12:00"), by=counter
                        ),
                    ],
                )
            ],
        )
    assert not Application.objects.exists()
