import pytest

from balai.core.errors import BalaiError
from balai.notify.catalog import CATALOG
from balai.notify.templating import (
    check_context,
    placeholders,
    render,
    validate_template,
)


def test_placeholders_in_order_and_escaped_braces_are_literal():
    assert placeholders("Nomor {nomor} untuk {layanan}; {{bukan}}") == [
        "nomor",
        "layanan",
    ]
    assert render("{{x}} {a}", {"a": 1}) == "{x} 1"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("Halo {nama.upper}", "template_placeholder_invalid"),
        ("Halo {nama[0]}", "template_placeholder_invalid"),
        ("Halo {nama!r}", "template_placeholder_invalid"),
        ("Halo {nama:>10}", "template_placeholder_invalid"),
        ("Halo {nama", "template_syntax"),
        ("Halo {}", "template_placeholder_invalid"),
    ],
)
def test_only_bare_names_are_allowed(body, code):
    with pytest.raises(BalaiError) as exc:
        validate_template(subject="", body=body, fields=["nama"])
    assert exc.value.code == code


def test_template_must_use_exactly_its_declared_fields():
    with pytest.raises(BalaiError) as exc:
        validate_template(subject="", body="{nomor} {kode}", fields=["nomor"])
    assert exc.value.code == "template_field_undeclared"
    assert exc.value.extra["fields"] == ["kode"]
    with pytest.raises(BalaiError) as exc:
        validate_template(subject="{nomor}", body="isi", fields=["nomor", "sisa"])
    assert exc.value.code == "template_field_unused"
    # A field used only in the subject counts as used.
    validate_template(subject="{nomor}", body="isi", fields=["nomor"])


def test_context_must_match_the_fields():
    with pytest.raises(BalaiError) as exc:
        check_context(fields=["a", "b"], context={"a": 1})
    assert exc.value.code == "message_context_missing"
    assert "b" in exc.value.message
    with pytest.raises(BalaiError) as exc:
        check_context(fields=["a"], context={"a": 1, "z": 2})
    assert exc.value.code == "message_context_unknown"
    with pytest.raises(BalaiError) as exc:
        check_context(fields=["a"], context={"a": "x" * 501})
    assert exc.value.code == "message_context_too_long"


def test_every_shipped_template_is_valid_and_covers_the_journeys():
    codes = {spec.code for spec in CATALOG}
    assert codes == {
        "otp_pendaftaran",
        "permohonan_diterima",
        "status_berubah",
        "perlu_perbaikan",
        "siap_diambil",
        "janji_temu_dibuat",
        "janji_temu_dibatalkan",
        "janji_temu_terlewat",
        "sla_peringatan",
        "sla_terlampaui",
    }
    for spec in CATALOG:
        for channel, (subject, body) in spec.texts.items():
            assert channel in {"sms", "whatsapp", "email"}
            assert bool(subject) == (channel == "email"), (spec.code, channel)
            validate_template(subject=subject, body=body, fields=spec.fields)
    sensitive = {spec.code for spec in CATALOG if spec.sensitive}
    assert sensitive == {"otp_pendaftaran"}
