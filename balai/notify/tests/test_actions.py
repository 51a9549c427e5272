import datetime

import pytest
from django.db import transaction

from balai.audit.models import AuditEntry
from balai.core.errors import BalaiError
from balai.core.models import ChangeRecord
from balai.notify.actions import (
    queue_message,
    queue_to_office_head,
    record_send_result,
    retry_delay,
    seed_templates,
    update_template,
)
from balai.notify.catalog import CATALOG
from balai.notify.models import (
    REDACTED_BODY,
    MessageStatus,
    MessageTemplate,
    OutboxMessage,
)
from balai.notify.senders import SendResult
from balai.notify.sending import send_due_messages, send_message

pytestmark = pytest.mark.django_db

CTX = {
    "nomor": "P-2026-000123",
    "layanan": "Akta Kelahiran",
    "perkiraan_selesai": "5 Maret 2026",
    "tautan": "https://balai.example/lacak",
}
DELIVERS = "08000000001"
TEMP_FAILS = "08000000002"
PERM_FAILS = "08000000003"


def queue(actor, recipient=DELIVERS, **kwargs):
    kwargs.setdefault("template", "permohonan_diterima")
    kwargs.setdefault("context", CTX)
    return queue_message(actor=actor, recipient=recipient, **kwargs)


def test_seeding_is_idempotent(system_actor, templates):
    count = MessageTemplate.objects.count()
    assert count == sum(len(spec.texts) for spec in CATALOG)
    audit = AuditEntry.objects.count()
    assert seed_templates(actor=system_actor) == []
    assert MessageTemplate.objects.count() == count
    assert AuditEntry.objects.count() == audit


def test_seeding_needs_an_administrator(make_staff, actor_of):
    officer = actor_of(make_staff(role="counter_officer"))
    with pytest.raises(BalaiError) as exc:
        seed_templates(actor=officer)
    assert exc.value.code == "forbidden"


def test_queue_renders_writes_queued_and_sends_only_after_commit(
    system_actor, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue(system_actor)
        message.refresh_from_db()
        assert message.status == MessageStatus.QUEUED, "nothing sent before commit"
        assert message.attempts == 0
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.attempts == 1
    assert message.recipient == "+628000000001"
    assert message.channel == "sms"
    assert "P-2026-000123" in message.body
    assert "Akta Kelahiran" in message.body
    assert message.provider == "simulasi"
    entry = AuditEntry.objects.filter(object_id=str(message.pk)).first()
    assert entry.details["recipient"] == "0800****001"
    # Node-local: the outbox never enters the sync change log.
    assert not ChangeRecord.objects.filter(object_id=str(message.pk)).exists()


def test_a_rolled_back_transaction_sends_nothing(
    system_actor, templates, django_capture_on_commit_callbacks
):
    class Boom(Exception):
        pass

    def apply_then_fail():
        with transaction.atomic():
            queue(system_actor)
            raise Boom

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
    ):
        apply_then_fail()
    assert callbacks == []
    assert not OutboxMessage.objects.exists()


def test_channel_follows_the_recipient_and_email_gets_a_subject(
    system_actor, templates, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(system_actor, recipient="terkirim@simulasi.balai.invalid")
    message.refresh_from_db()
    assert message.channel == "email"
    assert message.subject == "Permohonan P-2026-000123 diterima"
    assert message.status == MessageStatus.DELIVERED
    assert mailoutbox == [], "a simulated recipient reaches no backend"


def test_bad_context_or_recipient_writes_nothing(system_actor, templates):
    with pytest.raises(BalaiError) as exc:
        queue(system_actor, context={"nomor": "1"})
    assert exc.value.code == "message_context_missing"
    with pytest.raises(BalaiError) as exc:
        queue(system_actor, recipient="12")
    assert exc.value.code == "recipient_phone_invalid"
    with pytest.raises(BalaiError) as exc:
        queue(system_actor, template="tidak_ada")
    assert exc.value.code == "template_not_found"
    with pytest.raises(BalaiError) as exc:
        queue(system_actor, template="sla_peringatan", channel="whatsapp")
    assert exc.value.code == "template_not_found"
    assert not OutboxMessage.objects.exists()


def test_inactive_template_is_refused(system_actor, templates):
    tpl = MessageTemplate.objects.get(code="permohonan_diterima", channel="sms")
    update_template(
        actor=system_actor,
        template=tpl,
        subject="",
        body=tpl.body,
        fields=tpl.fields,
        is_active=False,
    )
    with pytest.raises(BalaiError) as exc:
        queue(system_actor)
    assert exc.value.code == "template_inactive"


def test_update_template_validates_fields(system_actor, templates):
    tpl = MessageTemplate.objects.get(code="permohonan_diterima", channel="sms")
    with pytest.raises(BalaiError) as exc:
        update_template(
            actor=system_actor,
            template=tpl,
            subject="",
            body="Nomor {nomor} {rahasia}",
            fields=["nomor"],
        )
    assert exc.value.code == "template_field_undeclared"
    tpl.refresh_from_db()
    assert "{rahasia}" not in tpl.body


def test_idempotent_queue_writes_one_message_and_sends_once(
    system_actor, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = queue(system_actor, idempotency_key="kirim-1")
        again = queue(system_actor, idempotency_key="kirim-1")
    assert first.pk == again.pk
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1
    with pytest.raises(BalaiError) as exc:
        queue(system_actor, recipient="08000000003", idempotency_key="kirim-1")
    assert exc.value.code == "idempotency_mismatch"


def test_backoff_schedule():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [
        datetime.timedelta(minutes=m) for m in (1, 5, 25, 125)
    ]


def test_temporary_failure_is_retried_with_backoff_then_fails(
    system_actor, templates, clock, django_capture_on_commit_callbacks
):
    start = clock.now
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(system_actor, recipient=TEMP_FAILS)
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 1
    assert message.next_attempt_at == start + datetime.timedelta(minutes=1)
    assert "sementara" in message.last_error

    # Not due yet: nothing happens.
    clock.advance(seconds=59)
    assert send_due_messages().picked == 0

    # Attempts 2 to 5 run when due; the waits grow 1, 5, 25, 125 minutes.
    for attempt, wait in enumerate([1, 5, 25, 125], start=1):
        message.refresh_from_db()
        assert message.attempts == attempt
        assert message.next_attempt_at == clock.now + datetime.timedelta(
            minutes=wait, seconds=-59 if attempt == 1 else 0
        )
        clock.now = message.next_attempt_at
        assert send_due_messages().picked == 1
    message.refresh_from_db()
    assert message.attempts == 5
    assert message.status == MessageStatus.FAILED
    assert message.next_attempt_at is None
    assert message.failed_at == clock.now
    clock.advance(days=1)
    assert send_due_messages().picked == 0, "a failed message is never re-sent"


def test_retry_times_follow_1_5_25_125_minutes(system_actor, templates, clock):
    message = queue(system_actor, recipient=TEMP_FAILS)
    seen = []
    for _ in range(4):
        before = clock.now
        send_message(str(message.pk))
        message.refresh_from_db()
        seen.append(message.next_attempt_at - before)
        clock.now = message.next_attempt_at
    assert seen == [datetime.timedelta(minutes=m) for m in (1, 5, 25, 125)]


def test_permanent_failure_stops_at_once(
    system_actor, templates, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(system_actor, recipient=PERM_FAILS)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 1
    assert message.next_attempt_at is None
    clock.advance(hours=3)
    assert send_due_messages().picked == 0


def test_a_message_is_claimed_once(system_actor, templates):
    message = queue(system_actor)
    assert send_message(str(message.pk)).status == MessageStatus.DELIVERED
    assert send_message(str(message.pk)) is None
    message.refresh_from_db()
    assert message.attempts == 1


def test_send_due_picks_up_a_message_the_worker_never_got(system_actor, templates):
    # Queued outside on_commit capture: the task never ran (worker down).
    message = queue(system_actor)
    assert message.status == MessageStatus.QUEUED
    run = send_due_messages()
    assert (run.picked, run.delivered) == (1, 1)


def test_abandoned_send_is_retried_after_the_stale_limit(
    system_actor, templates, clock, settings
):
    message = queue(system_actor)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, sending_started_at=clock.now, attempts=1
    )
    clock.advance(minutes=10)
    assert send_due_messages().picked == 0
    clock.advance(minutes=6)
    assert send_due_messages().delivered == 1


def test_a_crashing_sender_counts_as_temporary_failure(
    system_actor, templates, settings
):
    settings.BALAI_NOTIFY_SENDERS = {"sms": "nonsense"}
    message = queue(system_actor, recipient="081234567890")
    result = send_message(str(message.pk))
    assert result.status == MessageStatus.QUEUED
    assert "nonsense" in result.last_error


def test_sensitive_body_is_blanked_once_sent(system_actor, templates):
    message = queue(
        system_actor,
        template="otp_pendaftaran",
        context={"kode": "482913", "menit": 5},
    )
    assert "482913" in message.body
    send_message(str(message.pk))
    message.refresh_from_db()
    assert message.is_sensitive
    assert message.body == REDACTED_BODY
    assert not AuditEntry.objects.filter(details__icontains="482913").exists()


def test_a_receipt_that_overtakes_the_result_is_kept(system_actor, templates):
    message = queue(system_actor, recipient="081234567890")
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.DELIVERED, provider="sms"
    )
    message.refresh_from_db()
    kept = record_send_result(
        actor=system_actor,
        message=message,
        result=SendResult(outcome="sent", provider="sms", provider_ref="x"),
    )
    assert kept.status == MessageStatus.DELIVERED
    assert kept.sent_at is not None


def test_queue_to_office_head(make_staff, system_actor, templates, actor_of):
    head = make_staff(office="MPP-64.02.12", role="leader", is_head=True)
    head.email = "camat@contoh.go.id"
    head.phone = "0812 1111 2222"
    head.save()
    sent = queue_to_office_head(
        actor=system_actor,
        office=head.postings.get().office,
        template="sla_terlampaui",
        context={
            "nomor": "P-1",
            "layanan": "KK",
            "kantor": "MPP Tabang",
            "batas_waktu": "1 Maret 2026",
            "terlambat": "2 hari kerja",
        },
    )
    assert sorted((m.channel, m.recipient) for m in sent) == [
        ("email", "camat@contoh.go.id"),
        ("sms", "+6281211112222"),
    ]


def test_office_without_head_is_refused(system_actor, templates):
    from balai.regions.models import Office

    with pytest.raises(BalaiError) as exc:
        queue_to_office_head(
            actor=system_actor,
            office=Office.objects.get(code="MPP-64.02.01"),
            template="sla_terlampaui",
            context={},
        )
    assert exc.value.code == "office_head_missing"
