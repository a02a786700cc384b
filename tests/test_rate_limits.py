"""Rate limits: only accepted actions count, and a Redis outage never refuses a question or vote.

Counters shared in Redis fall back to each process's memory while Redis cannot be reached (the
log says so once), and are shared again once it answers; a Redis that stops answering costs one
short wait, not a timeout per request. The Redis is the test's own (`redis-server` on a free
port), killed (SIGKILL) or paused (SIGSTOP) and brought back.
"""

from __future__ import annotations

import logging
import time

import pytest
import redis
from sqlalchemy import func, select

from qa_app import create_app, domain, storage
from qa_app.domain import ratelimit
from qa_app.extensions import db
from qa_app.models import Question, Vote
from qa_app.schemas import SettingsIn
from tests import conftest
from tests.conftest import make_event, moderator
from tests.live import Redis, wait_for


def limited(tmp_path, **limits):
    """An app on its own SQLite file with rate limits on."""
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    config = conftest.test_config(url, QA_RATE_LIMITS=True, **limits)
    application = create_app(config)
    storage.upgrade(application)
    return application


def limit_keys(server: Redis) -> list[bytes]:
    """The rate-limit counters kept in the test's Redis."""
    client = redis.Redis(port=server.port)
    try:
        return client.keys("LIMITS:*")
    finally:
        client.close()


def settings(event_id: int, **values) -> None:
    """Change an event's settings as its moderator."""
    from qa_app.models import Event

    domain.update_settings(
        moderator(db.session.get(Event, event_id)), SettingsIn.model_validate(values)
    )


def test_a_refused_question_or_vote_does_not_count_against_the_limit(tmp_path):
    app = limited(tmp_path, QA_ASK_LIMIT="2/minute", QA_VOTE_LIMIT="2/minute")
    client = app.test_client()
    with app.app_context():
        event, _key = make_event()
        event_id, code, issue = event.id, event.code, event.issues[0].id
    token = client.post(f"/api/v1/events/{code}/participants", json={}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def ask(n: int, **changes):
        body = {"issue_id": issue, "text": f"Question {n}?", "client_id": f"q{n}"} | changes
        return client.post(f"/api/v1/events/{code}/questions", json=body, headers=headers)

    refused = [
        ask(1, text="x" * 1000),  # too long
        ask(2, issue_id=issue + 100),  # no such issue
        ask(3, addressed_to=10_000),  # no such speaker
    ]
    with app.app_context():
        settings(event_id, questions_open=False)
    refused.append(ask(4))
    with app.app_context():
        settings(event_id, questions_open=True, anonymous_allowed=False)
    refused.append(ask(5))  # anonymous, where names are required
    with app.app_context():
        settings(event_id, anonymous_allowed=True)
    assert [r.json["error"]["code"] for r in refused] == [
        "invalid",
        "not_found",
        "not_found",
        "closed",
        "invalid",
    ]
    accepted = [ask(6), ask(7), ask(8)]
    assert [a.status_code for a in accepted] == [201, 201, 429]

    qid = accepted[0].json["question"]["id"]
    refused = [client.put(f"/api/v1/questions/{qid + 100}/vote", headers=headers)]
    with app.app_context():
        settings(event_id, voting_open=False)
    refused.append(client.put(f"/api/v1/questions/{qid}/vote", headers=headers))
    with app.app_context():
        settings(event_id, voting_open=True)
    assert [r.json["error"]["code"] for r in refused] == ["not_found", "closed"]
    votes = [client.put(f"/api/v1/questions/{qid}/vote", headers=headers) for _ in range(3)]
    assert [v.status_code for v in votes] == [200, 200, 429]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 2
        assert db.session.scalar(select(func.count()).select_from(Vote)) == 1
        db.engine.dispose()


@pytest.mark.redis
def test_the_rate_limit_storage_setting_is_read_from_the_environment(
    tmp_path, redis_server, monkeypatch
):
    monkeypatch.setenv("QA_RATELIMIT_STORAGE", redis_server.url)
    app = limited(tmp_path)
    with app.app_context():
        event, _key = make_event()
        assert app.test_client().post(f"/api/v1/events/{event.code}/participants", json={})
        db.engine.dispose()
    assert limit_keys(redis_server)  # the join was counted in Redis, not in memory


@pytest.mark.redis
def test_the_message_queues_redis_keeps_the_counters_unless_the_storage_says_memory(
    tmp_path, redis_server
):
    for storage_url, shared in ((None, True), ("memory://", False)):
        redis.Redis(port=redis_server.port).flushall()
        (tmp_path / str(shared)).mkdir()
        app = limited(
            tmp_path / str(shared),
            QA_MESSAGE_QUEUE=redis_server.url,
            QA_RATELIMIT_STORAGE=storage_url,
        )
        with app.app_context():
            code = make_event()[0].code
            assert app.test_client().post(f"/api/v1/events/{code}/participants", json={})
            db.engine.dispose()
        assert bool(limit_keys(redis_server)) is shared


@pytest.mark.redis
def test_while_redis_is_down_limits_count_per_process_and_are_shared_again_after(
    tmp_path, redis_server, caplog
):
    app = limited(tmp_path, QA_RATELIMIT_STORAGE=redis_server.url, QA_JOIN_LIMIT="3/minute")
    logger = logging.getLogger("qa_app.domain.ratelimit")  # after the migrations' log set-up
    logger.addHandler(caplog.handler)
    client = app.test_client()
    with app.app_context():
        code = make_event()[0].code

    def join() -> int:
        return client.post(f"/api/v1/events/{code}/participants", json={}).status_code

    assert join() == 201 and limit_keys(redis_server)
    redis_server.kill()
    started = time.monotonic()
    # counted from zero in this process's memory: the limit still holds meanwhile
    assert [join() for _ in range(4)] == [201, 201, 201, 429]
    assert time.monotonic() - started < 2  # no timeout paid per request
    lost = [r for r in caplog.records if "count per process" in r.getMessage()]
    assert len(lost) == 1  # said once, not per request

    redis_server.start()  # empty: the counters of before the outage are gone with it
    wait_for(
        lambda: any("shared again" in r.getMessage() for r in caplog.records),
        ratelimit.RECHECK_S + 5,
        "the limiter to use Redis again",
    )
    assert join() == 201 and limit_keys(redis_server)
    logger.removeHandler(caplog.handler)
    with app.app_context():
        db.engine.dispose()


@pytest.mark.redis
def test_a_redis_that_stops_answering_costs_one_short_wait_not_one_per_request(
    tmp_path, redis_server
):
    app = limited(tmp_path, QA_RATELIMIT_STORAGE=redis_server.url)
    client = app.test_client()
    with app.app_context():
        code = make_event()[0].code

    def join() -> tuple[int, float]:
        started = time.monotonic()
        status = client.post(f"/api/v1/events/{code}/participants", json={}).status_code
        return status, time.monotonic() - started

    assert join()[0] == 201
    redis_server.pause()  # the port stays open; nothing answers
    try:
        first, *rest = [join() for _ in range(20)]
    finally:
        redis_server.resume()
    assert first[0] == 201 and 0.3 < first[1] < 3  # one wait of about REDIS_TIMEOUT_S
    assert all(status == 201 for status, _ in rest)
    assert sum(seconds for _, seconds in rest) < 2  # the others did not wait on Redis
    with app.app_context():
        db.engine.dispose()
