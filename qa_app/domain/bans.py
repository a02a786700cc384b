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
from ..models import Participant, Question
from ..schemas import BanIn
from .core import Change, change
from .questions import _apply_status, _question_of


@dataclass(frozen=True)
class BanResult:
    """What the moderator hears: the question named, whether its asker is banned now, and the
    asker's questions this dismissed."""

    question_id: int
    banned: bool
    dismissed: list[int]


def _asker_of(question: Question) -> Participant:
    """The participant who asked a question (locked with the event by change())."""
    if question.participant_id is None:
        raise Conflict("This question has no asker to ban.")
    return db.session.get(Participant, question.participant_id, populate_existing=True)


def _dismiss_pending(current: Change, participant_id: int) -> list[int]:
    """Dismiss every pending question of a participant; return their ids."""
    pending = db.session.scalars(
        select(Question).where(
            Question.participant_id == participant_id, Question.status == "pending"
        )
    ).all()
    for question in pending:
        _apply_status(current, question, "dismissed")
        current.touch(question)
    return [question.id for question in pending]


def ban(actor: Actor, data: BanIn) -> BanResult:
    """Ban the asker of a question: no more asking or voting, pending questions dismissed."""
    require_moderator(actor)
    with change(actor.event_id) as current:
        asker = _asker_of(_question_of(actor.event_id, data.question_id))
        asker.banned = True
        dismissed = _dismiss_pending(current, asker.id)
    revocation.sweep()
    return BanResult(data.question_id, True, dismissed)


def unban(actor: Actor, data: BanIn) -> BanResult:
    """Let the asker of a question ask and vote again (dismissed questions stay dismissed)."""
    require_moderator(actor)
    with change(actor.event_id):
        _asker_of(_question_of(actor.event_id, data.question_id)).banned = False
    return BanResult(data.question_id, False, [])
