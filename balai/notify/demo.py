"""Demo (and first-run) data for notify: the shipped message templates."""

from balai.core.actors import Actor
from balai.notify.actions import seed_templates


def seed(*, actor: Actor) -> list:
    """Create the missing message templates; no logins to report."""
    seed_templates(actor=actor)
    return []
