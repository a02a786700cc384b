"""Typed domain errors, mapped to HTTP and socket acks in one place."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the user should see: a stable code, a status and a message."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, details: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        """The wire shape: {"code", "message"} (plus "details" when there are any)."""
        body: dict = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class Invalid(DomainError):
    """The input does not have the required shape or values."""

    code, status = "invalid", 400


class Unauthorized(DomainError):
    """No valid credentials were presented."""

    code, status = "unauthorized", 401


class Forbidden(DomainError):
    """The caller's role may not do this."""

    code, status = "forbidden", 403


class NotFound(DomainError):
    """The thing named does not exist (or is not visible to the caller)."""

    code, status = "not_found", 404


class Conflict(DomainError):
    """The request collides with the current state."""

    code, status = "conflict", 409


class Closed(DomainError):
    """Questions or voting are closed for this event."""

    code, status = "closed", 409


class TooLarge(DomainError):
    """The request body is larger than allowed."""

    code, status = "too_large", 413


class RateLimited(DomainError):
    """The caller is acting too often; try again shortly."""

    code, status = "rate_limited", 429


class Busy(DomainError):
    """The database could not take the request in time; nothing was written. Retry shortly."""

    code, status = "busy", 503
    MESSAGE = "The server is too busy right now and saved nothing; try again in a moment."


def as_busy(exc: Exception) -> Busy | None:
    """A saturated database (no free pooled connection in time, SQLite locked for too long) as
    the Busy the client retries; None for any other failure."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout) or (
        isinstance(exc, OperationalError) and "database is locked" in str(exc)
    ):
        return Busy(Busy.MESSAGE)
    return None
