import itertools
import time
import uuid

from balai.core.ids import new_id


def test_new_id_is_a_standard_time_ordered_uuid7():
    before = int(time.time() * 1000)
    ids = [new_id() for _ in range(20_000)]
    after = int(time.time() * 1000)
    first = ids[0]
    assert type(first) is uuid.UUID
    assert first.version == 7
    assert first.variant == uuid.RFC_4122
    assert first.is_safe is uuid.SafeUUID.unknown
    # It behaves as any UUID: its text reads back to an equal, same-hash one.
    again = uuid.UUID(str(first))
    assert again == first
    assert hash(again) == hash(first)
    assert {first: 1}[again] == 1
    # Unique and increasing (monotonic within a millisecond too), stamped now.
    assert len(set(ids)) == len(ids)
    assert all(a < b for a, b in itertools.pairwise(ids))
    assert before <= first.int >> 80 <= after
