"""The real server as a subprocess, with real Socket.IO clients: the protocol end to end."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio

from tests.conftest import service_unavailable
from tests.live import join, running_server, wait_for

pytestmark = [pytest.mark.live, pytest.mark.filterwarnings("ignore::ResourceWarning")]


class Mirror:
    """A client that applies `snapshot` and `update` by rev, as the browser does."""

    def __init__(self, url: str, code: str, token: str | None = None):
        self.sio = socketio.Client(reconnection=False)
        self.event: dict = {}
        self.questions: dict[int, dict] = {}
        self.seen: list[dict] = []  # every question row ever received
        self.presence: dict = {}
        self.lock = threading.Lock()
        self.sio.on("snapshot", self.on_snapshot)
        self.sio.on("update", self.on_update)
        self.sio.on("presence", lambda data: self.presence.update(data))
        auth = {"event": code} | ({"token": token} if token else {})
        self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
        wait_for(lambda: self.event, what="snapshot")

    def apply_rows(self, rows: list[dict]) -> None:
        """Keep each row at its highest rev; drop removed ones."""
        for row in rows:
            self.seen.append(row)
            held = self.questions.get(row["id"])
            if held is not None and held["rev"] >= row["rev"]:
                continue
            if row.get("removed"):
                self.questions.pop(row["id"], None)
            else:
                self.questions[row["id"]] = {
                    k: v for k, v in row.items() if k not in ("mine", "voted")
                }

    def on_snapshot(self, data: dict) -> None:
        with self.lock:
            self.apply_rows(data["questions"])
            self.event = data["event"]

    def on_update(self, data: dict) -> None:
        with self.lock:
            self.apply_rows(data["questions"])
            if "event" in data and data["event"]["rev"] >= self.event.get("rev", -1):
                self.event = data["event"]

    def call(self, name: str, payload: dict) -> dict:
        """Emit with an acknowledgement."""
        return self.sio.call(name, payload, timeout=15)

    def state(self) -> tuple[dict, dict]:
        with self.lock:
            return json.loads(json.dumps(self.event)), json.loads(json.dumps(self.questions))

    def synced(self) -> tuple[dict, dict]:
        """What `sync` from nothing says this client should hold."""
        answer = self.call("sync", {"since": 0})
        assert answer["ok"], answer
        rows = {
            q["id"]: {k: v for k, v in q.items() if k not in ("mine", "voted")}
            for q in answer["questions"]
        }
        return answer["event"], json.loads(json.dumps({str(k): v for k, v in rows.items()}))

    def converged(self) -> bool:
        event, questions = self.state()
        want_event, want_questions = self.synced()
        return event == want_event and {str(k): v for k, v in questions.items()} == want_questions


@pytest.fixture(params=["gevent", "eventlet"])
def server(request, tmp_path):
    """The real server under each async mode, with a pre-moderated event."""
    with running_server(tmp_path, QA_ASYNC_MODE=request.param, QA_TICK_MS="100") as live:
        live.event = live.create_seed_event(settings={"pre_moderation": True})
        yield live


def test_the_live_loop_end_to_end(server):
    url, code, key = server.url, server.event["code"], server.event["moderator_key"]
    alice = Mirror(url, code, join(url, code))
    bob = Mirror(url, code, join(url, code))
    screen = Mirror(url, code)
    mod = Mirror(url, code, key)
    clients = [alice, bob, screen, mod]
    issues = [i["id"] for i in mod.call("sync", {"since": 0})["issues"]]
    wait_for(lambda: mod.presence.get("audience") == 3, what="presence count")

    asked = alice.call(
        "ask", {"issue_id": issues[0], "text": "How do clusters go global?", "client_id": "a-1"}
    )
    assert (
        asked["ok"]
        and asked["question"]["status"] == "pending"
        and asked["question"]["mine"] is True
    )
    qid = asked["question"]["id"]
    wait_for(lambda: qid in mod.questions, what="pending question on the moderator's list")
    assert mod.questions[qid]["status"] == "pending"

    approved = mod.call("moderate", {"question_id": qid, "status": "live"})
    assert approved["ok"] and approved["question"]["status"] == "live"
    for client in (bob, screen):
        wait_for(
            lambda c=client: qid in c.questions, what="approved question reaching the audience"
        )
    # the pending question never reached the other participant or the screen
    for client in (bob, screen):
        assert all(row.get("status") != "pending" for row in client.seen)

    voted = bob.call("vote", {"question_id": qid, "up": True})
    assert voted == {"ok": True, "question_id": qid, "votes": 1, "voted": True, "rev": voted["rev"]}
    again = bob.call("vote", {"question_id": qid, "up": True})
    assert (again["votes"], again["rev"]) == (1, voted["rev"])
    for client in clients:
        wait_for(
            lambda c=client: c.questions.get(qid, {}).get("votes") == 1,
            what="vote count everywhere",
        )
        assert client.questions[qid]["rev"] == voted["rev"]  # the row the ack announced

    shown = mod.call("show", {"question_id": qid})
    assert shown == {"ok": True, "action_id": shown["action_id"]}  # the log's entry, for undo
    assert mod.call("set_issue", {"issue_id": issues[2]}) == {"ok": True}
    for client in clients:
        wait_for(
            lambda c=client: c.event.get("on_screen_question_id") == qid, what="question on screen"
        )
        wait_for(
            lambda c=client: c.event.get("current_issue_id") == issues[2], what="current issue"
        )
    for client in clients:
        wait_for(client.converged, what="client state equal to sync")
    for client in clients:
        client.sio.disconnect()


def test_refusals_on_the_socket(server):
    url, code, key = server.url, server.event["code"], server.event["moderator_key"]
    for auth in ({"event": "NOPE00"}, {"event": code, "token": "p.forged"}, None):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(url, auth=auth, transports=["websocket"], wait_timeout=5)
    alice = Mirror(url, code, join(url, code))
    screen = Mirror(url, code)
    issue = alice.call("sync", {"since": 0})["issues"][0]["id"]
    for payload in (
        None,
        [],
        {"issue_id": issue},
        {"issue_id": "1", "text": "x", "client_id": "a"},
        {"issue_id": issue, "text": "x" * 301, "client_id": "a"},
    ):
        answer = alice.call("ask", payload)
        assert answer["ok"] is False and answer["error"]["code"] == "invalid", answer
    for name, payload in (
        ("moderate", {"question_id": 1, "status": "live"}),
        ("show", {"question_id": None}),
        ("set_issue", {"issue_id": issue}),
        ("merge", {"question_id": 1, "into": 2}),
    ):
        answer = alice.call(name, payload)
        assert answer["ok"] is False and answer["error"]["code"] == "forbidden", (name, answer)
    answer = screen.call("ask", {"issue_id": issue, "text": "Hi", "client_id": "s"})
    assert answer["error"]["code"] == "forbidden"
    assert (
        Mirror(url, code, key).call("sync", {"since": 0})["questions"] == []
    )  # nothing was written
    refused = requests.get(
        f"{url}/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "http://evil.example"},
        timeout=5,
    )
    assert refused.status_code == 400  # other origins are refused unless configured


def _concurrently(n: int, fn) -> list:
    """Run fn(i) for i in range(n) from n threads released at the same moment."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture(params=["sqlite", "postgres"])
def busy_server(request, tmp_path):
    """The real gevent server on SQLite or on the machine's PostgreSQL."""
    extra = {}
    if request.param == "postgres":
        import sqlalchemy as sa

        from tests.conftest import PG_SERVER

        name = f"qa_live_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except sa.exc.OperationalError as exc:
            service_unavailable("PostgreSQL", str(exc).splitlines()[0])
        extra["DATABASE_URL"] = f"{PG_SERVER}/{name}"
    with running_server(tmp_path, **extra) as live:
        live.event = live.create_seed_event()
        yield live
    if request.param == "postgres":
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_concurrent_votes_and_resends_count_exactly(busy_server):
    url, code = busy_server.url, busy_server.event["code"]
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=200))
    tokens = [join(url, code) for _ in range(200)]
    issue = session.get(f"{url}/api/v1/events/{code}").json()["issues"][0]["id"]
    auth = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731

    def ask_same(_i):
        body = {"issue_id": issue, "text": "Sent twenty times at once?", "client_id": "resend-1"}
        return session.post(
            f"{url}/api/v1/events/{code}/questions", json=body, headers=auth(tokens[0]), timeout=60
        )

    answers = _concurrently(20, ask_same)
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["question"]["id"] for a in answers}) == 1
    qid = answers[0].json()["question"]["id"]

    votes = _concurrently(
        200,
        lambda i: session.put(
            f"{url}/api/v1/questions/{qid}/vote", headers=auth(tokens[i]), timeout=60
        ),
    )
    assert {v.status_code for v in votes} == {200}
    one = _concurrently(
        50,
        lambda i: session.put(
            f"{url}/api/v1/questions/{qid}/vote", headers=auth(tokens[0]), timeout=60
        ),
    )
    assert {v.status_code for v in one} == {200}

    moderator = {"Authorization": f"Bearer {busy_server.event['moderator_key']}"}
    questions = session.get(f"{url}/api/v1/events/{code}", headers=moderator).json()["questions"]
    assert [(q["id"], q["votes"]) for q in questions] == [(qid, 200)]
    exported = session.get(f"{url}/api/v1/events/{code}/export.json", headers=moderator).json()
    assert len(exported["questions"]) == 1 and exported["questions"][0]["votes"] == 200
