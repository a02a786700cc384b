"""Moderator seats: one named link per moderator of an event, each with its own key.

A seat is one credential. Rotating a seat's key revokes its row and opens a new one with the same
name, so everything opened with the old key (sessions, sockets) ends at once while the other
seats go on (revocation.py watches seat rows).

Who may do what: the organiser (an admin) lists, adds, rotates and revokes seats; a moderator
lists the seats of its event and rotates its own key. A moderator may not add seats: a seat made
by a moderator would be a way round its own revocation.
"""

from __future__ import annotations

from sqlalchemy import select

from .. import revocation
from ..auth import Actor, digest, new_moderator_key, require_moderator
from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..models import ModeratorSeat, Question, utcnow
from ..schemas import EditingIn, SeatIn
from . import audit
from .core import Change, change
from .views import utc_iso

FIRST_SEAT_NAME = "Moderator"


def open_seat(event_id: int, name: str) -> tuple[ModeratorSeat, str]:
    """Add a seat to the session (inside the caller's write); return it and its key (shown once)."""
    key = new_moderator_key()
    seat = ModeratorSeat(event_id=event_id, name=name, key_hash=digest(key), created_at=utcnow())
    db.session.add(seat)
    db.session.flush()
    return seat, key


def active_seats(event_id: int) -> list[ModeratorSeat]:
    """The event's seats that are not revoked, oldest first."""
    query = select(ModeratorSeat).filter_by(event_id=event_id, revoked_at=None)
    return list(db.session.scalars(query.order_by(ModeratorSeat.id)))


def seat_view(seat: ModeratorSeat) -> dict:
    """A seat on the wire: never its key."""
    return {
        "id": seat.id,
        "name": seat.name,
        "created_at": utc_iso(seat.created_at),
        "active": seat.revoked_at is None,
    }


def require_organiser(actor: Actor) -> None:
    """Refuse anyone but the organiser (a logged-in admin)."""
    if actor.role != "admin":
        raise Forbidden("Only the organiser may do this; log in at /admin.")


def list_seats(actor: Actor) -> list[ModeratorSeat]:
    """The event's moderator seats, active ones first (each oldest first), then revoked ones."""
    require_moderator(actor)
    query = select(ModeratorSeat).filter_by(event_id=actor.event_id)
    seats = list(db.session.scalars(query.order_by(ModeratorSeat.id)))
    return sorted(seats, key=lambda seat: seat.revoked_at is not None)


def _check_name_free(event_id: int, name: str) -> None:
    """Refuse a name an active seat of the event already has (case does not count)."""
    taken = {seat.name.casefold() for seat in active_seats(event_id)}
    if name.casefold() in taken:
        raise Conflict(
            f"A moderator of this event is already called {name!r}; pick another name.",
            details={"reason": "name_taken"},
        )


def create_seat(actor: Actor, data: SeatIn) -> tuple[ModeratorSeat, str]:
    """Add a named moderator seat (the organiser's); return it and its key (shown once)."""
    require_organiser(actor)
    with change(actor.event_id) as current:
        _check_name_free(actor.event_id, data.name)
        seat, key = open_seat(actor.event_id, data.name)
        audit.record(current, actor, "seat_create", detail={"seat_id": seat.id, "name": seat.name})
    return seat, key


def _seat_of_event(current: Change, seat_id: int) -> ModeratorSeat:
    """The event's seat with this id, still active."""
    seat = db.session.get(ModeratorSeat, seat_id)
    if seat is None or seat.event_id != current.event_id:
        raise NotFound("This event has no such moderator seat.")
    if seat.revoked_at is not None:
        raise Conflict("This moderator seat was already revoked (or its key rotated).")
    return seat


def _rotate(current: Change, actor: Actor, seat: ModeratorSeat) -> tuple[ModeratorSeat, str]:
    """Revoke seat and open a new one with its name; logged as seat_rotate."""
    seat.revoked_at = utcnow()
    new_seat, key = open_seat(seat.event_id, seat.name)
    detail = {"seat_id": new_seat.id, "name": new_seat.name, "old_seat_id": seat.id}
    audit.record(current, actor, "seat_rotate", detail=detail)
    return new_seat, key


def rotate_seat(actor: Actor, seat_id: int) -> tuple[ModeratorSeat, str]:
    """Give one seat a new key (the organiser's, or a moderator's for its own seat): the old key,
    its sessions and sockets stop working at once; the other seats keep theirs. Returns the new
    seat row and its key (shown once)."""
    require_moderator(actor)
    if actor.role != "admin" and actor.seat_id != seat_id:
        raise Forbidden("A moderator may rotate only its own key; the organiser rotates others.")
    with change(actor.event_id) as current:
        new_seat, key = _rotate(current, actor, _seat_of_event(current, seat_id))
    revocation.sweep()
    return new_seat, key


def revoke_seat(actor: Actor, seat_id: int) -> ModeratorSeat:
    """Revoke a seat (the organiser's): its key, sessions and sockets stop working at once. The
    last seat may go too: the organiser still moderates from /admin."""
    require_organiser(actor)
    with change(actor.event_id) as current:
        seat = _seat_of_event(current, seat_id)
        seat.revoked_at = utcnow()
        audit.record(current, actor, "seat_revoke", detail={"seat_id": seat.id, "name": seat.name})
    revocation.sweep()
    return seat


def rotate_moderator_key(actor: Actor) -> str:
    """Give a seat a new key: the caller's own seat, or for the organiser the event's first seat
    (opened if the event has none). The old key, its sessions and sockets stop working at once;
    the other seats keep theirs."""
    require_moderator(actor)
    with change(actor.event_id) as current:
        if actor.seat_id is not None:
            seat = db.session.get(ModeratorSeat, actor.seat_id)
            if seat is None or seat.revoked_at is not None:
                raise NotFound("This moderator seat no longer exists.")
        else:
            seats = active_seats(actor.event_id)
            seat = seats[0] if seats else None
        if seat is not None:
            _, key = _rotate(current, actor, seat)
        else:
            seat, key = open_seat(actor.event_id, FIRST_SEAT_NAME)
            detail = {"seat_id": seat.id, "name": seat.name}
            audit.record(current, actor, "seat_create", detail=detail)
    revocation.sweep()
    return key


def editing(actor: Actor, data: EditingIn) -> int | None:
    """Check a moderator's `editing` mark (a soft lock, never stored): the question, if any, must
    be of the moderator's event. Returns the question id to tell the other moderators."""
    require_moderator(actor)
    if data.question_id is not None:
        question = db.session.get(Question, data.question_id)
        if question is None or question.event_id != actor.event_id:
            raise NotFound("This event has no such question.", details={"what": "question"})
    return data.question_id
