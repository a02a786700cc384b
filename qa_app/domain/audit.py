"""The audit log: every moderator action, recorded with the seat (or organiser) that made it.

`record` runs inside the action's own change(), so an action and its log entry commit together
(or not at all).
"""

from __future__ import annotations

from sqlalchemy import select

from ..auth import Actor, require_moderator
from ..extensions import db
from ..models import Admin, ModerationAction, ModeratorSeat, utcnow
from ..schemas import LogIn
from .core import Change
from .views import utc_iso


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


def action_view(entry: ModerationAction) -> dict:
    """One logged action on the wire (and in the export)."""
    return {
        "id": entry.id,
        "at": utc_iso(entry.at),
        "who": entry.who,
        "action": entry.action,
        "question_id": entry.question_id,
        "detail": entry.detail,
        "undone_at": utc_iso(entry.undone_at),
    }


def entries(event_id: int, limit: int | None = None) -> list[ModerationAction]:
    """The event's logged actions, newest first (all of them without a limit)."""
    query = select(ModerationAction).filter_by(event_id=event_id)
    query = query.order_by(ModerationAction.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def actions(actor: Actor, data: LogIn | None = None) -> list[dict]:
    """The audit log of the moderator's event, newest first (moderators and the organiser): the
    last `data.limit` actions, or every one (the export) without data."""
    require_moderator(actor)
    limit = data.limit if data is not None else None
    return [action_view(entry) for entry in entries(actor.event_id, limit)]
