"""Applying a node's batches at the regency: as written, once, validated by
the domains' own rules, and refused explicitly (conflicts) when they clash."""

import datetime

import pytest

from balai.core.models import ChangeRecord
from balai.core.serialize import model_payload
from balai.sync.models import Conflict, ConflictKind, ConflictStatus, PendingChange
from balai.sync.protocol import ProtocolError

from .conftest import MPP, NODE, TABANG, TENGGARONG

pytestmark = pytest.mark.django_db


def _family_input(village=TABANG, *, nik=None, members=1):
    from balai.registry.actions import Address, FamilyInput, Member, Person
    from balai.registry.reference import Religion, Shdk

    people = [
        Member(
            person=Person(
                name=f"Warga Tabang {i}",
                sex="L",
                birth_date=datetime.date(1990, 1, 1 + i),
                religion=Religion.ISLAM,
                nik=nik if i == 0 else None,
            ),
            shdk=Shdk.KEPALA_KELUARGA if i == 0 else Shdk.ANAK,
        )
        for i in range(members)
    ]
    return FamilyInput(address=Address(village=village, rt="001"), members=people)


@pytest.fixture
def officer(make_staff, actor_of):
    return actor_of(make_staff(office=MPP, role="registry_officer"))


def test_a_nodes_new_family_is_written_exactly_as_the_node_wrote_it(
    sync_node, push, officer
):
    from balai.registry.actions import register_residents_bulk
    from balai.registry.models import Family, LifeEvent, Resident

    result = sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input(members=3)]
    )
    assert not Resident.objects.filter(pk__in=result.resident_ids).exists()
    answer = push(sync_node.batch())
    assert answer["accepted"] == len(sync_node.changes) == 3 + 1 + 4
    assert answer["conflicts"] == []
    assert answer["acked"]["seq"] == sync_node.seq
    for change in sync_node.changes:
        model = {
            "registry.resident": Resident,
            "registry.family": Family,
            "registry.lifeevent": LifeEvent,
        }[change["model"]]
        row = model.objects.get(pk=change["object_id"])
        assert model_payload(row) == change["payload"]
    stored = ChangeRecord.objects.filter(node=NODE).order_by("global_seq")
    assert [c.seq for c in stored] == list(range(1, sync_node.seq + 1))
    assert all(c.global_seq for c in stored)


def test_the_same_batch_twice_is_applied_once(sync_node, push, officer):
    from balai.registry.actions import register_residents_bulk
    from balai.registry.models import Resident

    sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input()]
    )
    push(sync_node.batch())
    again = push(sync_node.batch())
    assert again["skipped"] == len(sync_node.changes)
    assert ChangeRecord.objects.filter(node=NODE).count() == len(sync_node.changes)
    assert Resident.objects.filter(kecamatan_code=NODE).count() == 1


def test_a_batch_after_a_gap_is_refused_until_the_missing_one_arrives(
    sync_node, push, officer
):
    from balai.registry.actions import register_residents_bulk

    sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input()]
    )
    push(sync_node.batch())
    second = sync_node.seq + 1
    sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input()]
    )
    third = sync_node.seq + 1
    sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input()]
    )
    with pytest.raises(ProtocolError) as caught:
        push(sync_node.batch(third, sync_node.seq))
    assert caught.value.status == 409
    assert "terlewat" in caught.value.message
    push(sync_node.batch(second, third - 1))
    answer = push(sync_node.batch(third, sync_node.seq))
    assert answer["acked"]["seq"] == sync_node.seq
    assert answer["accepted"] == sync_node.seq - third + 1


def test_a_batch_cut_inside_a_transaction_waits_for_the_rest(sync_node, push, officer):
    from balai.registry.actions import register_residents_bulk
    from balai.registry.models import Family, Resident

    sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input(members=2)]
    )
    # The first change refers to records that come in the next batch.
    answer = push(sync_node.batch(1, 1))
    assert answer["accepted"] == 0
    assert answer["pending"] == 1
    assert not Family.objects.filter(kecamatan_code=NODE).exists()
    answer = push(sync_node.batch(2, sync_node.seq))
    assert answer["pending"] == 0
    assert Family.objects.filter(kecamatan_code=NODE).count() == 1
    assert Resident.objects.filter(kecamatan_code=NODE).count() == 2
    assert not PendingChange.objects.exists()


def test_a_move_after_a_death_recorded_at_the_regency_is_a_conflict(
    sync_node, push, officer, make_staff, actor_of, make_resident, system_actor
):
    from balai.registry.actions import Address, move_within, register_death
    from balai.registry.models import LifeEvent, Resident

    resident = make_resident(village=TABANG)
    sync_node.capture(
        move_within,
        actor=officer,
        mode="family",
        occurred_on=datetime.date.today(),
        family=resident.family,
        address=Address(village=TABANG, rt="009"),
    )
    registrar = actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))
    register_death(
        actor=registrar, resident=resident, occurred_on=datetime.date.today()
    )
    answer = push(sync_node.batch())
    assert answer["accepted"] == 0
    kinds = {c["model"]: c for c in answer["conflicts"]}
    event = kinds["registry.lifeevent"]
    assert event["kind"] == ConflictKind.EVENT_REFUSED
    assert "meninggal" in event["message"]
    assert event["advice"]
    assert event["state"]["row"] is None  # the regency has no such event
    assert kinds["registry.resident"]["state"]["row"]["status"] == "mati"
    resident.refresh_from_db()
    assert resident.status == "mati"
    assert resident.rt == "001"
    assert LifeEvent.objects.filter(resident=resident).count() == 2
    stored = Conflict.objects.filter(model="registry.lifeevent")
    assert {c.payload["kind"] for c in stored} == {"pindah_dalam"}  # node's, kept
    stored = stored.first()
    assert stored.status == ConflictStatus.OPEN
    assert Resident.objects.get(pk=resident.pk).version == 2


def test_a_nik_already_held_by_another_person_is_a_conflict(
    sync_node, push, officer, make_resident
):
    from balai.registry.actions import register_residents_bulk
    from balai.registry.models import Resident

    nik = "6402120101900001"
    result = sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input(nik=nik)]
    )
    make_resident(village=TABANG, nik=nik, name="Orang Lain")
    answer = push(sync_node.batch())
    assert answer["accepted"] == 0
    resident_conflict = next(
        c for c in answer["conflicts"] if c["model"] == "registry.resident"
    )
    assert resident_conflict["kind"] == ConflictKind.DUPLICATE
    assert nik in resident_conflict["message"]
    assert resident_conflict["state"]["row"] is None
    assert not Resident.objects.filter(pk=result.resident_ids[0]).exists()
    # The whole registration stood or fell together.
    assert {c["model"] for c in answer["conflicts"]} == {
        "registry.family",
        "registry.resident",
        "registry.lifeevent",
    }


def test_a_node_cannot_push_records_of_an_office_it_does_not_serve(
    sync_node, push, make_staff, actor_of
):
    from balai.registry.actions import register_residents_bulk
    from balai.registry.models import Resident

    other = actor_of(make_staff(office="MPP-64.02.06", role="registry_officer"))
    sync_node.capture(
        register_residents_bulk,
        actor=other,
        families=[_family_input(village=TENGGARONG)],
    )
    answer = push(sync_node.batch())
    assert answer["accepted"] == 0
    assert {c["kind"] for c in answer["conflicts"]} <= {
        ConflictKind.NOT_SERVED,
        ConflictKind.INVALID,
    }
    assert not Resident.objects.filter(kecamatan_code="64.02.06").exists()


def test_catalogue_changes_from_a_node_are_refused_the_regency_wins(
    sync_node, push, make_staff, actor_of
):
    from balai.services.actions import update_service
    from balai.services.models import Service

    call_load_services()
    service = Service.objects.get(code="sktm")
    admin = actor_of(make_staff(office=MPP, role="service_admin"))
    sync_node.capture(
        update_service,
        actor=admin,
        service=service,
        changes={"name": "Diubah di node"},
        expected_revision=service.revision,
    )
    answer = push(sync_node.batch())
    assert answer["conflicts"]
    assert {c["kind"] for c in answer["conflicts"]} == {ConflictKind.REFERENCE_DATA}
    service.refresh_from_db()
    assert service.name != "Diubah di node"
    state = next(
        c["state"] for c in answer["conflicts"] if c["model"] == "services.service"
    )
    assert state["row"]["name"] == service.name


def call_load_services():
    from django.core.management import call_command

    call_command("load_services", verbosity=0)


def test_a_change_made_on_a_version_the_regency_moved_past_is_refused(
    sync_node, push, make_staff, actor_of
):
    from balai.accounts.actions import end_posting
    from balai.accounts.models import Posting

    clerk = make_staff(office=MPP, role="counter_officer")
    posting = Posting.objects.get(user=clerk)
    head = actor_of(make_staff(office=MPP, role="sysadmin", is_head=True))
    sync_node.capture(
        end_posting, actor=head, posting=posting, end_date=datetime.date(2030, 1, 1)
    )
    admin = actor_of(make_staff(office="DISKOMINFO", role="sysadmin"))
    end_posting(actor=admin, posting=posting, end_date=datetime.date(2029, 6, 30))
    answer = push(sync_node.batch())
    conflict = answer["conflicts"][0]
    assert conflict["kind"] == ConflictKind.CHANGED_ELSEWHERE
    assert "kabupaten" in conflict["message"]
    posting.refresh_from_db()
    assert posting.end_date == datetime.date(2029, 6, 30)
    assert conflict["state"]["row"]["end_date"] == "2029-06-30"


def test_an_application_number_taken_at_the_regency_gets_the_next_one(
    sync_node, push, make_staff, actor_of, make_resident
):
    from balai.services.actions import submit_application
    from balai.services.models import Application, Service

    call_load_services()
    service = Service.objects.get(code="ktp-el-baru")
    clerk = actor_of(make_staff(office=MPP, role="counter_officer"))
    person = make_resident(village=TABANG)

    def apply():
        return submit_application(
            actor=clerk,
            service=service,
            channel="counter",
            form_data={},
            relation="self",
            applicant={"nik": person.nik, "name": person.name},
        )

    first = sync_node.capture(apply)
    second = sync_node.capture(apply)  # the counter was rolled back: same number
    assert first.number == second.number
    answer = push(sync_node.batch())
    renumbered = [
        c for c in answer["conflicts"] if c["kind"] == ConflictKind.RENUMBERED
    ]
    assert len(renumbered) == 1
    assert renumbered[0]["status"] == ConflictStatus.INFO
    numbers = sorted(Application.objects.values_list("number", flat=True))
    assert numbers[0] == first.number
    assert numbers[1].endswith("-000002")
    assert renumbered[0]["state"]["row"]["number"] == numbers[1]


def test_audit_entries_of_a_node_verify_at_the_regency(sync_node, officer):
    from balai.audit.appliers import apply_entries
    from balai.audit.verify import verify_all
    from balai.registry.actions import register_residents_bulk

    sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input()]
    )
    sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input()]
    )
    chain = [e for e in sync_node.audit if e["chain"] == MPP]
    assert len(chain) == 2
    # The second capture started again from the same head: refuse the fork.
    from django.db import transaction

    from balai.audit.appliers import ChainFork

    with transaction.atomic():
        assert apply_entries(MPP, chain[:1]) == 1
    with pytest.raises(ChainFork), transaction.atomic():
        apply_entries(MPP, chain[1:])
    assert verify_all() == []


def test_changes_still_waiting_when_a_node_restores_become_conflicts(
    sync_node, push, officer
):
    from balai.registry.actions import register_residents_bulk

    sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input(members=2)]
    )
    assert push(sync_node.batch(1, 1))["pending"] == 1
    # The node was restored before sending the rest: a new epoch from (0, 0).
    restarted = {
        "epoch": 2,
        "first": 1,
        "last": 1,
        "epoch_start": {"prev_epoch": 0, "prev_seq": 0, "renumbered": 0},
        "changes": [],
    }
    answer = push(restarted)
    assert answer["pending"] == 0
    orphan = Conflict.objects.get(epoch=1, seq=1)
    assert orphan.kind == ConflictKind.MISSING_REFERENCE
    assert "dipulihkan dari cadangan" in orphan.message


def test_a_record_whose_ownership_moved_while_offline_is_refused_as_moved(
    sync_node, push, officer, make_staff, actor_of, make_resident
):
    from balai.regions.models import Office
    from balai.registry.actions import Address, move_within, register_residents_bulk
    from balai.registry.models import Family, Resident
    from balai.sync import selectors

    resident = make_resident(village=TABANG)
    family = resident.family
    # Offline, the node moves the family to another RT of Tabang...
    sync_node.capture(
        move_within,
        actor=officer,
        mode="family",
        occurred_on=datetime.date.today(),
        family=family,
        address=Address(village=TABANG, rt="009"),
    )
    moved_changes = sync_node.seq
    # ...and registers a new family, which has nothing to do with it.
    new = sync_node.capture(
        register_residents_bulk, actor=officer, families=[_family_input()]
    )
    # Meanwhile Disdukcapil moves the same family to Tenggarong: its owning
    # office is now the MPP of another kecamatan.
    registrar = actor_of(make_staff(office="DISDUKCAPIL", role="registrar"))
    move_within(
        actor=registrar,
        mode="family",
        occurred_on=datetime.date.today(),
        family=family,
        address=Address(village=TENGGARONG, rt="004"),
    )
    before = {
        "family": model_payload(Family.objects.get(pk=family.pk)),
        "resident": model_payload(Resident.objects.get(pk=resident.pk)),
    }
    answer = push(sync_node.batch())

    # The node's move is refused, record by record, as "ownership moved".
    refused = [c for c in answer["conflicts"] if c["seq"] <= moved_changes]
    assert {(c["model"], c["object_id"]) for c in refused} >= {
        ("registry.family", str(family.pk)),
        ("registry.resident", str(resident.pk)),
    }
    assert len(refused) == moved_changes
    assert {c["kind"] for c in answer["conflicts"]} == {ConflictKind.OWNERSHIP_MOVED}
    tenggarong = Office.objects.get(region_id="64.02.06", kind="mpp").code
    for conflict in refused:
        assert "berpindah ke kantor lain" in conflict["message"]
        assert tenggarong in conflict["message"]
        assert conflict["advice"].startswith("Data ini kini dikelola kantor lain")
        assert "hubungi kantor tersebut" in conflict["advice"]
        assert conflict["status"] == ConflictStatus.OPEN
    family_conflict = next(c for c in refused if c["model"] == "registry.family")
    assert family_conflict["payload"]["rt"] == "009"  # the node's version, kept
    assert family_conflict["state"]["row"]["village_id"] == TENGGARONG
    # The regency's records are as Disdukcapil left them.
    assert model_payload(Family.objects.get(pk=family.pk)) == before["family"]
    assert model_payload(Resident.objects.get(pk=resident.pk)) == before["resident"]
    # The rest of the batch applied.
    assert answer["accepted"] == sync_node.seq - moved_changes
    assert answer["acked"]["seq"] == sync_node.seq
    assert Resident.objects.filter(pk=new.resident_ids[0], rt="001").exists()
    # Listed on the registrar's conflicts page (and sent back to the node).
    listed = selectors.conflicts(actor=registrar)
    assert {c.kind for c in listed} == {ConflictKind.OWNERSHIP_MOVED}
    assert listed.count() == moved_changes


def test_an_application_handed_to_disdukcapil_while_offline_is_refused_as_moved(
    sync_node, push, make_staff, actor_of, make_resident
):
    from balai.services.actions import submit_application, transition_application
    from balai.services.models import Application, ApplicationEvent, Service

    call_load_services()
    service = Service.objects.get(code="ktp-el-baru")
    clerk = actor_of(make_staff(office=MPP, role="counter_officer"))
    person = make_resident(village=TABANG)
    app = submit_application(
        actor=clerk,
        service=service,
        channel="counter",
        form_data={},
        relation="self",
        applicant={"nik": person.nik, "name": person.name},
    )
    app = transition_application(
        actor=clerk, application=app, name="start_verification", expected_version=1
    )
    # Offline, the node asks the applicant for a correction...
    sync_node.capture(
        transition_application,
        actor=clerk,
        application=app,
        name="request_revision",
        expected_version=app.version,
        note="Foto KK kurang jelas.",
    )
    # ...while the MPP's counter, served by the regency, hands it to Disdukcapil.
    handed = transition_application(
        actor=clerk, application=app, name="hand_off", expected_version=app.version
    )
    before = model_payload(Application.objects.get(pk=app.pk))
    answer = push(sync_node.batch())
    assert answer["accepted"] == 0
    kinds = {c["model"]: c for c in answer["conflicts"]}
    assert set(kinds) >= {"services.application", "services.applicationevent"}
    for conflict in answer["conflicts"]:
        assert conflict["kind"] == ConflictKind.OWNERSHIP_MOVED
        assert "berpindah ke kantor lain (DISDUKCAPIL)" in conflict["message"]
        assert "hubungi kantor tersebut" in conflict["advice"]
    refused = kinds["services.application"]
    assert refused["payload"]["status"] == "needs_revision"  # the node's, kept
    assert refused["state"]["row"]["status"] == handed.status
    assert model_payload(Application.objects.get(pk=app.pk)) == before
    assert not ApplicationEvent.objects.filter(
        application=app, transition="request_revision"
    ).exists()
