"""Read-only admin views of templates and the outbox (writes go through actions).

Lists show recipients masked and never a message body; a one-time-code body is
not shown at all.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from balai.notify.models import REDACTED_BODY, MessageTemplate, OutboxMessage
from balai.notify.recipients import mask


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ReadOnlyAdmin):
    list_display = ("code", "channel", "name", "is_sensitive", "is_active")
    list_filter = ("channel", "is_active")
    search_fields = ("code", "name")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "template_code",
        "channel",
        "masked_recipient",
        "status",
        "attempts",
        "next_attempt_at",
    )
    list_filter = ("status", "channel", "template_code")
    date_hierarchy = "created_at"
    fields = (
        "template_code",
        "channel",
        "masked_recipient",
        "subject",
        "shown_body",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "delivered_at",
        "failed_at",
        "provider",
        "provider_ref",
        "queued_by",
    )
    readonly_fields = fields

    @admin.display(description=_("penerima"))
    def masked_recipient(self, obj: OutboxMessage) -> str:
        return mask(obj.recipient)

    @admin.display(description=_("isi"))
    def shown_body(self, obj: OutboxMessage) -> str:
        return REDACTED_BODY if obj.is_sensitive else obj.body
