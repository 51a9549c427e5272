"""Forms of the register's pages: search, and one form per life event.

Every form that writes carries an idempotency key minted when it is rendered
(IdempotentForm), so a double submit records one event. Choices come from
`reference.py`; dates accept 31-12-2024 or 2024-12-31 and refuse an impossible
one with a clear message. The rules of the register itself (a KK with two
heads, an event the current state does not allow, ...) are the actions'; a
view shows their refusals next to the fields they name (`add_problems`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from balai.audit.models import AccessPurpose
from balai.core.errors import BalaiError
from balai.core.forms import IdempotentForm
from balai.regions.models import Region, RegionLevel
from balai.registry.actions import CORRECTABLE, LABELS
from balai.registry.models import ResidentStatus
from balai.registry.nik import impossible, to_check, validate_kk, validate_nik
from balai.registry.reference import (
    BloodType,
    Citizenship,
    Education,
    Occupation,
    Religion,
    Sex,
    Shdk,
)

DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"]
MAX_NEW_KK_MEMBERS = 4


def _blank(choices) -> list[tuple[Any, Any]]:
    return [("", "—"), *choices]


def date_field(label, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Tanggal wajib diisi."),
            "invalid": _(
                "Bukan tanggal yang ada. Tulis seperti 31-12-2024 "
                "(tanggal-bulan-tahun)."
            ),
        },
    )


def nik_field(label, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "size": 18}
        ),
        error_messages={"required": _("NIK wajib diisi.")},
    )


def clean_nik_text(value: str) -> str:
    """Return a NIK without spaces, or raise a clear Indonesian message."""
    text = (value or "").replace(" ", "").replace(".", "").replace("-", "")
    if not text:
        return ""
    if not text.isdigit() or len(text) != 16:
        raise forms.ValidationError(_("NIK harus 16 angka."))
    bad = impossible(validate_nik(text))
    if bad:
        raise forms.ValidationError(" ".join(f.message for f in bad))
    return text


def village_choices(actor=None) -> list[tuple[str, str]]:
    qs = Region.objects.filter(
        level__in=[RegionLevel.DESA, RegionLevel.KELURAHAN]
    ).select_related("parent")
    if actor is not None:
        qs = qs.filter(actor.scope_q("code"))
    return [
        (r.code, f"{r.name} — {r.parent.name if r.parent else ''}")
        for r in qs.order_by("parent__name", "name")
    ]


def kecamatan_choices(actor=None) -> list[tuple[str, str]]:
    qs = Region.objects.filter(level=RegionLevel.KECAMATAN)
    if actor is not None and actor.scope is not None:
        codes = {
            code[:8]
            for code in Region.objects.filter(actor.scope_q("code")).values_list(
                "code", flat=True
            )
        }
        qs = qs.filter(code__in=codes)
    return [(r.code, r.name) for r in qs.order_by("name")]


def add_problems(form: forms.Form, exc: BalaiError) -> None:
    """Show an action's refusal on the form: each problem beside the field it
    names when the form has it, else at the top."""
    items = exc.extra.get("errors") if isinstance(exc.extra, dict) else None
    if not items:
        form.add_error(None, exc.message)
        return
    by_label = {str(v): k for k, v in LABELS.items()}
    for item in items:
        name = item.get("field") or ""
        name = by_label.get(name, name)
        message = item.get("message") or exc.message
        if item.get("where"):
            message = f"{item['where']}: {message}"
        if name in form.fields and not form.fields[name].widget.is_hidden:
            form.add_error(name, message)
        else:
            form.add_error(None, message)


# --- Search ------------------------------------------------------------------------


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Nama, NIK atau nomor KK"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    kecamatan = forms.ChoiceField(label=_("Kecamatan"), required=False)
    desa = forms.ChoiceField(label=_("Desa/kelurahan"), required=False)
    sex = forms.ChoiceField(
        label=_("Jenis kelamin"), required=False, choices=_blank(Sex.choices)
    )
    age_min = forms.IntegerField(
        label=_("Umur dari"),
        required=False,
        min_value=0,
        max_value=150,
        error_messages={
            "invalid": _("Umur harus angka."),
            "min_value": _("Umur tidak boleh negatif."),
            "max_value": _("Umur paling tinggi 150."),
        },
    )
    age_max = forms.IntegerField(
        label=_("Umur sampai"),
        required=False,
        min_value=0,
        max_value=150,
        error_messages={
            "invalid": _("Umur harus angka."),
            "min_value": _("Umur tidak boleh negatif."),
            "max_value": _("Umur paling tinggi 150."),
        },
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(ResidentStatus.choices)
    )
    page = forms.IntegerField(
        required=False, min_value=1, widget=forms.HiddenInput, initial=1
    )

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kecamatan"].choices = _blank(kecamatan_choices(actor))
        self.fields["desa"].choices = _blank(village_choices(actor))

    def clean(self):
        data = super().clean()
        low, high = data.get("age_min"), data.get("age_max")
        if low is not None and high is not None and low > high:
            self.add_error(
                "age_max", _("Umur sampai harus sama atau lebih dari umur dari.")
            )
        return data

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kecamatan": data.get("kecamatan") or None,
            "desa": data.get("desa") or None,
            "sex": data.get("sex") or None,
            "age_min": data.get("age_min"),
            "age_max": data.get("age_max"),
            "status": data.get("status") or None,
            "page": data.get("page") or 1,
        }


class PurposeForm(forms.Form):
    keperluan = forms.ChoiceField(
        label=_("Keperluan membuka data"),
        choices=[c for c in AccessPurpose.choices if c[0] != AccessPurpose.SELF],
        initial=AccessPurpose.SERVICE,
        required=False,
    )

    def purpose(self) -> str:
        if self.is_valid() and self.cleaned_data.get("keperluan"):
            return self.cleaned_data["keperluan"]
        return AccessPurpose.SERVICE


# --- A person (birth, arrival) -----------------------------------------------------


class PersonFields(forms.Form):
    nik = nik_field(_("NIK (kosongkan bila belum terbit dari SIAK)"))
    name = forms.CharField(
        label=_("Nama lengkap"),
        max_length=150,
        error_messages={"required": _("Nama lengkap wajib diisi.")},
    )
    sex = forms.ChoiceField(
        label=_("Jenis kelamin"),
        choices=_blank(Sex.choices),
        error_messages={"required": _("Pilih jenis kelamin.")},
    )
    birth_place = forms.CharField(label=_("Tempat lahir"), max_length=100)
    birth_date = date_field(_("Tanggal lahir"))
    religion = forms.TypedChoiceField(
        label=_("Agama"),
        choices=_blank(Religion.choices),
        coerce=int,
        error_messages={"required": _("Pilih agama.")},
    )
    education = forms.TypedChoiceField(
        label=_("Pendidikan"),
        choices=Education.choices,
        coerce=int,
        initial=Education.TIDAK_BELUM_SEKOLAH,
    )
    occupation = forms.TypedChoiceField(
        label=_("Pekerjaan"),
        choices=Occupation.choices,
        coerce=int,
        initial=Occupation.BELUM_TIDAK_BEKERJA,
    )
    blood_type = forms.TypedChoiceField(
        label=_("Golongan darah"),
        choices=BloodType.choices,
        coerce=int,
        initial=BloodType.TIDAK_TAHU,
    )
    citizenship = forms.TypedChoiceField(
        label=_("Kewarganegaraan"),
        choices=Citizenship.choices,
        coerce=int,
        initial=Citizenship.WNI,
    )

    def clean_nik(self) -> str:
        return clean_nik_text(self.cleaned_data.get("nik", ""))

    def clean(self):
        data = super().clean()
        nik, birth, sex = data.get("nik"), data.get("birth_date"), data.get("sex")
        if nik and birth and sex:
            bad = impossible(validate_nik(nik, birth_date=birth, sex=sex))
            if bad:
                self.add_error("nik", " ".join(f.message for f in bad))
        return data

    def person_values(self) -> dict[str, Any]:
        names = (
            "name",
            "sex",
            "birth_place",
            "birth_date",
            "religion",
            "education",
            "occupation",
            "blood_type",
            "citizenship",
        )
        values = {n: self.cleaned_data[n] for n in names}
        values["nik"] = self.cleaned_data.get("nik") or None
        return values


class AddressFields(forms.Form):
    village = forms.ChoiceField(label=_("Desa/kelurahan"), required=False)
    dusun = forms.CharField(label=_("Dusun"), max_length=64, required=False)
    rt = forms.CharField(label=_("RT"), max_length=3, required=False)
    rw = forms.CharField(label=_("RW"), max_length=3, required=False)
    street = forms.CharField(
        label=_("Alamat (jalan, nomor)"), max_length=255, required=False
    )

    def set_villages(self, actor) -> None:
        self.fields["village"].choices = _blank(village_choices(actor))

    def clean_rt(self) -> str:
        return self._number("rt", _("RT"))

    def clean_rw(self) -> str:
        return self._number("rw", _("RW"))

    def _number(self, name: str, label) -> str:
        value = (self.cleaned_data.get(name) or "").strip()
        if value and not value.isdigit():
            raise forms.ValidationError(
                _("%(label)s hanya boleh angka.") % {"label": label}
            )
        return value.zfill(3) if value else ""

    def address_values(self) -> dict[str, str] | None:
        data = self.cleaned_data
        if not data.get("village"):
            return None
        return {
            k: data.get(k) or "" for k in ("village", "dusun", "rt", "rw", "street")
        }


class BirthForm(IdempotentForm, PersonFields):
    shdk = forms.TypedChoiceField(
        label=_("Hubungan dalam keluarga"),
        choices=[
            (s.value, s.label)
            for s in (Shdk.ANAK, Shdk.CUCU, Shdk.FAMILI_LAIN, Shdk.LAINNYA)
        ],
        coerce=int,
        initial=Shdk.ANAK,
    )
    mother_nik = nik_field(_("NIK ibu (bila tercatat di register)"))
    father_nik = nik_field(_("NIK ayah (bila tercatat di register)"))

    def clean_mother_nik(self) -> str:
        return clean_nik_text(self.cleaned_data.get("mother_nik", ""))

    def clean_father_nik(self) -> str:
        return clean_nik_text(self.cleaned_data.get("father_nik", ""))


class ArrivalForm(IdempotentForm, PersonFields, AddressFields):
    occurred_on = date_field(_("Tanggal datang"))
    origin = forms.CharField(
        label=_("Datang dari (kabupaten/kota asal)"),
        max_length=255,
        error_messages={"required": _("Asal kedatangan wajib diisi.")},
    )
    to_kk_number = forms.CharField(
        label=_("Nomor KK yang dituju (kosongkan untuk KK baru)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    shdk = forms.TypedChoiceField(
        label=_("Hubungan dalam KK yang dituju"),
        choices=_blank(Shdk.choices),
        coerce=int,
        required=False,
        empty_value=None,
    )

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_villages(actor)

    def clean(self):
        data = super().clean()
        kk = (data.get("to_kk_number") or "").replace(" ", "")
        if kk:
            if not (kk.isdigit() and len(kk) == 16):
                self.add_error("to_kk_number", _("Nomor KK harus 16 angka."))
            if data.get("shdk") is None:
                self.add_error("shdk", _("Hubungan dalam keluarga wajib diisi."))
        elif not data.get("village"):
            self.add_error(
                "village", _("Isi nomor KK yang dituju, atau pilih desa untuk KK baru.")
            )
        data["to_kk_number"] = kk
        return data


# --- Events on a resident ------------------------------------------------------------


class DeathForm(IdempotentForm):
    occurred_on = date_field(_("Tanggal kematian"))
    place = forms.CharField(label=_("Tempat kematian"), max_length=100, required=False)
    cause = forms.CharField(label=_("Sebab kematian"), max_length=100, required=False)
    death_cert_number = forms.CharField(
        label=_("Nomor akta kematian"), max_length=40, required=False
    )
    spouse_nik = nik_field(_("NIK pasangan yang ditinggal (bila berstatus kawin)"))

    def clean_spouse_nik(self) -> str:
        return clean_nik_text(self.cleaned_data.get("spouse_nik", ""))


MOVE_MODES = [
    ("join", _("Bergabung ke KK lain")),
    ("split", _("Keluar dari KK dan membuat KK baru di alamat baru")),
    ("family", _("Seluruh KK pindah alamat")),
]


class MoveForm(IdempotentForm, AddressFields):
    mode = forms.ChoiceField(
        label=_("Jenis pindah"), choices=MOVE_MODES, widget=forms.RadioSelect
    )
    occurred_on = date_field(_("Tanggal pindah"))
    to_kk_number = forms.CharField(
        label=_("Nomor KK tujuan (bila bergabung)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    shdk = forms.TypedChoiceField(
        label=_("Hubungan dalam KK tujuan (bila bergabung)"),
        choices=_blank(Shdk.choices),
        coerce=int,
        required=False,
        empty_value=None,
    )
    reason = forms.CharField(label=_("Alasan pindah"), max_length=255, required=False)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_villages(actor)

    def clean(self):
        data = super().clean()
        mode = data.get("mode")
        kk = (data.get("to_kk_number") or "").replace(" ", "")
        data["to_kk_number"] = kk
        if mode == "join":
            if not (kk.isdigit() and len(kk) == 16):
                self.add_error("to_kk_number", _("Nomor KK tujuan harus 16 angka."))
            if data.get("shdk") is None:
                self.add_error("shdk", _("Hubungan dalam keluarga wajib diisi."))
        elif mode in ("split", "family") and not data.get("village"):
            self.add_error("village", _("Pilih desa/kelurahan tujuan."))
        return data


class MoveOutForm(IdempotentForm):
    occurred_on = date_field(_("Tanggal pindah"))
    destination = forms.CharField(
        label=_("Tujuan pindah (alamat, kabupaten/kota)"),
        max_length=255,
        error_messages={"required": _("Tujuan pindah wajib diisi.")},
    )
    reason = forms.CharField(label=_("Alasan pindah"), max_length=255, required=False)


class MarriageForm(IdempotentForm):
    spouse_nik = nik_field(_("NIK pasangan"), required=True)
    occurred_on = date_field(_("Tanggal perkawinan"))
    marriage_cert_number = forms.CharField(
        label=_("Nomor akta/buku nikah"), max_length=40, required=False
    )
    dispensation = forms.CharField(
        label=_("Nomor dispensasi pengadilan (bila di bawah 19 tahun)"),
        max_length=100,
        required=False,
    )

    def clean_spouse_nik(self) -> str:
        return clean_nik_text(self.cleaned_data.get("spouse_nik", ""))


class DivorceForm(IdempotentForm):
    spouse_nik = nik_field(_("NIK pasangan"), required=True)
    occurred_on = date_field(_("Tanggal perceraian"))
    divorce_cert_number = forms.CharField(
        label=_("Nomor akta perceraian"), max_length=40, required=False
    )

    def clean_spouse_nik(self) -> str:
        return clean_nik_text(self.cleaned_data.get("spouse_nik", ""))


class NewKkForm(IdempotentForm):
    """A new KK headed by the resident whose page it is, with other members."""

    occurred_on = date_field(_("Tanggal KK baru"))
    reason = forms.CharField(label=_("Alasan KK baru"), max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, MAX_NEW_KK_MEMBERS + 1):
            self.fields[f"member_nik_{i}"] = nik_field(
                _("NIK anggota %(n)d") % {"n": i}
            )
            self.fields[f"member_shdk_{i}"] = forms.TypedChoiceField(
                label=_("Hubungan anggota %(n)d") % {"n": i},
                choices=_blank(
                    [c for c in Shdk.choices if c[0] != Shdk.KEPALA_KELUARGA]
                ),
                coerce=int,
                required=False,
                empty_value=None,
            )

    def clean(self):
        data = super().clean()
        seen = set()
        for i in range(1, MAX_NEW_KK_MEMBERS + 1):
            try:
                nik = clean_nik_text(data.get(f"member_nik_{i}", ""))
            except forms.ValidationError as exc:
                self.add_error(f"member_nik_{i}", exc)
                continue
            data[f"member_nik_{i}"] = nik
            if nik and data.get(f"member_shdk_{i}") is None:
                self.add_error(
                    f"member_shdk_{i}", _("Hubungan dalam keluarga wajib diisi.")
                )
            if nik in seen:
                self.add_error(f"member_nik_{i}", _("NIK ini sudah disebut."))
            if nik:
                seen.add(nik)
        return data

    def member_rows(self) -> list[tuple[str, int]]:
        return [
            (
                self.cleaned_data[f"member_nik_{i}"],
                self.cleaned_data[f"member_shdk_{i}"],
            )
            for i in range(1, MAX_NEW_KK_MEMBERS + 1)
            if self.cleaned_data.get(f"member_nik_{i}")
        ]


def correctable_choices() -> list[tuple[str, str]]:
    return sorted(
        ((name, str(LABELS.get(name, name)).capitalize()) for name in CORRECTABLE),
        key=lambda c: c[1],
    )


class CorrectionForm(IdempotentForm):
    field = forms.ChoiceField(label=_("Kolom yang dikoreksi"))
    new_value = forms.CharField(
        label=_("Nilai yang benar"),
        max_length=255,
        help_text=_(
            "Tanggal: 31-12-2024. Pilihan (agama, pendidikan, ...): kodenya, "
            "mis. 1 untuk Islam. Jenis kelamin: L atau P."
        ),
        error_messages={"required": _("Nilai baru wajib diisi.")},
    )
    reason = forms.CharField(
        label=_("Alasan koreksi"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Alasan koreksi wajib diisi.")},
    )
    evidence = forms.CharField(
        label=_("Bukti (dokumen yang diperiksa)"),
        max_length=255,
        error_messages={"required": _("Bukti koreksi wajib diisi.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = _blank(correctable_choices())

    def new_value_for_action(self) -> Any:
        """Dates as typed 31-12-2024 become ISO dates for the action."""
        value = self.cleaned_data["new_value"].strip()
        field = self.cleaned_data["field"]
        if field in ("birth_date", "marriage_date", "divorce_date"):
            for fmt in DATE_FORMATS:
                try:
                    import datetime

                    return datetime.datetime.strptime(value, fmt).date().isoformat()
                except ValueError:
                    continue
        return value


class DecisionForm(IdempotentForm):
    note = forms.CharField(
        label=_("Catatan keputusan"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- Numbers issued by SIAK -----------------------------------------------------


def _number_text(value: str) -> str:
    return (value or "").replace(" ", "").replace(".", "").replace("-", "")


class IssuedNikForm(IdempotentForm):
    """The NIK SIAK issued to a resident awaiting one, checked by the register's
    NIK rules against his birth date and sex: every impossible finding is
    shown; the findings to check are kept in `notes` for the page to say."""

    nik = nik_field(_("NIK yang diterbitkan SIAK"), required=True)

    def __init__(self, *args, resident=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.resident = resident
        self.notes: list[str] = []

    def clean_nik(self) -> str:
        text = _number_text(self.cleaned_data.get("nik", ""))
        findings = validate_nik(
            text,
            birth_date=getattr(self.resident, "birth_date", None),
            sex=getattr(self.resident, "sex", None),
        )
        bad = impossible(findings)
        if bad:
            raise forms.ValidationError([f.message for f in bad])
        self.notes = [f.message for f in to_check(findings)]
        return text


class IssuedKkForm(IdempotentForm):
    """The KK number SIAK issued to a KK awaiting one."""

    kk_number = forms.CharField(
        label=_("Nomor KK yang diterbitkan SIAK"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "size": 18}
        ),
        error_messages={"required": _("Nomor KK wajib diisi.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []

    def clean_kk_number(self) -> str:
        text = _number_text(self.cleaned_data.get("kk_number", ""))
        findings = validate_kk(text)
        bad = impossible(findings)
        if bad:
            raise forms.ValidationError([f.message for f in bad])
        self.notes = [f.message for f in to_check(findings)]
        return text
