import datetime

import pytest

from balai.accounts.actions import create_citizen_account, end_posting
from balai.accounts.models import Posting
from balai.accounts.selectors import (
    actor_for,
    needs_second_factor,
    office_head,
    office_in_scope,
    office_staff,
)
from balai.core.errors import NotFound, PermissionDenied
from balai.regions.models import Office

pytestmark = pytest.mark.django_db

TENGGARONG = "MPP-64.02.06"
TABANG = "MPP-64.02.12"


def village_office(kecamatan: str) -> Office:
    return Office.objects.filter(
        kind__in=["desa", "kelurahan"], region__parent_id=kecamatan
    ).first()


# --- actors and scope -----------------------------------------------------------


def test_a_kecamatan_posting_scopes_the_actor_to_its_kecamatan(make_staff, actor_of):
    actor = actor_of(make_staff(office=TENGGARONG, role="registry_officer"))
    assert actor.office_code == TENGGARONG
    assert actor.roles == {"registry_officer"}
    assert actor.scope == ("64.02.06",)
    assert actor.covers("64.02.06.1001")
    assert not actor.covers("64.02.12.2001")
    assert not actor.covers("64.02"), "not the regency's own records"


def test_a_regency_posting_sees_the_whole_regency(make_staff, actor_of):
    actor = actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))
    assert actor.scope is None
    assert actor.covers("64.02.12.2001")


def test_a_village_posting_sees_only_its_village(make_staff, actor_of):
    office = village_office("64.02.06")
    actor = actor_of(make_staff(office=office.code, role="leader"))
    assert actor.scope == (office.region_id,)
    assert not actor.covers("64.02.06")


def test_an_ended_posting_gives_no_role_and_no_scope(
    make_staff, actor_of, system_actor
):
    user = make_staff(office=TENGGARONG, role="counter_officer")
    end_posting(
        actor=system_actor,
        posting=user.postings.get(),
        end_date=datetime.date(2024, 6, 30),
    )
    actor = actor_of(user)
    assert actor.roles == frozenset()
    assert actor.scope == ()
    assert not actor.covers("64.02.06.1001")


def test_a_citizen_actor_has_no_office_scope(system_actor):
    user = create_citizen_account(
        actor=system_actor, username="warga1", password="x", check_password=False
    )
    actor = actor_for(user=user)
    assert actor.is_citizen
    assert actor.roles == {"citizen"}
    assert actor.scope == ()


def test_who_needs_a_second_factor(make_staff, system_actor):
    assert needs_second_factor(user=make_staff(role="counter_officer"))
    assert needs_second_factor(user=make_staff(role="auditor", office="INSPEKTORAT"))
    assert needs_second_factor(user=make_staff(role="sysadmin", office="DISKOMINFO"))
    assert not needs_second_factor(user=make_staff(role="leader"))
    assert not needs_second_factor(user=make_staff(role="network_operator"))
    citizen = create_citizen_account(
        actor=system_actor, username="warga2", password="x", check_password=False
    )
    assert not needs_second_factor(user=citizen)


# --- office staff roster: scope ----------------------------------------------------


def test_a_kecamatan_leader_reads_the_offices_of_his_kecamatan(make_staff, actor_of):
    camat = actor_of(make_staff(office=TENGGARONG, role="leader"))
    office, _ = office_staff(actor=camat, code=TENGGARONG)
    assert office.code == TENGGARONG
    village = village_office("64.02.06")
    office, _ = office_staff(actor=camat, code=village.code)
    assert office == village


@pytest.mark.parametrize(
    "code", [TABANG, "DISDUKCAPIL", "DOES-NOT-EXIST", "MPP-64.02.0"]
)
def test_offices_out_of_scope_do_not_exist_for_him(make_staff, actor_of, code):
    camat = actor_of(make_staff(office=TENGGARONG, role="leader"))
    with pytest.raises(NotFound) as info:
        office_staff(actor=camat, code=code)
    assert info.value.code == "office_not_found"


def test_a_village_in_another_kecamatan_is_out_of_scope(make_staff, actor_of):
    camat = actor_of(make_staff(office=TENGGARONG, role="leader"))
    with pytest.raises(NotFound):
        office_in_scope(actor=camat, code=village_office("64.02.12").code)


def test_regency_roles_read_every_office(make_staff, actor_of):
    auditor = actor_of(make_staff(office="INSPEKTORAT", role="auditor"))
    for code in (TABANG, TENGGARONG, "DISDUKCAPIL", village_office("64.02.12").code):
        assert office_staff(actor=auditor, code=code)[0].code == code


@pytest.mark.parametrize("role", ["counter_officer", "registry_officer"])
def test_roles_without_roster_access_are_refused_even_at_home(
    make_staff, actor_of, role
):
    officer = actor_of(make_staff(office=TENGGARONG, role=role))
    with pytest.raises(PermissionDenied):
        office_staff(actor=officer, code=TENGGARONG)


# --- office staff roster: content --------------------------------------------------


def test_the_roster_lists_active_postings_head_first(make_staff, actor_of):
    loket = make_staff(office=TABANG, role="counter_officer", position="Petugas Loket")
    camat = make_staff(office=TABANG, role="leader", position="Camat", is_head=True)
    former = make_staff(
        office=TABANG,
        role="helpdesk_officer",
        position="Petugas Helpdesk",
        end_date=datetime.date(2024, 3, 31),
    )
    make_staff(office=TENGGARONG, role="counter_officer")  # another office
    auditor = actor_of(make_staff(office="INSPEKTORAT", role="auditor"))
    _, postings = office_staff(actor=auditor, code=TABANG)
    assert [p.user for p in postings] == [camat, loket]
    _, postings = office_staff(actor=auditor, code=TABANG, on=datetime.date(2024, 2, 1))
    assert former in [p.user for p in postings]
    _, history = office_staff(actor=auditor, code=TABANG, history=True)
    assert {p.user for p in history} == {camat, loket, former}


# --- posting history: who heads the office on a day --------------------------------


def test_office_head_follows_the_posting_history(make_staff):
    office = Office.objects.get(code=TABANG)
    first = make_staff(
        office=TABANG,
        role="leader",
        position="Camat Tabang",
        is_head=True,
        start_date=datetime.date(2020, 1, 6),
        end_date=datetime.date(2023, 6, 30),
    )
    acting = make_staff(
        office=TABANG,
        role="leader",
        position="Camat Tabang",
        is_head=True,
        is_acting=True,
        start_date=datetime.date(2023, 7, 1),
        end_date=datetime.date(2023, 9, 30),
    )
    second = make_staff(
        office=TABANG,
        role="leader",
        position="Camat Tabang",
        is_head=True,
        start_date=datetime.date(2023, 10, 2),
    )
    # A Plt. again, while the definitive camat is still posted (on leave).
    make_staff(
        office=TABANG,
        role="leader",
        position="Camat Tabang",
        is_head=True,
        is_acting=True,
        start_date=datetime.date(2024, 5, 1),
        end_date=datetime.date(2024, 5, 31),
    )

    def head_on(day):
        posting = office_head(office=office, on=day)
        return (posting.user, posting.title) if posting else None

    assert head_on(datetime.date(2019, 12, 31)) is None
    assert head_on(datetime.date(2020, 1, 6)) == (first, "Camat Tabang")
    assert head_on(datetime.date(2023, 6, 30)) == (first, "Camat Tabang")
    assert head_on(datetime.date(2023, 7, 1)) == (acting, "Plt. Camat Tabang")
    assert head_on(datetime.date(2023, 9, 30)) == (acting, "Plt. Camat Tabang")
    # Between the Plt.'s end and the new camat's start nobody heads the office.
    assert head_on(datetime.date(2023, 10, 1)) is None
    assert head_on(datetime.date(2023, 10, 2)) == (second, "Camat Tabang")
    assert head_on(datetime.date(2024, 5, 15)) == (second, "Camat Tabang"), (
        "a definitive head signs before an acting one"
    )
    assert Posting.objects.filter(office=office, is_head=True).count() == 4
