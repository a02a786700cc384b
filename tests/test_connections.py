"""No client can exhaust the server: deadlines for headers and idle connections, a body limit on
every transport, half-open WebSockets given back, nothing read after a WebSocket, and a bounded
outgoing buffer per connection (a phone that stops reading is cut off and catches up later).

Every test talks to the real server (`qa-app serve`) over raw sockets, as a misbehaving client
would, under both async servers where they differ."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import time
from pathlib import Path

import pytest
import requests
import socketio
import websocket as websocket_client
from wsproto.frame_protocol import CloseReason, FrameProtocol, Opcode

from tests.live import join, running_server, wait_for
from tests.timing import bound

pytestmark = [pytest.mark.live, pytest.mark.filterwarnings("ignore::ResourceWarning")]

SERVERS = ["gevent", "eventlet"]
QUICK = {  # short limits, so that each test takes seconds
    "QA_HEADER_TIMEOUT": "1",
    "QA_KEEPALIVE_TIMEOUT": "1",
    "QA_PING_INTERVAL": "1",
    "QA_PING_TIMEOUT": "1",
}


@pytest.fixture(scope="module", params=SERVERS)
def live(request, tmp_path_factory):
    """A server with short limits under each async server, with one event; yields (server,
    port, code)."""
    tmp = tmp_path_factory.mktemp(request.param)
    with running_server(tmp, QA_ASYNC_MODE=request.param, **QUICK) as server:
        yield server, int(server.url.rsplit(":", 1)[1]), server.create_seed_event()["code"]


HANG_UPS: list = []  # how to close each connection a test opened


@pytest.fixture(autouse=True)
def hang_up():
    """Close the test's connections after it, passed or failed."""
    yield
    while HANG_UPS:
        with contextlib.suppress(Exception):
            HANG_UPS.pop()()


def sio_client() -> socketio.Client:
    """A Socket.IO client, disconnected after the test."""
    connection = socketio.Client(reconnection=False)
    HANG_UPS.append(connection.disconnect)
    return connection


def connect(port: int) -> socket.socket:
    """A raw TCP connection to the server (closed after the test)."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    HANG_UPS.append(conn.close)
    return conn


def closed_after(conn: socket.socket, limit: float) -> tuple[float | None, bytes]:
    """Read until the server closes conn: (seconds it took, what came), or (None, ...) when
    it is still open after limit seconds."""
    started, received = time.monotonic(), b""
    conn.settimeout(limit)
    try:
        while chunk := conn.recv(65536):
            received += chunk
            conn.settimeout(max(0.01, limit - (time.monotonic() - started)))
    except TimeoutError:
        return None, received
    except ConnectionResetError:
        pass
    return time.monotonic() - started, received


def response(conn: socket.socket) -> tuple[bytes, bytes]:
    """One HTTP response from conn: its head and its body (by Content-Length)."""
    conn.settimeout(5)
    received = b""
    while b"\r\n\r\n" not in received:
        received += conn.recv(65536)
    head, body = received.split(b"\r\n\r\n", 1)
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:"))[15:]
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head, body


def raw_websocket(port: int) -> tuple[socket.socket, bytes]:
    """A raw WebSocket to engine.io: the connection and the bytes after the handshake."""
    conn = connect(port)
    key = base64.b64encode(os.urandom(16)).decode()
    conn.sendall(
        f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    received = b""
    while b"\r\n\r\n" not in received:
        received += conn.recv(4096)
    head, rest = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return conn, rest


def frame(text: str) -> bytes:
    """A client's (masked) text frame."""
    return bytes(FrameProtocol(client=True, extensions=[]).send_data(text))


def frames(data: bytes) -> list:
    """The frames a client reads from data (the server's frames)."""
    reader = FrameProtocol(client=True, extensions=[])
    reader.receive_bytes(data)
    return list(reader.received_frames())


def open_files(pid: int) -> int:
    """How many files process pid has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.parametrize("request_line", [b"GET /api/openapi.json HTTP/1.1\r\n", b""])
def test_a_request_must_arrive_within_the_header_deadline(live, request_line):
    server, port, _ = live
    conn = connect(port)
    conn.sendall(request_line)
    started = time.monotonic()
    try:
        for _ in range(20):  # a header byte every 0.2 s: each read is quick, the whole is not
            conn.sendall(b"X")
            time.sleep(0.2)
    except OSError:  # closed by the server
        pass
    took, answer = closed_after(conn, 4 - (time.monotonic() - started))
    assert took is not None, "the server still waits for the headers after 4 s (deadline 1 s)"
    assert answer == b""
    assert time.monotonic() - started < 3
    assert requests.get(server.url + "/api/openapi.json", timeout=5).status_code == 200


def test_a_kept_alive_connection_may_idle_only_for_the_keep_alive_time(live):
    _, port, _ = live
    conn = connect(port)
    for _ in range(2):  # kept alive between requests that come within the time
        conn.sendall(b"GET /api/v1/events/nope HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert response(conn)[0].startswith(b"HTTP/1.1 404")
        time.sleep(0.4)
    took, answer = closed_after(conn, 5)
    assert took is not None, "an idle kept-alive connection is still open after 5 s (limit 1 s)"
    assert answer == b"" and took < 3


def polling_session(url: str) -> str:
    """The sid of a new engine.io long-polling session."""
    opened = requests.get(url + "/socket.io/?EIO=4&transport=polling", timeout=5)
    return json.loads(opened.text[1:])["sid"]


@pytest.mark.parametrize("target", ["polling", "api"])
@pytest.mark.parametrize(
    ("framing", "status", "code"),
    [
        ("Content-Length: 20000000", 413, "too_large"),
        ("Transfer-Encoding: chunked", 411, "invalid"),
    ],
)
def test_a_body_over_the_limit_is_refused_before_it_is_sent(live, target, framing, status, code):
    server, port, event = live
    path = {
        "polling": f"/socket.io/?EIO=4&transport=polling&sid={polling_session(server.url)}",
        "api": f"/api/v1/events/{event}/participants",
    }[target]
    conn = connect(port)
    head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\n{framing}\r\n\r\n"
    conn.sendall(head.encode())  # no body
    took, answer = closed_after(conn, 3)
    assert took is not None and took < 1, f"no answer, or the connection kept open: {answer!r}"
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert json.loads(body)["error"]["code"] == code


def test_a_websocket_message_over_the_limit_closes_the_connection(live):
    _, port, _ = live
    conn, _ = raw_websocket(port)
    # a text frame announcing 20 MB, masked with a zero key: its "x"s stay valid UTF-8
    header = bytes([0x81, 0xFF]) + (20_000_000).to_bytes(8, "big") + bytes(4)
    sent = 0
    try:
        conn.sendall(header)
        while sent < 1_100_000:  # the limit is 1 MiB: the server must stop before the 20 MB
            conn.sendall(b"x" * 65536)
            sent += 65536
    except OSError:  # closed by the server
        pass
    took, answer = closed_after(conn, 5)
    assert took is not None, f"the connection is still open after {sent} bytes of 20 MB"
    closes = [f for f in frames(answer) if f.opcode == Opcode.CLOSE]
    assert closes and closes[0].payload[0] == CloseReason.MESSAGE_TOO_BIG


def test_bytes_after_a_websocket_are_never_read_as_a_request(live):
    server, port, _ = live
    conn, _ = raw_websocket(port)
    goodbye = FrameProtocol(client=True, extensions=[]).close(CloseReason.NORMAL_CLOSURE)
    conn.sendall(bytes(goodbye))
    wait_for(lambda: any(f.opcode == Opcode.CLOSE for f in frames(conn.recv(65536))), 5)
    try:  # the WebSocket is over: this is not a request on a kept-alive connection
        conn.sendall(b"GET /api/openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
    except OSError:
        pass
    took, answer = closed_after(conn, 3)
    assert took is not None and b"HTTP/1.1" not in answer, answer[:80]
    assert "Invalid HTTP method" not in server.log.read_text()


def test_a_half_open_websocket_gives_its_slot_back_within_the_ping_timeout(live):
    server, port, code = live
    pid = server.process.pid
    if not os.path.isdir(f"/proc/{pid}/fd"):
        pytest.skip("needs /proc to count the server's open files")
    time.sleep(0.5)  # the other tests' connections are closed
    before = open_files(pid)
    conn, received = raw_websocket(port)
    conn.sendall(frame("40" + json.dumps({"event": code})))
    while b"snapshot" not in received:
        received += conn.recv(65536)
    assert open_files(pid) == before + 1
    # now the phone is gone without a word: no pong, no FIN (the socket stays open here)
    started = time.monotonic()
    wait_for(lambda: open_files(pid) == before, 8, "the server to close the silent connection")
    # ping interval 1 s + ping timeout 1 s, found by a check that runs every ping timeout
    assert time.monotonic() - started < 1 + 1 + 1 + 2


class Phone:
    """A raw Socket.IO phone with a tiny receive buffer, which reads only when told (a phone
    whose page stopped reading keeps its data on the phone: here, in the server's buffers)."""

    def __init__(self, url: str, code: str, token: str):
        self.ws = websocket_client.create_connection(
            url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
            sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)],
            timeout=15,
        )
        HANG_UPS.append(self.close)
        self.ws.send("40" + json.dumps({"event": code, "token": token}))
        self.port = self.ws.sock.getsockname()[1]

    def close(self) -> None:
        """Hang up."""
        self.ws.close(timeout=0)

    def pong(self) -> None:
        """Answer a ping without reading it (engine.io ignores a pong it did not ask for)."""
        self.ws.send("3")

    def read(self) -> tuple[str, dict]:
        """The next Socket.IO event, answering pings on the way."""
        while True:
            message = self.ws.recv()
            if message == "2":
                self.ws.send("3")
            elif message.startswith("42"):
                return tuple(json.loads(message[2:]))


class PollingPhone:
    """A raw Socket.IO phone on long-polling, which polls only when told."""

    def __init__(self, url: str, code: str, token: str):
        self.http = requests.Session()
        HANG_UPS.append(self.http.close)
        opened = self.http.get(url + "/socket.io/?EIO=4&transport=polling", timeout=10)
        sid = json.loads(opened.text[1:])["sid"]
        self.path = f"{url}/socket.io/?EIO=4&transport=polling&sid={sid}"
        auth = "40" + json.dumps({"event": code, "token": token})
        assert self.http.post(self.path, data=auth, timeout=10).text == "OK"

    def poll(self) -> requests.Response:
        """Take what waits for the phone (an engine.io poll)."""
        return self.http.get(self.path, timeout=3)


def long_questions(url: str, code: str, count: int) -> list[int]:
    """count live questions of 1,993 characters, asked by one participant; their ids."""
    token = join(url, code)
    issue = requests.get(f"{url}/api/v1/events/{code}", timeout=10).json()["issues"][0]["id"]
    ids = []
    for i in range(count):
        answer = requests.post(
            f"{url}/api/v1/events/{code}/questions",
            json={"issue_id": issue, "text": f"{i:02d} " + "q" * 1990, "client_id": f"c{i}"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["question"]["id"])
    return ids


def event_with_long_questions(live, tmp: Path) -> dict:
    """An event whose questions may be 2,000 characters long (created with the CLI)."""
    return live.create_seed_event(settings={"max_question_length": 2000, "pre_moderation": False})


def moderator(url: str, event: dict) -> socketio.Client:
    """A connected moderator socket."""
    client = sio_client()
    client.connect(
        url,
        auth={"event": event["code"], "token": event["moderator_key"]},
        transports=["websocket"],
    )
    return client


def edit(client: socketio.Client, question: int, text: str) -> None:
    """Change a question's text as the moderator."""
    ack = client.call("moderate", {"question_id": question, "text": text}, timeout=10)
    assert ack["ok"], ack


@pytest.mark.parametrize("mode", SERVERS)
def test_a_phone_that_stops_reading_is_cut_off_and_catches_up_when_it_returns(mode, tmp_path):
    bound = 48 * 1024  # small, so that a few rounds of edits go over it
    with running_server(
        tmp_path, QA_ASYNC_MODE=mode, QA_SEND_BUFFER=str(bound), QA_SOCKET_SNDBUF="8192"
    ) as live:
        port = int(live.url.rsplit(":", 1)[1])
        event = event_with_long_questions(live, tmp_path)
        code = event["code"]
        questions = long_questions(live.url, code, 30)
        token = join(live.url, code)
        phone = Phone(live.url, code, token)
        polling = PollingPhone(live.url, code, token)
        mod = moderator(live.url, event)
        edit(mod, questions[0], "A small change while the phone's snapshot waits.")
        time.sleep(1)
        # one message over the bound (a snapshot of 30 rows of 2,000 characters) still arrives
        name, snapshot = phone.read()
        while name != "snapshot":  # an update may come first (docs/protocol.md: versions)
            name, snapshot = phone.read()
        assert len(json.dumps(snapshot)) > bound
        assert sorted(q["id"] for q in snapshot["questions"]) == questions
        # the phone stops reading while the moderator edits every question, round after round
        # (60 KB a round): it is cut off
        for round_ in range(10):
            for question in questions:
                edit(mod, question, f"Round {round_}: " + "e" * 1900)
            if not established(port, {phone.port}):
                break
        assert not established(port, {phone.port}), "the phone is still connected after 600 KB"
        updates = 0
        with pytest.raises(websocket_client.WebSocketConnectionClosedException):
            while True:  # what it had been sent, then the end
                updates += phone.read()[0] == "update"
        assert updates < (round_ + 1) * len(questions)  # it missed some changes
        # so is a phone on long-polling that stops polling: its session is over (400), at once or
        # after one last poll of what waited
        polls = [polling.poll() for _ in range(2)]
        assert polls[-1].status_code == 400
        received = sum(answer.text.count('"update"') for answer in polls if answer.ok)
        assert received < (round_ + 1) * len(questions)
        # when it comes back it catches up from the version it had
        back = sio_client()
        caught_up = []
        back.on("snapshot", caught_up.append)
        back.connect(
            live.url,
            auth={"event": code, "token": token, "since": snapshot["version"]},
            transports=["websocket"],
        )
        wait_for(lambda: caught_up, 10, "the snapshot since the phone's version")
        texts = {q["id"]: q["text"] for q in caught_up[0]["questions"]}
        assert texts == {q: f"Round {round_}: " + "e" * 1900 for q in questions}


def resident_bytes(pid: int) -> int:
    """The resident memory of process pid."""
    status = Path(f"/proc/{pid}/status").read_text()
    return (
        int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
        * 1024
    )


def unsent_bytes(server_port: int, client_ports: set[int]) -> int:
    """The bytes the kernel holds unsent (Send-Q) on the server's side of these connections."""
    unsent = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, queues = fields[1], fields[2], fields[4]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) in (
            client_ports
        ):
            unsent += int(queues.split(":")[0], 16)
    return unsent


def established(server_port: int, client_ports: set[int]) -> set[int]:
    """Which of these client ports the server still holds an established connection with."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        port = int(remote.split(":")[1], 16)
        if int(local.split(":")[1], 16) == server_port and port in client_ports and state == "01":
            found.add(port)
    return found


SLOW_PHONES = 20
RUN_SECONDS = 60
EDITS_PER_SECOND = 20


def test_phones_that_stop_reading_hold_little_memory_and_votes_stay_fast(tmp_path):
    """The issue's figure: 20 phones answer pings but never read while the moderator edits 2 KB
    texts of different questions twenty times a second for a minute (default settings)."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs /proc to measure the server's memory and unsent bytes")
    with running_server(tmp_path) as live:  # gevent, the default limits
        pid, port = live.process.pid, int(live.url.rsplit(":", 1)[1])
        event = event_with_long_questions(live, tmp_path)
        code = event["code"]
        questions = long_questions(live.url, code, EDITS_PER_SECOND)
        mod = moderator(live.url, event)
        voter = sio_client()
        voter.connect(
            live.url, auth={"event": code, "token": join(live.url, code)}, transports=["websocket"]
        )
        time.sleep(1)
        baseline = resident_bytes(pid)
        tokens = [join(live.url, code) for _ in range(SLOW_PHONES)]
        phones = [Phone(live.url, code, token) for token in tokens]
        ports = {phone.port for phone in phones}
        held, acks, texts = [], [], {}
        started = time.monotonic()
        for tick in range(RUN_SECONDS * EDITS_PER_SECOND):
            question = questions[tick % len(questions)]
            texts[question] = f"{tick:06d} " + "m" * 1990
            edit(mod, question, texts[question])
            if tick % 4 == 0:  # a normal phone votes five times a second and reads everything
                sent = time.monotonic()
                ack = voter.call("vote", {"question_id": questions[0], "up": tick % 8 == 0})
                acks.append(time.monotonic() - sent)
                assert ack["ok"], ack
            if tick % 10 == 0:
                held.append((resident_bytes(pid) - baseline, unsent_bytes(port, ports)))
            if tick % 100 == 0:
                for phone in phones:
                    with contextlib.suppress(OSError, websocket_client.WebSocketException):
                        phone.pong()
            time.sleep(max(0.0, started + (tick + 1) / EDITS_PER_SECOND - time.monotonic()))
        acks.sort()
        p99, most = acks[len(acks) * 99 // 100], max(sum(sample) for sample in held)
        figures = (
            f"held at most {most / 2**20:.1f} MB (server growth at most "
            f"{max(grown for grown, _ in held) / 2**20:.1f} MB, unsent in the kernel at most "
            f"{max(unsent for _, unsent in held) / 2**20:.1f} MB); vote ack p99 "
            f"{p99 * 1000:.0f} ms, max {acks[-1] * 1000:.0f} ms"
        )
        print(figures)
        assert most < 30 * 2**20, figures
        assert p99 < bound(0.5), figures
        assert established(port, ports) == set(), "phones that never read are still connected"
        # a phone that comes back catches up
        back = sio_client()
        snapshots = []
        back.on("snapshot", snapshots.append)
        back.connect(live.url, auth={"event": code, "token": tokens[0]}, transports=["websocket"])
        wait_for(lambda: snapshots, 10, "the phone's snapshot")
        assert {q["id"]: q["text"] for q in snapshots[0]["questions"]} == texts
