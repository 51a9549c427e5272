import datetime

import pytest
from django.utils import timezone

from balai.notify.actions import seed_templates


@pytest.fixture
def templates(db, system_actor):
    seed_templates(actor=system_actor)


class Clock:
    """A settable `timezone.now` for back-off timing."""

    def __init__(self, start: datetime.datetime) -> None:
        self.now = start

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC))
    monkeypatch.setattr(timezone, "now", c)
    return c
