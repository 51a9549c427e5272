"""Demo data of the services: the catalogue (the same seed production loads)."""

from balai.core.actors import Actor
from balai.services.actions import load_catalogue


def seed(*, actor: Actor) -> list[tuple[str, str, str]]:
    """Load the shipped catalogue; safe to run again (existing entries kept)."""
    load_catalogue(actor=actor)
    return []
