"""Two server processes on one PostgreSQL database and one Redis: one event, every client served.

The Redis is the test's own (`redis-server` on a free port), never the shared one on 6379.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio

from tests.live import join, wait_for
from tests.live import two_servers as two_servers_running

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

PRIVATE = ("mine", "voted")


class Mirror:
    """A socket that applies `snapshot` and `update` rows by rev, as the browser does."""

    def __init__(self, url: str, code: str, token: str | None = None) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.questions: dict[int, dict] = {}
        self.presence: dict = {}
        self.lock = threading.Lock()
        self.sio.on("snapshot", lambda data: self.apply(data["questions"]))
        self.sio.on("update", lambda data: self.apply(data["questions"]))
        self.sio.on("presence", self.presence.update)
        auth = {"event": code} | ({"token": token} if token else {})
        self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)

    def apply(self, rows: list[dict]) -> None:
        with self.lock:
            for row in rows:
                held = self.questions.get(row["id"])
                if held is None or row["rev"] > held["rev"]:
                    self.questions[row["id"]] = {k: v for k, v in row.items() if k not in PRIVATE}

    def shown(self) -> dict:
        with self.lock:
            return {i: q for i, q in self.questions.items() if not q.get("removed")}

    def call(self, name: str, payload: dict) -> dict:
        answer = self.sio.call(name, payload, timeout=15)
        assert answer["ok"], answer
        return answer

    def truth(self) -> dict:
        answer = self.call("sync", {"since": 0})
        return {
            q["id"]: {k: v for k, v in q.items() if k not in PRIVATE} for q in answer["questions"]
        }


@pytest.fixture
def two_servers(tmp_path, postgres_url, redis_server):
    """Two `qa-app serve` processes sharing the PostgreSQL database and the test's Redis."""
    with two_servers_running(tmp_path, postgres_url, redis_server.url) as (a, b):
        a.event = a.create_seed_event()
        yield a, b


def test_a_vote_on_one_process_reaches_a_client_of_the_other(two_servers):
    a, b = two_servers
    code = a.event["code"]
    voter = Mirror(a.url, code, join(a.url, code))
    asker = Mirror(b.url, code, join(b.url, code))
    screen = Mirror(b.url, code)
    moderator = Mirror(a.url, code, a.event["moderator_key"])
    issue = asker.call("sync", {"since": 0})["issues"][0]["id"]
    question = asker.call(
        "ask", {"issue_id": issue, "text": "Across processes?", "client_id": "x1"}
    )
    qid = question["question"]["id"]
    wait_for(lambda: qid in voter.shown(), 15, "the question on the other process")
    answer = voter.call("vote", {"question_id": qid, "up": True})
    assert answer["votes"] == 1
    wait_for(lambda: screen.shown().get(qid, {}).get("votes") == 1, 15, "the vote on process B")
    # moderators count the devices of both processes (two phones and a screen)
    wait_for(lambda: moderator.presence.get("audience") == 3, 20, "presence summed over processes")
    for client in (voter, asker, screen, moderator):
        # each client's thread applies the last update on its own time: wait, do not race it
        wait_for(lambda c=client: c.shown() == c.truth(), 10, "the client to converge")
        client.sio.disconnect()


def test_a_redis_restart_loses_no_committed_question(two_servers, redis_server):
    a, b = two_servers
    code = a.event["code"]
    asker = Mirror(a.url, code, join(a.url, code))
    voter = Mirror(a.url, code, join(a.url, code))
    screen = Mirror(b.url, code)
    issue = asker.call("sync", {"since": 0})["issues"][0]["id"]
    first = asker.call("ask", {"issue_id": issue, "text": "Before the outage?", "client_id": "b1"})
    wait_for(lambda: first["question"]["id"] in screen.shown(), 15, "the first question on B")

    redis_server.stop()
    during = [
        asker.call(
            "ask", {"issue_id": issue, "text": f"During the outage {n}?", "client_id": f"d{n}"}
        )
        for n in range(3)
    ]  # committed and acknowledged: PostgreSQL is up, only the message queue is down
    voter.call("vote", {"question_id": first["question"]["id"], "up": True})
    time.sleep(2)  # a few ticks fail to publish; the marks are kept
    # the outage happened: A's health check sees the queue down, and B's screen heard nothing
    health = requests.get(f"{a.url}/healthz", timeout=10)
    assert health.status_code == 503 and health.json()["queue"] != "ok", health.text
    wanted = {q["question"]["id"] for q in during}
    assert not wanted & set(screen.shown()), "B heard A's questions with the queue down"
    assert screen.shown()[first["question"]["id"]]["votes"] == 0
    redis_server.start()

    wait_for(lambda: wanted <= set(screen.shown()), 90, "the questions asked during the outage")
    wait_for(lambda: screen.shown()[first["question"]["id"]]["votes"] == 1, 30, "the outage's vote")
    # both processes work again without a restart: a new question from B reaches A
    late = screen_ask = Mirror(b.url, code, join(b.url, code))
    after = screen_ask.call(
        "ask", {"issue_id": issue, "text": "After the outage?", "client_id": "a1"}
    )
    wait_for(lambda: after["question"]["id"] in asker.shown(), 30, "a question from B on A")
    for client in (asker, voter, screen, late):
        wait_for(lambda c=client: c.shown() == c.truth(), 10, "the client to converge")
        client.sio.disconnect()
    assert a.process.poll() is None and b.process.poll() is None
