"""Sync pages: the status of this node (or of every node, at the regency) and
the conflicts list with what to do."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from balai.accounts.auth import request_actor, staff_required
from balai.core.errors import BalaiError
from balai.sync import selectors
from balai.sync.actions import RESOLVER_ROLES, resolve_conflict
from balai.sync.models import ConflictStatus


@staff_required(*selectors.STATUS_ROLES)
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    if selectors.is_regency():
        return render(
            request,
            "sync/regency_status.html",
            {"nodes": selectors.regency_nodes(actor=actor)},
        )
    return render(
        request, "sync/node_status.html", {"view": selectors.node_status(actor=actor)}
    )


@staff_required(*selectors.CONFLICT_ROLES)
@require_GET
def conflicts(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    wanted = request.GET.get("status", "open")
    if wanted not in (*ConflictStatus.values, "all"):
        wanted = "open"
    rows = selectors.conflicts(actor=actor, status=wanted)[:200]
    return render(
        request,
        "sync/conflicts.html",
        {"conflicts": rows, "wanted": wanted, "statuses": ConflictStatus.choices},
    )


@staff_required(*selectors.CONFLICT_ROLES)
@require_http_methods(["GET", "POST"])
def conflict_detail(request: HttpRequest, pk) -> HttpResponse:
    actor = request_actor(request)
    found = selectors.conflict(actor=actor, pk=pk)
    error = ""
    if request.method == "POST":
        try:
            resolve_conflict(
                actor=actor,
                conflict=found,
                note=request.POST.get("note", ""),
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except BalaiError as exc:
            if exc.status_code in (403, 404):
                raise
            error = exc.message
        else:
            messages.success(request, _("Konflik ditandai selesai."))
            return redirect("sync:conflict", pk=found.pk)
    can_resolve = (
        selectors.is_regency()
        and actor.has_role(*RESOLVER_ROLES)
        and found.status != ConflictStatus.RESOLVED
    )
    return render(
        request,
        "sync/conflict_detail.html",
        {"conflict": found, "can_resolve": can_resolve, "error": error},
    )
