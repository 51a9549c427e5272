"""Demo (and first-run) data for the queue: lanes and counters at every MPP."""

from balai.antrian.actions import ensure_queue_setup
from balai.core.actors import Actor


def seed(*, actor: Actor) -> list:
    """Give the 20 MPPs their lanes (A, B, C, P) and four counters; idempotent."""
    ensure_queue_setup(actor=actor)
    return []
