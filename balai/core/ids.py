"""Identifiers that can be made on any node without coordination."""

import uuid

from uuid_utils.compat import uuid7 as _uuid7


def new_id() -> uuid.UUID:
    """Return a time-ordered UUIDv7."""
    return _uuid7()
