"""Recipients: normalising phone numbers and addresses, masking them in lists,
and the simulated recipients tests and demos use instead of a real network.

Simulated recipients work like GOV.UK Notify's: whatever sender is configured,
a message to one of them is never handed to a gateway; its outcome is fixed.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from balai.core.errors import BalaiError

PHONE_CHANNELS = frozenset({"sms", "whatsapp"})

_SEPARATORS = re.compile(r"[\s\-.()/]")
# An Indonesian mobile number after the country code: 8, then 8 to 12 digits.
_NATIONAL = re.compile(r"^8\d{8,12}$")

DELIVERED = "delivered"
TEMPORARY_FAILURE = "temporary_failure"
PERMANENT_FAILURE = "permanent_failure"

# Phone numbers as dialled (0800000000x) and e-mail addresses on a reserved
# domain (.invalid never resolves) that force an outcome.
SIMULATED_PHONES = {
    "+628000000001": DELIVERED,
    "+628000000002": TEMPORARY_FAILURE,
    "+628000000003": PERMANENT_FAILURE,
}
SIMULATED_EMAILS = {
    "terkirim@simulasi.balai.invalid": DELIVERED,
    "gagal-sementara@simulasi.balai.invalid": TEMPORARY_FAILURE,
    "gagal-permanen@simulasi.balai.invalid": PERMANENT_FAILURE,
}


def normalize_phone(raw: str) -> str:
    """Return an Indonesian mobile number as +62…, or refuse it."""
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+62"):
        national = digits[3:]
    elif digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        national = digits
    if not _NATIONAL.match(national):
        raise BalaiError(
            "Nomor telepon tidak valid. Tulis nomor ponsel Indonesia, "
            "misalnya 0812 3456 7890.",
            code="recipient_phone_invalid",
        )
    return "+62" + national


def normalize_email(raw: str) -> str:
    """Return an e-mail address with its domain in lower case, or refuse it."""
    value = (raw or "").strip()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise BalaiError(
            "Alamat surel tidak valid.", code="recipient_email_invalid"
        ) from exc
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalize(channel: str, raw: str) -> str:
    """Normalise a recipient for a channel: a phone number or an address."""
    if channel in PHONE_CHANNELS:
        return normalize_phone(raw)
    return normalize_email(raw)


def guess_channel(raw: str, *, phone_channel: str = "sms") -> str:
    """Pick the channel a recipient implies: e-mail for an address, else phone."""
    return "email" if "@" in (raw or "") else phone_channel


def simulated_outcome(recipient: str) -> str | None:
    """Return the forced outcome for a simulated recipient, None for a real one."""
    return SIMULATED_PHONES.get(recipient) or SIMULATED_EMAILS.get(recipient.lower())


def mask(recipient: str) -> str:
    """Hide most of a recipient for lists and logs: 0812*****890, ra***@x.id."""
    if not recipient:
        return ""
    if "@" in recipient:
        local, _, domain = recipient.rpartition("@")
        return f"{local[:2]}***@{domain}"
    local = "0" + recipient[3:] if recipient.startswith("+62") else recipient
    if len(local) <= 7:
        return "*" * len(local)
    return local[:4] + "*" * (len(local) - 7) + local[-3:]
