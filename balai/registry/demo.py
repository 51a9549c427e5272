"""Demo residents: filled in by the register's seeding."""

from balai.core.actors import Actor


def seed(*, actor: Actor) -> list[tuple[str, str, str]]:
    return []
