"""Voting: the hot path of a full hall, in a few short SQL statements and no ORM objects.

The statements are plain SQL that SQLite and PostgreSQL both run (`ON CONFLICT`, `RETURNING`):
building ORM statements cost more CPU than running them. A question's `vote_count` is kept in
step with its vote rows in the same transaction (merge recounts), so no vote needs a COUNT.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import DateTime, bindparam, text

from ..auth import BANNED_MESSAGE, Actor, require_participant
from ..errors import Banned, Closed, Conflict, NotFound
from ..extensions import db
from ..models import utcnow
from ..schemas import VoteIn
from . import ratelimit
from .core import change

CAN_VOTE = text(
    "SELECT events.voting_open, participants.banned FROM events"
    " JOIN participants ON participants.event_id = events.id"
    " WHERE events.id = :event_id AND participants.id = :participant_id"
)
QUESTION = text(
    "SELECT status, participant_id, vote_count, rev FROM questions"
    " WHERE id = :question_id AND event_id = :event_id"
)
ADD = text(
    "INSERT INTO votes (participant_id, question_id, created_at)"
    " VALUES (:participant_id, :question_id, :now)"
    " ON CONFLICT DO NOTHING RETURNING question_id"
).bindparams(bindparam("now", type_=DateTime()))
REMOVE = text(
    "DELETE FROM votes WHERE participant_id = :participant_id AND question_id = :question_id"
    " RETURNING question_id"
)
RECOUNT = text(
    "UPDATE questions SET vote_count = vote_count + :step, rev = :rev"
    " WHERE id = :question_id RETURNING vote_count, rev"
)
PUBLIC = ("live", "answered")


class Repeated(Exception):
    """A vote that changes nothing: its transaction is rolled back (no version is spent, nothing
    is published) and the voter hears the standing count."""

    def __init__(self, result: VoteResult) -> None:
        super().__init__()
        self.result = result


@dataclass(frozen=True)
class VoteResult:
    """What a voter hears at once: the question's new count, the vote's state and the rev."""

    question_id: int
    votes: int
    voted: bool
    rev: int


def vote(actor: Actor, data: VoteIn) -> VoteResult:
    """Vote for a question (up) or take the vote back; idempotent: a repeated vote writes nothing
    (not even the event's version) and answers the current count and rev."""
    participant_id = require_participant(actor)
    ratelimit.check("vote", participant_id)
    key = {"participant_id": participant_id, "question_id": data.question_id}
    in_event = key | {"event_id": actor.event_id}
    try:
        return _vote(actor, data, key, in_event)
    except Repeated as same:
        return same.result


def _vote(actor: Actor, data: VoteIn, key: dict, in_event: dict) -> VoteResult:
    """The vote's transaction (Repeated when it would change nothing)."""
    participant_id = key["participant_id"]
    with change(actor.event_id) as current:
        run = db.session.execute
        voting_open, banned = run(CAN_VOTE, in_event).one()
        if not voting_open:
            raise Closed("Voting is closed for this event.", details={"what": "voting"})
        if banned:
            raise Banned(BANNED_MESSAGE)
        question = run(QUESTION, in_event).one_or_none()
        public = question is not None and question.status in PUBLIC
        if question is None or (not public and question.participant_id != participant_id):
            raise NotFound("This event has no such question.", details={"what": "question"})
        if not public:
            raise Conflict("Only a live question can be voted for.", details={"reason": "not_live"})
        ratelimit.hit("vote", participant_id)  # a refused vote does not count; a repeated one does
        changed = run(ADD, key | {"now": utcnow()}) if data.up else run(REMOVE, key)
        if changed.first() is None:  # a repeated vote: the count stands, the version too
            standing = VoteResult(data.question_id, question.vote_count, data.up, question.rev)
            raise Repeated(standing)
        step = 1 if data.up else -1
        votes, rev = run(RECOUNT, key | {"step": step, "rev": current.version}).one()
        current.question_ids.add(data.question_id)
    return VoteResult(data.question_id, votes, data.up, rev)
