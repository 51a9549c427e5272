"""The synthetic population and seed_population."""

import collections
import csv

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from balai.audit.models import AuditEntry
from balai.core.models import ChangeRecord
from balai.regions.actions import REGIONS_CSV
from balai.registry import demo
from balai.registry.models import EventKind, Family, LifeEvent, Resident
from balai.registry.nik import validate_kk, validate_nik
from balai.registry.rebuild import check
from balai.registry.reference import Shdk
from balai.registry.synthetic import (
    AS_OF,
    MALE_SHARE,
    SPLIT_FROM,
    Village,
    population,
)


def villages():
    with REGIONS_CSV.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["tingkat"] in ("desa", "kelurahan")]
    return [Village(r["kode"], r["nama"], r["tingkat"] == "kelurahan") for r in rows]


def age(birth):
    return (
        AS_OF.year - birth.year - ((AS_OF.month, AS_OF.day) < (birth.month, birth.day))
    )


@pytest.fixture(scope="module")
def big():
    """Twenty thousand people (generated only, not stored)."""
    return list(population(20_000, villages=villages(), seed=7))


def test_same_seed_same_people_other_seed_other_people():
    def key(families):
        return [
            (f.kk_number, m.person.nik, m.person.name, m.person.birth_date)
            for f in families
            for m in f.members
        ]

    first = key(population(300, villages=villages(), seed=1))
    assert first == key(population(300, villages=villages(), seed=1))
    assert first != key(population(300, villages=villages(), seed=2))
    assert len(first) == 300


def test_numbers_are_valid_and_agree_with_the_person(big):
    niks = set()
    for family in big:
        assert validate_kk(family.kk_number) == []
        kecamatan = family.address.village[:8].replace(".", "")
        assert family.kk_number[:6] in {
            kecamatan,
            SPLIT_FROM.get(family.address.village[:8], ("",))[0].replace(".", ""),
        }
        for member in family.members:
            person = member.person
            assert (
                validate_nik(person.nik, birth_date=person.birth_date, sex=person.sex)
                == []
            ), person
            # Serials count down from 9999: never the low serial of a real NIK.
            assert int(person.nik[12:]) > 9000
            if member.kind == EventKind.ARRIVAL:
                assert not person.nik.startswith("6402")
                assert member.origin.startswith("Kecamatan ")
            else:
                assert person.nik.startswith("6402")
            niks.add(person.nik)
    assert len(niks) == 20_000, "every NIK is unique"


def test_families_are_plausible(big):
    for family in big:
        heads = [m for m in family.members if m.shdk == Shdk.KEPALA_KELUARGA]
        assert len(heads) == 1
        head = heads[0].person
        for member in family.members:
            person = member.person
            assert person.birth_date <= AS_OF
            if member.shdk in (Shdk.ISTRI, Shdk.SUAMI):
                assert person.sex != head.sex
            if member.shdk == Shdk.ANAK and person.mother_nik:
                mother = next(
                    m.person
                    for m in family.members
                    if m.person.nik == person.mother_nik
                )
                assert age(mother.birth_date) - age(person.birth_date) >= 15


def test_the_population_looks_like_kukar(big):
    people = [m.person for f in big for m in f.members]
    men = sum(p.sex == "L" for p in people) / len(people)
    assert abs(men - MALE_SHARE) < 0.01
    ages = [age(p.birth_date) for p in people]
    assert 0.20 < sum(a < 15 for a in ages) / len(ages) < 0.32
    assert 0.03 < sum(a >= 65 for a in ages) / len(ages) < 0.09
    assert 2.8 < len(people) / len(big) < 4.0
    # Every village is lived in; the regency seat outnumbers Tabang.
    by_village = collections.Counter(f.address.village for f in big for _m in f.members)
    assert len(by_village) == 237
    kecamatan = collections.Counter()
    for code, n in by_village.items():
        kecamatan[code[:8]] += n
    assert kecamatan["64.02.06"] > 8 * kecamatan["64.02.12"]
    # Names of the region, with their titles.
    first_words = collections.Counter(p.name.split()[0] for p in people)
    for title in ("Aji", "Awang", "Dayang", "Andi", "H.", "Hj.", "I", "Ni"):
        assert first_words[title] > 0, title
    # Twins: two children of one mother born the same day.
    births = collections.Counter(
        (p.mother_nik, p.birth_date) for p in people if p.mother_nik
    )
    assert any(n == 2 for n in births.values())
    # Newcomers hold NIKs of other regencies, some from codes no longer used.
    arrivals = [m for f in big for m in f.members if m.kind == EventKind.ARRIVAL]
    assert len(arrivals) > 500
    assert len({m.person.nik[:4] for m in arrivals}) > 20
    religions = collections.Counter(p.religion for p in people)
    assert religions.most_common(1)[0][0] == 1  # Islam
    assert len(religions) >= 6


@pytest.mark.django_db
def test_seed_population_writes_what_the_actions_write():
    audit_before = AuditEntry.objects.count()
    call_command(
        "seed_population", residents=300, batch=120, seed=3, workers=1, verbosity=0
    )
    assert Resident.objects.count() == 300
    families = Family.objects.count()
    events = LifeEvent.objects.count()
    assert events == 300 + families
    assert LifeEvent.objects.filter(kind=EventKind.ARRIVAL).exists()
    assert Resident.objects.filter(owner_office__isnull=True).count() == 0
    changes = ChangeRecord.objects.filter(model__startswith="registry.")
    assert changes.count() == 300 + families + events
    # At the regency by reference (decision 0012): no payload, the row exists.
    for change in changes:
        model = apps.get_model(change.model)
        assert change.payload is None
        assert model.objects.filter(pk=change.object_id).exists()
    # One audit entry per batch, binding the batch's rows.
    entries = AuditEntry.objects.order_by("seq")[audit_before:]
    assert len(entries) == 3
    assert all(e.details["rows_sha256"] for e in entries)
    assert sum(e.details["residents"] for e in entries) == 300
    assert check() == []
    with pytest.raises(CommandError):
        call_command("seed_population", residents=10, verbosity=0)


@pytest.mark.django_db
def test_demo_seed_is_idempotent(monkeypatch, system_actor):
    monkeypatch.setattr(demo, "DEMO_RESIDENTS", 150)
    assert demo.seed(actor=system_actor) == []
    assert Resident.objects.count() == 150
    assert demo.seed(actor=system_actor) == []
    assert Resident.objects.count() == 150


def test_twins_are_born_now_and_then():
    """About 1.2% of births are twins: two children of the same parents, born
    the same day, in the same KK, each with a name and a NIK of his own."""
    families = list(population(5_000, villages=villages(), seed=3))
    births = collections.defaultdict(list)
    for family in families:
        for member in family.members:
            person = member.person
            if person.mother_nik:
                key = (person.mother_nik, person.father_nik, person.birth_date)
                births[key].append((family, member))
    twins = [children for children in births.values() if len(children) > 1]
    assert len(twins) >= 10
    assert 0.004 < len(twins) / len(births) < 0.025
    for pair in twins:
        assert len(pair) == 2, "twins, not triplets"
        (kk_a, a), (kk_b, b) = pair
        assert kk_a is kk_b
        family = kk_a
        assert a.shdk == b.shdk == Shdk.ANAK
        assert a.person.mother_nik == b.person.mother_nik
        assert a.person.father_nik == b.person.father_nik
        assert a.person.birth_date == b.person.birth_date
        assert a.person.name != b.person.name
        assert a.person.nik != b.person.nik
        for child in (a.person, b.person):
            assert (
                validate_nik(child.nik, birth_date=child.birth_date, sex=child.sex)
                == []
            )
        # Their mother is a member of the same KK.
        assert a.person.mother_nik in {m.person.nik for m in family.members}


@pytest.mark.django_db(transaction=True)
def test_seed_population_with_two_writer_processes_writes_the_same_people(regions):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("two writer processes need a database server")
    call_command(
        "seed_population", residents=300, batch=60, seed=3, workers=2, verbosity=0
    )
    people = [
        (m.person.nik, m.person.name, m.person.birth_date)
        for f in population(300, villages=villages(), seed=3)
        for m in f.members
    ]
    stored = list(Resident.objects.values_list("nik", "name", "birth_date"))
    assert sorted(stored) == sorted(people)
    families = Family.objects.count()
    assert LifeEvent.objects.count() == 300 + families
    changes = ChangeRecord.objects.filter(model__startswith="registry.")
    assert changes.count() == 2 * (300 + families)
    seqs = sorted(changes.values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    # The batches of one writer, each written once by one of the two.
    from balai.registry.management.commands.seed_population import _batches

    expected = [
        sum(len(f.members) for f in batch)
        for batch in _batches(population(300, villages=villages(), seed=3), 60)
    ]
    entries = AuditEntry.objects.filter(action="registry.residents.register_bulk")
    assert sorted(e.details["residents"] for e in entries) == sorted(expected)
    assert check() == []
