"""A vote holds the event's row lock only for its writes (PostgreSQL, where processes share it).

A vote reads its checks before it takes the lock, so another writer of the event (a moderator,
a vote on another process) can change what it read in between: the vote must then be refused
as it would be now, with nothing written. A repeated vote (a phone's outbox sending again what
was already counted) needs no lock at all, so it is answered while another writer holds it.

Each test holds the lock from a second connection, as another process would, with a change
not yet committed; the vote runs in a thread and must wait for it, or not.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from qa_app import domain
from qa_app.errors import Banned, Closed, NotFound
from qa_app.extensions import db
from qa_app.models import Event, Question, Vote
from qa_app.schemas import AskIn, VoteIn
from tests.conftest import make_event, make_participant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
]


class Voting(threading.Thread):
    """domain.vote(actor, question_id) in its own app context; .outcome is its result or error."""

    def __init__(self, app, actor, question_id: int, up: bool = True) -> None:
        super().__init__(daemon=True)
        self.app, self.actor, self.data = app, actor, VoteIn(question_id=question_id, up=up)
        self.outcome: object = None

    def run(self) -> None:
        with self.app.app_context():
            try:
                self.outcome = domain.vote(self.actor, self.data)
            except Exception as exc:  # the refusal is what the test looks at
                self.outcome = exc
            finally:
                db.session.remove()


@pytest.fixture
def hall(app, ctx):
    """An event with alice's live question and bob, who may vote for it; another connection."""
    event, _ = make_event()
    alice, _ = make_participant(event)
    bob, _ = make_participant(event)
    data = {"issue_id": event.issues[0].id, "text": "Who pays for the pipes?", "client_id": "c1"}
    question = domain.ask(alice, AskIn.model_validate(data))
    db.session.commit()
    other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    yield app, event.id, bob, question.id, other
    other.dispose()


def hold_the_lock(other, event_id: int, *changes: tuple[str, dict]):
    """Begin a transaction on another connection that locks the event row (as every writer
    does) and makes changes, uncommitted; the caller commits or rolls it back."""
    connection = other.connect()
    transaction = connection.begin()
    connection.execute(
        sa.text("UPDATE events SET version = version + 1 WHERE id = :id"), {"id": event_id}
    )
    for statement, params in changes:
        connection.execute(sa.text(statement), params)
    return connection, transaction


def vote_behind_the_lock(app, actor, question_id, other, event_id, end: str, *changes) -> Voting:
    """Vote while another connection holds the event's lock with changes; check that the vote
    waits for it; then end that transaction ("commit" or "rollback") and let the vote finish."""
    connection, transaction = hold_the_lock(other, event_id, *changes)
    try:
        voting = Voting(app, actor, question_id)
        voting.start()
        voting.join(1.0)
        assert voting.is_alive(), "the vote did not wait for the other writer's lock"
        getattr(transaction, end)()
    finally:
        connection.close()
    voting.join(10)
    return voting


def votes_for(question_id: int) -> tuple[int, int]:
    """The question's vote rows and its kept count, as committed."""
    db.session.rollback()
    rows = db.session.scalar(
        select(func.count()).select_from(Vote).filter_by(question_id=question_id)
    )
    return rows, db.session.get(Question, question_id, populate_existing=True).vote_count


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ("UPDATE events SET voting_open = false WHERE id = :event_id", Closed),
        ("UPDATE participants SET banned = true WHERE id = :participant_id", Banned),
        ("UPDATE questions SET status = 'dismissed' WHERE id = :question_id", NotFound),
    ],
    ids=["voting-closed", "voter-banned", "question-dismissed"],
)
def test_a_vote_waiting_for_the_lock_is_refused_by_what_changed_meanwhile(hall, change, refusal):
    app, event_id, bob, question_id, other = hall
    params = {
        "event_id": event_id,
        "participant_id": bob.participant_id,
        "question_id": question_id,
    }
    voting = vote_behind_the_lock(
        app, bob, question_id, other, event_id, "commit", (change, params)
    )
    assert isinstance(voting.outcome, refusal), voting.outcome
    assert votes_for(question_id) == (0, 0)  # nothing written


def test_a_vote_waiting_for_the_lock_counts_once_it_is_free(hall):
    app, event_id, bob, question_id, other = hall
    voting = vote_behind_the_lock(app, bob, question_id, other, event_id, "rollback")
    assert voting.outcome.votes == 1 and voting.outcome.voted, voting.outcome
    assert votes_for(question_id) == (1, 1)
    version = db.session.get(Event, event_id, populate_existing=True).version
    assert voting.outcome.rev == version


def test_a_repeated_vote_is_answered_while_another_writer_holds_the_lock(hall):
    app, event_id, bob, question_id, other = hall
    first = domain.vote(bob, VoteIn(question_id=question_id, up=True))
    db.session.commit()
    connection, transaction = hold_the_lock(other, event_id)
    try:
        again = Voting(app, bob, question_id)
        again.start()
        again.join(2.0)
        assert not again.is_alive(), "a repeated vote waited for another writer's lock"
    finally:
        transaction.rollback()
        connection.close()
    again.join(10)
    assert (again.outcome.votes, again.outcome.voted, again.outcome.rev) == (1, True, first.rev)
    assert votes_for(question_id) == (1, 1)
