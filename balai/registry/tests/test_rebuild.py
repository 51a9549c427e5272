"""`registry_rebuild`: the projection rebuilt from events, checked and repaired."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from balai.audit.models import AuditEntry
from balai.registry import actions as A
from balai.registry.models import Family, LifeEvent, Resident
from balai.registry.rebuild import check
from balai.registry.reference import MaritalStatus, Shdk

pytestmark = pytest.mark.django_db


@pytest.fixture
def household(make_resident, system_actor):
    head = make_resident(
        name="Aji Kurnia", marital_status=MaritalStatus.KAWIN, rt="003"
    )
    wife = make_resident(
        family=head.family,
        shdk=Shdk.ISTRI,
        name="Dayang Mariam",
        sex="P",
        marital_status=MaritalStatus.KAWIN,
    )
    child = A.register_birth(
        actor=system_actor,
        family=head.family,
        person=A.Person(
            name="Aji Fikri",
            sex="L",
            birth_date=datetime.date(2024, 12, 1),
            religion=1,
        ),
        mother=wife,
        father=head,
    )
    return head, wife, child


def run(*args):
    out = io.StringIO()
    call_command("registry_rebuild", *args, stdout=out)
    return out.getvalue()


def raw(sql, params):
    # Tamper below the actions, as a broken script or a hand edit would.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_clean_register_checks_clean(household):
    assert "sesuai" in run("--check")


def test_check_names_every_tampered_record_and_changes_nothing(household):
    head, _wife, child = household
    raw("UPDATE registry_resident SET name = %s WHERE id = %s", ["Aji X", head.pk.hex])
    raw(
        "UPDATE registry_resident SET status = %s, rt = %s WHERE id = %s",
        ["mati", "009", child.pk.hex],
    )
    raw("UPDATE registry_family SET head_id = NULL WHERE id = %s", [head.family_id.hex])
    differences = {d.object_id: d for d in check()}
    assert set(differences) == {head.pk, child.pk, head.family_id}
    assert set(differences[head.pk].fields) == {"name"}
    assert set(differences[child.pk].fields) == {"status", "rt"}
    assert differences[child.pk].fields["status"] == ("mati", "hidup")
    assert set(differences[head.family_id].fields) == {"head_id"}
    with pytest.raises(CommandError) as exc:
        run("--check")
    assert "3 data" in str(exc.value)
    assert Resident.objects.get(pk=head.pk).name == "Aji X", "check changes nothing"


def test_check_output_names_the_records(household, capsys):
    head, _wife, _child = household
    raw("UPDATE registry_resident SET phone = %s WHERE id = %s", ["0811", head.pk.hex])
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("registry_rebuild", "--check", stdout=out)
    assert str(head.pk) in out.getvalue()
    assert "phone" in out.getvalue()


def test_repair_restores_the_projection_and_audits_it(household):
    head, _wife, child = household
    raw("UPDATE registry_resident SET name = %s WHERE id = %s", ["Aji X", head.pk.hex])
    raw(
        "UPDATE registry_resident SET flags = %s WHERE id = %s",
        ['["nik_periksa"]', child.pk.hex],
    )
    before = AuditEntry.objects.count()
    output = run()
    assert "2 data diperbaiki" in output
    assert Resident.objects.get(pk=head.pk).name == "Aji Kurnia"
    assert Resident.objects.get(pk=child.pk).flags == ["menunggu_nik"]
    assert AuditEntry.objects.count() - before == 2
    assert check() == []


def test_a_record_without_events_cannot_be_projected(household):
    _head, _wife, child = household
    # An event goes missing (deleted below the model, which refuses deletes).
    raw("DELETE FROM registry_lifeevent WHERE resident_id = %s", [child.pk.hex])
    differences = check()
    assert [d.object_id for d in differences] == [child.pk]
    assert "tidak ada peristiwa" in differences[0].problem
    with pytest.raises(CommandError) as exc:
        run()
    assert "tidak dapat dibangun ulang" in str(exc.value)


def test_a_gap_in_the_history_is_reported(household, system_actor):
    head, _wife, _child = household
    A.register_death(
        actor=system_actor, resident=head, occurred_on=datetime.date(2025, 1, 1)
    )
    raw(
        "DELETE FROM registry_lifeevent WHERE resident_id = %s AND seq = 1",
        [head.pk.hex],
    )
    (difference,) = [d for d in check() if d.object_id == head.pk]
    assert "tidak dapat diproyeksikan" in difference.problem


def test_events_cannot_be_edited_or_deleted(household):
    head, _wife, _child = household
    event = LifeEvent.objects.filter(resident=head).first()
    event.data = {}
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_family_without_events_is_reported(household):
    head, _wife, _child = household
    raw(
        "DELETE FROM registry_lifeevent WHERE family_id = %s AND resident_id IS NULL",
        [head.family_id.hex],
    )
    differences = check()
    assert [(d.model, d.object_id) for d in differences] == [("family", head.family_id)]
    assert Family.objects.filter(pk=head.family_id).exists()
