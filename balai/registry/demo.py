"""Demo residents: a synthetic Kukar of about two thousand people."""

from balai.core.actors import Actor
from balai.registry.actions import register_residents_bulk
from balai.registry.models import Resident
from balai.registry.synthetic import AS_OF, population, villages_from_regions

DEMO_RESIDENTS = 2000
DEMO_SEED = 2025
BATCH = 1000


def seed(*, actor: Actor) -> list[tuple[str, str, str]]:
    """Register the demo population once; skip if the register has residents."""
    if Resident.objects.exists():
        return []
    villages = villages_from_regions()
    batch: list = []
    count = 0
    for family in population(
        DEMO_RESIDENTS, villages=villages, seed=DEMO_SEED, as_of=AS_OF
    ):
        batch.append(family)
        count += len(family.members)
        if count >= BATCH:
            register_residents_bulk(
                actor=actor, families=batch, occurred_on=AS_OF, label="demo"
            )
            batch, count = [], 0
    if batch:
        register_residents_bulk(
            actor=actor, families=batch, occurred_on=AS_OF, label="demo"
        )
    return []
