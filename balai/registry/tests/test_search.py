"""search_residents: NIK, KK number and typo-tolerant names, scoped and masked."""

import datetime
import re

import pytest
from django.db import connection

from balai.core.errors import BalaiError, PermissionDenied
from balai.registry.search import (
    PG_TRIGGERS,
    SQLITE_TRIGGERS,
    install_search_index,
    search_residents,
)

TENGGARONG_VILLAGE = "64.02.06.1001"  # Jahab, Kecamatan Tenggarong
TENGGARONG_OTHER_VILLAGE = "64.02.06.1002"  # Loa Ipuh
TABANG_VILLAGE = "64.02.12.2001"  # Gunung Sari, Kecamatan Tabang
SIXTEEN_DIGITS = re.compile(r"\d{16}")


@pytest.fixture
def registrar(make_staff, actor_of):
    """A registrar at the regency: sees the whole regency."""
    return actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))


@pytest.fixture
def tenggarong_officer(make_staff, actor_of):
    return actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))


def ids(page):
    return [row.id for row in page.rows]


# --- names ----------------------------------------------------------------------


def test_exact_name_comes_first(make_resident, registrar):
    make_resident(name="Siti Aminah Putri")
    make_resident(name="Siti Amina")
    wanted = make_resident(name="Siti Aminah")
    page = search_residents(registrar, "Siti Aminah")
    assert page.kind == "name"
    assert page.rows[0].id == wanted.id
    assert page.rows[0].score == 100.0


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Kurniasih Wulandari", "Kurniasi Wulandari"),  # one letter missing
        ("Kurniasih Wulandari", "Kurniasih Wulamdari"),  # one wrong letter
        ("Kurniasih Wulandari", "Kunriasih Wulandari"),  # two letters swapped
        ("Kurniasih Wulandari", "Kurniasih Wulnadary"),  # two mistakes
        ("Kurniasih Wulandari", "Kurniaasih Wullandari"),  # two letters too many
        ("Sutrisno Hadi", "Sutrisni Hadi"),
    ],
)
def test_one_or_two_typing_mistakes(make_resident, registrar, stored, typed):
    make_resident(name="Kurnia Wulan")
    make_resident(name="Sutrisno Hamid")
    wanted = make_resident(name=stored)
    page = search_residents(registrar, typed)
    assert page.rows[0].id == wanted.id


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Muhammad Rizki Ramadhan", "M. Rizki Ramadhan"),
        ("Muhammad Rizki Ramadhan", "Moh. Rizki Ramadhan"),
        ("Muhammad Rizki Ramadhan", "Mohamad Rizky Ramadan"),
        ("M. Rizki Ramadhan", "Muhammad Rizki Ramadhan"),
        ("Noor Hayati Lubis", "Nur Hayati Lubis"),
        ("Soekarno Putra", "Sukarno Putra"),
        ("Djoko Susilo", "Joko Susilo"),
        ("Tjipto Mangunkusumo", "Cipto Mangunkusumo"),
        ("Abdullah Hasan", "Abdulah Hassan"),
        ("Hendy Saputra", "Hendi Saputra"),
        ("Achmad Fauzi", "Ahmad Fauzi"),
        ("H. Abdul Rahman, S.Pd.", "Abdul Rahman"),
    ],
)
def test_spelling_variants(make_resident, registrar, stored, typed):
    make_resident(name="Rizki Ramadhani Putra")
    make_resident(name="Hayati Lubis")
    wanted = make_resident(name=stored)
    page = search_residents(registrar, typed)
    assert page.rows[0].id == wanted.id


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Nurhayati Lubis", "Nur Hayati Lubis"),
        ("Nur Hayati Lubis", "Nurhayati Lubis"),
        ("Anisa Akbar", "Anisaakbar"),
        ("Rahmawati Noor", "Rahmawatinoor"),
    ],
)
def test_spacing(make_resident, registrar, stored, typed):
    make_resident(name="Hayati Lubis")
    make_resident(name="Anisa")
    wanted = make_resident(name=stored)
    page = search_residents(registrar, typed)
    assert wanted.id in ids(page)[:2]


def test_word_order_and_part_of_the_name(make_resident, registrar):
    full = make_resident(name="Siti Aminah Binti Ahmad")
    other = make_resident(name="Aminah Saleh")
    assert search_residents(registrar, "Aminah Siti").rows[0].id == full.id
    assert ids(search_residents(registrar, "Siti Aminah")) == [full.id]
    # Nobody has all the words typed: those with all but one.
    page = search_residents(registrar, "Siti Aminah Saleh")
    assert set(ids(page)) == {full.id, other.id}
    page = search_residents(registrar, "Nurul Aminah")
    assert set(ids(page)) == {full.id, other.id}
    # Fewer of the typed words is a weaker match than all of them.
    page = search_residents(registrar, "Aminah")
    assert ids(page) == [other.id, full.id]


def test_unrelated_names_are_not_results(make_resident, registrar):
    make_resident(name="Bambang Pamungkas")
    page = search_residents(registrar, "Siti Aminah")
    assert page.rows == []
    assert page.total == 0


def test_short_query_is_refused_in_indonesian(registrar):
    with pytest.raises(BalaiError) as err:
        search_residents(registrar, " H. a ")
    assert err.value.code == "query_too_short"
    assert "3 huruf" in err.value.message


def test_a_number_that_is_not_16_digits_is_refused(registrar):
    with pytest.raises(BalaiError) as err:
        search_residents(registrar, "640206120190001")
    assert err.value.code == "number_length"


def test_results_are_paged_best_first(make_resident, registrar):
    made = {make_resident(name="Siti Rahmah").id for _ in range(25)}
    near = make_resident(name="Siti Rahma")
    first = search_residents(registrar, "Siti Rahmah", per_page=10)
    assert (first.total, first.num_pages, first.has_next) == (26, 3, True)
    seen = []
    for number in (1, 2, 3):
        page = search_residents(registrar, "Siti Rahmah", page=number, per_page=10)
        assert page.number == number
        seen += ids(page)
    assert len(seen) == len(set(seen)) == 26
    assert set(seen[:25]) == made
    assert seen[25] == near.id
    assert not page.has_next
    assert page.has_previous
    # A page past the end is the last page.
    assert search_residents(registrar, "Siti Rahmah", page=9, per_page=10).number == 3


# --- numbers --------------------------------------------------------------------


def test_nik_finds_the_resident(make_resident, registrar):
    wanted = make_resident(name="Budi Santoso")
    make_resident(name="Budi Santosa")
    page = search_residents(registrar, wanted.nik)
    assert page.kind == "nik"
    assert ids(page) == [wanted.id]
    spaced = " ".join([wanted.nik[:6], wanted.nik[6:12], wanted.nik[12:]])
    assert ids(search_residents(registrar, spaced)) == [wanted.id]


def test_kk_number_finds_the_members(make_resident, registrar):
    head = make_resident(name="Rudi Hartono", kk_number="6402060101240001")
    child = make_resident(name="Rina Hartono", family=head.family, shdk=4)
    make_resident(name="Rudi Hartono")
    page = search_residents(registrar, "6402060101240001")
    assert page.kind == "kk"
    assert ids(page) == [head.id, child.id]


def test_unknown_number_finds_nothing(registrar):
    page = search_residents(registrar, "6402060101240999")
    assert page.rows == []


# --- filters --------------------------------------------------------------------


def test_filters(make_resident, registrar, system_actor):
    from balai.registry.actions import register_death

    today = datetime.date.today()
    young = make_resident(
        name="Andi Saputra",
        village=TENGGARONG_VILLAGE,
        birth_date=today.replace(year=today.year - 20, day=1),
    )
    old = make_resident(
        name="Andi Saputra",
        village=TENGGARONG_OTHER_VILLAGE,
        birth_date=today.replace(year=today.year - 60, day=1),
    )
    woman = make_resident(name="Andi Saputri", sex="P", village=TABANG_VILLAGE)
    register_death(actor=system_actor, resident=old, occurred_on=today)

    def found(**filters):
        return set(ids(search_residents(registrar, "Andi Saputra", **filters)))

    assert found() == {young.id, old.id, woman.id}
    assert found(kecamatan="64.02.06") == {young.id, old.id}
    assert found(desa=TENGGARONG_OTHER_VILLAGE) == {old.id}
    assert found(sex="P") == {woman.id}
    assert found(sex="L", age_min=50) == {old.id}
    assert found(sex="L", age_max=30) == {young.id}
    assert found(age_min=20, age_max=20) == {young.id}
    assert found(status="mati") == {old.id}
    assert found(status="hidup") == {young.id, woman.id}
    with pytest.raises(BalaiError):
        found(sex="X")
    with pytest.raises(BalaiError):
        found(age_min=40, age_max=30)


# --- scope, roles and masking ---------------------------------------------------


def test_an_officer_never_sees_a_resident_outside_his_kecamatan(
    make_resident, tenggarong_officer
):
    here = make_resident(name="Awang Long", village=TENGGARONG_VILLAGE)
    tabang = make_resident(
        name="Awang Long", village=TABANG_VILLAGE, kk_number="6402120101240001"
    )
    assert ids(search_residents(tenggarong_officer, "Awang Long")) == [here.id]
    assert ids(search_residents(tenggarong_officer, "Awang Lonk")) == [here.id]
    assert search_residents(tenggarong_officer, tabang.nik).rows == []
    assert search_residents(tenggarong_officer, "6402120101240001").rows == []
    # Asking for Tabang explicitly does not widen his scope.
    assert (
        search_residents(tenggarong_officer, "Awang Long", kecamatan="64.02.12").rows
        == []
    )


@pytest.mark.parametrize("role", ["network_operator", "service_admin", "leader"])
def test_roles_that_do_not_read_the_register_are_refused(make_staff, actor_of, role):
    actor = actor_of(make_staff(office="DISDUKCAPIL", role=role))
    with pytest.raises(PermissionDenied):
        search_residents(actor, "Siti Aminah")


def test_citizen_may_not_search(make_resident):
    from balai.core.actors import Actor

    me = make_resident(name="Siti Aminah")
    citizen = Actor(
        user_id=None,
        username="warga",
        roles=frozenset({"citizen"}),
        scope=(),
        is_citizen=True,
        resident_id=me.id,
    )
    with pytest.raises(PermissionDenied):
        search_residents(citizen, "Siti Aminah")


def test_no_whole_nik_or_kk_number_in_list_output(make_resident, registrar):
    head = make_resident(name="Siti Aminah", kk_number="6402060101240002")
    make_resident(name="Siti Aminah", family=head.family, shdk=4)
    for query in ("Siti Aminah", head.nik, "6402060101240002"):
        page = search_residents(registrar, query)
        assert page.rows
        assert not SIXTEEN_DIGITS.search(repr(page)), query
        for row in page.rows:
            assert re.fullmatch(r"\d{4}\*{8}\d{4}", row.nik)
            assert re.fullmatch(r"\d{4}\*{8}\d{4}", row.kk_number)
    assert page.rows[0].kk_number == "6402********0002"


# --- the index ------------------------------------------------------------------


def test_index_follows_a_name_correction(make_resident, make_staff, actor_of):
    from balai.registry.actions import approve_correction, propose_correction

    officer = actor_of(make_staff(office="DISDUKCAPIL", role="registry_officer"))
    registrar = actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))
    person = make_resident(name="Samsul Bahri")
    correction = propose_correction(
        actor=officer,
        resident=person,
        field="name",
        new_value="Syamsul Bachri Wijaya",
        reason="Salah ketik",
        evidence="Akta kelahiran",
    )
    approve_correction(actor=registrar, correction=correction)
    assert ids(search_residents(registrar, "Syamsul Bachri Wijaya")) == [person.id]
    assert search_residents(registrar, "Wijaya").rows[0].id == person.id


def test_index_is_installed_and_reinstalling_is_harmless(make_resident, registrar):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            assert set(SQLITE_TRIGGERS) <= {r[0] for r in cursor.fetchall()}
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'registry_resident'::regclass"
            )
            assert set(PG_TRIGGERS) <= {r[0] for r in cursor.fetchall()}
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'registry_resident'"
            )
            assert any("to_tsvector" in r[0] for r in cursor.fetchall())
    wanted = make_resident(name="Dayang Kartini")
    install_search_index()
    assert ids(search_residents(registrar, "Dayang Kartini")) == [wanted.id]
    assert ids(search_residents(registrar, "Dayang Kartono")) == [wanted.id]


def test_a_new_word_is_found_with_a_typo_at_once(make_resident, registrar):
    make_resident(name="Siti Aminah")
    search_residents(registrar, "Siti Aminah")  # the vocabulary is now cached
    wanted = make_resident(name="Lahang Bilung")  # words never seen before
    assert ids(search_residents(registrar, "Lahank Biluung")) == [wanted.id]


def test_index_triggers_take_any_key(make_resident):
    from balai.registry.models import Resident

    person = make_resident(name="Siti Aminah")
    # name_key only ever holds a-z and spaces; a stray quote must not break
    # the write that carries it.
    Resident.objects.filter(pk=person.pk).update(name_key='o"brien \\ x')
    assert Resident.objects.get(pk=person.pk).name_key == 'o"brien \\ x'
