"""How notifications sync (balai.sync): message templates are reference data
from the regency; the outbox stays on the node that queued it (sent from
there, so a message is never sent twice)."""

from balai.sync.framework import LOCAL, REFERENCE, ModelSpec

SPECS = [
    ModelSpec("notify.messagetemplate", kind=REFERENCE),
    ModelSpec("notify.outboxmessage", kind=LOCAL),
]
