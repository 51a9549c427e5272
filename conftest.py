"""Shared test fixtures. Data is built through the real actions."""

import datetime
import itertools

import pytest
from django.core.management import call_command
from pytest_django.plugin import blocking_manager_key

from balai.core.actors import Actor

_counter = itertools.count(1)

# Playwright fixtures (`browser`, `page`) for tests marked `browser`.
pytest_plugins = ["balai.core.tests.browser"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the regency's regions and offices once, through the real loader.

    A transactional test (`transaction=True`, `live_server`) empties every table
    when it ends, so transactional tests (run after the others) must not count
    on this: they ask for the `regions` fixture below.
    """
    with django_db_blocker.unblock():
        call_command("load_regions", verbosity=0)


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    ):
        return True
    names = getattr(item, "fixturenames", ())
    return "transactional_db" in names or "live_server" in names


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Load the regions again after a transactional test has flushed them.

    `make test` keeps each file on one worker (`--dist loadfile`), so a file
    with a transactional test may be followed by files that count on the
    regions `django_db_setup` loaded; they find them again here.
    """
    result = yield
    if (
        _is_transactional(item)
        and nextitem is not None
        and not _is_transactional(nextitem)
    ):
        with item.config.stash[blocking_manager_key].unblock():
            call_command("load_regions", verbosity=0)
    return result


@pytest.fixture
def regions(db):
    """Regions and offices, also in a transactional test that follows another.

    The loader skips what exists (0.1 s); after a flush it loads again (~1.5 s).
    `serialized_rollback=True` is no substitute: after a flush without it, the
    content types made again by post_migrate clash with those in the snapshot.
    """
    call_command("load_regions", verbosity=0)


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system(name="test")


@pytest.fixture
def make_staff(db, system_actor):
    """Create a staff user posted at an office with a role, via the actions."""
    from balai.accounts.actions import create_posting, create_staff
    from balai.regions.models import Office

    def make(
        *,
        office: str = "MPP-64.02.06",
        role: str = "counter_officer",
        username: str | None = None,
        position: str = "Petugas",
        is_head: bool = False,
        is_acting: bool = False,
        start_date: datetime.date = datetime.date(2024, 1, 1),
        end_date: datetime.date | None = None,
        nip: str = "",
    ):
        username = username or f"{role}{next(_counter)}"
        user = create_staff(
            actor=system_actor,
            username=username,
            full_name=f"Pegawai {username}",
            password="kata-sandi-uji-123",
            nip=nip,
            check_password=False,
            is_sysadmin=role == "sysadmin",
        )
        create_posting(
            actor=system_actor,
            user=user,
            office=Office.objects.get(code=office),
            position=position,
            role=role,
            start_date=start_date,
            end_date=end_date,
            is_head=is_head,
            is_acting=is_acting,
        )
        return user

    return make


@pytest.fixture
def actor_of():
    from balai.accounts.selectors import actor_for

    def get(user) -> Actor:
        return actor_for(user=user)

    return get


@pytest.fixture
def client_as(client):
    """Return a test client logged in as a user (second factor not passed)."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def make_resident(db, system_actor):
    """Register a resident through the register's actions (see
    `balai.registry.testing.make_resident`): heads a KK of his own in
    `village` unless `family=` is given; NIK made up valid unless `nik=` given
    (`nik=None`: awaiting one from SIAK); owner office = MPP of his kecamatan."""
    from balai.registry.testing import make_resident as make

    def build(**kwargs):
        actor = kwargs.pop("actor", system_actor)
        return make(actor, **kwargs)

    return build
