"""A database that cannot be written (a read-only file or server) refuses writes with the
retryable `unavailable`, over HTTP and socket acks alike, never `internal`; reads still answer."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from qa_app import create_app, domain, storage
from qa_app.extensions import db, socketio
from qa_app.models import Participant, Question, Vote
from qa_app.schemas import AskIn
from tests import conftest
from tests.conftest import make_event, make_participant


def seeded(url: str, postgres: bool) -> dict:
    """An event with a participant and a live question, written while the database could be."""
    app = create_app(conftest.test_config(url))
    if postgres:
        conftest._empty_postgres(app)
    else:
        storage.upgrade(app)
    with app.app_context():
        event, key = make_event()
        actor, token = make_participant(event)
        issue = event.issues[0].id
        question = domain.ask(actor, AskIn(issue_id=issue, text="Who pays?", client_id="c-0"))
        seed = {"code": event.code, "token": token, "issue": issue, "question": question.id}
        db.session.remove()
        db.engine.dispose()
    return seed


def counts(app) -> tuple[int, int, int]:
    """Participants, questions and votes in the database."""
    with app.app_context():
        row = tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Participant, Question, Vote)
        )
        db.session.remove()
        return row


@pytest.fixture(params=["sqlite", "postgres"])
def read_only(request, tmp_path):
    """An app whose database answers reads and refuses writes, and its seeded event."""
    if request.param == "sqlite":
        path = tmp_path / "qa.db"
        seed = seeded(f"sqlite:///{path}", postgres=False)
        app = create_app(conftest.test_config(f"sqlite:///file:{path}?mode=ro&uri=true"))
    else:
        url = request.getfixturevalue("postgres_url")
        seed = seeded(url, postgres=True)
        read_only_server = {"connect_args": {"options": "-c default_transaction_read_only=on"}}
        app = create_app(conftest.test_config(url, SQLALCHEMY_ENGINE_OPTIONS=read_only_server))
    yield app, seed
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres
def test_writes_to_a_read_only_database_answer_unavailable_and_reads_answer(read_only):
    app, seed = read_only
    code, issue, question = seed["code"], seed["issue"], seed["question"]
    bearer = {"Authorization": f"Bearer {seed['token']}"}
    before = counts(app)
    http = app.test_client()
    assert http.get(f"/api/v1/events/{code}").status_code == 200
    refused = [
        http.post(f"/api/v1/events/{code}/participants", json={}),
        http.post(
            f"/api/v1/events/{code}/questions",
            json={"issue_id": issue, "text": "Still there?", "client_id": "c-1"},
            headers=bearer,
        ),
        http.put(f"/api/v1/questions/{question}/vote", headers=bearer),
    ]
    for answer in refused:
        assert answer.status_code == 503, answer.json
        assert answer.json["error"]["code"] == "unavailable"
        assert "nothing was saved" in answer.json["error"]["message"]

    phone = socketio.test_client(app, auth={"event": code, "token": seed["token"]})
    assert phone.is_connected()  # the snapshot is a read
    acks = [
        phone.emit("vote", {"question_id": question, "up": True}, callback=True),
        phone.emit(
            "ask", {"issue_id": issue, "text": "Still there?", "client_id": "c-2"}, callback=True
        ),
    ]
    for ack in acks:
        assert ack["ok"] is False and ack["error"]["code"] == "unavailable", ack
    assert phone.emit("sync", {"since": 0}, callback=True)["ok"] is True
    phone.disconnect()
    assert counts(app) == before


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_connection_lost_under_a_phone_s_lookup_is_answered_unavailable(ctx):
    """A phone's reads and its join's INSERT run on the driver's cursor (storage.fetch_one), so
    a connection that goes away under them (the network, a crashed server) raises the driver's
    own error, with no SQLSTATE, not SQLAlchemy's: it is still the retryable `unavailable`."""
    import socket

    from qa_app.auth import find_event_ref
    from qa_app.errors import Unavailable, as_busy

    event, _ = make_event()
    db.session.commit()
    code = event.code  # read now, on the connection that is about to go
    driver = db.session.connection().connection.driver_connection
    with socket.socket(fileno=os.dup(driver.pgconn.socket)) as wire:
        wire.shutdown(socket.SHUT_RDWR)  # the connection's TCP stream ends, as a network drop
    with pytest.raises(Exception) as lost:
        find_event_ref(code)
    assert getattr(lost.value, "sqlstate", None) is None, repr(lost.value)
    assert isinstance(as_busy(lost.value), Unavailable), repr(lost.value)
    db.session.connection().invalidate()  # the pool opens a new one for the next request
    db.session.rollback()
    assert find_event_ref(code).code == code
