import pytest

from balai.core.nodes import kecamatan_nodes, node_serves, serving_node
from balai.regions.models import Office

pytestmark = pytest.mark.django_db


@pytest.fixture
def offices():
    return {
        "regency": Office.objects.get(code="DISDUKCAPIL"),
        "mpp_tabang": Office.objects.get(code="MPP-64.02.12"),
        "desa_tabang": Office.objects.get(code="DESA-64.02.12.2001"),
        "mpp_muntai": Office.objects.get(code="MPP-64.02.01"),
    }


def test_kecamatan_node_serves_only_its_own_kecamatan(settings, offices):
    settings.BALAI_NODE = "64.02.12"
    settings.BALAI_KECAMATAN_NODES = "64.02.12"
    assert node_serves(offices["mpp_tabang"])
    assert node_serves(offices["desa_tabang"])
    assert not node_serves(offices["mpp_muntai"])
    assert not node_serves(offices["regency"])


def test_prefix_match_stops_at_a_dot_boundary():
    # 64.02.1 is not a kecamatan of 64.02.12 (and 64.02.12 not of 64.02.1).
    assert not node_serves("64.02.12.2001", node="64.02.1")
    assert node_serves("64.02.12", node="64.02.12")
    assert not node_serves("64.02.120", node="64.02.12")


def test_regency_serves_its_offices_and_kecamatan_without_a_node(settings, offices):
    settings.BALAI_NODE = "regency"
    settings.BALAI_KECAMATAN_NODES = ["64.02.12"]
    assert node_serves(offices["regency"])
    assert node_serves(offices["mpp_muntai"]), "Muara Muntai has no node yet"
    assert not node_serves(offices["mpp_tabang"])
    assert not node_serves(offices["desa_tabang"])
    assert serving_node(offices["desa_tabang"]) == "64.02.12"
    assert serving_node(offices["mpp_muntai"]) == "regency"


def test_without_kecamatan_nodes_the_regency_serves_everything(settings, offices):
    settings.BALAI_NODE = "regency"
    settings.BALAI_KECAMATAN_NODES = ""
    assert kecamatan_nodes() == frozenset()
    assert all(node_serves(o) for o in offices.values())


def test_explicit_node_argument_overrides_the_setting(settings, offices):
    settings.BALAI_NODE = "regency"
    settings.BALAI_KECAMATAN_NODES = "64.02.12, 64.02.01"
    assert kecamatan_nodes() == {"64.02.12", "64.02.01"}
    assert node_serves(offices["mpp_muntai"], node="64.02.01")
    assert not node_serves(offices["mpp_muntai"])


def test_rejects_what_is_neither_office_nor_code():
    with pytest.raises(TypeError):
        node_serves(object())
