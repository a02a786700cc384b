"""Who may do what: tokens, keys, the actor behind a request or a socket."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from flask import current_app, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, delete, select

from . import storage
from .errors import Banned, Forbidden, NotFound, Unauthorized
from .extensions import db
from .models import Admin, AdminSession, Event, ModeratorSeat, Participant, utcnow

PARTICIPANT_PREFIX = "p."
MODERATOR_KEY_PREFIX = "mk."
MODERATOR_SESSION_PREFIX = "ms."
ADMIN_SESSION_KEY = "admin_session"  # in the signed cookie: the random id of an AdminSession row
BANNED_MESSAGE = "The moderator has blocked this device from asking and voting in this event."
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L look-alikes


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, with its signer built once per secret key instead of for
    every request and every socket that connects (Flask opens the session of each; building the
    signer was about 13 µs of the CPU a joining phone costs)."""

    def __init__(self) -> None:
        self._signers: dict[tuple, object] = {}

    def get_signing_serializer(self, app):
        """The signer of the app's secret key (and SECRET_KEY_FALLBACKS), made once per key."""
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        signer = self._signers.get(key)
        if signer is None:
            signer = self._signers[key] = super().get_signing_serializer(app)
        return signer


@dataclass(frozen=True)
class Actor:
    """The caller: its role in one event, and its participant id when it has one."""

    role: str  # "participant" | "moderator" | "admin" | "screen"
    event_id: int
    participant_id: int | None = None
    seat_id: int | None = None  # a moderator's seat
    admin_id: int | None = None  # an organiser's account

    @property
    def is_moderator(self) -> bool:
        """Moderators of this event and admins may moderate."""
        return self.role in ("moderator", "admin")


def digest(secret: str) -> str:
    """The stored form of a random token or key (SHA-256; they carry 192+ bits)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_participant_token() -> str:
    """A fresh participant token (256 bits)."""
    return PARTICIPANT_PREFIX + secrets.token_urlsafe(32)


def new_moderator_key() -> str:
    """A fresh moderator key (192 bits)."""
    return MODERATOR_KEY_PREFIX + secrets.token_urlsafe(24)


def new_event_code() -> str:
    """A six-character join code without look-alike characters."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def normalise_code(code: str) -> str:
    """Join codes are case-insensitive; stored upper case."""
    return (code or "").strip().upper()


def _serializer() -> URLSafeSerializer:
    """The signer of moderator sessions."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="qa-moderator-session")


def moderator_session_token(seat: ModeratorSeat) -> str:
    """A moderator session for a seat; dies when the seat's key is rotated or the seat revoked."""
    return MODERATOR_SESSION_PREFIX + _serializer().dumps({"e": seat.event_id, "s": seat.id})


@dataclass(frozen=True)
class EventRef:
    """What joining and connecting need of an event, named as on Event: read as one row, with
    no ORM object (a hall joining at once makes thousands of these lookups a minute)."""

    id: int
    code: str
    archived: bool


# built once: every join, connection and page looks an event up by its code
EVENT_BY_CODE = select(Event).where(Event.code == bindparam("code"))
EVENT_REF_BY_CODE = select(Event.id, Event.code, Event.archived_at.is_not(None)).where(
    Event.code == bindparam("code")
)
PARTICIPANT_BY_TOKEN = select(Participant.id, Participant.banned).where(
    Participant.token_hash == bindparam("token_hash"), Participant.event_id == bindparam("event")
)


def _by_code(code: str, read: Callable[[dict], object]) -> object:
    """What read finds for the event with this join code, or NotFound (junk such as a NUL byte
    is not looked up)."""
    wanted = normalise_code(code)
    found = read({"code": wanted}) if wanted.isascii() and wanted.isalnum() else None
    if found is None:
        raise NotFound(
            f"No event has the code {wanted!r}.", details={"what": "event", "code": wanted[:64]}
        )
    return found


def find_event(code: str) -> Event:
    """The event with this join code, or NotFound."""
    return _by_code(code, partial(db.session.scalar, EVENT_BY_CODE))


def find_event_ref(code: str) -> EventRef:
    """find_event for joining and connecting: the event's id, code and whether it is archived."""
    row = _by_code(code, partial(storage.fetch_one, EVENT_REF_BY_CODE))
    return EventRef(row[0], row[1], bool(row[2]))


def active_seat(event_id: int, **match: object) -> ModeratorSeat | None:
    """The event's seat matching (key_hash= or id=), if it is not revoked."""
    return db.session.scalar(
        select(ModeratorSeat).filter_by(event_id=event_id, revoked_at=None, **match)
    )


def _seat_of_session(event: Event | EventRef, token: str) -> ModeratorSeat | None:
    """The active seat a signed moderator session names, if it belongs to event."""
    try:
        payload = _serializer().loads(token[len(MODERATOR_SESSION_PREFIX) :])
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("e") != event.id:
        return None
    seat_id = payload.get("s")
    return active_seat(event.id, id=seat_id) if type(seat_id) is int else None


def seat_for_key(event: Event | EventRef, key: str) -> ModeratorSeat | None:
    """The active seat of event whose key this is (keys carry 192 bits: found by their hash)."""
    return active_seat(event.id, key_hash=digest(key))


def actor_for(event: Event | EventRef, token: str | None) -> Actor:
    """Resolve a token (or the admin's login session) to an actor of event."""
    if token:
        if token.startswith(PARTICIPANT_PREFIX):
            found = storage.fetch_one(
                PARTICIPANT_BY_TOKEN, {"token_hash": digest(token), "event": event.id}
            )
            if found is not None:
                participant_id, banned = found
                if banned:
                    raise Banned(BANNED_MESSAGE)
                return Actor("participant", event.id, participant_id)
        elif token.startswith(MODERATOR_KEY_PREFIX):
            seat = seat_for_key(event, token)
            if seat is not None:
                return Actor("moderator", event.id, seat_id=seat.id)
        elif token.startswith(MODERATOR_SESSION_PREFIX):
            seat = _seat_of_session(event, token)
            if seat is not None:
                return Actor("moderator", event.id, seat_id=seat.id)
        raise Unauthorized("This token is not valid for this event.")
    admin = current_admin()
    if admin is not None:
        return Actor("admin", event.id, admin_id=admin.id)
    return Actor("screen", event.id)


def open_admin_session(admin_id: int) -> None:
    """Log an admin in: a new server-side session, its random id alone in the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    lifetime = timedelta(hours=current_app.config["QA_ADMIN_SESSION_HOURS"])
    with storage.writing():
        db.session.execute(delete(AdminSession).where(AdminSession.expires_at <= now))
        db.session.add(
            AdminSession(
                admin_id=admin_id,
                token_hash=digest(token),
                created_at=now,
                expires_at=now + lifetime,
            )
        )
    session.clear()
    session[ADMIN_SESSION_KEY] = token


def close_admin_session() -> None:
    """Log out: this browser's session ends on the server, so a copy of the cookie is worthless."""
    token = session.get(ADMIN_SESSION_KEY)
    session.clear()
    if isinstance(token, str):
        with storage.writing():
            db.session.execute(delete(AdminSession).where(AdminSession.token_hash == digest(token)))


def close_sessions_of(admin_id: int) -> None:
    """End every session of an admin (its password changed); inside the caller's write."""
    db.session.execute(delete(AdminSession).where(AdminSession.admin_id == admin_id))


def current_admin_session() -> AdminSession | None:
    """The unexpired server-side session named by the cookie, if any."""
    token = session.get(ADMIN_SESSION_KEY)
    if not isinstance(token, str):
        return None
    return db.session.scalar(
        select(AdminSession).where(
            AdminSession.token_hash == digest(token), AdminSession.expires_at > utcnow()
        )
    )


def current_admin() -> Admin | None:
    """The admin logged in through the session cookie, if its session is still open."""
    admin_session = current_admin_session()
    if admin_session is None:
        return None
    return db.session.get(Admin, admin_session.admin_id)


def require_moderator(actor: Actor) -> None:
    """Refuse anyone but this event's moderators and admins."""
    if not actor.is_moderator:
        raise Forbidden("Only the moderator of this event may do this.")


def require_participant(actor: Actor) -> int:
    """Refuse anyone but a participant; return its id."""
    if actor.role != "participant" or actor.participant_id is None:
        raise Forbidden("Join the event as a participant first.")
    return actor.participant_id
