"""Sync endpoints under /api/v1/sync/ (regency side; docs/decisions/0008).

Bodies in and out are gzip-compressed JSON (blob chunks are raw bytes);
every request except /time carries the node's signature. Errors keep the
API's one shape `{"message", "code", "extra"}`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from balai.sync import blobs, routing, server
from balai.sync.protocol import (
    H_PROTOCOL,
    PROTOCOL_VERSION,
    ProtocolError,
    as_int,
    as_str,
    decode_body,
    encode_body,
    need,
)

log = logging.getLogger("balai.sync")
router = Router(tags=["sync"])
RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def respond(data: Any, status: int = 200) -> HttpResponse:
    response = HttpResponse(
        encode_body(data, level=3), status=status, content_type="application/json"
    )
    response["Content-Encoding"] = "gzip"
    response[H_PROTOCOL] = str(PROTOCOL_VERSION)
    response["Cache-Control"] = "no-store"
    return response


def _error(exc: ProtocolError) -> HttpResponse:
    return respond(
        {"message": exc.message, "code": exc.code, "extra": {}}, status=exc.status
    )


def _signed(
    request: HttpRequest, handle: Callable[[Any, Any], Any], *, raw: bool = False
) -> HttpResponse:
    body = request.body
    try:
        node = server.authenticate(request, body)
        data = (
            body
            if raw
            else (
                decode_body(body, encoding=request.headers.get("Content-Encoding", ""))
                if body
                else {}
            )
        )
        return respond(handle(node, data))
    except ProtocolError as exc:
        name = request.headers.get("X-Balai-Node", "")
        if name:
            server.note_error(name, f"{exc.code}: {exc.message}")
        return _error(exc)
    except blobs.BlobProblem as exc:
        return _error(ProtocolError(str(exc), code="blob", status=422))


@router.get("/time", auth=None)
def clock(request: HttpRequest):
    """The regency's clock (unsigned): a node measures its skew from it."""
    return respond({"server_time": time.time(), "protocol": PROTOCOL_VERSION})


@router.post("/hello", auth=None)
def hello(request: HttpRequest):
    return _signed(request, server.hello)


@router.post("/push", auth=None)
def push(request: HttpRequest):
    return _signed(request, server.push)


@router.post("/pull", auth=None)
def pull(request: HttpRequest):
    return _signed(request, server.pull)


@router.post("/backfill", auth=None)
def backfill(request: HttpRequest):
    return _signed(request, server.backfill)


@router.post("/snapshot", auth=None)
def snapshot(request: HttpRequest):
    return _signed(request, lambda node, _body: server.snapshot_start(node))


@router.post("/snapshot/page", auth=None)
def snapshot_page(request: HttpRequest):
    return _signed(request, server.snapshot_page)


@router.post("/audit", auth=None)
def audit_push(request: HttpRequest):
    return _signed(request, server.audit_push)


@router.post("/audit/fetch", auth=None)
def audit_fetch(request: HttpRequest):
    return _signed(request, server.audit_fetch)


@router.post("/blob/stat", auth=None)
def blob_stat(request: HttpRequest):
    def handle(node, body):
        kind = as_str(body.get("kind"), "kind")
        sha = as_str(body.get("sha256"), "sha256")
        blobs.check(kind, sha)
        here = blobs.have(kind, sha)
        return {
            "have": here,
            "received": blobs.size_of(kind, sha) if here else blobs.received(kind, sha),
        }

    return _signed(request, handle)


@router.put("/blob/{kind}/{sha}", auth=None)
def blob_put(request: HttpRequest, kind: str, sha: str, start: int = 0, total: int = 0):
    """A chunk of a file the node holds (resumable: `start` must be what the
    regency already has)."""

    def handle(node, data: bytes):
        blobs.check(kind, sha)
        need(total > 0, "Ukuran berkas wajib.")
        return {"received": blobs.append(kind, sha, start, data, total)}

    return _signed(request, handle, raw=True)


@router.get("/blob/{kind}/{sha}", auth=None)
def blob_get(request: HttpRequest, kind: str, sha: str):
    """A file (or a byte range of it) the node may hold."""
    try:
        node = server.authenticate(request, b"")
        blobs.check(kind, sha)
        if not blobs.have(kind, sha):
            raise ProtocolError(
                "Berkas belum ada di kabupaten.", code="no_blob", status=404
            )
        if not any(
            routing.record_routed(node.name, label, oid)
            for label, oid in blobs.holders(kind, sha)
        ):
            raise ProtocolError(
                "Berkas ini bukan untuk node ini.", code="not_served", status=403
            )
        size = blobs.size_of(kind, sha)
        start, end = 0, size - 1
        match = RANGE.match(request.headers.get("Range", ""))
        if match:
            start = as_int(int(match.group(1)), "start")
            if match.group(2):
                end = min(int(match.group(2)), size - 1)
        end = min(end, start + blobs.CHUNK * 4 - 1)
        if start >= size:
            raise ProtocolError("Rentang di luar berkas.", code="range", status=416)
        data = blobs.read_range(kind, sha, start, end - start + 1)
        response = HttpResponse(
            data, status=206 if match else 200, content_type="application/octet-stream"
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response[H_PROTOCOL] = str(PROTOCOL_VERSION)
        return response
    except ProtocolError as exc:
        return _error(exc)
    except blobs.BlobProblem as exc:
        return _error(ProtocolError(str(exc), code="blob", status=422))
