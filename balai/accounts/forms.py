from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from balai.accounts.models import Role
from balai.core.forms import IdempotentForm


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "Nama pengguna atau kata sandi salah. Perhatikan huruf besar dan kecil."
        ),
        "inactive": _("Akun ini tidak aktif."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Nama pengguna")
        self.fields["password"].label = _("Kata sandi")


class OtpForm(forms.Form):
    token = forms.CharField(
        label=_("Kode dari aplikasi autentikator"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}
        ),
        error_messages={"required": _("Masukkan kode 6 angka.")},
    )


class PostingForm(IdempotentForm):
    """Post a staff user to this office (the office comes from the URL)."""

    username = forms.CharField(label=_("Nama pengguna petugas"), max_length=150)
    position = forms.CharField(
        label=_("Jabatan"),
        max_length=100,
        help_text=_("Misalnya: Camat, Kepala Desa, Petugas Loket."),
    )
    role = forms.ChoiceField(label=_("Peran"), choices=Role.choices)
    start_date = forms.DateField(
        label=_("Mulai"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=_("Selesai"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    is_head = forms.BooleanField(label=_("Kepala kantor"), required=False)
    is_acting = forms.BooleanField(label=_("Pelaksana tugas (Plt.)"), required=False)
