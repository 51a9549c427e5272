"""Which node serves which office (DESIGN rule 3: one writer per record).

A node is the regency server (`"regency"`) or a kecamatan server named by its
Kemendagri code (`"64.02.12"`). A kecamatan node serves the offices whose
region lies in its kecamatan. The regency serves the regency's own offices
and, as long as a kecamatan runs no node of its own, that kecamatan's offices
too: `settings.BALAI_KECAMATAN_NODES` lists the kecamatan that do run one.
Documents, sync and every other owner of records ask this module, never
re-derive the rule.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

REGENCY_NODE = "regency"


def kecamatan_nodes() -> frozenset[str]:
    """Return the kecamatan codes that run a node of their own."""
    value: Any = getattr(settings, "BALAI_KECAMATAN_NODES", ())
    if isinstance(value, str):
        value = value.split(",")
    return frozenset(code.strip() for code in value if code and code.strip())


def _region_code(office_or_code: Any) -> str:
    if isinstance(office_or_code, str):
        return office_or_code
    code = getattr(office_or_code, "region_id", None)
    if not code:
        raise TypeError("node_serves needs an Office or a region code")
    return str(code)


def _within(region_code: str, prefix: str) -> bool:
    return region_code == prefix or region_code.startswith(prefix + ".")


def serving_node(office_or_code: Any) -> str:
    """Return the name of the node that serves an office (or a region code)."""
    region_code = _region_code(office_or_code)
    for kecamatan in kecamatan_nodes():
        if _within(region_code, kecamatan):
            return kecamatan
    return REGENCY_NODE


def node_serves(office_or_code: Any, *, node: str | None = None) -> bool:
    """Tell whether `node` (this node by default) is the one writer for an office.

    Accepts an `Office` or its region code. A kecamatan node serves exactly
    the regions under its code (on a dot boundary: "64.02.1" never serves
    "64.02.12"); the regency serves everything no kecamatan node serves.
    """
    node = node or settings.BALAI_NODE
    region_code = _region_code(office_or_code)
    if node == REGENCY_NODE:
        return serving_node(region_code) == REGENCY_NODE
    return _within(region_code, node)
