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


class Banned(Forbidden):
    """The moderator blocked this device from asking and voting in the event."""

    code, status = "banned", 403


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


class Unavailable(DomainError):
    """The database cannot be written now (read-only, full, failing, unreachable); nothing was
    written. Retry later."""

    code, status = "unavailable", 503
    MESSAGE = "The database cannot save anything right now, so nothing was saved; try again later."


# SQLite result codes (extended codes match by prefix) and PostgreSQL SQLSTATEs (or classes)
SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
SQLITE_UNAVAILABLE = ("SQLITE_READONLY", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN")
PG_BUSY = ("55P03", "53300")  # lock not available, too many connections
# connection lost, read-only transaction, disk full, server shutting down or starting up
PG_UNAVAILABLE = ("08", "25006", "53100", "57P01", "57P02", "57P03")


def as_busy(exc: Exception) -> Busy | Unavailable | None:
    """A database that cannot take a request now, as the refusal the client retries: Busy when
    it is saturated (no free pooled connection in time, a lock held too long), Unavailable when
    it cannot be written (read-only, full, failing, unreachable); None for any other failure."""
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout):
        return Busy(Busy.MESSAGE)
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    name = getattr(orig, "sqlite_errorname", None) or ""
    state = getattr(orig, "sqlstate", None) or ""
    if name.startswith(SQLITE_BUSY) or state.startswith(PG_BUSY):
        return Busy(Busy.MESSAGE)
    # no connection at all: SQLAlchemy's error, or the driver's own (PEP 249 names it alike)
    # from the statements run on its cursor (storage.fetch_one)
    operational = isinstance(exc, OperationalError) or any(
        cls.__name__ == "OperationalError" for cls in type(orig).__mro__
    )
    lost = operational and not (name or state)
    if (
        name.startswith(SQLITE_UNAVAILABLE)
        or state.startswith(PG_UNAVAILABLE)
        or lost
        or getattr(exc, "connection_invalidated", False)
    ):
        return Unavailable(Unavailable.MESSAGE)
    return None
