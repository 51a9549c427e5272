"""Message templates: `{placeholder}` parsing, validation and rendering.

Only bare names are allowed (`{nomor}`), never attribute or index access
(`{a.b}`, `{a[0]}`), conversions or format specs: a template is text an
administrator may edit, and it must not reach into the objects it is given.
Literal braces are written `{{` and `}}`.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Any

from balai.core.errors import BalaiError

MAX_VALUE_LENGTH = 500
_formatter = string.Formatter()


def placeholders(text: str) -> list[str]:
    """Return the placeholder names in `text`, in order; refuse a bad template."""
    names: list[str] = []
    try:
        parsed = list(_formatter.parse(text))
    except ValueError as exc:
        raise BalaiError(
            "Templat pesan tidak valid: kurung kurawal tidak seimbang. "
            "Tulis '{{' atau '}}' untuk kurung kurawal biasa.",
            code="template_syntax",
            extra={"error": str(exc)},
        ) from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise BalaiError(
                f"Isian '{{{name}}}' tidak diizinkan: gunakan nama sederhana "
                "seperti {nomor}.",
                code="template_placeholder_invalid",
                extra={"placeholder": name},
            )
        names.append(name)
    return names


def validate_template(*, subject: str, body: str, fields: Iterable[str]) -> None:
    """Check that the template uses exactly the fields it declares."""
    declared = list(fields)
    if len(set(declared)) != len(declared):
        raise BalaiError(
            "Daftar isian templat memuat nama ganda.", code="template_fields_duplicate"
        )
    for name in declared:
        if not name.isidentifier():
            raise BalaiError(
                f"Nama isian '{name}' tidak valid.", code="template_field_invalid"
            )
    if not body.strip():
        raise BalaiError("Isi templat pesan wajib diisi.", code="template_body_empty")
    used = set(placeholders(subject)) | set(placeholders(body))
    unknown = sorted(used - set(declared))
    if unknown:
        raise BalaiError(
            "Templat memakai isian yang tidak dideklarasikan: "
            + ", ".join(unknown)
            + ".",
            code="template_field_undeclared",
            extra={"fields": unknown},
        )
    unused = sorted(set(declared) - used)
    if unused:
        raise BalaiError(
            "Isian dideklarasikan tetapi tidak dipakai di templat: "
            + ", ".join(unused)
            + ".",
            code="template_field_unused",
            extra={"fields": unused},
        )


def check_context(*, fields: Iterable[str], context: Mapping[str, Any]) -> None:
    """Refuse a context that lacks a declared field or brings an unknown one."""
    declared = set(fields)
    missing = sorted(declared - set(context))
    if missing:
        raise BalaiError(
            "Data pesan belum lengkap; isian yang kurang: " + ", ".join(missing) + ".",
            code="message_context_missing",
            extra={"fields": missing},
        )
    unknown = sorted(set(context) - declared)
    if unknown:
        raise BalaiError(
            "Data pesan memuat isian yang tidak dikenal templat: "
            + ", ".join(unknown)
            + ".",
            code="message_context_unknown",
            extra={"fields": unknown},
        )
    too_long = sorted(k for k, v in context.items() if len(str(v)) > MAX_VALUE_LENGTH)
    if too_long:
        raise BalaiError(
            f"Isian terlalu panjang (maksimal {MAX_VALUE_LENGTH} karakter): "
            + ", ".join(too_long)
            + ".",
            code="message_context_too_long",
            extra={"fields": too_long},
        )


def render(text: str, context: Mapping[str, Any]) -> str:
    """Fill the placeholders of `text` from `context` (already checked)."""
    return text.format_map({k: str(v) for k, v in context.items()})
