"""Voting: the hot path of a full hall, in a few short SQL statements and no ORM objects.

The statements are plain SQL that SQLite and PostgreSQL both run (`ON CONFLICT`, `RETURNING`):
building ORM statements cost more CPU than running them. A question's `vote_count` is kept in
step with its vote rows in the same transaction (merge recounts), so no vote needs a COUNT.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import DateTime, bindparam, text

from .. import storage
from ..auth import BANNED_MESSAGE, Actor, require_participant
from ..errors import Banned, Closed, Conflict, NotFound
from ..extensions import db
from ..models import utcnow
from ..schemas import VoteIn
from . import core, ratelimit

CAN_VOTE = text(
    "SELECT events.voting_open, events.archived_at, participants.banned FROM events"
    " JOIN participants ON participants.event_id = events.id"
    " WHERE events.id = :event_id AND participants.id = :participant_id"
)
QUESTION = text(
    "SELECT status, participant_id, vote_count, rev,"
    " EXISTS (SELECT 1 FROM votes WHERE votes.participant_id = :participant_id"
    " AND votes.question_id = :question_id) AS voted"
    " FROM questions WHERE id = :question_id AND event_id = :event_id"
)
# core.LOCK, re-reading what the checks read before it of the same row, which another writer
# (a moderator closing the voting) may have changed since.
VOTE_LOCK = text(
    "UPDATE events SET version = version + 1 WHERE id = :event_id"
    " RETURNING version, archived_at, voting_open"
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
# Only while the question is public and its voter not banned: a moderator may have changed
# either since the checks. A statement run after the lock sees what was committed before it
# (the lock's own subqueries would not, on PostgreSQL: they read as of before its wait).
RECOUNT = text(
    "UPDATE questions SET vote_count = vote_count + :step, rev = :rev"
    " WHERE id = :question_id AND status IN ('live', 'answered')"
    " AND NOT EXISTS (SELECT 1 FROM participants"
    " WHERE participants.id = :participant_id AND participants.banned)"
    " RETURNING vote_count, rev"
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
    """The vote's transaction (Repeated when it would change nothing).

    The checks read before the event's lock (core.lock), so that other writers of the event
    wait only for the two writes and the commit; the lock's statement and the recount check
    again what a writer could have changed in between. A repeated vote is answered from the
    reads alone, without the lock."""
    participant_id = key["participant_id"]
    with storage.writing():  # commits, or rolls back on any exception
        run = db.session.execute
        _check_voter(*run(CAN_VOTE, in_event).one())
        question = run(QUESTION, in_event).one_or_none()
        _check_question(question, participant_id)
        ratelimit.hit("vote", participant_id)  # a refused vote does not count; a repeated one does
        if question.voted == data.up:  # a repeated vote: the count stands, the version too
            raise Repeated(VoteResult(data.question_id, question.vote_count, data.up, question.rev))
        current, locked = core.lock(actor.event_id, VOTE_LOCK, key)
        _check_voter(locked.voting_open, locked.archived_at, banned=False)
        changed = run(ADD, key | {"now": utcnow()}) if data.up else run(REMOVE, key)
        if changed.first() is None:  # voted the same way meanwhile, on another device or tab
            raise Repeated(VoteResult(data.question_id, question.vote_count, data.up, question.rev))
        step = 1 if data.up else -1
        counted = run(RECOUNT, key | {"step": step, "rev": current.version}).one_or_none()
        if counted is None:  # moderated meanwhile: refused as it would be now
            _check_voter(*run(CAN_VOTE, in_event).one())
            _check_question(run(QUESTION, in_event).one_or_none(), participant_id)
            raise RuntimeError(f"question {data.question_id} was not counted, for no reason")
        votes, rev = counted
        current.question_ids.add(data.question_id)
    core.publish(current)
    return VoteResult(data.question_id, votes, data.up, rev)


def _check_voter(voting_open: bool, archived_at, banned: bool) -> None:
    """Refuse a vote in an event that takes none now, or by a banned participant."""
    if archived_at is not None:
        raise core.archived()
    if not voting_open:
        raise Closed("Voting is closed for this event.", details={"what": "voting"})
    if banned:
        raise Banned(BANNED_MESSAGE)


def _check_question(question, participant_id: int) -> None:
    """Refuse a vote for a question that is not public (the asker is told why; others are told
    there is no such question, as they cannot see it)."""
    public = question is not None and question.status in PUBLIC
    if question is None or (not public and question.participant_id != participant_id):
        raise NotFound("This event has no such question.", details={"what": "question"})
    if not public:
        raise Conflict("Only a live question can be voted for.", details={"reason": "not_live"})
