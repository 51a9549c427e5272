"""Reads: inbox by deadline and office, overdue work, the two honest SLA
figures, the online share per kecamatan, scopes."""

import datetime as dt

import pytest

from balai.core.errors import NotFound, PermissionDenied
from balai.services import selectors
from balai.services.actions import submit_application
from balai.services.models import Application, Status
from balai.services.tests.conftest import MPP, TABANG_DESA

pytestmark = pytest.mark.django_db

KIA = {}


@pytest.fixture
def tenggarong_apps(resident, citizen, apply_online, counter, catalogue, clock):
    """Two online (KIA, 3 days) and one counter application at MPP Tenggarong."""
    clock("2026-03-02 09:00")  # Monday
    _, actor = citizen(resident())
    early = apply_online(actor, "kia", KIA)  # due Thu 5 March
    clock("2026-03-04 09:00")
    late = apply_online(actor, "kia", KIA)  # due Mon 9 March
    person = resident()
    clock("2026-03-03 09:00")
    counter_app = submit_application(
        actor=counter,
        service=catalogue["kia"],
        channel="counter",
        form_data={},
        relation="parent",
        subjects=[{"nik": person.nik}],
        applicant={"name": "Ayah"},
    )  # due Fri 6 March
    return early, counter_app, late


def test_inbox_is_the_office_work_nearest_deadline_first(
    tenggarong_apps, counter, officer_at
):
    early, counter_app, late = tenggarong_apps
    assert list(selectors.inbox(actor=counter)) == [early, counter_app, late]
    _, tabang = officer_at("MPP-64.02.12", "counter_officer")
    assert list(selectors.inbox(actor=tabang)) == []


def test_inbox_needs_an_office(tenggarong_apps, resident, citizen):
    _, actor = citizen(resident())
    with pytest.raises(PermissionDenied):
        selectors.inbox(actor=actor)


def test_overdue_and_the_two_figures(tenggarong_apps, officer_at, counter, step, clock):
    early, counter_app, _late = tenggarong_apps
    _, leader = officer_at("DPMPTSP", "leader")
    today = dt.date(2026, 3, 6)
    assert list(selectors.overdue(actor=leader, today=today)) == [early]
    # Complete the counter application on time: Fri 6 March (its due date).
    clock("2026-03-06 10:00")
    step(counter, counter_app, "start_verification")
    step(counter, counter_app, "hand_off")
    _, dukcapil = officer_at("DISDUKCAPIL", "registry_officer")
    step(dukcapil, counter_app, "reject_at_dukcapil", note="Data tidak lengkap")
    figures = selectors.sla_figures(
        actor=leader, period=(dt.date(2026, 3, 1), dt.date(2026, 3, 31)), today=today
    )
    assert figures.completed == 1
    assert figures.completed_on_time == 1
    assert figures.on_time_pct == 100.0
    assert figures.open_overdue == 1  # the early one
    assert figures.open_total == 2
    with pytest.raises(PermissionDenied):
        selectors.overdue(actor=counter, today=today)


def test_a_paused_application_is_not_overdue(
    tenggarong_apps, officer_at, counter, step, clock
):
    early, _counter_app, _late = tenggarong_apps
    clock("2026-03-03 10:00")
    step(counter, early, "start_verification")
    step(counter, early, "request_revision", note="Foto buram")
    _, leader = officer_at("DPMPTSP", "leader")
    late_ones = {
        a.pk for a in selectors.overdue(actor=leader, today=dt.date(2026, 3, 20))
    }
    assert early.pk not in late_ones
    assert len(late_ones) == 2  # the two others, still running


def test_online_share_by_kecamatan(tenggarong_apps, officer_at):
    rows = selectors.online_share_by_kecamatan(
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    )
    assert len(rows) == 20
    tenggarong = next(r for r in rows if r["kecamatan_code"] == "64.02.06")
    assert (tenggarong["total"], tenggarong["online"]) == (3, 2)
    assert tenggarong["share"] == round(2 / 3, 4)
    tabang = next(r for r in rows if r["kecamatan_code"] == "64.02.12")
    assert (tabang["total"], tabang["share"]) == (0, None)
    # Outside the period nothing counts.
    rows = selectors.online_share_by_kecamatan(
        (dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    )
    assert all(r["total"] == 0 for r in rows)
    # A kecamatan leader sees his own kecamatan only.
    _, camat = officer_at("MPP-64.02.12", "leader")
    mine = selectors.online_share_by_kecamatan(
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31)), actor=camat
    )
    assert [r["kecamatan_code"] for r in mine] == ["64.02.12"]


def test_scopes_of_reading(tenggarong_apps, officer_at, resident, citizen):
    early, _counter_app, _late = tenggarong_apps
    _, camat_tabang = officer_at("MPP-64.02.12", "leader")
    _, camat_tenggarong = officer_at(MPP, "leader")
    with pytest.raises(NotFound):
        selectors.application_for(camat_tabang, early.pk)
    assert selectors.application_for(camat_tenggarong, early.pk) == early
    _, other = citizen(resident(village=TABANG_DESA))
    with pytest.raises(NotFound):
        selectors.application_for(other, early.pk)
    with pytest.raises(NotFound):
        selectors.application_for(camat_tenggarong, "bukan-uuid")


def test_disdukcapil_keeps_seeing_what_it_handled(
    tenggarong_apps, counter, officer_at, step, upload
):
    from balai.services.models import AttachmentKind

    _early, counter_app, _late = tenggarong_apps
    _, dukcapil = officer_at("DISDUKCAPIL", "registry_officer")
    step(counter, counter_app, "start_verification")
    step(counter, counter_app, "hand_off")
    assert counter_app in selectors.inbox(actor=dukcapil)
    step(dukcapil, counter_app, "approve")
    pdf = upload(dukcapil, kind=AttachmentKind.SIAK_DOCUMENT)
    step(dukcapil, counter_app, "issue", attachments=[pdf.pk])
    assert counter_app not in selectors.inbox(actor=dukcapil)
    assert selectors.application_for(dukcapil, counter_app.pk) == counter_app
    assert counter_app in selectors.inbox(actor=counter)  # to hand over


def test_status_mismatches_finds_an_edited_row(tenggarong_apps):
    early, _c, _l = tenggarong_apps
    assert selectors.status_mismatches() == []
    Application.objects.filter(pk=early.pk).update(status=Status.ISSUED)
    assert selectors.status_mismatches() == [early.number]


def test_inbox_puts_paused_work_after_running_clocks(
    tenggarong_apps, counter, step, clock
):
    early, counter_app, late = tenggarong_apps
    clock("2026-03-03 10:00")
    step(counter, early, "start_verification")
    step(counter, early, "request_revision", note="Foto buram")
    assert list(selectors.inbox(actor=counter)) == [counter_app, late, early]
