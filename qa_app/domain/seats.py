"""Moderator seats: one named link per moderator of an event, each with its own key.

A seat is one credential. Rotating a seat's key revokes its row and opens a new one with the same
name, so everything opened with the old key (sessions, sockets) ends at once while the other
seats go on (revocation.py watches seat rows).
"""

from __future__ import annotations

from sqlalchemy import select

from .. import revocation
from ..auth import Actor, digest, new_moderator_key, require_moderator
from ..errors import NotFound
from ..extensions import db
from ..models import ModeratorSeat, utcnow
from .core import change

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


def rotate_moderator_key(actor: Actor) -> str:
    """Give a seat a new key: the caller's own seat, or for the organiser the event's first seat
    (opened if the event has none). The old key, its sessions and sockets stop working at once;
    the other seats keep theirs."""
    require_moderator(actor)
    with change(actor.event_id):
        if actor.seat_id is not None:
            seat = db.session.get(ModeratorSeat, actor.seat_id)
            if seat is None or seat.revoked_at is not None:
                raise NotFound("This moderator seat no longer exists.")
        else:
            seats = active_seats(actor.event_id)
            seat = seats[0] if seats else None
        name = seat.name if seat is not None else FIRST_SEAT_NAME
        if seat is not None:
            seat.revoked_at = utcnow()
        _, key = open_seat(actor.event_id, name)
    revocation.sweep()
    return key
