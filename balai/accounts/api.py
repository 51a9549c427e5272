"""API: bearer tokens (/auth) and office staff rosters (/offices)."""

import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django_otp import devices_for_user
from ninja import Query, Router, Schema

from balai.accounts import selectors
from balai.accounts.actions import create_posting, issue_api_token
from balai.accounts.auth import STAFF_AUTH, api_actor
from balai.accounts.models import AccountKind, Posting
from balai.accounts.selectors import actor_for, needs_second_factor
from balai.core.api import idempotency_key
from balai.core.errors import BalaiError

router = Router(tags=["auth"])
offices_router = Router(tags=["offices"], auth=STAFF_AUTH)


class TokenIn(Schema):
    username: str
    password: str
    otp: str = ""


class TokenOut(Schema):
    token: str
    expires_at: str


class ErrorOut(Schema):
    message: str
    code: str
    extra: dict


@router.post(
    "/token",
    response={200: TokenOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut},
    auth=None,
)
def create_token(request: HttpRequest, body: TokenIn):
    """Issue a bearer token for a staff user (second factor required)."""
    user = authenticate(request, username=body.username, password=body.password)
    if getattr(request, "axes_locked_out", False):
        raise BalaiError(
            "Terlalu banyak percobaan masuk yang gagal. Coba lagi nanti.",
            code="locked_out",
            status_code=429,
        )
    if user is None or user.kind != AccountKind.STAFF:
        raise BalaiError(
            "Nama pengguna atau kata sandi salah.",
            code="bad_credentials",
            status_code=401,
        )
    verified = False
    if body.otp:
        verified = any(
            d.verify_token(body.otp) for d in devices_for_user(user, confirmed=True)
        )
        if not verified:
            raise BalaiError("Kode OTP salah.", code="otp_invalid", status_code=401)
    if settings.BALAI_REQUIRE_OTP and not verified and needs_second_factor(user=user):
        raise BalaiError(
            "Kode OTP wajib untuk petugas yang membaca data pribadi.",
            code="otp_required",
            status_code=403,
        )
    token, secret = issue_api_token(
        actor=actor_for(user=user), user=user, otp_verified=verified, name="api"
    )
    return {"token": secret, "expires_at": token.expires_at.isoformat()}


class OfficeOut(Schema):
    code: str
    name: str
    kind: str
    region: str


class PostingOut(Schema):
    id: str
    username: str
    name: str
    nip: str
    position: str
    title: str
    role: str
    role_label: str
    is_head: bool
    is_acting: bool
    start_date: datetime.date
    end_date: datetime.date | None


class RosterOut(Schema):
    office: OfficeOut
    on: datetime.date | None
    history: bool
    count: int
    items: list[PostingOut]


class RosterFilter(Schema):
    on: datetime.date | None = None
    history: bool = False


class PostingIn(Schema):
    username: str
    position: str
    role: str
    start_date: datetime.date
    end_date: datetime.date | None = None
    is_head: bool = False
    is_acting: bool = False


def _posting_out(p: Posting) -> dict:
    return {
        "id": str(p.pk),
        "username": p.user.username,
        "name": p.user.display_name,
        "nip": p.user.nip,
        "position": p.position,
        "title": p.title,
        "role": p.role,
        "role_label": str(p.get_role_display()),
        "is_head": p.is_head,
        "is_acting": p.is_acting,
        "start_date": p.start_date,
        "end_date": p.end_date,
    }


@offices_router.get(
    "/{code}/staff",
    response={200: RosterOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def office_staff(request: HttpRequest, code: str, filters: Query[RosterFilter]):
    """List who is posted at an office (active on a day, or the whole history).

    Kecamatan staff reach only the offices of their kecamatan; an office out of
    scope answers 404, like one that does not exist.
    """
    office, postings = selectors.office_staff(
        actor=api_actor(request), code=code, on=filters.on, history=filters.history
    )
    items = [_posting_out(p) for p in postings]
    return {
        "office": {
            "code": office.code,
            "name": office.name,
            "kind": office.kind,
            "region": office.region_id,
        },
        "on": None if filters.history else (filters.on or selectors.today()),
        "history": filters.history,
        "count": len(items),
        "items": items,
    }


@offices_router.post(
    "/{code}/staff",
    response={201: PostingOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def add_posting(request: HttpRequest, code: str, body: PostingIn):
    """Post a staff user to an office (system administrators).

    Send an `Idempotency-Key` header: a retried request returns the first
    posting and writes nothing.
    """
    actor = api_actor(request)
    posting = create_posting(
        actor=actor,
        user=selectors.staff_user(username=body.username),
        office=selectors.office_in_scope(actor=actor, code=code),
        position=body.position,
        role=body.role,
        start_date=body.start_date,
        end_date=body.end_date,
        is_head=body.is_head,
        is_acting=body.is_acting,
        idempotency_key=idempotency_key(request),
    )
    return 201, _posting_out(posting)
