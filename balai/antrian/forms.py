"""Forms of the queue pages; every writing form carries a minted idempotency key."""

from django import forms
from django.utils.translation import gettext_lazy as _

from balai.core.forms import IdempotentForm


class KioskForm(IdempotentForm):
    lane = forms.UUIDField(widget=forms.HiddenInput)


class ActForm(IdempotentForm):
    """A console button: the key is all it carries."""


class TransferForm(IdempotentForm):
    target = forms.CharField(label=_("Alihkan ke"), max_length=64)
    note = forms.CharField(label=_("Catatan"), max_length=255, required=False)


class LinkForm(IdempotentForm):
    application_id = forms.UUIDField(label=_("ID permohonan"))


class StatsForm(forms.Form):
    kantor = forms.CharField(label=_("Kantor"), required=False)
    tanggal = forms.DateField(
        label=_("Tanggal"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
