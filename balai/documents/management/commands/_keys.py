"""Helpers shared by the key commands (not a command itself)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from balai.core.actors import Actor
from balai.documents import keys


def add_root_key_argument(parser) -> None:
    parser.add_argument(
        "--root-key",
        type=Path,
        default=None,
        help="Berkas kunci akar (bawaan: BALAI_KEY_DIR/documents/root/). "
        "Kunci akar boleh disimpan luring, mis. di media lepas.",
    )


def load_root(path: Path | None):
    try:
        return keys.load_root_key(path)
    except keys.KeyProblem as exc:
        raise CommandError(str(exc)) from exc


def system_actor() -> Actor:
    return Actor.system(name="kunci-dokumen")


def parse_moment(text: str) -> dt.datetime:
    """`now`, or an ISO date/time; without an offset it is read as WITA."""
    if text.strip().lower() in {"now", "sekarang"}:
        return timezone.now().replace(microsecond=0)
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise CommandError(
            f"Waktu '{text}' tidak sah; contoh: 2026-11-12T08:00 atau now."
        ) from exc
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.replace(microsecond=0)


def describe(cert: keys.Certificate) -> str:
    return (
        f"kunci {cert.key_id} untuk node {cert.node}, berlaku "
        f"{keys.utc_text(cert.not_before)} s.d. {keys.utc_text(cert.not_after)}"
    )
