"""Convergence: clients that apply rows by rev and sync from their last version end as `sync` says.

Seeded random runs drive the real socket handlers (ask, vote, moderate, merge, show, set_issue)
through Flask-SocketIO's test clients. A simulated network between the server and each client
delays, reorders and duplicates `update` messages, and disconnects clients (losing everything in
flight and everything sent while they are away); a returning client reconnects with
`auth.since`. At the end every client's state must equal a fresh `sync` from nothing.
Both fan-out modes run: every change at once (tick 0) and coalesced ticks (flushed by hand).
"""

from __future__ import annotations

import json
import random

import pytest

from qa_app.extensions import socketio
from tests.conftest import make_event, make_participant

PRIVATE = ("mine", "voted")


class Client:
    """A phone, screen or moderator as the browser behaves: rows by rev, since = last sync."""

    def __init__(self, app, code: str, token: str | None, rng: random.Random) -> None:
        self.app, self.code, self.token, self.rng = app, code, token, rng
        self.event: dict = {}
        self.rows: dict[int, dict] = {}  # id -> row (removed rows stay as tombstones)
        self.since = 0
        self.inbox: list[dict] = []  # delivered by the server, not yet applied by the client
        self.online = False
        self.socket = None
        self.connect()

    def connect(self) -> None:
        """(Re)connect with auth.since and apply the snapshot."""
        auth = {"event": self.code, "since": self.since}
        if self.token:
            auth["token"] = self.token
        self.socket = socketio.test_client(self.app, auth=auth)
        assert self.socket.is_connected()
        self.online = True
        self.pull()
        snapshots = [m for m in self.inbox if m["name"] == "snapshot"]
        assert snapshots, "no snapshot after connect"
        self.inbox = [m for m in self.inbox if m["name"] == "update"]
        self.apply_sync(snapshots[0]["args"][0])

    def disconnect(self) -> None:
        """Lose the connection: whatever was in flight is gone."""
        self.socket.disconnect()
        self.online = False
        self.inbox = []

    def pull(self) -> None:
        """Take what the server sent to this socket into the inbox (the network in flight)."""
        if self.online:
            self.inbox += [m for m in self.socket.get_received() if m["name"] != "presence"]

    def apply_sync(self, data: dict) -> None:
        """A snapshot or sync answer: since 0 replaces the state; otherwise merge by rev."""
        if self.since == 0:
            self.rows = {}
        self.merge(data["questions"])
        self.event = (
            data["event"] if data["event"]["rev"] >= self.event.get("rev", -1) else self.event
        )
        self.since = data["version"]

    def merge(self, rows: list[dict]) -> None:
        """Keep each row at its highest rev; a removal leaves a tombstone with its rev."""
        for row in rows:
            held = self.rows.get(row["id"])
            if held is None or row["rev"] > held["rev"]:
                self.rows[row["id"]] = {k: v for k, v in row.items() if k not in PRIVATE}

    def batches(self) -> list[list[dict]]:
        """The inbox in flushes (one flush reaches a socket in order), the flushes shuffled."""
        self.pull()
        groups: dict[int, list[dict]] = {}
        for message in self.inbox:
            groups.setdefault(message["args"][0]["version"], []).append(message)
        batches = list(groups.values())
        self.rng.shuffle(batches)
        return batches

    def deliver_some(self) -> None:
        """The network hands over some flushes, out of order, some twice (another process)."""
        batches = self.batches()
        count = self.rng.randint(0, len(batches))
        for batch in batches[:count]:
            for _ in range(2 if self.rng.random() < 0.2 else 1):
                for message in batch:
                    self.apply_update(message["args"][0])
        later = batches[count:] + [b for b in batches[:count] if self.rng.random() < 0.1]
        self.inbox = [message for batch in later for message in batch]

    def deliver_all(self) -> None:
        """Everything in flight arrives, flushes in some order."""
        for batch in self.batches():
            for message in batch:
                self.apply_update(message["args"][0])
        self.inbox = []

    def apply_update(self, data: dict) -> None:
        """An `update`: rows by rev, the event by its rev."""
        self.merge(data["questions"])
        event = data.get("event")
        if event is not None and event["rev"] > self.event.get("rev", -1):
            self.event = event

    def state(self) -> tuple[dict, dict]:
        """What the client shows: the event and the questions that are not removed."""
        rows = {i: r for i, r in self.rows.items() if not r.get("removed")}
        return self.event, json.loads(json.dumps(rows, sort_keys=True))

    def truth(self) -> tuple[dict, dict]:
        """What `sync` from nothing says this client should show."""
        answer = self.socket.emit("sync", {"since": 0}, callback=True)
        assert answer["ok"], answer
        rows = {
            q["id"]: {k: v for k, v in q.items() if k not in PRIVATE} for q in answer["questions"]
        }
        return answer["event"], json.loads(json.dumps(rows, sort_keys=True))


def act(rng: random.Random, phones: list[Client], mod: Client, issues: list[int], n: int) -> None:
    """One random user action through the socket handlers."""
    known = sorted(mod.rows) or [0]
    question = rng.choice(known)
    roll = rng.random()
    phone = rng.choice([p for p in phones if p.online] or [None])
    if phone is not None and roll < 0.2:
        phone.socket.emit(
            "ask",
            {"issue_id": rng.choice(issues), "text": f"Question {n}?", "client_id": f"c{n}"},
            callback=True,
        )
    elif phone is not None and roll < 0.65:
        phone.socket.emit(
            "vote", {"question_id": question, "up": rng.random() < 0.8}, callback=True
        )
    elif roll < 0.8:
        status = rng.choice(["live", "dismissed", "answered", "pending", "live"])
        mod.socket.emit("moderate", {"question_id": question, "status": status}, callback=True)
    elif roll < 0.85:
        mod.socket.emit(
            "moderate", {"question_id": question, "text": f"Edited {n}?"}, callback=True
        )
    elif roll < 0.9 and len(known) > 1:
        into = rng.choice([q for q in known if q != question])
        mod.socket.emit("merge", {"question_id": question, "into": into}, callback=True)
    elif roll < 0.95:
        target = question if rng.random() < 0.7 else None
        mod.socket.emit("show", {"question_id": target}, callback=True)
    else:
        mod.socket.emit("set_issue", {"issue_id": rng.choice(issues)}, callback=True)


def run(app, seed: int, steps: int, flush) -> None:
    """One seeded run: actions, network faults, reconnects; then every client must converge."""
    rng = random.Random(seed)
    event, key = make_event(settings={"pre_moderation": rng.random() < 0.5})
    code, issues = event.code, [issue.id for issue in event.issues]
    tokens = [make_participant(event)[1] for _ in range(5)]
    phones = [Client(app, code, token, rng) for token in tokens]
    screen = Client(app, code, None, rng)
    mod = Client(app, code, key, rng)
    clients = [*phones, screen, mod]
    for n in range(steps):
        act(rng, phones, mod, issues, n)
        if rng.random() < 0.5:
            flush()
        for client in clients:
            fate = rng.random()
            if not client.online:
                if fate < 0.3:
                    client.connect()
            elif fate < 0.05 and client is not mod:
                client.disconnect()
            elif fate < 0.6:
                client.deliver_some()
    flush()
    for client in clients:
        if not client.online:
            client.connect()
        client.deliver_all()
    for client in clients:
        have, want = client.state(), client.truth()
        if have != want:
            diff = {
                k: (have[1].get(k), want[1].get(k))
                for k in set(have[1]) | set(want[1])
                if have[1].get(k) != want[1].get(k)
            }
            pytest.fail(
                f"seed {seed}: a client diverged (event equal: {have[0] == want[0]}): {diff}"
            )
        client.socket.disconnect()


@pytest.mark.parametrize("seed", range(8))
def test_clients_converge_when_every_change_is_sent_at_once(app, ctx, seed):
    run(app, seed, steps=120, flush=lambda: None)


@pytest.mark.parametrize("seed", range(8))
def test_clients_converge_with_coalesced_ticks(app, ctx, seed):
    publisher = app.extensions["qa_publisher"]
    publisher.tick = 3600  # the ticker never fires by itself; the run flushes by hand
    run(app, 1000 + seed, steps=120, flush=publisher.flush)


def test_a_client_that_was_away_ends_like_one_that_never_left(app, ctx):
    rng = random.Random(7)
    event, key = make_event()
    issues = [issue.id for issue in event.issues]
    stay = Client(app, event.code, None, rng)
    away = Client(app, event.code, None, rng)
    mod = Client(app, event.code, key, rng)
    phones = [Client(app, event.code, make_participant(event)[1], rng) for _ in range(25)]
    away.disconnect()
    for n in range(20):
        rng.choice(phones).socket.emit(
            "ask",
            {"issue_id": rng.choice(issues), "text": f"Q{n}?", "client_id": f"q{n}"},
            callback=True,
        )
    stay.deliver_all()
    mod.deliver_all()
    ids = sorted(mod.rows)
    votes = 0
    for phone in phones:
        for question in rng.sample(ids, 20):
            votes += phone.socket.emit(
                "vote", {"question_id": question, "up": True}, callback=True
            )["ok"]
    assert votes == 500
    stay.deliver_all()
    away.connect()
    away.deliver_all()
    assert away.state() == stay.state() == away.truth()
    assert sum(q["votes"] for q in stay.state()[1].values()) == 500
