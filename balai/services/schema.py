"""Form fields as data: each service keeps a JSON Schema (Draft 2020-12) of its
form; this module checks schemas, validates answers against them with clear
Indonesian messages, and builds a plain Django form from a schema for pages.

Supported field shapes (enough for every service in the catalogue, and all a
page can render): string (with `format: date`, `enum`, `pattern`, lengths,
`x-widget: textarea`), integer, number, boolean. Labels come from `title`
(Indonesian) and `x-title-en`; enum labels from `x-enum-labels`.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import get_language
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from balai.core.errors import BalaiError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
FIELD_TYPES = frozenset({"string", "integer", "number", "boolean"})


def check_schema(schema: Any) -> dict:
    """Refuse a form schema that is not a usable Draft 2020-12 object schema."""
    if not isinstance(schema, dict):
        raise BalaiError("Skema formulir harus berupa objek JSON.", code="schema_bad")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise BalaiError(
            f"Skema formulir tidak sah menurut JSON Schema 2020-12: {exc.message}",
            code="schema_invalid",
        ) from exc
    if schema.get("type") != "object":
        raise BalaiError(
            "Skema formulir harus bertipe object.", code="schema_not_object"
        )
    properties = schema.get("properties", {})
    for name, spec in properties.items():
        if not isinstance(spec, dict) or spec.get("type") not in FIELD_TYPES:
            raise BalaiError(
                f"Isian '{name}' harus bertipe string, integer, number, atau boolean.",
                code="schema_field_type",
            )
        if not spec.get("title"):
            raise BalaiError(
                f"Isian '{name}' belum memiliki judul (title).",
                code="schema_field_title",
            )
    for name in schema.get("required", []):
        if name not in properties:
            raise BalaiError(
                f"Isian wajib '{name}' tidak ada di properties.",
                code="schema_required_unknown",
            )
    return schema


def _label(spec: dict, name: str) -> str:
    if (get_language() or "id").startswith("en") and spec.get("x-title-en"):
        return spec["x-title-en"]
    return spec.get("title") or name


def _message(error, schema: dict) -> tuple[str, str]:
    """Return (field, Indonesian message) for one validation error."""
    props = schema.get("properties", {})
    field = ".".join(str(p) for p in error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        spec = props.get(missing, {})
        return missing, f"{spec.get('title', missing)} wajib diisi."
    spec = props.get(field, {})
    if spec.get("x-error"):
        return field, spec["x-error"]
    title = spec.get("title", field)
    messages = {
        "type": f"{title}: jenis isian salah.",
        "enum": f"{title}: pilihan tidak dikenal.",
        "pattern": f"{title}: formatnya tidak sesuai.",
        "format": f"{title}: bukan tanggal yang sah (TTTT-BB-HH).",
        "minLength": f"{title} terlalu pendek.",
        "maxLength": f"{title} terlalu panjang.",
        "minimum": f"{title} terlalu kecil.",
        "maximum": f"{title} terlalu besar.",
        "additionalProperties": "Ada isian yang tidak dikenal pada formulir ini.",
    }
    return field, messages.get(kind, f"{title}: isian tidak sah.")


def validate_form_data(schema: dict, data: Any) -> dict:
    """Validate answers against a schema; raise one BalaiError listing them all."""
    if not isinstance(data, dict):
        raise BalaiError("Isian formulir harus berupa objek.", code="form_invalid")
    validator = Draft202012Validator(schema or {}, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    if errors:
        fields = [_message(e, schema) for e in errors]
        raise BalaiError(
            "Isian formulir belum benar: " + " ".join(m for _f, m in fields),
            code="form_invalid",
            extra={"fields": [{"field": f, "error": m} for f, m in fields]},
        )
    return data


class SchemaForm(forms.Form):
    """A Django form built from a service's JSON Schema (pages only)."""

    def __init__(self, *args, schema: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.schema = schema
        required = set(schema.get("required", []))
        for name, spec in schema.get("properties", {}).items():
            self.fields[name] = _field(spec, name, name in required)

    def json_data(self) -> dict:
        """Return the cleaned answers as JSON values (dates as ISO strings)."""
        data = {}
        for name, value in self.cleaned_data.items():
            spec = self.schema["properties"][name]
            if value in (None, "") and spec.get("type") != "boolean":
                continue
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif spec.get("type") == "integer" and value is not None:
                value = int(value)
            data[name] = value
        return data

    def add_schema_errors(self, error: BalaiError) -> None:
        for item in error.extra.get("fields", []):
            field = item["field"] if item["field"] in self.fields else None
            self.add_error(field, item["error"])


def _field(spec: dict, name: str, required: bool) -> forms.Field:
    label = _label(spec, name)
    help_text = spec.get("description", "")
    common = {"label": label, "required": required, "help_text": help_text}
    kind = spec.get("type")
    if kind == "boolean":
        return forms.BooleanField(**{**common, "required": False})
    if kind == "integer":
        return forms.IntegerField(
            min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common
        )
    if kind == "number":
        return forms.FloatField(**common)
    if "enum" in spec:
        labels = spec.get("x-enum-labels", {})
        choices = [("", "—")] + [(v, labels.get(v, v)) for v in spec["enum"]]
        return forms.ChoiceField(choices=choices, **common)
    if spec.get("format") == "date":
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}),
            input_formats=["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"],
            **common,
        )
    widget = forms.Textarea(attrs={"rows": 3}) if spec.get("x-widget") else None
    return forms.CharField(
        max_length=spec.get("maxLength"),
        widget=widget,
        strip=True,
        **common,
    )
