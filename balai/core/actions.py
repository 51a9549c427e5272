"""The shape every write takes: `@action` makes a function atomic and idempotent.

An action is keyword-only and takes `actor`; callers may pass
`idempotency_key` (from an `Idempotency-Key` header or a key minted into a
form). A replay with the same key and the same arguments returns the first
result and writes nothing; the same key with other arguments is refused.
"""

import contextvars
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.apps import apps
from django.db import IntegrityError, models, transaction

from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.core.models import IdempotencyRecord
from balai.core.rows import insert_rows, update_row
from balai.core.serialize import json_value

P = ParamSpec("P")
R = TypeVar("R")

_current_action: contextvars.ContextVar[str] = contextvars.ContextVar(
    "balai_current_action", default=""
)


# Audit entries held back to the end of a `balai.audit.actions.batched` block.
# It lives here so that a nested action that fails can take back its own: its
# savepoint rolled back what they describe.
deferred_writes: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "balai_deferred_writes", default=None
)


def current_action() -> str:
    """Return the code of the action now running (for the audit entry)."""
    return _current_action.get()


def _fingerprint(kwargs: dict[str, Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, models.Model):
            return f"{value._meta.label_lower}:{value.pk}"
        if hasattr(value, "read") or hasattr(value, "chunks"):
            return f"file:{getattr(value, 'name', '')}:{getattr(value, 'size', '')}"
        return json_value(value)

    body = json.dumps(
        {k: plain(v) for k, v in sorted(kwargs.items())}, sort_keys=True, default=str
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _actor_key(actor: Actor) -> str:
    return str(actor.user_id) if actor.user_id else f"system:{actor.username}"


def _replay(record: IdempotencyRecord, fingerprint: str) -> Any:
    if record.fingerprint != fingerprint:
        raise BalaiError(
            "Kunci idempotensi ini sudah dipakai untuk permintaan yang berbeda.",
            code="idempotency_mismatch",
            status_code=422,
        )
    if not record.result_model:
        return None
    model = apps.get_model(record.result_model)
    return model._default_manager.get(pk=record.result_id)


def action(code: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a write: run it in one transaction, audited, replayable by key."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if args:
                raise TypeError(f"{fn.__name__} takes keyword arguments only")
            actor = kwargs.get("actor")
            if not isinstance(actor, Actor):
                raise TypeError(f"{fn.__name__} needs actor=Actor(...)")
            key = kwargs.pop("idempotency_key", None)
            token = _current_action.set(code)
            pending = deferred_writes.get()
            mark = len(pending) if pending is not None else 0
            try:
                if not key:
                    with transaction.atomic():
                        return fn(**kwargs)
                return _run_once(
                    fn, code=code, actor=actor, key=str(key), kwargs=kwargs
                )
            except BaseException:
                if pending is not None:
                    del pending[mark:]
                raise
            finally:
                _current_action.reset(token)

        wrapper.action_code = code  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _claim(lookup: dict[str, str], fingerprint: str) -> IdempotencyRecord | None:
    """Insert the key's record unless it exists (one statement); None if taken."""
    record = IdempotencyRecord(**lookup, fingerprint=fingerprint)
    if not insert_rows([record], unless_taken=("action", "actor", "key")):
        return None
    return record


def _run_once(
    fn: Callable[..., Any], *, code: str, actor: Actor, key: str, kwargs: dict[str, Any]
) -> Any:
    if len(key) > 128:
        raise BalaiError("Kunci idempotensi terlalu panjang (maksimal 128 karakter).")
    fingerprint = _fingerprint({k: v for k, v in kwargs.items() if k != "actor"})
    lookup = {"action": code, "actor": _actor_key(actor), "key": key}
    for _attempt in range(2):
        try:
            with transaction.atomic():
                # Claim the key first: a concurrent twin blocks on the unique
                # index here and, once we commit, finds the key taken and
                # replays our result.
                record = _claim(lookup, fingerprint)
                if record is None:
                    existing = IdempotencyRecord.objects.filter(**lookup).first()
                    if existing is not None:
                        return _replay(existing, fingerprint)
                    continue  # taken and purged meanwhile: claim it again
                result = fn(**kwargs)
                if isinstance(result, models.Model):
                    record.result_model = result._meta.label_lower
                    record.result_id = str(result.pk)
                    update_row(record, fields=["result_model", "result_id"])
                return result
        except IntegrityError:
            if not IdempotencyRecord.objects.filter(**lookup).exists():
                raise
    existing = IdempotencyRecord.objects.get(**lookup)
    return _replay(existing, fingerprint)
