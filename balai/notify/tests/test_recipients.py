import pytest

from balai.core.errors import BalaiError
from balai.notify.recipients import (
    mask,
    normalize,
    normalize_phone,
    simulated_outcome,
)


@pytest.mark.parametrize(
    "raw",
    ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "(0812) 3456.7890"],
)
def test_phone_numbers_normalise_to_plus62(raw):
    assert normalize_phone(raw) == "+6281234567890"


@pytest.mark.parametrize("raw", ["", "12345", "0212345678", "08123", "0812abc45678"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(BalaiError) as exc:
        normalize_phone(raw)
    assert exc.value.code == "recipient_phone_invalid"


def test_email_domain_is_lowercased_and_bad_address_refused():
    assert normalize("email", "Rina@Contoh.GO.ID") == "Rina@contoh.go.id"
    with pytest.raises(BalaiError):
        normalize("email", "bukan-surel")


def test_masking_hides_the_middle():
    assert mask("+6281234567890") == "0812*****890"
    assert mask("rina@contoh.go.id") == "ri***@contoh.go.id"
    assert "3456" not in mask("+6281234567890")


def test_simulated_recipients():
    assert simulated_outcome(normalize_phone("08000000001")) == "delivered"
    assert simulated_outcome(normalize_phone("08000000002")) == "temporary_failure"
    assert simulated_outcome(normalize_phone("08000000003")) == "permanent_failure"
    assert simulated_outcome("Gagal-Permanen@simulasi.balai.invalid") == (
        "permanent_failure"
    )
    assert simulated_outcome("+6281234567890") is None
