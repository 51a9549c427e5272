import pytest

from balai.notify.actions import queue_message

pytestmark = pytest.mark.django_db


def test_admin_list_masks_phone_and_never_shows_bodies(
    make_staff, client_as, system_actor, templates
):
    queue_message(
        actor=system_actor,
        template="otp_pendaftaran",
        recipient="081234567890",
        context={"kode": "904417", "menit": 5},
    )
    client = client_as(make_staff(role="sysadmin"))
    page = client.get("/admin/notify/outboxmessage/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "0812*****890" in html
    assert "081234567890" not in html
    assert "+6281234567890" not in html
    assert "904417" not in html


def test_admin_detail_hides_a_one_time_code(
    make_staff, client_as, system_actor, templates
):
    message = queue_message(
        actor=system_actor,
        template="otp_pendaftaran",
        recipient="081234567890",
        context={"kode": "904417", "menit": 5},
    )
    client = client_as(make_staff(role="sysadmin"))
    page = client.get(f"/admin/notify/outboxmessage/{message.pk}/change/")
    assert page.status_code == 200
    assert "904417" not in page.content.decode()


def test_admin_is_read_only(make_staff, client_as):
    client = client_as(make_staff(role="sysadmin"))
    assert client.get("/admin/notify/outboxmessage/add/").status_code == 403
