"""The transitions table and the projection fold: examples and properties.

The property at the end drives the real actions with random sequences of life
events (refused ones included: a refusal must change nothing) and then folds
every stored event again: the rebuilt register must equal the stored one.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from balai.core.errors import BalaiError
from balai.registry import actions as A
from balai.registry.events import (
    ALIVE,
    ALLOWED,
    DEAD,
    INVALID,
    MOVED_OUT,
    BrokenHistory,
    EventNotAllowed,
    apply_event,
    derive_family,
)
from balai.registry.models import EventKind as K
from balai.registry.models import Family, Resident
from balai.registry.nik import date_part
from balai.registry.rebuild import check
from balai.registry.reference import MaritalStatus, Shdk

RID = "00000000-0000-0000-0000-000000000001"
BORN = {
    "name": "Siti Rahmah",
    "sex": "P",
    "birth_date": "1990-05-01",
    "religion": 1,
    "village_id": "64.02.06.1001",
    "family_id": "00000000-0000-0000-0000-0000000000aa",
    "shdk": 1,
}


def ev(kind, seq, data=None, day=datetime.date(2025, 1, 1), resident=RID):
    return SimpleNamespace(
        kind=kind, seq=seq, data=data or {}, occurred_on=day, resident_id=resident
    )


def registered():
    return apply_event(None, ev(K.REGISTRATION, 1, {"set": BORN}))


def test_registration_projects_the_given_values_over_the_defaults():
    state = registered()
    assert state.name == "Siti Rahmah"
    assert state.birth_date == datetime.date(1990, 5, 1)
    assert state.status == ALIVE
    assert state.marital_status == MaritalStatus.BELUM_KAWIN
    assert state.kecamatan_code == "64.02.06"
    assert state.version == 1
    assert state.flags == ()


def test_death_then_nothing():
    dead = apply_event(registered(), ev(K.DEATH, 2, day=datetime.date(2025, 2, 1)))
    assert (dead.status, dead.status_date) == (DEAD, datetime.date(2025, 2, 1))
    for kind in K.values:
        with pytest.raises(EventNotAllowed):
            apply_event(dead, ev(kind, 3))


def test_moved_out_only_comes_back():
    gone = apply_event(registered(), ev(K.MOVE_OUT, 2))
    assert gone.status == MOVED_OUT
    for kind in set(K.values) - {K.ARRIVAL}:
        with pytest.raises(EventNotAllowed) as exc:
            apply_event(gone, ev(kind, 3))
        assert "pindah keluar" in exc.value.message
    back = apply_event(gone, ev(K.ARRIVAL, 3, {"set": {"village_id": "64.02.12.2001"}}))
    assert (back.status, back.kecamatan_code) == (ALIVE, "64.02.12")


def test_an_event_may_set_only_its_own_fields():
    with pytest.raises(BrokenHistory):
        apply_event(registered(), ev(K.DEATH, 2, {"set": {"name": "X"}}))
    with pytest.raises(BrokenHistory):
        apply_event(registered(), ev(K.MARRIAGE, 2, {"set": {"nik": "1"}}))
    with pytest.raises(BrokenHistory):
        # A correction names its field and sets that one only.
        apply_event(
            registered(),
            ev(K.CORRECTION, 2, {"field": "name", "set": {"sex": "L"}}),
        )


def test_a_gap_in_the_sequence_is_a_broken_history():
    with pytest.raises(BrokenHistory):
        apply_event(registered(), ev(K.DEATH, 3))
    with pytest.raises(BrokenHistory):
        apply_event(None, ev(K.REGISTRATION, 2, {"set": BORN}))


def test_marriage_needs_someone_unmarried():
    married = apply_event(
        registered(), ev(K.MARRIAGE, 2, {"set": {"marital_status": 2}})
    )
    with pytest.raises(EventNotAllowed):
        apply_event(married, ev(K.MARRIAGE, 3, {"set": {"marital_status": 2}}))
    single = registered()
    with pytest.raises(EventNotAllowed):
        apply_event(single, ev(K.DIVORCE, 2, {"set": {"marital_status": 3}}))


def test_flags_are_added_and_removed():
    state = apply_event(
        None, ev(K.BIRTH, 1, {"set": BORN, "flags_add": ["menunggu_nik"]})
    )
    assert state.flags == ("menunggu_nik",)
    state = apply_event(
        state,
        ev(
            K.NIK_ISSUED,
            2,
            {"set": {"nik": "6402064105900001"}, "flags_remove": ["menunggu_nik"]},
        ),
    )
    assert (state.nik, state.flags) == ("6402064105900001", ())


def test_family_head_is_the_living_kepala_keluarga():
    a, b, c = "a", "b", "c"
    assert derive_family([(a, 1, DEAD), (b, 3, ALIVE)]).head_id is None
    assert derive_family([(a, 1, DEAD), (b, 1, ALIVE)]).head_id == b
    assert not derive_family([(a, 1, MOVED_OUT), (c, 4, INVALID)]).is_active
    assert derive_family([]).is_active is False


statuses = st.sampled_from([None, ALIVE, DEAD, MOVED_OUT, INVALID])


@settings(max_examples=60, deadline=None)
@given(statuses, st.sampled_from(K.values))
def test_the_fold_obeys_the_transitions_table(status, kind):
    state = None
    if status is not None:
        state = registered()
        if status != ALIVE:
            state = state.__class__(**{**state.__dict__, "status": status})
    # registered() is unmarried: a divorce needs a marriage first.
    allowed = kind in ALLOWED[status] and kind != K.DIVORCE
    try:
        apply_event(state, ev(kind, (state.version if state else 0) + 1, {"set": {}}))
    except EventNotAllowed:
        assert not allowed
    except BrokenHistory:
        # Allowed, but an empty event is malformed for this kind.
        assert allowed
    else:
        assert allowed


# --- Random sequences of actions rebuild to the stored state ---------------------

VILLAGES = ["64.02.06.1001", "64.02.06.1004", "64.02.12.2001", "64.02.16.2001"]
OPERATIONS = [
    "birth",
    "death",
    "move_out",
    "come_back",
    "arrival",
    "join",
    "split",
    "move_family",
    "marriage",
    "divorce",
    "new_kk",
    "correction",
    "issue_nik",
    "issue_kk",
]


@pytest.fixture
def people(make_staff, actor_of):
    return SimpleNamespace(
        officer=actor_of(make_staff(office="DISDUKCAPIL", role="registry_officer")),
        registrar=actor_of(make_staff(office="DISDUKCAPIL", role="registrar")),
    )


def _day(data, low: datetime.date) -> datetime.date:
    high = datetime.date(2025, 6, 30)
    low = min(max(low, datetime.date(2000, 1, 1)), high)
    return data.draw(st.dates(low, high))


def _nik(village, birth, sex, serial):
    return "".join(village.split(".")[:3]) + date_part(birth, sex) + f"{serial:04d}"


def _step(data, op, ctx) -> None:
    officer, registrar = ctx.officer, ctx.registrar
    # UUIDv7 keys made in this process sort in creation order: the draws below
    # then depend only on earlier draws (created_at ties would not).
    residents = list(Resident.objects.order_by("id"))
    families = list(Family.objects.order_by("id"))
    pick = lambda items: items[data.draw(st.integers(0, len(items) - 1))]  # noqa: E731
    village = data.draw(st.sampled_from(VILLAGES))
    if op == "birth":
        family = pick(families)
        mothers = [r for r in residents if r.family_id == family.pk and r.sex == "P"]
        mother = pick(mothers) if mothers else None
        low = (
            mother.birth_date + datetime.timedelta(days=15 * 366)
            if mother
            else datetime.date(2015, 1, 1)
        )
        A.register_birth(
            actor=officer,
            family=family,
            mother=mother,
            person=A.Person(
                name=data.draw(st.sampled_from(["Aji Raffi", "Dayang Nur", "Bayi"])),
                sex=data.draw(st.sampled_from(["L", "P"])),
                birth_date=_day(data, low),
                religion=1,
            ),
            shdk=data.draw(st.sampled_from([Shdk.ANAK, Shdk.CUCU])),
        )
    elif op == "death":
        who = pick(residents)
        spouse = pick(residents) if data.draw(st.booleans()) else None
        A.register_death(
            actor=officer,
            resident=who,
            occurred_on=_day(data, who.birth_date),
            spouse=spouse,
        )
    elif op == "move_out":
        who = pick(residents)
        A.move_out(
            actor=officer,
            residents=[who],
            occurred_on=_day(data, who.birth_date),
            destination="Kota Samarinda",
        )
    elif op == "come_back":
        gone = [r for r in residents if r.status == "pindah" and r.nik]
        if not gone:
            return
        who = pick(gone)
        A.register_arrival(
            actor=officer,
            person=A.Person(
                name=who.name,
                sex=who.sex,
                birth_date=who.birth_date,
                religion=who.religion,
                nik=who.nik,
            ),
            occurred_on=_day(data, who.birth_date),
            origin="Kota Samarinda",
            address=A.Address(village=village),
        )
    elif op == "arrival":
        birth = data.draw(
            st.dates(datetime.date(1950, 1, 1), datetime.date(2010, 1, 1))
        )
        sex = data.draw(st.sampled_from(["L", "P"]))
        join = data.draw(st.booleans())
        A.register_arrival(
            actor=officer,
            person=A.Person(
                name="Pendatang",
                sex=sex,
                birth_date=birth,
                religion=1,
                nik=data.draw(
                    st.sampled_from(
                        [None, _nik("73.71.01", birth, sex, 9000 + len(residents))]
                    )
                ),
            ),
            occurred_on=_day(data, birth),
            origin="Kota Makassar",
            to_family=pick(families) if join else None,
            shdk=data.draw(st.sampled_from([Shdk.FAMILI_LAIN, Shdk.KEPALA_KELUARGA]))
            if join
            else None,
            address=None if join else A.Address(village=village),
        )
    elif op == "join":
        who = pick(residents)
        A.move_within(
            actor=officer,
            mode="join",
            residents=[who],
            relations={who.pk: data.draw(st.sampled_from([1, 3, 4, 9]))},
            to_family=pick(families),
            occurred_on=_day(data, who.birth_date),
        )
    elif op == "split":
        who = pick(residents)
        A.move_within(
            actor=officer,
            mode="split",
            residents=[who],
            relations={who.pk: Shdk.KEPALA_KELUARGA},
            address=A.Address(village=village, rt="2"),
            occurred_on=_day(data, who.birth_date),
        )
    elif op == "move_family":
        A.move_within(
            actor=officer,
            mode="family",
            family=pick(families),
            address=A.Address(village=village, rt=str(data.draw(st.integers(1, 30)))),
            occurred_on=_day(data, datetime.date(2024, 1, 1)),
        )
    elif op == "marriage":
        men = [r for r in residents if r.sex == "L"] or residents
        women = [r for r in residents if r.sex == "P"] or residents
        husband, wife = pick(men), pick(women)
        A.register_marriage(
            actor=officer,
            husband=husband,
            wife=wife,
            occurred_on=_day(data, max(husband.birth_date, wife.birth_date)),
            dispensation="1/Pdt.P/2025",
        )
    elif op == "divorce":
        married = [r for r in residents if r.marital_status == MaritalStatus.KAWIN]
        men = [r for r in married if r.sex == "L"] or residents
        women = [r for r in married if r.sex == "P"] or residents
        first, second = pick(men), pick(women)
        A.register_divorce(
            actor=officer,
            first=first,
            second=second,
            occurred_on=_day(data, max(first.birth_date, second.birth_date)),
        )
    elif op == "new_kk":
        head = pick(residents)
        others = [r for r in residents if r.family_id == head.family_id and r != head]
        members = [(head, Shdk.KEPALA_KELUARGA)]
        if others and data.draw(st.booleans()):
            members.append((pick(others), Shdk.ANAK))
        A.create_family(
            actor=officer, members=members, occurred_on=_day(data, head.birth_date)
        )
    elif op == "correction":
        who = pick(residents)
        field, value = data.draw(
            st.sampled_from(
                [
                    ("name", "Nama Koreksi"),
                    ("birth_date", "1991-02-03"),
                    ("sex", "L" if who.sex == "P" else "P"),
                    ("occupation", 9),
                    ("shdk", Shdk.CUCU),
                ]
            )
        )
        correction = A.propose_correction(
            actor=officer,
            resident=who,
            field=field,
            new_value=value,
            reason="uji",
            evidence="dokumen",
        )
        if data.draw(st.booleans()):
            A.approve_correction(actor=registrar, correction=correction)
        else:
            A.reject_correction(actor=registrar, correction=correction, note="tidak")
    elif op == "issue_nik":
        waiting = [r for r in residents if r.nik is None]
        if not waiting:
            return
        who = pick(waiting)
        A.record_issued_nik(
            actor=officer,
            resident=who,
            nik=_nik(who.village_id, who.birth_date, who.sex, 8000 + len(residents)),
        )
    elif op == "issue_kk":
        waiting = [f for f in families if f.kk_number is None]
        if not waiting:
            return
        family = pick(waiting)
        A.record_issued_kk(
            actor=officer,
            family=family,
            kk_number="640206" + "010225" + f"{7000 + len(families):04d}",
        )


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_sequence_of_actions_rebuilds_to_the_stored_state(
    data, people, make_resident
):
    with transaction.atomic():
        head = make_resident(
            village="64.02.06.1001",
            name="Aji Kurnia",
            marital_status=MaritalStatus.KAWIN,
            birth_date=datetime.date(1970, 3, 3),
        )
        make_resident(
            family=head.family,
            shdk=Shdk.ISTRI,
            name="Dayang Mariam",
            sex="P",
            marital_status=MaritalStatus.KAWIN,
            birth_date=datetime.date(1975, 7, 7),
        )
        make_resident(village="64.02.12.2001", name="Yohanes Lirung", nik=None)
        for op in data.draw(st.lists(st.sampled_from(OPERATIONS), max_size=12)):
            try:
                with transaction.atomic():
                    _step(data, op, people)
            except BalaiError:
                pass  # refused: must have changed nothing (checked below)
        assert check() == []
        # At most one living head per KK, and the stored head is that one.
        for family in Family.objects.all():
            heads = Resident.objects.filter(family=family, shdk=1, status="hidup")
            assert heads.count() <= 1
            assert family.head_id == (heads.first().pk if heads.exists() else None)
        transaction.set_rollback(True)


def test_a_state_made_at_once_is_the_state_init_makes():
    """`events._state` fills a frozen state's fields at once (the fold's
    speed); the object is the one the dataclass's __init__ makes: equal,
    same hash and repr, still frozen; values that are not exactly its
    fields are refused as __init__ refuses them."""
    import dataclasses

    from balai.registry import events

    values = {
        **events.RESIDENT_DEFAULTS,
        "name": "Siti Aminah",
        "sex": "P",
        "birth_date": datetime.date(1990, 1, 31),
        "religion": 1,
        "village_id": "64.02.06.1001",
        "flags": ("nik_periksa",),
        "version": 3,
    }
    made = events._state(events.ResidentState, dict(values))
    expected = events.ResidentState(**values)
    assert made == expected
    assert hash(made) == hash(expected)
    assert repr(made) == repr(expected)
    assert dataclasses.asdict(made) == dataclasses.asdict(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "Lain"  # type: ignore[misc]
    with pytest.raises(TypeError):
        events._state(events.ResidentState, {**values, "unknown": 1})
    without = dict(values)
    del without["version"]
    with pytest.raises(TypeError):
        events._state(events.ResidentState, without)
    family = {**events.FAMILY_DEFAULTS, "village_id": "64.02.06.1001", "version": 1}
    assert events._state(events.FamilyState, dict(family)) == events.FamilyState(
        **family
    )
