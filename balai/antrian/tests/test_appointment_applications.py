"""An appointment for one of the citizen's own applications: the booking names
it, the check-in ticket is linked to it; another person's is refused. Built
with the services' own fixtures (a resident, his account, an online
application) so the lookup through `balai.services` is the real one."""

# The services fixtures are imported by name and then requested as arguments.
# ruff: noqa: F811

import pytest

from balai.antrian import actions, selectors
from balai.antrian.models import Appointment
from balai.antrian.tests.conftest import at
from balai.core.errors import BalaiError
from balai.services.tests.conftest import (  # noqa: F401 - fixtures
    _receipts_off,
    apply_online,
    catalogue,
    citizen,
    resident,
    upload,
)

SKTM = {"purpose": "Beasiswa sekolah anak", "monthly_income": 1500000}


@pytest.fixture
def filed(clock, resident, citizen, apply_online):
    person = resident()
    _user, actor = citizen(person)
    return actor, apply_online(actor, "sktm", SKTM)


def test_a_booking_for_the_citizens_application_links_its_ticket(
    filed, mpp, lane, kiosk, clock
):
    actor, application = filed
    assert application in selectors.citizen_applications(actor=actor)
    appt = actions.book_appointment(
        actor=actor,
        office=mpp,
        lane=lane("B"),
        starts_at=at("2026-03-02", "10:00"),
        application_id=str(application.pk),
    )
    assert appt.application_id == application.pk
    assert application.number in appt.purpose
    clock.now = at("2026-03-02", "09:45")
    ticket = actions.check_in_appointment(
        actor=kiosk, office=mpp, code=appt.code
    ).ticket
    assert ticket.application_id == application.pk


def test_another_citizens_application_is_refused(
    filed, mpp, lane, clock, resident, citizen
):
    _owner, application = filed
    _user, stranger = citizen(resident())
    with pytest.raises(BalaiError) as exc:
        actions.book_appointment(
            actor=stranger,
            office=mpp,
            lane=lane("B"),
            starts_at=at("2026-03-02", "10:00"),
            application_id=application.pk,
        )
    assert exc.value.code == "application_not_found"
    assert "tidak ditemukan di akun Anda" in exc.value.message
    assert not Appointment.objects.exists()
