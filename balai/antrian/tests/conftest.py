import datetime

import pytest
from django.utils import timezone

from balai.antrian.actions import ensure_queue_setup
from balai.antrian.models import Counter, QueueLane
from balai.regions.models import Office

WITA = datetime.timezone(datetime.timedelta(hours=8))
# A Monday, 09:00 WITA.
MONDAY_9 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=WITA)


class Clock:
    """A settable `timezone.now`."""

    def __init__(self, start: datetime.datetime) -> None:
        self.now = start

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(MONDAY_9)
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def mpp(db, system_actor):
    """MPP Tenggarong with the default lanes and counters."""
    office = Office.objects.get(code="MPP-64.02.06")
    ensure_queue_setup(actor=system_actor, offices=[office])
    return office


@pytest.fixture
def other_mpp(db, system_actor):
    office = Office.objects.get(code="MPP-64.02.12")
    ensure_queue_setup(actor=system_actor, offices=[office])
    return office


@pytest.fixture
def lane():
    def get(prefix, office="MPP-64.02.06"):
        return QueueLane.objects.get(office__code=office, prefix=prefix)

    return get


@pytest.fixture
def counter():
    def get(number, office="MPP-64.02.06"):
        return Counter.objects.get(office__code=office, number=number)

    return get


@pytest.fixture
def officer(make_staff, actor_of, mpp):
    return actor_of(make_staff(office="MPP-64.02.06", role="counter_officer"))


@pytest.fixture
def kiosk(mpp):
    from balai.antrian.actions import kiosk_actor

    return kiosk_actor(mpp)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The kiosk rate limit counts in the cache; each test starts at zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def at(day: str, hm: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=WITA)


@pytest.fixture
def make_citizen(db, system_actor, actor_of):
    """`make_citizen(verified=True, phone=...)` → (user, actor)."""
    from balai.accounts.actions import create_citizen_account
    from balai.accounts.models import User

    counter = iter(range(1, 1000))

    def make(*, verified: bool = True, phone: str = "", email: str = ""):
        n = next(counter)
        user = create_citizen_account(
            actor=system_actor,
            username=f"warga-janji-{n}",
            password="kata-sandi-warga-123",
            phone=phone,
            check_password=False,
        )
        User.objects.filter(pk=user.pk).update(
            is_verified_citizen=verified, email=email
        )
        user.refresh_from_db()
        return user, actor_of(user)

    return make


@pytest.fixture
def warga(make_citizen):
    return make_citizen()[1]
