"""Who is acting: the user, the office he acts for, his role and his scope.

Every action and selector takes an `Actor`. Scope is a set of Kemendagri
region-code prefixes; `None` means the whole regency.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from balai.core.errors import NotFound, PermissionDenied


@dataclass(frozen=True)
class Actor:
    """A person (or the system) acting for an office, with a role and a scope."""

    user_id: uuid.UUID | None
    username: str
    office_id: uuid.UUID | None = None
    office_code: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    # Region-code prefixes this actor may read and change; None = everything.
    scope: tuple[str, ...] | None = None
    is_citizen: bool = False
    # The resident a citizen account belongs to (for "my data" reads).
    resident_id: uuid.UUID | None = None
    # The postings (with their user) the actor held on `postings_on`, as read
    # when the actor was made: signing a receipt then needs no second look.
    postings: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    postings_on: datetime.date | None = field(default=None, compare=False, repr=False)

    @classmethod
    def system(cls, *, name: str = "sistem", office: Any = None) -> Actor:
        """Return the actor for commands, imports and scheduled jobs."""
        return cls(
            user_id=None,
            username=name,
            office_id=getattr(office, "id", None),
            office_code=getattr(office, "code", ""),
            roles=frozenset({"system"}),
            scope=None,
        )

    @property
    def is_system(self) -> bool:
        return "system" in self.roles

    @property
    def sees_everything(self) -> bool:
        return self.scope is None

    def has_role(self, *roles: str) -> bool:
        return self.is_system or bool(self.roles.intersection(roles))

    def require_role(self, *roles: str) -> None:
        """Refuse unless the actor holds one of `roles`."""
        if not self.has_role(*roles):
            raise PermissionDenied()

    def covers(self, region_code: str | None) -> bool:
        """Tell whether a record in `region_code` is within this actor's scope."""
        if self.scope is None:
            return True
        if not region_code:
            return False
        return any(
            region_code == prefix or region_code.startswith(prefix + ".")
            for prefix in self.scope
        )

    def require_covers(self, region_code: str | None) -> None:
        """Refuse, as if the record did not exist, when it is out of scope."""
        if not self.covers(region_code):
            raise NotFound()

    def scope_q(self, field_name: str) -> Q:
        """Return a filter limiting `field_name` (a region code) to the scope."""
        if self.scope is None:
            return Q()
        if not self.scope:
            return Q(pk__in=[])
        q = Q()
        for prefix in self.scope:
            q |= Q(**{field_name: prefix}) | Q(
                **{f"{field_name}__startswith": prefix + "."}
            )
        return q
