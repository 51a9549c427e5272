"""A node too long without sync refuses staff logins; the regency never does."""

import datetime

import pytest
from django.utils import timezone

from balai.sync.models import SyncState

from .conftest import MPP, NODE

pytestmark = pytest.mark.django_db


def _login(client, username):
    return client.post(
        "/akun/masuk/", {"username": username, "password": "kata-sandi-uji-123"}
    )


def test_a_stale_node_refuses_staff_with_the_reason(
    client, settings, make_staff, regions
):
    settings.BALAI_NODE = NODE
    settings.BALAI_NODE_MAX_DAYS_OFFLINE = 3
    staff = make_staff(office=MPP)
    SyncState.objects.create(
        pk=1, node=NODE, last_success_at=timezone.now() - datetime.timedelta(days=4)
    )
    response = _login(client, staff.username)
    assert response.status_code == 200
    page = response.content.decode()
    assert "belum tersinkron dengan kabupaten lebih dari 3 hari" in page
    assert "_auth_user_id" not in client.session
    SyncState.objects.filter(pk=1).update(last_success_at=timezone.now())
    response = _login(client, staff.username)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_the_api_token_is_refused_too_on_a_stale_node(
    client, settings, make_staff, regions
):
    settings.BALAI_NODE = NODE
    settings.BALAI_NODE_MAX_DAYS_OFFLINE = 1
    staff = make_staff(office=MPP)
    SyncState.objects.create(
        pk=1, node=NODE, last_success_at=timezone.now() - datetime.timedelta(days=2)
    )
    response = client.post(
        "/api/v1/auth/token",
        {"username": staff.username, "password": "kata-sandi-uji-123"},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_the_regency_and_an_unsynced_install_never_refuse(client, settings, make_staff):
    staff = make_staff(office=MPP)
    SyncState.objects.create(
        pk=1, node=NODE, last_success_at=timezone.now() - datetime.timedelta(days=90)
    )
    assert _login(client, staff.username).status_code == 302  # BALAI_NODE=regency
