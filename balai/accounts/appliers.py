"""How staff accounts sync (balai.sync).

A node holds the staff ever posted at its offices (so a deactivation or an
ended posting reaches it), and may change only those: a posting at an office
it serves, a user posted there. No node can make anyone an administrator or
turn a citizen account into a staff account. API tokens stay where issued.
"""

from __future__ import annotations

from typing import Any

from balai.sync.framework import LOCAL, OWNED, USER, ModelSpec

SPECS = [
    ModelSpec("accounts.user", kind=USER),
    ModelSpec(
        "accounts.posting",
        kind=OWNED,
        owner=lambda v, unit: unit.offices.region_of_id(v["office_id"]),
        group_keys=lambda v: [("user", str(v["user_id"]))],
    ),
    ModelSpec("accounts.apitoken", kind=LOCAL),
]


def validate(unit: Any) -> None:
    from balai.accounts.models import Posting
    from balai.sync.models import ConflictKind

    users = unit.of_model("accounts.user")
    if not users:
        return
    posted_here = {
        str(i.values["user_id"])
        for i in unit.of_model("accounts.posting")
        if i.values is not None
        and unit.served(unit.offices.region_of_id(i.values["office_id"]))
    }
    ids = sorted({i.object_id for i in users})
    for user_id, region in Posting.objects.filter(user_id__in=ids).values_list(
        "user_id", "office__region_id"
    ):
        if unit.served(region):
            posted_here.add(str(user_id))
    for item in users:
        if item.op != "upsert":
            unit.refuse(item, ConflictKind.INVALID, "Akun tidak dihapus dari node.")
            continue
        if item.object_id not in posted_here:
            unit.refuse(
                item,
                ConflictKind.NOT_SERVED,
                "Akun ini tidak bertugas di kantor yang dilayani node ini.",
            )
            continue
        current = unit.current("accounts.user", item.object_id) or {}
        values = item.values
        for flag in ("is_superuser", "is_staff"):
            if values.get(flag) and not current.get(flag):
                unit.refuse(
                    item,
                    ConflictKind.INVALID,
                    "Hak administrator tidak dapat diberikan dari node.",
                )
        if current and values.get("kind") != current.get("kind"):
            unit.refuse(
                item, ConflictKind.INVALID, "Jenis akun tidak dapat diubah dari node."
            )
