"""Writes about accounts: staff, citizens, postings, API tokens."""

import datetime
import re
import secrets
import uuid

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
# Staff who may open an account for a citizen at the counter or helpdesk.
CITIZEN_ENROL_ROLES = (
    Role.COUNTER_OFFICER,
    Role.REGISTRY_OFFICER,
    Role.HELPDESK_OFFICER,
    Role.SYSADMIN,
)
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@+-]{3,150}$")


def normalize_phone(raw: str) -> str:
    """Return an Indonesian phone number as +62..., or raise BalaiError.

    Accepts the forms people write: 0812-3456-7890, 62812..., +62 812 ...
    """
    digits = re.sub(r"[\s().-]", "", raw or "")
    if digits.startswith("+62"):
        rest = digits[3:]
    elif digits.startswith("62"):
        rest = digits[2:]
    elif digits.startswith("0"):
        rest = digits[1:]
    else:
        rest = ""
    if not re.fullmatch(r"[1-9]\d{7,11}", rest):
        raise BalaiError(
            "Nomor telepon tidak valid. Tulis seperti 0812-3456-7890.",
            code="phone_invalid",
        )
    return "+62" + rest


def _check_new_username(username: str) -> str:
    username = username.strip()
    if not username:
        raise BalaiError("Nama pengguna wajib diisi.", code="username_required")
    if not USERNAME_PATTERN.match(username):
        raise BalaiError(
            "Nama pengguna 3-150 karakter: huruf, angka, dan . _ @ + - saja.",
            code="username_invalid",
        )
    if User.objects.filter(username__iexact=username).exists():
        raise BalaiError("Nama pengguna sudah dipakai.", code="username_taken")
    return username


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
    username = _check_new_username(username)
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


@action("accounts.citizen.create")
def create_citizen_account(
    *,
    actor: Actor,
    username: str,
    password: str,
    phone: str = "",
    resident_id: uuid.UUID | str | None = None,
    check_password: bool = True,
) -> User:
    """Open a citizen's account (online services, "my data"); never staff."""
    if not actor.is_system:
        actor.require_role(*CITIZEN_ENROL_ROLES)
    username = _check_new_username(username)
    phone = normalize_phone(phone) if phone.strip() else ""
    if resident_id is not None and not isinstance(resident_id, uuid.UUID):
        try:
            resident_id = uuid.UUID(str(resident_id))
        except ValueError as exc:
            raise BalaiError(
                "Nomor penduduk tidak valid.", code="resident_invalid"
            ) from exc
    if (
        resident_id is not None
        and User.objects.filter(
            kind=AccountKind.CITIZEN, resident_id=resident_id
        ).exists()
    ):
        raise BalaiError(
            "Penduduk ini sudah memiliki akun warga.", code="resident_has_account"
        )
    user = User(
        username=username,
        phone=phone,
        resident_id=resident_id,
        kind=AccountKind.CITIZEN,
        is_staff=False,
        is_superuser=False,
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
        details={
            "username": username,
            "kind": AccountKind.CITIZEN,
            "resident_id": resident_id,
        },
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
    actor.require_covers(office.region_id)
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
    actor.require_covers(posting.office.region_id)
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
