import pytest

from balai.core.actors import Actor
from balai.regions.models import Region

pytestmark = pytest.mark.django_db


def kecamatan_actor(*codes: str) -> Actor:
    return Actor(user_id=None, username="x", roles=frozenset({"leader"}), scope=codes)


def test_covers_matches_whole_code_segments():
    actor = kecamatan_actor("64.02.06")
    assert actor.covers("64.02.06")
    assert actor.covers("64.02.06.1001")
    assert not actor.covers("64.02.061")
    assert not actor.covers("64.02.12.2001")
    assert not actor.covers("")
    assert not actor.covers(None)


def test_scope_q_filters_like_covers():
    actor = kecamatan_actor("64.02.06")
    codes = set(
        Region.objects.filter(actor.scope_q("code")).values_list("code", flat=True)
    )
    assert "64.02.06" in codes
    assert all(actor.covers(c) for c in codes)
    expected = {
        c for c in Region.objects.values_list("code", flat=True) if actor.covers(c)
    }
    assert codes == expected
    assert len(codes) > 1


def test_an_empty_scope_sees_nothing_and_none_sees_everything():
    nothing = kecamatan_actor()
    assert not Region.objects.filter(nothing.scope_q("code")).exists()
    everything = Actor.system()
    assert (
        Region.objects.filter(everything.scope_q("code")).count()
        == Region.objects.count()
    )
    assert everything.has_role("registrar"), "the system acts in every role"
