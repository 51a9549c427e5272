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


class BookForm(IdempotentForm):
    """Confirm a slot: the office, lane and start come from the slot chosen."""

    kantor = forms.CharField(widget=forms.HiddenInput, max_length=32)
    jalur = forms.UUIDField(widget=forms.HiddenInput)
    mulai = forms.CharField(widget=forms.HiddenInput, max_length=40)
    permohonan = forms.UUIDField(widget=forms.HiddenInput, required=False)


class CheckInForm(IdempotentForm):
    kode = forms.CharField(
        label=_("Kode janji temu"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters"}
        ),
    )


class AppointmentSettingsForm(IdempotentForm):
    is_enabled = forms.BooleanField(label=_("Menerima janji temu"), required=False)
    slot_minutes = forms.IntegerField(label=_("Lama satu slot (menit)"))
    capacity = forms.IntegerField(label=_("Kuota per slot per jalur"))
    days_ahead = forms.IntegerField(label=_("Dapat dipesan sampai (hari ke depan)"))


class OfficeCancelForm(IdempotentForm):
    """An officer cancels a booking; the reason is checked by the action (one
    rule, one message), so the field itself accepts an empty one."""

    alasan = forms.CharField(
        label=_("Alasan pembatalan"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"maxlength": "255", "autocomplete": "off"}),
    )
    tanggal = forms.DateField(widget=forms.HiddenInput, required=False)


class OfficeMissForm(IdempotentForm):
    """An officer marks one booking missed (its slot is over)."""

    tanggal = forms.DateField(widget=forms.HiddenInput, required=False)


class OfficeCancelDayForm(forms.Form):
    """An officer cancels every booking of a day nobody has come for yet; the
    reason is checked by the action, the confirmation by the view. No key:
    sent twice, the second finds nothing left to cancel."""

    alasan = forms.CharField(
        label=_("Alasan pembatalan"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"maxlength": "255", "autocomplete": "off"}),
    )
    tanggal = forms.DateField(widget=forms.HiddenInput)
    yakin = forms.BooleanField(
        label=_("Ya, batalkan semua janji temu yang belum hadir pada tanggal ini."),
        required=False,
    )


class DayForm(forms.Form):
    tanggal = forms.DateField(
        label=_("Tanggal"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
