"""`balai audit_verify` against chains tampered with raw SQL, as an intruder
with database access would: each case must be named, at the right entry."""

import base64
import io
import itertools
import json

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connection

from balai.audit.actions import make_checkpoints, record
from balai.audit.chain import (
    GENESIS,
    KEY_FILE,
    canonical_time,
    checkpoint_message,
    entry_hash,
    hash_of,
    load_signing_key,
)
from balai.audit.models import AuditEntry, ChainHead, Checkpoint
from balai.audit.verify import verify_all, verify_chain
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.ids import new_id
from balai.regions.models import Office

pytestmark = pytest.mark.django_db

CHAIN = "MPP-64.02.06"


@action("test.audit.note")
def note(*, actor: Actor, n: int) -> None:
    record(actor=actor, details={"n": n, "catatan": f"entri ke-{n}"}, change=None)


@pytest.fixture
def chain():
    """Five entries in the Tenggarong MPP's chain, written by a real action."""
    actor = Actor.system(name="uji", office=Office.objects.get(code=CHAIN))
    for n in range(1, 6):
        note(actor=actor, n=n)
    entries = list(AuditEntry.objects.filter(chain=CHAIN).order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    return entries


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


# The details column is jsonb on PostgreSQL, text on SQLite.
EDIT_DETAILS_SQL = {
    "postgresql": "UPDATE audit_auditentry SET details = %s::jsonb "
    "WHERE chain = %s AND seq = %s",
    "sqlite": "UPDATE audit_auditentry SET details = %s WHERE chain = %s AND seq = %s",
}
INSERT_COPY_SQL = {
    "postgresql": "INSERT INTO audit_auditentry (id, chain, seq, at, actor_id, "
    "actor_name, office_code, action, object_type, object_id, details, prev_hash, "
    "hash) SELECT %s, chain, %s, at, actor_id, actor_name, office_code, action, "
    "object_type, object_id, %s::jsonb, %s, %s FROM audit_auditentry "
    "WHERE chain = %s AND seq = %s",
    "sqlite": "INSERT INTO audit_auditentry (id, chain, seq, at, actor_id, "
    "actor_name, office_code, action, object_type, object_id, details, prev_hash, "
    "hash) SELECT %s, chain, %s, at, actor_id, actor_name, office_code, action, "
    "object_type, object_id, %s, %s, %s FROM audit_auditentry "
    "WHERE chain = %s AND seq = %s",
}


def rehash_from(seq: int, *, update_head: bool = True) -> None:
    """Recompute every hash from `seq` on, as a careful intruder would."""
    entries = list(AuditEntry.objects.filter(chain=CHAIN).order_by("seq"))
    prev = GENESIS
    for e in entries:
        if e.seq >= seq:
            e.prev_hash = prev
            e.hash = hash_of(e)
            sql(
                "UPDATE audit_auditentry SET prev_hash = %s, hash = %s "
                "WHERE chain = %s AND seq = %s",
                [e.prev_hash, e.hash, CHAIN, e.seq],
            )
        prev = e.hash
    if update_head:
        sql(
            "UPDATE audit_chainhead SET seq = %s, hash = %s WHERE chain = %s",
            [entries[-1].seq, prev, CHAIN],
        )


def shift_up(from_seq: int) -> None:
    """Renumber entries from `from_seq` on by +1 (in two steps: seq is unique)."""
    sql(
        "UPDATE audit_auditentry SET seq = seq + 1000 WHERE chain = %s AND seq >= %s",
        [CHAIN, from_seq],
    )
    sql(
        "UPDATE audit_auditentry SET seq = seq - 999 WHERE chain = %s AND seq >= 1000",
        [CHAIN],
    )


def insert_copy_of(seq_from: int, *, at_seq: int, details: dict, hash_: str, prev):
    sql(
        INSERT_COPY_SQL[connection.vendor],
        [
            AuditEntry._meta.pk.get_db_prep_value(new_id(), connection),
            at_seq,
            json.dumps(details),
            prev,
            hash_,
            CHAIN,
            seq_from,
        ],
    )


def forged_after(entry: AuditEntry, details: dict) -> str:
    """Return a correct hash for a forged entry chained after `entry`."""
    return entry_hash(
        prev_hash=entry.hash,
        chain=entry.chain,
        at=canonical_time(entry.at),
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        office_code=entry.office_code,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        details=details,
    )


def verify_fails() -> str:
    """Run the command as the console does; return what it printed on stderr."""
    err = io.StringIO()
    with pytest.raises(CommandError, match="tidak utuh"):
        call_command("audit_verify", stderr=err, stdout=io.StringIO())
    return err.getvalue()


def finding():
    result = verify_chain(CHAIN)
    assert result is not None, "tampering went unnoticed"
    return result


# --- intact ----------------------------------------------------------------------


def test_intact_chains_pass(chain):
    make_checkpoints()
    note(actor=Actor.system(office=Office.objects.get(code=CHAIN)), n=6)
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "Log audit utuh" in out.getvalue()
    assert verify_all() == []


def test_the_console_command_exits_nonzero_when_broken(chain, capsys):
    sql(
        "UPDATE audit_auditentry SET actor_name = 'orang lain' "
        "WHERE chain = %s AND seq = 2",
        [CHAIN],
    )
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["balai", "audit_verify"]).execute()
    assert exit_info.value.code != 0
    assert f"rantai {CHAIN} #2" in capsys.readouterr().err


# --- edits -----------------------------------------------------------------------


def test_an_edited_entry_is_named(chain):
    sql(
        EDIT_DETAILS_SQL[connection.vendor],
        [json.dumps({"n": 3, "catatan": "diubah"}), CHAIN, 3],
    )
    result = finding()
    assert (result.kind, result.seq, result.entry_id) == ("edited", 3, str(chain[2].id))
    err = verify_fails()
    assert f"rantai {CHAIN} #3 (id {chain[2].id}) [edited]" in err


def test_an_edited_and_rehashed_entry_is_named(chain):
    sql(
        "UPDATE audit_auditentry SET actor_name = 'penyusup' "
        "WHERE chain = %s AND seq = 2",
        [CHAIN],
    )
    edited = AuditEntry.objects.get(chain=CHAIN, seq=2)
    sql(
        "UPDATE audit_auditentry SET hash = %s WHERE chain = %s AND seq = 2",
        [hash_of(edited), CHAIN],
    )
    result = finding()
    assert (result.kind, result.seq, result.entry_id) == ("edited", 2, str(chain[1].id))


def test_an_edited_and_rehashed_last_entry_is_caught_by_the_head(chain):
    sql(
        "UPDATE audit_auditentry SET action = 'lain' WHERE chain = %s AND seq = 5",
        [CHAIN],
    )
    rehash_from(5, update_head=False)
    result = finding()
    assert (result.kind, result.seq) == ("edited", 5)


def test_a_rewritten_chain_is_caught_by_its_signed_checkpoint(chain):
    make_checkpoints()
    sql(
        "UPDATE audit_auditentry SET actor_name = 'penyusup' "
        "WHERE chain = %s AND seq = 2",
        [CHAIN],
    )
    rehash_from(2)  # every later hash and the head recomputed: links all hold
    result = finding()
    assert result.kind == "edited"
    assert result.seq == 5
    assert "checkpoint" in result.message
    assert "#1 dan #5" in result.message


# --- deletions -------------------------------------------------------------------


def test_a_deleted_entry_is_named(chain):
    sql("DELETE FROM audit_auditentry WHERE chain = %s AND seq = 3", [CHAIN])
    result = finding()
    assert (result.kind, result.seq) == ("deleted", 3)
    assert result.entry_id == str(chain[3].id), "names the entry that lost its link"
    assert "#3 dihapus" in verify_fails()


def test_a_deleted_first_entry_is_named(chain):
    sql("DELETE FROM audit_auditentry WHERE chain = %s AND seq = 1", [CHAIN])
    assert (finding().kind, finding().seq) == ("deleted", 1)


def test_a_deletion_with_relinked_hashes_is_named(chain):
    sql("DELETE FROM audit_auditentry WHERE chain = %s AND seq = 3", [CHAIN])
    rehash_from(4)
    result = finding()
    assert (result.kind, result.seq, result.entry_id) == (
        "deleted",
        3,
        str(chain[3].id),
    )


# --- insertions ------------------------------------------------------------------


def test_an_inserted_entry_with_a_correct_hash_is_named(chain):
    details = {"n": 0, "catatan": "palsu"}
    shift_up(3)
    insert_copy_of(
        2,
        at_seq=3,
        details=details,
        hash_=forged_after(chain[1], details),
        prev=chain[1].hash,
    )
    result = finding()
    forged = AuditEntry.objects.get(chain=CHAIN, seq=3)
    assert forged.details == details
    assert (result.kind, result.seq, result.entry_id) == ("inserted", 3, str(forged.id))
    assert f"#3 (id {forged.id}) [inserted]" in verify_fails()


def test_an_inserted_entry_with_a_made_up_hash_is_named(chain):
    shift_up(2)
    insert_copy_of(
        1, at_seq=2, details={"palsu": True}, hash_="f" * 64, prev=chain[0].hash
    )
    result = finding()
    assert (result.kind, result.seq) == ("inserted", 2)


def test_an_entry_appended_behind_the_log_is_named(chain):
    details = {"n": 6, "catatan": "palsu"}
    insert_copy_of(
        5,
        at_seq=6,
        details=details,
        hash_=forged_after(chain[4], details),
        prev=chain[4].hash,
    )
    result = finding()
    assert (result.kind, result.seq) == ("inserted", 6)


# --- reordering ------------------------------------------------------------------


def swap(a: int, b: int) -> None:
    sql(
        "UPDATE audit_auditentry SET seq = 999 WHERE chain = %s AND seq = %s",
        [CHAIN, a],
    )
    sql(
        "UPDATE audit_auditentry SET seq = %s WHERE chain = %s AND seq = %s",
        [a, CHAIN, b],
    )
    sql(
        "UPDATE audit_auditentry SET seq = %s WHERE chain = %s AND seq = 999",
        [b, CHAIN],
    )


def test_swapped_neighbours_are_named(chain):
    swap(3, 4)
    result = finding()
    # Position 3 now holds the old #4, whose link points at the old #3.
    assert (result.kind, result.seq, result.entry_id) == (
        "reordered",
        3,
        str(chain[3].id),
    )
    assert "[reordered]" in verify_fails()


def test_swapped_distant_entries_are_named(chain):
    swap(1, 4)
    result = finding()
    assert (result.kind, result.seq, result.entry_id) == (
        "reordered",
        1,
        str(chain[3].id),
    )


# --- cuts ------------------------------------------------------------------------


def test_a_chain_cut_below_its_checkpoint_is_reported(chain):
    make_checkpoints()
    sql("DELETE FROM audit_auditentry WHERE chain = %s AND seq >= 4", [CHAIN])
    # A careful intruder also moves the head back; the signature still tells.
    sql(
        "UPDATE audit_chainhead SET seq = 3, hash = %s WHERE chain = %s",
        [chain[2].hash, CHAIN],
    )
    result = finding()
    assert (result.kind, result.seq) == ("cut", 4)
    assert "checkpoint bertanda tangan mencatat #5" in result.message
    assert "[cut]" in verify_fails()


def test_a_chain_cut_after_its_last_checkpoint_is_reported(chain):
    make_checkpoints()  # signs #5
    actor = Actor.system(office=Office.objects.get(code=CHAIN))
    note(actor=actor, n=6)
    note(actor=actor, n=7)
    sql("DELETE FROM audit_auditentry WHERE chain = %s AND seq >= 6", [CHAIN])
    result = finding()
    assert (result.kind, result.seq) == ("cut", 6)
    assert "kepala rantai #7" in result.message


def test_a_chain_whose_head_row_was_removed_is_reported(chain):
    sql("DELETE FROM audit_chainhead WHERE chain = %s", [CHAIN])
    assert finding().kind == "head_missing"


# --- checkpoints -----------------------------------------------------------------


def test_checkpoints_are_signed_and_made_only_for_grown_chains(chain):
    made = make_checkpoints()
    ours = [cp for cp in made if cp.chain == CHAIN]
    assert [(cp.seq, cp.hash) for cp in ours] == [(5, chain[4].hash)]
    key = load_signing_key()
    cp = ours[0]
    message = checkpoint_message(
        chain=CHAIN, seq=5, hash_=cp.hash, signed_at=canonical_time(cp.signed_at)
    )
    key.public.verify(base64.b64decode(cp.signature), message)
    assert make_checkpoints() == [], "nothing grew: nothing to sign"
    note(actor=Actor.system(office=Office.objects.get(code=CHAIN)), n=6)
    assert [c.chain for c in make_checkpoints()] == [CHAIN]


def test_a_forged_checkpoint_row_is_reported(chain):
    make_checkpoints()
    Checkpoint.objects.create(
        chain=CHAIN,
        seq=3,
        hash=chain[2].hash,
        key_id=load_signing_key().key_id,
        signature="AAAA" * 22,
    )
    result = finding()
    assert (result.kind, result.seq) == ("bad_checkpoint", 3)
    assert "[bad_checkpoint]" in verify_fails()


def test_a_checkpoint_signed_with_another_key_is_reported(chain, tmp_path, settings):
    settings.BALAI_KEY_DIR = tmp_path / "kunci-lain"
    make_checkpoints()  # signed with a key the installation does not hold
    settings.BALAI_KEY_DIR = tmp_path / "kunci-asli"
    load_signing_key(create=True)
    assert finding().kind == "bad_checkpoint"


def test_a_checkpoint_whose_hash_was_edited_is_reported(chain):
    make_checkpoints()
    rehash_from(1)  # nothing changed: the chain still matches
    assert verify_chain(CHAIN) is None
    sql(
        "UPDATE audit_checkpoint SET hash = %s WHERE chain = %s",
        [chain[3].hash, CHAIN],
    )
    assert finding().kind == "bad_checkpoint"


def test_a_missing_signing_key_is_reported_not_crashed(chain, tmp_path, settings):
    make_checkpoints()
    settings.BALAI_KEY_DIR = tmp_path / "kosong"
    assert not (tmp_path / "kosong" / KEY_FILE).exists()
    assert finding().kind == "no_key"
    assert "kunci tanda tangan audit tidak ditemukan" in verify_fails()


def test_head_and_checkpoint_agree_after_real_writes(chain):
    head = ChainHead.objects.get(chain=CHAIN)
    assert (head.seq, head.hash) == (5, chain[4].hash)
    assert chain[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
