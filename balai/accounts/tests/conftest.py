"""Second-factor helpers for the accounts tests: real TOTP devices and codes."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


@pytest.fixture
def otp_required(settings):
    """Production behaviour: staff who read personal data need the second factor."""
    settings.BALAI_REQUIRE_OTP = True
    settings.BALAI_DEMO = False
    return settings


def current_code(device: TOTPDevice) -> str:
    """Return the code an authenticator app would show right now."""
    code = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift,
    )
    return f"{code:0{device.digits}d}"


@pytest.fixture
def totp_device():
    def make(user, *, confirmed: bool = True) -> TOTPDevice:
        return TOTPDevice.objects.create(user=user, name="ponsel", confirmed=confirmed)

    return make


@pytest.fixture
def verified_client(client, totp_device):
    """Log a user in and pass the second factor through the real OTP page."""

    def login(user):
        device = totp_device(user)
        client.force_login(user)
        response = client.post("/akun/otp/", {"token": current_code(device)})
        assert response.status_code == 302, response.content.decode()[:500]
        return client

    return login
