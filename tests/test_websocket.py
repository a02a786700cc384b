"""Each broadcast framed once and written at once: the frames are right, and a slow phone still
gets every update whole and in order (the rest of a frame its buffer did not take goes through
its queue)."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio
import websocket
from wsproto.frame_protocol import FrameProtocol

from qa_app.websocket import FrameCache, install
from tests.live import join, running_server, wait_for


def unframe(frame: bytes) -> str:
    """The text a client's WebSocket reads from a frame."""
    reader = FrameProtocol(client=True, extensions=[])
    reader.receive_bytes(frame)
    (received,) = list(reader.received_frames())
    assert received.message_finished
    return received.payload


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 300_000])
def test_a_text_is_framed_as_a_client_reads_it(size):
    text = "42" + "é" * size  # multi-byte text: the frame's length is in bytes
    assert unframe(FrameCache().frame(text)) == text


def test_the_same_text_object_is_framed_once_and_the_oldest_unused_frame_goes_first():
    cache = FrameCache(size=2)
    update, ack, other = "42" + "u" * 500, "43" + "a" * 500, "42" + "o" * 500
    frame = cache.frame(update)
    assert cache.frame(update) is frame  # every phone's writer gets the same bytes
    equal = "".join(["42", "u" * 500])  # an equal text, another object: framed again, same bytes
    assert equal is not update and cache.frame(equal) == frame
    cache = FrameCache(size=2)
    frame = cache.frame(update)
    cache.frame(ack)
    cache.frame(update)  # used again: now the most recent
    cache.frame(other)  # evicts ack, not update
    assert cache.frame(update) is frame
    assert set(cache.entries) == {id(update), id(other)}


VOTERS = 75


def test_only_a_gevent_server_gets_the_frame_once_path(app):
    from qa_app.extensions import socketio

    server = socketio.server  # the test app's: the threading server
    websocket_class = server.eio._async["websocket"]
    assert install(server) is False
    assert server.eio._async["websocket"] is websocket_class
    assert "_send_eio_packet" not in vars(server)  # broadcasts go through the queues as before


class SlowPhone:
    """A raw Socket.IO audience connection with a tiny receive buffer that reads only when told."""

    def __init__(self, url: str, code: str):
        self.ws = websocket.create_connection(
            url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
            sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)],
            timeout=15,
        )
        assert self.ws.recv().startswith("0")  # engine.io open
        self.ws.send("40" + json.dumps({"event": code}))
        self.events: list[tuple[str, dict]] = []

    def read(self) -> tuple[str, dict] | None:
        """The next Socket.IO event (answering pings on the way)."""
        while True:
            message = self.ws.recv()
            if message == "2":
                self.ws.send("3")
            elif message.startswith("42"):
                name, data = json.loads(message[2:])  # a cut or mixed frame would not parse
                self.events.append((name, data))
                return name, data
            elif not message.startswith("40"):
                raise AssertionError(f"unexpected packet {message[:80]!r}")


@pytest.mark.live
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_phone_that_stops_reading_gets_every_update_whole_and_in_order(tmp_path):
    # gevent: frames written at once. The phone stops reading for as long as the questions and
    # votes take, so the send buffer and the ping time are made large enough for it never to
    # be cut off (tests/test_connections.py checks that a phone over the defaults is)
    with running_server(
        tmp_path,
        QA_TICK_MS="20",
        QA_SEND_BUFFER=str(64 * 2**20),
        QA_PING_INTERVAL="300",
        QA_PING_TIMEOUT="300",
    ) as live:
        event = live.create_seed_event(settings={"max_question_length": 2000})
        code, api = event["code"], f"{live.url}/api/v1"
        slow = SlowPhone(live.url, code)
        name, snapshot = slow.read()
        assert name == "snapshot" and snapshot["questions"] == []
        issue = snapshot["issues"][0]["id"]
        tokens = [
            requests.post(f"{api}/events/{code}/participants", json={}, timeout=10).json()["token"]
            for _ in range(VOTERS)
        ]

        def ask(i: int) -> int:
            answer = requests.post(
                f"{api}/events/{code}/questions",
                json={"issue_id": issue, "text": f"{i:02d} " + "x" * 1990, "client_id": f"c{i}"},
                headers={"Authorization": f"Bearer {tokens[i % VOTERS]}"},
                timeout=10,
            )
            assert answer.status_code == 201, answer.text
            return answer.json()["question"]["id"]

        def vote(pair: tuple[int, str]) -> None:
            question, token = pair
            answer = requests.put(
                f"{api}/questions/{question}/vote",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert answer.status_code == 200, answer.text

        # 40 questions of 2,000 characters, each voted by 75 phones, many rows in every tick
        with ThreadPoolExecutor(8) as pool:
            questions = sorted(pool.map(ask, range(40)))
            list(pool.map(vote, [(q, t) for t in tokens for q in questions]))
        # megabytes of updates wait for the slow phone; now it reads them all
        final = requests.get(f"{api}/events/{code}", timeout=10).json()["version"]
        held: dict[int, dict] = {}
        versions = []
        deadline = time.monotonic() + 60
        while not versions or versions[-1] < final:
            assert time.monotonic() < deadline, f"stuck at version {versions[-1:]} of {final}"
            name, data = slow.read()
            if name != "update":
                continue
            versions.append(data["version"])
            for row in data["questions"]:
                if row["rev"] > held.get(row["id"], {}).get("rev", -1):
                    held[row["id"]] = row
        assert versions == sorted(versions)  # one socket's updates leave in order
        assert sorted(held) == questions
        assert all(row["votes"] == VOTERS and len(row["text"]) == 1993 for row in held.values())
        wait_for(lambda: slow.ws.connected, what="the slow phone still connected")
        slow.ws.close()


def steady(read, *, readings: int = 5, gap_s: float = 0.2, timeout_s: float = 20) -> int:
    """read()'s value once it has stayed the same for `readings` readings `gap_s` apart."""
    deadline, seen = time.monotonic() + timeout_s, [read()]
    while len(seen) < readings or len(set(seen[-readings:])) > 1:
        assert time.monotonic() < deadline, f"never settled: {seen[-readings:]}"
        time.sleep(gap_s)
        seen.append(read())
    return seen[-1]


@pytest.mark.live
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_phone_costs_the_server_one_open_file_and_gives_it_back(tmp_path):
    import os

    import socketio

    with running_server(tmp_path) as live:  # gevent
        descriptors = f"/proc/{live.process.pid}/fd"
        if not os.path.isdir(descriptors):
            pytest.skip("needs /proc to count the server's open files")
        code = live.create_seed_event()["code"]
        before = len(os.listdir(descriptors))
        phones = []
        for _ in range(20):
            # generous timeouts: on a loaded machine a handshake may take seconds, and this
            # test counts files, not time
            phone = socketio.Client(reconnection=False, request_timeout=30)
            phone.connect(live.url, auth={"event": code}, transports=["websocket"], wait_timeout=30)
            phones.append(phone)
        # every phone's connect has returned: the server accepted all 20. Once its count of
        # open files stops moving, it holds one each: simple-websocket's duplicate of the socket
        # is given back (a hall of 10,000 would otherwise need 20,000 open files)
        assert steady(lambda: len(os.listdir(descriptors))) - before == 20
        with ThreadPoolExecutor(len(phones)) as pool:  # the client takes seconds to disconnect
            list(pool.map(lambda phone: phone.disconnect(), phones))
        wait_for(lambda: len(os.listdir(descriptors)) == before, what="every file given back")


@pytest.mark.live
def test_a_phone_that_long_polls_first_upgrades_to_websocket_and_keeps_its_session(tmp_path):
    # a socket.io client's default: long-polling, then the upgrade to WebSocket, which
    # qa_app/websocket.py serves (`serve`); the phone keeps its session and its updates
    with running_server(tmp_path) as live:
        code = live.create_seed_event()["code"]
        events: list[tuple[str, dict]] = []
        phone = socketio.Client(reconnection=False)
        phone.on("snapshot", lambda data: events.append(("snapshot", data)))
        phone.on("update", lambda data: events.append(("update", data)))
        phone.connect(live.url, auth={"event": code}, transports=["polling", "websocket"])
        try:
            sid = phone.get_sid()
            wait_for(lambda: phone.transport() == "websocket", 10, "the upgrade to WebSocket")
            wait_for(lambda: events, 10, "the snapshot")
            api = f"{live.url}/api/v1"
            issue = events[0][1]["issues"][0]["id"]
            asked = requests.post(
                f"{api}/events/{code}/questions",
                json={"issue_id": issue, "text": "Heard after the upgrade?", "client_id": "u1"},
                headers={"Authorization": f"Bearer {join(live.url, code)}"},
                timeout=10,
            )
            assert asked.status_code == 201, asked.text

            def heard() -> bool:
                updates = [data for name, data in events if name == "update"]
                return any(
                    q["text"] == "Heard after the upgrade?" for u in updates for q in u["questions"]
                )

            wait_for(heard, 10, "the update on the upgraded socket")
            assert phone.get_sid() == sid and phone.transport() == "websocket"
            assert [name for name, _ in events].count("snapshot") == 1  # no second connection
            # and a call over the upgraded socket is answered on it
            answer = phone.call("sync", {"since": 0}, timeout=10)
            assert answer["ok"] is True, answer
        finally:
            phone.disconnect()
