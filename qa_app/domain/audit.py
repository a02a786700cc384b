"""The audit log: every moderator action, recorded with the seat (or organiser) that made it.

`record` runs inside the action's own change(), so an action and its log entry commit together
(or not at all).
"""

from __future__ import annotations

from ..auth import Actor
from ..extensions import db
from ..models import Admin, ModerationAction, ModeratorSeat, utcnow
from .core import Change


def who(actor: Actor) -> str:
    """The name the log gives an actor: its seat's, or the organiser's account name."""
    if actor.seat_id is not None:
        seat = db.session.get(ModeratorSeat, actor.seat_id)
        return seat.name if seat is not None else "?"
    if actor.admin_id is not None:
        admin = db.session.get(Admin, actor.admin_id)
        return admin.name if admin is not None else "?"
    return actor.role


def record(
    current: Change,
    actor: Actor,
    action: str,
    question_id: int | None = None,
    detail: dict | None = None,
    undo: dict | None = None,
) -> ModerationAction:
    """Log an action in the current change (flushed, so it has its id)."""
    entry = ModerationAction(
        event_id=current.event_id,
        seat_id=actor.seat_id,
        admin_id=actor.admin_id,
        who=who(actor)[:80],
        action=action,
        question_id=question_id,
        detail=detail,
        undo=undo,
        at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry
