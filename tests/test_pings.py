"""Pings, sent to every phone by one task (qa_app/pinger.py) under both async servers: a phone
that answers is pinged every interval and stays; one that stops answering is let go."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import websocket

from tests.live import running_server
from tests.timing import bound

INTERVAL, TIMEOUT = 1.0, 1.0  # engine.io tells clients whole seconds
PHONES = 40
LISTEN = 4.6  # seconds each phone listens: four pings or so (as bound(LISTEN): tests/timing.py)


def open_phone(url: str, code: str) -> websocket.WebSocket:
    """A raw Socket.IO audience connection that has joined the event's room."""
    ws = websocket.create_connection(
        url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket", timeout=10
    )
    opened = json.loads(ws.recv()[1:])
    assert opened["pingInterval"] == INTERVAL * 1000, opened
    ws.send("40" + json.dumps({"event": code}))
    return ws


def listen(ws: websocket.WebSocket, answer: bool, seconds: float) -> tuple[list[float], bool]:
    """The times pings arrived in seconds, answering each (or not); and whether the server
    closed the connection meanwhile."""
    pings, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        ws.settimeout(max(0.05, end - time.monotonic()))
        try:
            message = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            return pings, True
        if message == "2":
            pings.append(time.monotonic())
            if answer:
                ws.send("3")
        elif message in ("", "1"):  # a close frame, or engine.io's close packet
            return pings, True
    return pings, False


@pytest.mark.live
@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_every_phone_is_pinged_each_interval_and_one_that_stops_answering_is_let_go(mode, tmp_path):
    with running_server(
        tmp_path,
        QA_ASYNC_MODE=mode,
        QA_PING_INTERVAL=str(INTERVAL),
        QA_PING_TIMEOUT=str(TIMEOUT),
    ) as live:
        code = live.create_seed_event()["code"]
        listen_s = bound(LISTEN)
        phones: list[websocket.WebSocket] = []
        try:
            for _ in range(PHONES):
                phones.append(open_phone(live.url, code))
            silent = open_phone(live.url, code)
            phones.append(silent)
            with ThreadPoolExecutor(len(phones)) as pool:
                heard = pool.map(lambda ws: listen(ws, True, listen_s), phones[:-1])
                gone = pool.submit(listen, silent, False, INTERVAL + TIMEOUT + 3)
                heard = list(heard)
            for pings, closed in heard:
                assert not closed, "a phone that answers every ping was let go"
                assert len(pings) >= 4, f"{len(pings)} pings in {listen_s:.1f} s"
                gaps = [b - a for a, b in zip(pings, pings[1:], strict=False)]
                assert min(gaps) > INTERVAL * 0.8, gaps  # one ping per interval, not more
                assert max(gaps) < INTERVAL + bound(0.4), gaps  # and none late
            pings, closed = gone.result()
            assert pings and len(pings) == 1, "a phone that does not answer is pinged once"
            assert closed, "a phone that stopped answering pings was not let go"
        finally:
            for ws in phones:
                ws.close()  # does nothing once the server has closed: then only shutdown does
                ws.shutdown()
