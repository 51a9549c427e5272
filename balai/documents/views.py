"""Pages: the public verification page and QR target; document deliveries."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from balai.accounts.auth import request_actor, staff_required
from balai.core.errors import BalaiError
from balai.documents import actions, conf, extract, ratelimit, selectors
from balai.documents.verify import INVALID, Verdict


class VerifyForm(forms.Form):
    qr_text = forms.CharField(
        label=gettext_lazy("Teks QR atau tautan"),
        required=False,
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )
    berkas = forms.FileField(
        label=gettext_lazy("Foto QR atau berkas PDF dokumen"),
        required=False,
    )


def _no_qr() -> Verdict:
    return Verdict(
        status=INVALID,
        code="no_qr",
        reason=_("Tidak ada kode QR dokumen Balai yang terbaca pada berkas ini."),
    )


def _verify_upload(upload) -> Verdict:
    if upload.size > conf.max_upload_bytes():
        return Verdict(
            status=INVALID, code="too_large", reason=_("Berkas terlalu besar.")
        )
    data = upload.read(conf.max_upload_bytes() + 1)
    if data[:5] == b"%PDF-":
        candidates = extract.qr_texts_from_pdf(data)
    else:
        candidates = extract.qr_texts_from_image(data)
    verdicts = [selectors.verify(text=text) for text in candidates[:5]]
    if not verdicts:
        return _no_qr()
    # A page may carry other QR codes: report the first that is ours.
    return next((v for v in verdicts if v.status != INVALID), verdicts[0])


@never_cache
@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    """Check a document: paste its QR text, or upload a photo or its PDF."""
    verdict = None
    status = 200
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
        if not ratelimit.hit(request):
            status = 429
            form.add_error(None, _("Terlalu banyak permintaan. Coba lagi sebentar."))
        elif form.is_valid():
            upload = form.cleaned_data.get("berkas")
            text = form.cleaned_data.get("qr_text", "")
            if upload:
                verdict = _verify_upload(upload)
            elif text.strip():
                verdict = selectors.verify(text=text)
            else:
                form.add_error(None, _("Tempel teks QR atau unggah berkas."))
    else:
        form = VerifyForm()
    return render(
        request,
        "documents/verify.html",
        {
            "form": form,
            "verdict": verdict,
            "photo_supported": extract.available(),
        },
        status=status,
    )


@never_cache
@require_GET
def verify_link(request: HttpRequest, payload: str) -> HttpResponse:
    """Where a phone camera lands after scanning a document's QR."""
    if not ratelimit.hit(request):
        verdict = Verdict(
            status=INVALID,
            code="rate_limited",
            reason=_("Terlalu banyak permintaan. Coba lagi sebentar."),
        )
        status = 429
    else:
        verdict = selectors.verify(text=payload)
        status = 200
    return render(
        request,
        "documents/verify.html",
        {
            "form": VerifyForm(),
            "verdict": verdict,
            "from_link": True,
            "photo_supported": extract.available(),
        },
        status=status,
    )


def _actor_or_login(request: HttpRequest):
    if not request.user.is_authenticated:
        return None
    return request_actor(request)


def _pdf(data: bytes, name: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:80]


@never_cache
@require_GET
def issued_pdf(request: HttpRequest, document_id: str, what: str) -> HttpResponse:
    """An issued letter's PDF, for download or for printing at the counter."""
    actor = _actor_or_login(request)
    if actor is None:
        return redirect_to_login(request.get_full_path())
    document, data = selectors.issued_pdf(
        actor=actor, document_id=document_id, what=what
    )
    return _pdf(data, f"{_safe_name(document.number)}.pdf", inline=what == "print")


@never_cache
@require_GET
def siak_pdf(request: HttpRequest, document_id: str, what: str) -> HttpResponse:
    """A SIAK-issued PDF: the citizen downloads his own; staff print it."""
    actor = _actor_or_login(request)
    if actor is None:
        return redirect_to_login(request.get_full_path())
    document, data = selectors.deliver_siak(
        actor=actor, document_id=document_id, what=what
    )
    name = f"{document.kind}-{_safe_name(document.number)}.pdf"
    return _pdf(data, name, inline=what == "print")


@never_cache
@require_GET
def siak_pdf_tracked(
    request: HttpRequest, document_id: str, token: str
) -> HttpResponse:
    """A SIAK PDF linked from the tracking page (number and code were given)."""
    actor = request_actor(request) if request.user.is_authenticated else None
    document, data = selectors.deliver_siak_tracked(
        actor=actor, document_id=document_id, token=token
    )
    name = f"{document.kind}-{_safe_name(document.number)}.pdf"
    response = _pdf(data, name, inline=False)
    response["Referrer-Policy"] = "no-referrer"
    return response


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Alasan pencabutan"), min_length=5, max_length=300
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=128)


@never_cache
@staff_required()
@require_http_methods(["GET", "POST"])
def document_detail(request: HttpRequest, document_id: str) -> HttpResponse:
    """An issued document for staff: its facts, files, and (for the head) revoke."""
    actor = request_actor(request)
    document = selectors.issued_document(actor=actor, document_id=document_id)
    if request.method == "POST":
        form = RevokeForm(request.POST)
        if form.is_valid():
            try:
                actions.revoke_document(
                    actor=actor,
                    document=document,
                    reason=form.cleaned_data["reason"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except BalaiError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Dokumen telah dicabut."))
                return redirect("documents:detail", document_id=document.pk)
    else:
        from balai.core.ids import new_id

        form = RevokeForm(initial={"idempotency_key": str(new_id())})
    revocation = _revocation_of(document)
    return render(
        request,
        "documents/detail.html",
        {
            "document": document,
            "revocation": revocation,
            "form": form,
            "may_revoke": revocation is None
            and actions.may_revoke(actor, document.office),
        },
    )


def _revocation_of(document):
    from balai.documents.models import DocumentRevocation

    return DocumentRevocation.objects.filter(document=document).first()
