"""The one domain error type, shown to people in Indonesian and to the API as JSON."""

from typing import Any


class BalaiError(Exception):
    """A refusal the caller can act on: a clear message, a stable code, details."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        extra: dict[str, Any] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code, "extra": self.extra}


class NotFound(BalaiError):
    """A record that does not exist, or that the caller may not see."""

    status_code = 404

    def __init__(self, message: str = "Data tidak ditemukan.", **kwargs: Any) -> None:
        kwargs.setdefault("code", "not_found")
        super().__init__(message, **kwargs)


class PermissionDenied(BalaiError):
    """The caller's role does not allow this."""

    status_code = 403

    def __init__(
        self, message: str = "Anda tidak berwenang melakukan ini.", **kwargs: Any
    ) -> None:
        kwargs.setdefault("code", "forbidden")
        super().__init__(message, **kwargs)


class Conflict(BalaiError):
    """The record changed under the caller, or the request clashes with another."""

    status_code = 409

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "conflict")
        super().__init__(message, **kwargs)
