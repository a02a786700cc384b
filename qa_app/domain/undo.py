"""Undo: a moderator takes back one of the last few seconds' actions, as a real change.

An undoable action keeps in the audit log (`ModerationAction.undo`) the version of its change,
every question it changed (as it was before and as the action left it), the screen before and
after when it moved, and what else its inverse needs (a merge: the sources' vote rows and the
voters it added to the target; a ban: whether the asker was banned before). The inverse runs
through the same helpers as the actions (`_apply_status`), in a change of its own that is
broadcast like any other and logged as "undo".

It is refused (`conflict`) after `QA_UNDO_SECONDS`, when already undone, when a later action
that is still in force changed one of the same questions, or when one of those questions no
longer is as the action left it. Votes change none of that: a vote arriving meanwhile never
blocks the undo of a dismiss or a merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert, select

from ..auth import Actor, require_moderator
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import ModerationAction, Participant, Question, Vote, utcnow
from ..schemas import UndoIn
from . import audit
from .core import Change, change
from .questions import _count_votes, fields_of, restore_state

SCREEN_STATUSES = ("live", "answered")


@dataclass(frozen=True)
class Undone:
    """The action undone, and the audit log entry of the undo."""

    action_id: int
    undo_id: int


def _action_of(event_id: int, action_id: int) -> ModerationAction:
    """An action of this event's log, or NotFound."""
    action = db.session.get(ModerationAction, action_id, populate_existing=True)
    if action is None or action.event_id != event_id:
        raise NotFound("This event has no such action.", details={"what": "action"})
    return action


def _touched(action: ModerationAction) -> set[int]:
    """The questions an undoable action changed."""
    return {entry["id"] for entry in (action.undo or {}).get("questions", [])}


def _check_undoable(action: ModerationAction) -> None:
    """Refuse an action that cannot be undone now, saying why."""
    if action.undo is None:
        raise Conflict(
            f"A {action.action!r} action cannot be undone.", details={"reason": "not_undoable"}
        )
    if action.undone_at is not None:
        raise Conflict("This action was already undone.", details={"reason": "undone"})
    window = current_app.config["QA_UNDO_SECONDS"]
    if utcnow() - action.at > timedelta(seconds=window):
        raise Conflict(
            f"Too late to undo: an action can be undone for {window:g} seconds.",
            details={"reason": "too_late", "seconds": window},
        )
    mine = _touched(action)
    later = db.session.scalars(
        select(ModerationAction).where(
            ModerationAction.event_id == action.event_id,
            ModerationAction.id > action.id,
            ModerationAction.undone_at.is_(None),
            ModerationAction.action != "undo",
        )
    )
    for other in later:
        if mine & _touched(other):
            raise Conflict(
                f"A later action ({other.action}, by {other.who}) changed the same question; "
                "undo that one first.",
                details={"reason": "later_action"},
            )


def _questions(action: ModerationAction) -> list[tuple[Question, dict]]:
    """The questions the action changed, each with its entry; refuses if one is no longer as
    the action left it (its votes may have changed: they do not count)."""
    found = []
    for entry in action.undo["questions"]:
        question = db.session.get(Question, entry["id"], populate_existing=True)
        if question is None or fields_of(question) != entry["after"]:
            raise Conflict(
                f"Question {entry['id']} has changed since; it cannot be undone.",
                details={"reason": "changed"},
            )
        found.append((question, entry))
    return found


def _give_back_votes(action: ModerationAction) -> None:
    """Undo a merge's votes: take from the target the votes the merge added (those still
    there), and give each source its own voters back, as they were."""
    data = action.undo
    if data["added"]:
        db.session.execute(
            delete(Vote).where(
                Vote.question_id == data["into"], Vote.participant_id.in_(data["added"])
            )
        )
    rows = [
        {
            "participant_id": participant_id,
            "question_id": int(source_id),
            "created_at": datetime.fromisoformat(created_at),
        }
        for source_id, votes in data["votes"].items()
        for participant_id, created_at in votes
    ]
    if rows:
        db.session.execute(insert(Vote), rows)


def _lift_ban(action: ModerationAction) -> None:
    """Undo a ban: the asker is banned no more (unless it was banned before)."""
    question = db.session.get(Question, action.question_id)
    asker = db.session.get(Participant, question.participant_id, populate_existing=True)
    if not asker.banned:
        raise Conflict("This participant was unbanned since.", details={"reason": "changed"})
    asker.banned = action.undo["was_banned"]
    banned_at = action.undo["banned_at"]
    asker.banned_at = datetime.fromisoformat(banned_at) if banned_at else None


def _screen_moves_back(current: Change, action: ModerationAction) -> bool:
    """Whether the undo puts the screen back: the action moved it and nothing has moved it
    since (for `show`, whose whole point is the screen, a screen moved since refuses)."""
    screen = action.undo["screen"]
    if screen is None:
        return False
    if current.event.on_screen_question_id != screen["after"]:
        if action.action == "show":
            raise Conflict(
                "The screen has changed since; it cannot be undone.", details={"reason": "changed"}
            )
        return False
    return True


def _restore_screen(current: Change, action: ModerationAction) -> None:
    """Put back the question that was on screen before the action (if it may still be shown)."""
    before = action.undo["screen"]["before"]
    if before is not None:
        question = db.session.get(Question, before)
        if question is None or question.status not in SCREEN_STATUSES:
            before = None
    current.event.on_screen_question_id = before
    current.touch_event()


def undo(actor: Actor, data: UndoIn) -> Undone:
    """Undo a moderator action of the last QA_UNDO_SECONDS (any moderator of the event may)."""
    require_moderator(actor)
    with change(actor.event_id) as current:
        action = _action_of(actor.event_id, data.action_id)
        _check_undoable(action)
        questions = _questions(action)
        screen_back = _screen_moves_back(current, action)
        if action.action == "ban":
            _lift_ban(action)
        if action.action == "merge":
            _give_back_votes(action)
        for question, entry in questions:
            restore_state(current, question, entry["before"])
        if action.action == "merge":
            db.session.flush()
            for question, _entry in questions:
                _count_votes(question)
        if screen_back:
            _restore_screen(current, action)
        entry = audit.record(
            current,
            actor,
            "undo",
            action.question_id,
            detail={"undid": action.id, "action": action.action},
        )
        action.undone_at, action.undone_by = entry.at, entry.id
    return Undone(action.id, entry.id)
