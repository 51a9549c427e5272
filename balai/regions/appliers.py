"""How regions and offices sync (balai.sync): reference data, written only at
the regency and sent to every node; a node's change to them is refused."""

from balai.sync.framework import REFERENCE, ModelSpec

SPECS = [
    ModelSpec("regions.region", kind=REFERENCE),
    ModelSpec("regions.office", kind=REFERENCE),
]
