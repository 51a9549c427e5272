"""Writes about accounts: staff, postings, API tokens."""

import datetime
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from balai.accounts.auth import token_digest
from balai.accounts.models import AccountKind, ApiToken, Posting, Role, User
from balai.audit.actions import record
from balai.core.actions import action
from balai.core.actors import Actor
from balai.core.errors import BalaiError
from balai.regions.models import Office

STAFF_ADMIN_ROLES = (Role.SYSADMIN,)


@action("accounts.staff.create")
def create_staff(
    *,
    actor: Actor,
    username: str,
    full_name: str,
    password: str,
    nip: str = "",
    phone: str = "",
    check_password: bool = True,
    is_sysadmin: bool = False,
) -> User:
    """Create a staff account (a civil servant who will hold postings)."""
    actor.require_role(*STAFF_ADMIN_ROLES)
    username = username.strip()
    if not username:
        raise BalaiError("Nama pengguna wajib diisi.", code="username_required")
    if User.objects.filter(username=username).exists():
        raise BalaiError("Nama pengguna sudah dipakai.", code="username_taken")
    if nip and (len(nip) != 18 or not nip.isdigit()):
        raise BalaiError("NIP harus 18 angka.", code="nip_invalid")
    first, _, last = full_name.strip().partition(" ")
    user = User(
        username=username,
        first_name=first[:150],
        last_name=last[:150],
        nip=nip,
        phone=phone,
        kind=AccountKind.STAFF,
        # System administrators use Django's admin, which needs these flags.
        is_staff=is_sysadmin,
        is_superuser=is_sysadmin,
    )
    if check_password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise BalaiError(" ".join(exc.messages), code="weak_password") from exc
    user.set_password(password)
    user.save()
    record(
        actor=actor,
        target=user,
        details={"username": username, "nip": nip, "sysadmin": is_sysadmin},
    )
    return user


@action("accounts.posting.create")
def create_posting(
    *,
    actor: Actor,
    user: User,
    office: Office,
    position: str,
    role: str,
    start_date: datetime.date,
    end_date: datetime.date | None = None,
    is_head: bool = False,
    is_acting: bool = False,
) -> Posting:
    """Post a staff user to an office, in a position and role, from a date."""
    actor.require_role(*STAFF_ADMIN_ROLES)
    if role not in Role.values:
        raise BalaiError("Peran tidak dikenal.", code="role_unknown")
    if user.kind != AccountKind.STAFF:
        raise BalaiError("Hanya akun petugas yang dapat ditugaskan.", code="not_staff")
    if end_date is not None and end_date < start_date:
        raise BalaiError(
            "Tanggal selesai tidak boleh sebelum tanggal mulai.", code="dates_reversed"
        )
    if is_head:
        clash = Posting.objects.filter(
            office=office,
            is_head=True,
            is_acting=is_acting,
            start_date__lte=end_date or datetime.date.max,
        ).exclude(end_date__lt=start_date)
        if clash.exists():
            raise BalaiError(
                "Kantor ini sudah memiliki kepala pada periode tersebut. "
                "Akhiri penugasan sebelumnya terlebih dahulu.",
                code="head_overlap",
            )
    posting = Posting.objects.create(
        user=user,
        office=office,
        position=position.strip(),
        role=role,
        start_date=start_date,
        end_date=end_date,
        is_head=is_head,
        is_acting=is_acting,
    )
    record(
        actor=actor,
        target=posting,
        details={"user": user.username, "office": office.code, "role": role},
    )
    return posting


@action("accounts.posting.end")
def end_posting(*, actor: Actor, posting: Posting, end_date: datetime.date) -> Posting:
    """End a posting on a date (the history stays)."""
    actor.require_role(*STAFF_ADMIN_ROLES)
    if end_date < posting.start_date:
        raise BalaiError(
            "Tanggal selesai tidak boleh sebelum tanggal mulai.", code="dates_reversed"
        )
    posting.end_date = end_date
    posting.save(update_fields=["end_date", "updated_at"])
    record(actor=actor, target=posting, details={"end_date": end_date})
    return posting


@action("accounts.token.issue")
def issue_api_token(
    *, actor: Actor, user: User, otp_verified: bool, name: str = "", days: int = 30
) -> tuple[ApiToken, str]:
    """Issue a bearer token; the secret is returned once and stored hashed."""
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        digest=token_digest(secret),
        otp_verified=otp_verified,
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    record(actor=actor, target=token, details={"user": user.username}, change=None)
    return token, secret
