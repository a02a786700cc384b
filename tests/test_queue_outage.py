"""A message-queue outage is not an event outage: Redis killed for 5 s under two live processes.

Two `qa-app serve` processes (gevent) share PostgreSQL and the test's own redis-server, with the
default rate limits on. Redis is killed (SIGKILL) for five seconds and started again on the same
port. What must hold:

- every ask, vote and join made through either process during the outage is acknowledged `ok`
  (rate limits count per process meanwhile, and the log says so); nothing is `internal`;
- each process's own phones keep receiving what is changed through it during the outage;
- once Redis is back, every phone on both processes converges (what it shows equals `sync`), so
  each change made through one process during the outage reaches the phones of the other;
- "once": each change reaches each phone, and what a process held is re-sent once, when every
  process listens again, and only then. While Redis is still down and nothing changes, no phone
  receives a row; after Redis is back, a phone receives at most one `update` row for a question
  from each process that changed it during the outage; and once both processes have re-sent
  what they held, no row arrives while nothing changes (held updates are never re-sent in a
  loop).

A second test pauses the Redis of one process (SIGSTOP: its port open, no answers), the outage
that costs timeouts rather than refused connections: no phone waits on it more than once.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests

from tests.live import join, running_server, wait_for
from tests.live import two_servers as two_servers_running
from tests.test_multiprocess import Mirror

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

OUTAGE_S = 5
WRITES_S = 3  # asks and votes during the first seconds of the outage; then nothing changes
QUIET_S = 3  # 30 ticks: held updates re-sent in a loop would show here


class Phone(Mirror):
    """A mirror that also notes when it received a row of each question."""

    def __init__(self, url: str, code: str, token: str | None = None) -> None:
        self.received: list[tuple[float, int]] = []
        super().__init__(url, code, token)

    def apply(self, rows: list[dict]) -> None:
        with self.lock:
            now = time.monotonic()
            self.received.extend((now, row["id"]) for row in rows)
        super().apply(rows)

    def rows_since(self, moment: float) -> Counter[int]:
        """How many rows of each question arrived after moment."""
        with self.lock:
            return Counter(qid for at, qid in self.received if at > moment)

    def send(self, name: str, payload: dict, acks: list) -> dict:
        """Emit and record the ack (never assert here: every ack is checked at the end)."""
        started = time.monotonic()
        answer = self.sio.call(name, payload, timeout=15)
        acks.append((name, answer, time.monotonic() - started))
        return answer


@pytest.fixture
def two_servers(tmp_path, postgres_url, redis_server):
    """Two processes on PostgreSQL and the test's Redis, rate limits on with their defaults.

    A flushes every 100 ms; B publishes each change at once (tick 0), the other path to Redis.
    """
    limits_on = {"QA_RATE_LIMITS": "1"}
    with two_servers_running(
        tmp_path, postgres_url, redis_server.url, a=limits_on, b=limits_on | {"QA_TICK_MS": "0"}
    ) as (a, b):
        a.event = a.create_seed_event()
        yield a, b


def joined(url: str, code: str, acks: list) -> str | None:
    """Join over HTTP and record the answer as an ack; the token, or None (then a screen)."""
    started = time.monotonic()
    answer = requests.post(f"{url}/api/v1/events/{code}/participants", json={}, timeout=15)
    ok = answer.status_code == 201
    acks.append(("join", {"ok": ok} | answer.json(), time.monotonic() - started))
    return answer.json()["token"] if ok else None


def quiet(phones: list[Phone], seconds: float) -> bool:
    """Whether no phone has received a row for the last seconds."""
    now = time.monotonic()
    if all(not phone.rows_since(now - seconds) for phone in phones):
        return True
    time.sleep(0.2)
    return False


def converged(phones: list[Phone]) -> bool:
    """Every phone shows what `sync` says (polled every 0.2 s: each poll syncs every phone)."""
    if all(phone.shown() == phone.truth() for phone in phones):
        return True
    time.sleep(0.2)
    return False


def test_a_redis_outage_keeps_writes_acknowledged_and_delivers_them_once(two_servers, redis_server):
    servers = dict(zip("ab", two_servers, strict=True))
    other = {"a": "b", "b": "a"}
    code = servers["a"].event["code"]
    url = {name: server.url for name, server in servers.items()}
    askers = {name: Phone(url[name], code, join(url[name], code)) for name in servers}
    voters = {name: Phone(url[name], code, join(url[name], code)) for name in servers}
    screens = {name: Phone(url[name], code) for name in servers}
    moderator = Phone(url["b"], code, servers["a"].event["moderator_key"])
    phones = [*askers.values(), *voters.values(), *screens.values(), moderator]
    issue = moderator.call("sync", {"since": 0})["issues"][0]["id"]
    before = {
        name: asker.call(
            "ask", {"issue_id": issue, "text": f"Before, on {name}?", "client_id": "b"}
        )["question"]["id"]
        for name, asker in askers.items()
    }
    wait_for(lambda: converged(phones), 15, "every phone to show the first questions")

    acks: list = []
    redis_server.kill()
    killed = time.monotonic()
    during: dict = {"a": [], "b": []}
    for n in range(2):
        for name, asker in askers.items():
            answer = asker.send(
                "ask", {"issue_id": issue, "text": f"During {n}?", "client_id": f"d{n}"}, acks
            )
            if answer["ok"]:
                during[name].append(answer["question"]["id"])
    # a phone joins each process during the outage (joins are rate-limited too)
    late = {name: Phone(url[name], code, joined(url[name], code, acks)) for name in servers}
    round_ = 0
    while time.monotonic() - killed < WRITES_S or round_ < 2:  # votes up and down, however slow
        for name, voter in voters.items():
            # vote through one process for the questions asked through the other
            for qid in [before[other[name]], *during[other[name]]]:
                voter.send("vote", {"question_id": qid, "up": round_ % 2 == 0}, acks)
            late[name].send("vote", {"question_id": before[name], "up": True}, acks)
        round_ += 1
        time.sleep(0.2)
    for name, voter in voters.items():  # end with every vote up
        for qid in [before[other[name]], *during[other[name]]]:
            voter.send("vote", {"question_id": qid, "up": True}, acks)
    for name in servers:  # a process's own phones hear its changes while the queue is down
        wait_for(lambda n=name: set(during[n]) <= set(screens[n].shown()), 5, "local updates")
    time.sleep(0.5)  # the last tick's flush
    still = time.monotonic()
    time.sleep(max(1.0, OUTAGE_S - (still - killed)))
    for phone in [*phones, *late.values()]:  # nothing changes: nothing is sent, nor re-sent
        assert not phone.rows_since(still), "rows re-sent while the queue is down"
    redis_server.start()
    back = time.monotonic()
    phones += late.values()

    refused = [(name, ack) for name, ack, _ in acks if not ack["ok"]]
    assert not [r for r in refused if r[1]["error"]["code"] == "internal"], refused
    assert not refused, refused  # nothing needed refusing: PostgreSQL was up throughout
    assert len(during["a"]) == len(during["b"]) == 2  # asked and acknowledged during the outage

    wait_for(lambda: converged(phones), 90, "every phone to converge after Redis is back")
    convergence_s = time.monotonic() - back
    for name in servers:  # what changed through one process reached the phones of the other
        for phone in (screens[other[name]], voters[other[name]]):
            assert set(during[name]) <= set(phone.shown())
            assert phone.shown()[before[name]]["votes"] == 2
    # the other process's re-send may still be on its way (each re-sends once, when it sees
    # every process listening again); then rows stop: a loop would never go quiet
    wait_for(lambda: quiet(phones, QUIET_S), 30, f"no row for {QUIET_S} s after converging")
    changed = {*before.values(), *during["a"], *during["b"]}  # each through both processes
    for phone in phones:
        rows = phone.rows_since(back)
        assert all(rows[qid] <= len(servers) for qid in changed), rows
    for name, phone in screens.items():  # each change reached the other process's phones
        assert all(phone.rows_since(back)[qid] >= 1 for qid in during[other[name]])

    for server in servers.values():
        log = server.log.read_text()
        assert "rate limits count per process" in log
        assert "rate limits are shared again" in log
        assert "socket handler" not in log  # no handler failed
    slowest = max(seconds for _, _, seconds in acks)
    last_row = max(at for phone in phones for at, _ in phone.received)
    print(
        f"outage: {len(acks)} acks, slowest {slowest:.3f} s; after Redis was back, the last "
        f"row arrived in {last_row - back:.2f} s, convergence seen in {convergence_s:.2f} s"
    )
    for phone in phones:
        phone.sio.disconnect()
    assert all(server.process.poll() is None for server in servers.values())


def test_a_redis_that_hangs_costs_a_phone_one_short_wait_at_most(tmp_path, redis_server):
    """Redis paused (SIGSTOP: its port open, no answers): phones join, connect, ask and vote."""
    env = {"QA_MESSAGE_QUEUE": redis_server.url, "QA_TICK_MS": "100", "QA_RATE_LIMITS": "1"}
    with running_server(tmp_path, QA_ASYNC_MODE="gevent", **env) as server:
        code = server.create_seed_event()["code"]
        asker = Phone(server.url, code, join(server.url, code))
        screen = Phone(server.url, code)
        issue = screen.call("sync", {"since": 0})["issues"][0]["id"]
        first = asker.call("ask", {"issue_id": issue, "text": "Before?", "client_id": "b"})
        wait_for(lambda: first["question"]["id"] in screen.shown(), 15, "the first question")

        acks: list = []
        redis_server.pause()
        try:
            started = time.monotonic()
            token = joined(server.url, code, acks)
            connecting = time.monotonic()
            voter = Phone(server.url, code, token)
            connect_s = time.monotonic() - connecting
            asked = asker.send(
                "ask", {"issue_id": issue, "text": "While Redis hangs?", "client_id": "h"}, acks
            )
            for up in (True, False, True):
                voter.send("vote", {"question_id": first["question"]["id"], "up": up}, acks)
            writes_s = time.monotonic() - started
            # the process's own phones hear it even so
            wait_for(lambda: asked["question"]["id"] in screen.shown(), 10, "the local update")
        finally:
            redis_server.resume()
        assert [ack["ok"] for _, ack, _ in acks] == [True] * 5, acks
        slowest = max(seconds for _, _, seconds in acks)
        # one wait for the limiter's timeout (0.5 s), then no Redis call on the way of a phone
        assert connect_s < 2 and slowest < 2 and writes_s < 4, (connect_s, slowest, writes_s)
        wait_for(lambda: converged([asker, screen, voter]), 30, "the phones to converge")
        assert "rate limits count per process" in server.log.read_text()
        print(f"hung Redis: connect {connect_s:.2f} s, slowest ack {slowest:.2f} s")
        for phone in (asker, screen, voter):
            phone.sio.disconnect()
