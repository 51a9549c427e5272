"""Letter numbers after a node was restored from a backup.

Found by bench/sync_faults.py: the node, restored to an older backup, issued
letters again from its older series row. At the regency its change to the
series row was refused (changed elsewhere: the regency keeps what it had
acknowledged) and a letter numbered like one the regency held was refused
(duplicate), but the next letter, with a number still free, was new and
accepted. Both sides then held letters up to serial N and the series row at
N - 1, and the node's next letter failed on the unique serial.
"""

# The documents fixtures are imported by name and then requested as arguments.
# ruff: noqa: F811

import uuid

import pytest
from django.db import transaction
from django.test import override_settings

from balai.core.serialize import model_payload
from balai.documents.actions import issue_document
from balai.documents.models import DocumentSequence, IssuedDocument
from balai.documents.tests.conftest import (  # noqa: F401 (fixtures)
    DESA,
    _document_dirs,
    desa_clerk,
    desa_head,
    root_key,
    subject,
)
from balai.regions.models import Office
from balai.sync import engine
from balai.sync.models import SyncState

from .conftest import NODE

pytestmark = pytest.mark.django_db


def _change(model: str, pk, payload: dict, g: int) -> dict:
    return {
        "model": model,
        "object_id": str(pk),
        "op": "upsert",
        "payload": payload,
        "global_seq": g,
    }


def test_a_letter_pulled_past_the_series_row_does_not_block_the_next_number(
    regions, root_key, desa_head, desa_clerk, actor_of, subject
):
    office = Office.objects.get(code=DESA)
    actor = actor_of(desa_clerk)

    def issue(name: str) -> IssuedDocument:
        return issue_document(
            actor=actor,
            kind="pengantar",
            office=office,
            subject={**subject, "name": name},
            facts={},
        )

    first = issue("WARGA SATU")
    sequence = DocumentSequence.objects.get(office=office, kind="pengantar")
    assert (first.serial, sequence.last_serial) == (1, 1)

    # What the regency sends after the restore: the series row as it kept it
    # (serial 1) and the node's letter number 2 that it accepted.
    letter = model_payload(first)
    letter.update(
        id=str(uuid.uuid4()),
        serial=2,
        number=first.number.replace("/0001/", "/0002/"),
        digest=uuid.uuid4().hex,
        qr_text=first.qr_text + "-2",
    )
    with override_settings(BALAI_NODE=NODE), transaction.atomic():
        SyncState.objects.create(pk=1, node=NODE)
        applied = engine.node_apply(
            [
                _change(
                    "documents.documentsequence",
                    sequence.pk,
                    model_payload(sequence),
                    900,
                ),
                _change("documents.issueddocument", letter["id"], letter, 901),
            ]
        )
    assert applied.applied == 2
    sequence.refresh_from_db()
    assert sequence.last_serial == 1
    assert IssuedDocument.objects.filter(office=office, serial=2).exists()

    # Before the fix: IntegrityError on (office, kind, year, serial) = 2.
    third = issue("WARGA TIGA")
    assert third.serial == 3
    sequence.refresh_from_db()
    assert sequence.last_serial == 3
    assert issue("WARGA EMPAT").serial == 4, "no gap, no repeat after that"
