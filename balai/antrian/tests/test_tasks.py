"""The scheduled missed-booking job and its command."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from balai.antrian.actions import book_appointment
from balai.antrian.models import Appointment
from balai.antrian.tasks import MISSED_JOB, mark_missed_appointments
from balai.core import scheduler

from .conftest import at

pytestmark = pytest.mark.django_db


def test_the_job_is_scheduled_every_quarter_hour_from_the_settings(settings):
    jobs = {j.name: j for j in scheduler.registered_jobs()}
    assert jobs[MISSED_JOB].task is mark_missed_appointments
    assert jobs[MISSED_JOB].current_interval() == dt.timedelta(minutes=15)
    settings.BALAI_APPOINTMENT_MISSED_MINUTES = 5
    assert jobs[MISSED_JOB].current_interval() == dt.timedelta(minutes=5)


def test_the_scheduler_enqueues_it_and_the_worker_marks_missed(clock, mpp, lane, warga):
    appt = book_appointment(
        actor=warga, office=mpp, lane=lane("A"), starts_at=at("2026-03-02", "10:00")
    )
    clock.now = at("2026-03-02", "10:31")
    # The test task backend runs what is enqueued at once.
    assert MISSED_JOB in scheduler.tick(now=clock.now)
    assert Appointment.objects.get(pk=appt.pk).status == "missed"
    assert mark_missed_appointments.call() == {"missed": 0, "offices": []}


def test_the_command_does_the_same_by_hand(clock, mpp, lane, warga):
    appt = book_appointment(
        actor=warga, office=mpp, lane=lane("A"), starts_at=at("2026-03-02", "10:00")
    )
    clock.now = at("2026-03-02", "11:00")
    out = io.StringIO()
    call_command("antrian_mark_missed", stdout=out)
    assert out.getvalue().strip() == "tidak datang: 1 (kantor: MPP-64.02.06)"
    assert Appointment.objects.get(pk=appt.pk).status == "missed"
    out = io.StringIO()
    call_command("antrian_mark_missed", stdout=out)
    assert out.getvalue().strip() == "tidak datang: 0 (kantor: -)"
