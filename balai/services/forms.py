"""Plain forms of the service pages (the service's own fields come from its
JSON Schema, see `schema.SchemaForm`)."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from balai.core.forms import IdempotentForm
from balai.services.models import IKM_ELEMENTS, Relation

SCORE_CHOICES = [
    (1, _("1 — tidak baik")),
    (2, _("2 — kurang baik")),
    (3, _("3 — baik")),
    (4, _("4 — sangat baik")),
]


class ApplyForm(forms.Form):
    relation = forms.ChoiceField(
        label=_("Permohonan ini untuk"), choices=Relation.choices
    )

    def __init__(self, *args, max_subjects: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(max_subjects):
            self.fields[f"subject_nik_{i}"] = forms.RegexField(
                regex=r"^\d{16}$",
                label=_("NIK orang yang dimohonkan") + (f" ({i + 1})" if i else ""),
                required=False,
                help_text=_("Kosongkan bila untuk diri sendiri.") if i == 0 else "",
                error_messages={"invalid": _("NIK harus 16 angka.")},
            )
            self.fields[f"subject_name_{i}"] = forms.CharField(
                label=_("Nama sesuai KTP/KK") + (f" ({i + 1})" if i else ""),
                required=False,
                max_length=150,
                help_text=_("Wajib bila bukan anggota KK Anda (dengan surat kuasa)."),
            )

    def subjects(self) -> list[dict[str, str]]:
        out = []
        i = 0
        while f"subject_nik_{i}" in self.fields:
            nik = self.cleaned_data.get(f"subject_nik_{i}") or ""
            if nik:
                out.append(
                    {"nik": nik, "name": self.cleaned_data.get(f"subject_name_{i}", "")}
                )
            i += 1
        return out


class SubmitForm(IdempotentForm):
    confirm = forms.BooleanField(
        label=_("Saya menyatakan data yang saya isi benar."), required=True
    )


class StepForm(IdempotentForm):
    name = forms.CharField(widget=forms.HiddenInput)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Catatan/alasan"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class SurveyForm(IdempotentForm):
    comment = forms.CharField(
        label=_("Saran dan masukan"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in IKM_ELEMENTS:
            self.fields[name] = forms.TypedChoiceField(
                label=label,
                choices=SCORE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
            )
        self.order_fields([n for n, _l in IKM_ELEMENTS] + ["comment"])


class TrackForm(forms.Form):
    nomor = forms.CharField(label=_("Nomor permohonan"), max_length=48)
    kode = forms.CharField(label=_("Kode lacak"), max_length=12)


class SignUpForm(forms.Form):
    nik = forms.RegexField(
        label=_("NIK"),
        regex=r"^\d{16}$",
        error_messages={"invalid": _("NIK harus 16 angka.")},
    )
    kk_number = forms.RegexField(
        label=_("Nomor KK"),
        regex=r"^\d{16}$",
        error_messages={"invalid": _("Nomor KK harus 16 angka.")},
    )
    mother_name = forms.CharField(label=_("Nama ibu kandung"), max_length=150)
    password = forms.CharField(
        label=_("Kata sandi baru"), widget=forms.PasswordInput, min_length=10
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Kode verifikasi"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("Kode terdiri dari 6 angka.")},
    )


class CounterVerifyForm(IdempotentForm):
    username = forms.CharField(label=_("Nama pengguna akun warga"), max_length=150)
    nik_seen = forms.RegexField(
        label=_("NIK pada KTP-el yang ditunjukkan"),
        regex=r"^\d{16}$",
        error_messages={"invalid": _("NIK harus 16 angka.")},
    )


class HolidayForm(IdempotentForm):
    date = forms.DateField(
        label=_("Tanggal"), widget=forms.DateInput(attrs={"type": "date"})
    )
    name = forms.CharField(label=_("Keterangan"), max_length=150)
    decree = forms.CharField(
        label=_("Dasar penetapan (SK Bupati)"), max_length=255, required=False
    )


class ServiceEditForm(IdempotentForm):
    expected_revision = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Nama"), max_length=150)
    name_en = forms.CharField(label=_("Nama (Inggris)"), max_length=150)
    description = forms.CharField(
        label=_("Uraian"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    description_en = forms.CharField(
        label=_("Uraian (Inggris)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    time_limit_days = forms.IntegerField(
        label=_("Batas waktu (hari kerja)"), min_value=1, max_value=365
    )
    time_limit_to_confirm = forms.BooleanField(
        label=_("Batas waktu belum dikonfirmasi"), required=False
    )
    fee_rupiah = forms.IntegerField(label=_("Biaya (rupiah)"), min_value=0)
    availability = forms.ChoiceField(label=_("Saluran"))
    responsible_kind = forms.ChoiceField(label=_("Kantor penanggung jawab"))
    responsible_office_code = forms.CharField(
        label=_("Kode perangkat daerah (untuk layanan kabupaten)"),
        required=False,
        max_length=32,
    )
    legal_basis = forms.CharField(
        label=_("Dasar hukum"), required=False, max_length=255
    )
    is_active = forms.BooleanField(label=_("Dibuka"), required=False)
    requirements = forms.JSONField(
        label=_("Persyaratan (JSON)"), widget=forms.Textarea(attrs={"rows": 8})
    )
    form_schema = forms.JSONField(
        label=_("Skema formulir (JSON Schema 2020-12)"),
        widget=forms.Textarea(attrs={"rows": 14}),
    )
    note = forms.CharField(label=_("Catatan perubahan"), required=False, max_length=255)

    def __init__(self, *args, **kwargs):
        from balai.services.models import Availability, ResponsibleKind

        super().__init__(*args, **kwargs)
        self.fields["availability"].choices = Availability.choices
        self.fields["responsible_kind"].choices = ResponsibleKind.choices


class CounterForm(IdempotentForm):
    """A walk-in filing at the counter. The people chosen from the register
    travel as hidden resident ids, the files already uploaded and (on the
    check-your-answers step) the answers as hidden JSON."""

    applicant = forms.UUIDField(widget=forms.HiddenInput, required=False)
    subjects = forms.CharField(widget=forms.HiddenInput, required=False)
    attached = forms.JSONField(widget=forms.HiddenInput, required=False)
    answers = forms.JSONField(widget=forms.HiddenInput, required=False)
    relation = forms.ChoiceField(
        label=_("Hubungan pemohon dengan yang dimohonkan"), choices=Relation.choices
    )
    applicant_name = forms.CharField(
        label=_("Nama pemohon tidak terdaftar"),
        required=False,
        max_length=150,
        help_text=_("Isi hanya bila pemohon tidak ada dalam data kependudukan."),
    )
    applicant_phone = forms.RegexField(
        label=_("Nomor HP pemohon"),
        regex=r"^\+?\d{8,15}$",
        required=False,
        help_text=_("Untuk kabar status lewat SMS. Kosongkan bila tidak ada."),
        error_messages={"invalid": _("Nomor HP 8 sampai 15 angka.")},
    )
    ticket = forms.CharField(
        label=_("Nomor antrean yang sedang dilayani"),
        required=False,
        max_length=8,
        help_text=_("Contoh A-003. Kosongkan bila tanpa nomor antrean."),
    )

    def clean_ticket(self) -> str:
        from balai.antrian.selectors import normalize_ticket_number

        return normalize_ticket_number(self.cleaned_data.get("ticket") or "")

    def clean_subjects(self) -> list[str]:
        ids = (self.cleaned_data.get("subjects") or "").split()
        try:
            return [str(uuid.UUID(i)) for i in ids]
        except ValueError:
            raise forms.ValidationError(
                _("Pilihan penduduk tidak sah. Cari ulang."), code="subjects"
            ) from None

    def clean_attached(self) -> dict:
        value = self.cleaned_data.get("attached") or {}
        if not isinstance(value, dict) or not all(
            isinstance(v, dict) and v.get("id") for v in value.values()
        ):
            raise forms.ValidationError(
                _("Daftar berkas tidak sah. Unggah ulang berkasnya."), code="attached"
            )
        return value

    def clean_answers(self) -> dict:
        value = self.cleaned_data.get("answers") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Isian formulir tidak sah."), code="answers")
        return value

    def clean(self):
        data = super().clean()
        missing = not data.get("applicant") and not data.get("applicant_name")
        if missing and "applicant_name" not in self.errors:
            self.add_error(
                "applicant_name",
                _(
                    "Pilih pemohon dari data kependudukan, atau isi nama "
                    "pemohon yang tidak terdaftar."
                ),
            )
        return data
