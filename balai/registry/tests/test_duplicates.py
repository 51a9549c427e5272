"""Possible duplicates: blocking keys that no single wrong field defeats,
scoring, twins kept apart, and merging as a two-person correction."""

import dataclasses
import datetime
import io
import uuid

import pytest
from django.core.management import call_command
from django.urls import reverse

from balai.core.errors import BalaiError, Conflict, PermissionDenied
from balai.registry import duplicates as D
from balai.registry.models import EventKind, LifeEvent, Resident, ResidentStatus
from balai.registry.models_digitisation import DuplicatePair, PairStatus
from balai.registry.names import name_key

pytestmark = pytest.mark.django_db

BASE = D.Person(
    id=uuid.UUID(int=1),
    name=name_key("Muhammad Rizal Saputra"),
    sex="L",
    birth=datetime.date(1990, 3, 14),
    born_in="tenggarong",
    father=name_key("Ahmad Rusdi"),
    mother=name_key("Siti Aminah"),
    village="64.02.06.1001",
    family=uuid.UUID(int=100),
)


def variant(**changes):
    values = {"id": uuid.UUID(int=2), "family": uuid.UUID(int=200), **changes}
    if "name" in values:
        values["name"] = name_key(values["name"])
    return dataclasses.replace(BASE, **values)


def found(a, b):
    return [(c.first, c.second) for c in D.find_pairs([a, b])]


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Muhamad Rizal Saputro"},  # two typos
        {"name": "Rizal Saputra Muhammad"},  # parts swapped
        {"name": "M. Rizal Saputra"},  # abbreviated
        {"name": "Muhammad Rizal"},  # a part dropped
        {"birth": datetime.date(1990, 12, 3)},  # another day of the same year
        {"birth": datetime.date(1990, 1, 1)},  # placeholder date
        {"birth": datetime.date(1990, 12, 31)},  # placeholder date
        {"village": "64.02.12.2001"},  # registered again in Tabang
        {"name": "Muhamad Rizal", "birth": datetime.date(1990, 1, 1)},
    ],
)
def test_one_or_two_wrong_fields_do_not_hide_a_pair(changes):
    assert found(BASE, variant(**changes)) == [(BASE.id, uuid.UUID(int=2))]


def test_day_and_month_swapped():
    base = dataclasses.replace(BASE, birth=datetime.date(1990, 3, 4))
    other = dataclasses.replace(variant(), birth=datetime.date(1990, 4, 3))
    assert len(found(base, other)) == 1


def test_twins_are_not_duplicates():
    twin = variant(name="Muhammad Rizki Saputra")
    assert D.twins(BASE, twin)
    assert found(BASE, twin) == []
    # Twins in the same KK where one has an extra name.
    same_kk = variant(name="Muhammad Rizal", family=BASE.family)
    assert D.twins(BASE, same_kk)
    assert found(BASE, same_kk) == []
    # The same name entered twice in one KK is a duplicate, not twins.
    again = variant(name="Muhammad Rizal Saputra", family=BASE.family)
    assert not D.twins(BASE, again)
    assert len(found(BASE, again)) == 1


def test_namesakes_with_other_parents_are_not_duplicates():
    namesake = variant(father=name_key("Bambang"), mother=name_key("Sri Wahyuni"))
    total, parts = D.score(BASE, namesake)
    assert parts["name"] == 1.0
    assert total < D.THRESHOLD
    assert found(BASE, namesake) == []


def test_a_common_block_is_skipped_not_compared():
    crowd = [
        dataclasses.replace(
            BASE,
            id=uuid.UUID(int=i + 10),
            name=name_key("Muhammad"),
            mother=name_key(f"Ibu {i}"),
            father="",
            village=f"64.02.{i % 20 + 1:02d}.2001",
        )
        for i in range(D.MAX_BLOCK + 5)
    ]
    stats = D.Stats()
    D.find_pairs(crowd, stats=stats)
    assert stats.skipped_blocks >= 1


@pytest.fixture
def officer(make_staff, actor_of):
    return actor_of(make_staff(office="MPP-64.02.06", role="registry_officer"))


@pytest.fixture
def registrar(make_staff, actor_of):
    return actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))


@pytest.fixture
def twice(make_resident):
    """One woman registered twice (two NIKs), and her twin sister."""
    common = {
        "sex": "P",
        "birth_date": datetime.date(1992, 5, 20),
        "father_name": "Jailani",
        "mother_name": "Masnah",
        "birth_place": "Tenggarong",
    }
    first = make_resident(name="Siti Nurhayati", village="64.02.06.1001", **common)
    second = make_resident(name="Siti Nurhayti", village="64.02.06.1004", **common)
    sister = make_resident(
        name="Siti Rahmawati",
        village="64.02.06.1001",
        family=first.family,
        shdk=9,
        **common,
    )
    return first, second, sister


def test_command_records_the_pair_and_not_the_twin(twice):
    first, second, _sister = twice
    out = io.StringIO()
    call_command("find_duplicates", stdout=out)
    assert "pairs=1 new=1" in out.getvalue()
    pair = DuplicatePair.objects.get()
    assert {pair.first_id, pair.second_id} == {first.pk, second.pk}
    assert str(pair.first_id) < str(pair.second_id)
    assert pair.status == PairStatus.OPEN
    assert pair.score >= D.THRESHOLD
    # Run again: nothing new, nothing duplicated.
    call_command("find_duplicates", stdout=io.StringIO())
    assert DuplicatePair.objects.count() == 1


def test_merge_is_a_two_person_correction_keeping_both_histories(
    twice, officer, registrar, system_actor
):
    first, second, _sister = twice
    D.record_pairs(
        actor=system_actor,
        candidates=D.find_pairs(D.residents(system_actor)),
    )
    pair = DuplicatePair.objects.get()
    kept_version = Resident.objects.get(pk=first.pk).version
    pair = D.propose_merge(actor=officer, pair=pair, keep=first)
    assert pair.status == PairStatus.PROPOSED
    assert pair.kept_id == first.pk
    assert Resident.objects.get(pk=second.pk).status == ResidentStatus.ALIVE
    with pytest.raises(PermissionDenied):
        D.approve_merge(actor=officer, pair=pair)
    D.approve_merge(actor=registrar, pair=pair)
    pair.refresh_from_db()
    duplicate = Resident.objects.get(pk=second.pk)
    assert pair.status == PairStatus.MERGED
    assert duplicate.status == ResidentStatus.INVALID
    event = LifeEvent.objects.get(resident=duplicate, kind=EventKind.CORRECTION)
    assert event.data["evidence"].startswith(f"{D.EVIDENCE_PREFIX}{first.pk}")
    assert event.entered_by == officer.username
    assert event.approved_by == registrar.username
    # Both histories are there; the kept record gained nothing.
    assert LifeEvent.objects.filter(resident=duplicate).count() == 2
    kept = Resident.objects.get(pk=first.pk)
    assert kept.status == ResidentStatus.ALIVE
    assert kept.version == kept_version
    with pytest.raises(Conflict):
        D.approve_merge(actor=registrar, pair=pair)


def test_the_proposer_cannot_approve_even_as_registrar(
    twice, registrar, make_staff, actor_of, system_actor
):
    D.record_pairs(
        actor=system_actor, candidates=D.find_pairs(D.residents(system_actor))
    )
    pair = DuplicatePair.objects.get()
    D.propose_merge(actor=registrar, pair=pair, keep=pair.first_id)
    with pytest.raises(PermissionDenied):
        D.approve_merge(actor=registrar, pair=pair)
    D.reject_merge(
        actor=actor_of(make_staff(office="DISDUKCAPIL", role="registrar")),
        pair=pair,
        note="bukan orang yang sama",
    )
    pair.refresh_from_db()
    assert pair.status == PairStatus.OPEN
    assert pair.correction is None
    assert not Resident.objects.filter(status=ResidentStatus.INVALID).exists()


def test_marking_distinct_needs_a_reason(twice, officer, system_actor):
    D.record_pairs(
        actor=system_actor, candidates=D.find_pairs(D.residents(system_actor))
    )
    pair = DuplicatePair.objects.get()
    with pytest.raises(BalaiError):
        D.mark_distinct(actor=officer, pair=pair, note=" ")
    D.mark_distinct(actor=officer, pair=pair, note="kembar")
    with pytest.raises(Conflict):
        D.propose_merge(actor=officer, pair=pair, keep=pair.first_id)


def test_pages(twice, client, make_staff, system_actor):
    D.record_pairs(
        actor=system_actor, candidates=D.find_pairs(D.residents(system_actor))
    )
    pair = DuplicatePair.objects.get()

    def web(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    assert client.get(reverse("registry:duplicate-list")).status_code == 302
    counter = web(make_staff(office="MPP-64.02.06", role="counter_officer"))
    assert counter.get(reverse("registry:duplicate-list")).status_code == 403
    stranger = web(make_staff(office="MPP-64.02.12", role="registry_officer"))
    assert (
        stranger.get(reverse("registry:duplicate-pair", args=[pair.pk])).status_code
        == 404
    )
    officer = web(make_staff(office="MPP-64.02.06", role="registry_officer"))
    listing = officer.get(reverse("registry:duplicate-list"))
    assert listing.status_code == 200
    assert "Siti Nurhayati" in listing.content.decode()
    side = officer.get(reverse("registry:duplicate-pair", args=[pair.pk]))
    assert side.status_code == 200
    text = side.content.decode()
    assert "Siti Nurhayati" in text
    assert "Siti Nurhayti" in text
    assert "<mark>" in text
    officer.post(
        reverse("registry:duplicate-decide", args=[pair.pk, "gabung"]),
        {"pertahankan": str(pair.first_id)},
    )
    pair.refresh_from_db()
    assert pair.status == PairStatus.PROPOSED
    approver = web(make_staff(office="DISDUKCAPIL", role="registrar"))
    approver.post(reverse("registry:duplicate-decide", args=[pair.pk, "setujui"]))
    pair.refresh_from_db()
    assert pair.status == PairStatus.MERGED
