"""Bans: the moderator blocks the device behind a question from asking and voting, or lets it back.

Moderators never see participant ids, so a ban names a question and falls on its asker. Banning
dismisses the asker's pending questions (their public ones stay: the room has seen them, and the
moderator may dismiss them like any other) and cuts the asker's sockets off on every process
(revocation.py); the device's next connection is refused with `banned`. Votes already cast stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .. import revocation
from ..auth import Actor, require_moderator
from ..errors import Conflict
from ..extensions import db
from ..models import Participant, Question, utcnow
from ..schemas import BanIn
from . import audit
from .core import Change, change
from .questions import _apply_status, _question_of, changed_entry, state_of, undo_data
from .views import asker_handle, utc_iso


@dataclass(frozen=True)
class BanResult:
    """What the moderator hears: the question named, whether its asker is banned now, and the
    asker's questions this dismissed."""

    question_id: int
    banned: bool
    dismissed: list[int]
    action_id: int


def _asker_of(question: Question) -> Participant:
    """The participant who asked a question (locked with the event by change())."""
    if question.participant_id is None:
        raise Conflict("This question has no asker to ban.")
    return db.session.get(Participant, question.participant_id, populate_existing=True)


def _dismiss_pending(current: Change, participant_id: int) -> list[dict]:
    """Dismiss every pending question of a participant; return them as undo data has them."""
    pending = db.session.scalars(
        select(Question).where(
            Question.participant_id == participant_id, Question.status == "pending"
        )
    ).all()
    changed = []
    for question in pending:
        before = state_of(question)
        _apply_status(current, question, "dismissed")
        current.touch(question)
        changed.append(changed_entry(question, before))
    return changed


def ban(actor: Actor, data: BanIn) -> BanResult:
    """Ban the asker of a question: no more asking or voting, pending questions dismissed."""
    require_moderator(actor)
    with change(actor.event_id) as current:
        asker = _asker_of(_question_of(actor.event_id, data.question_id))
        was_banned, banned_at = asker.banned, asker.banned_at
        asker.banned = True
        asker.banned_at = banned_at or utcnow()
        screen = current.event.on_screen_question_id
        changed = _dismiss_pending(current, asker.id)
        dismissed = [entry["id"] for entry in changed]
        entry = audit.record(
            current,
            actor,
            "ban",
            data.question_id,
            detail={"dismissed": dismissed},
            undo=undo_data(
                current,
                changed,
                screen,
                was_banned=was_banned,
                banned_at=banned_at.isoformat() if banned_at else None,
            ),
        )
    revocation.sweep()
    return BanResult(data.question_id, True, dismissed, entry.id)


def unban(actor: Actor, data: BanIn) -> BanResult:
    """Let the asker of a question ask and vote again (dismissed questions stay dismissed)."""
    require_moderator(actor)
    with change(actor.event_id) as current:
        asker = _asker_of(_question_of(actor.event_id, data.question_id))
        asker.banned, asker.banned_at = False, None
        entry = audit.record(current, actor, "unban", data.question_id)
    return BanResult(data.question_id, False, [], entry.id)


def banned(actor: Actor) -> list[dict]:
    """The event's banned participants, newest ban first: each with its asker handle, a name
    (the device's, or the one on its last question) and its last question, which names the
    participant to `unban`."""
    require_moderator(actor)
    participants = db.session.scalars(
        select(Participant)
        .where(Participant.event_id == actor.event_id, Participant.banned.is_(True))
        .order_by(Participant.banned_at.desc().nulls_last(), Participant.id.desc())
    ).all()
    if not participants:
        return []
    last: dict[int, Question] = {}
    query = select(Question).where(
        Question.event_id == actor.event_id,
        Question.participant_id.in_([participant.id for participant in participants]),
    )
    for question in db.session.scalars(query.order_by(Question.id)):
        last[question.participant_id] = question
    rows = []
    for participant in participants:
        question = last.get(participant.id)
        rows.append(
            {
                "asker": asker_handle(participant.id),
                "name": participant.display_name or (question.author_name if question else None),
                "question_id": question.id if question else None,
                "text": question.text if question else None,
                "banned_at": utc_iso(participant.banned_at),
            }
        )
    return rows
