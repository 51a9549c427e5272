import pytest
from django.test import RequestFactory

from balai.core.api import idempotency_key
from balai.core.errors import BalaiError


def request_with(**headers):
    return RequestFactory().post("/api/v1/x", headers=headers)


def test_no_header_means_no_key():
    assert idempotency_key(request_with()) is None
    assert idempotency_key(request_with(**{"Idempotency-Key": "  "})) is None


def test_the_header_is_read_and_trimmed():
    key = idempotency_key(request_with(**{"Idempotency-Key": " 0190-abc "}))
    assert key == "0190-abc"


@pytest.mark.parametrize("bad", ["k" * 129, "kunci\u00e9", "a\tb"])
def test_bad_keys_are_refused(bad):
    with pytest.raises(BalaiError) as info:
        idempotency_key(request_with(**{"Idempotency-Key": bad}))
    assert (info.value.code, info.value.status_code) == ("idempotency_key_invalid", 422)
