"""Turn model instances into plain JSON values for the change log and audit."""

import datetime
import decimal
import uuid
from typing import Any

from django.db import models


def json_value(value: Any) -> Any:
    """Return `value` as something `json.dumps` takes, losing nothing that matters."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(v) for v in value]
    return str(value)


def model_payload(obj: models.Model) -> dict[str, Any]:
    """Return the concrete field values of `obj`, keyed by attribute name."""
    return {
        f.attname: json_value(getattr(obj, f.attname))
        for f in obj._meta.concrete_fields
    }
