"""The private parts of python-engineio, python-socketio, simple-websocket, wsproto, gevent and
eventlet that qa_app's real-time layer relies on are still there and still behave as it expects.

Each hook is one test, named after the library and the attribute; a failure names both, the
installed version and the qa_app module that uses it, so that an upgrade is a conscious step:
read the library's changelog, adapt that module, run the suite, then move the range in
pyproject.toml and regenerate constraints.txt (README, "Dependencies").
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

import pytest


@dataclass(frozen=True)
class Hook:
    library: str  # the distribution's name on PyPI
    attribute: str  # what qa_app touches
    used_in: str  # where
    check: Callable[[], None]

    def __str__(self) -> str:
        return f"{self.library}: {self.attribute}"


HOOKS: list[Hook] = []


def hook(library: str, attribute: str, used_in: str):
    """Register a check of one private hook."""

    def register(check):
        HOOKS.append(Hook(library, attribute, used_in, check))
        return check

    return register


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def source(function) -> str:
    return inspect.getsource(function)


# -- python-engineio -------------------------------------------------------------------------------


@hook(
    "python-engineio",
    "engineio.async_drivers._websocket_wsgi.SimpleWebSocketWSGI (handler, server, **kwargs; "
    ".app, .server_args, .ws, wait, send, close)",
    "qa_app/websocket.py (FramedWebSocket subclasses it)",
)
def _simple_websocket_wsgi():
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

    def handler(ws):
        return None

    wrapper = SimpleWebSocketWSGI(handler, None, max_message_size=1)
    assert wrapper.app is handler, ".app is not the handler"
    assert wrapper.server_args == {"max_message_size": 1}, ".server_args"
    assert parameters(SimpleWebSocketWSGI.__call__) == ["self", "environ", "start_response"]
    for method in ("wait", "send", "close"):
        assert callable(getattr(SimpleWebSocketWSGI, method, None)), method
    assert "self.ws.receive()" in source(SimpleWebSocketWSGI.wait), "wait() reads self.ws"


@hook(
    "python-engineio",
    "engineio.Server._async['websocket'] under gevent is SimpleWebSocketWSGI",
    "qa_app/websocket.py (install)",
)
def _gevent_websocket_class():
    import engineio
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

    eio = engineio.Server(async_mode="gevent")
    assert isinstance(eio._async, dict), "Server._async is not a dict"
    assert issubclass(eio._async["websocket"], SimpleWebSocketWSGI), eio._async["websocket"]


@hook(
    "python-engineio",
    "engineio.Server._async['queue'] (each socket's queue, made by create_queue) and, under "
    "gevent, ['queue_empty'] is gevent.queue.Empty",
    "qa_app/sendlimit.py (install), qa_app/sendqueue.py (SendQueue raises gevent's Empty)",
)
def _queue_class():
    import engineio
    import gevent.queue

    eio = engineio.Server(async_mode="gevent")
    assert eio.get_queue_empty_exception() is gevent.queue.Empty

    class Marked(eio._async["queue"]):
        pass

    eio._async = dict(eio._async, queue=Marked)
    assert isinstance(engineio.socket.Socket(eio, "sid").queue, Marked)


@hook(
    "python-engineio",
    "engineio.socket.Socket builds its WebSocket as server._async['websocket']"
    "(self._websocket_handler, server)",
    "qa_app/websocket.py (FramedWebSocket: self.app.__self__ is the engine.io socket)",
)
def _websocket_construction():
    import engineio.socket

    text = source(engineio.socket.Socket._upgrade_websocket)
    assert "_async['websocket']" in text and "self._websocket_handler" in text, text[:400]


@hook(
    "wsproto",
    "wsproto.WSConnection: .handshake (H11Handshake, its events in ._events) is only asked for "
    "events once .connection is set; a server's handshake is done once it accepted",
    "qa_app/websocket.py (FramedWebSocket.drop_handshake)",
)
def _wsproto_handshake():
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Request

    for method in ("send", "receive_data"):
        text = source(getattr(WSConnection, method))
        assert "if self.connection is None:" in text and "self.handshake." in text, text
    assert "yield from self.handshake.events()" in source(WSConnection.events)
    server = WSConnection(ConnectionType.SERVER)
    client = WSConnection(ConnectionType.CLIENT)
    server.receive_data(client.send(Request(host="localhost", target="/")))
    assert isinstance(next(server.events()), Request)
    server.send(AcceptConnection())
    assert server.connection is not None and not server.handshake._events


@hook(
    "python-engineio",
    "engineio.socket.Socket._websocket_handler: the upgrade, one writer greenlet taking the "
    "queue until None, the read loop through receive(), then put(None), join, close(abort)",
    "qa_app/websocket.py (serve does the same with a Writer started on demand)",
)
def _websocket_handler():
    import engineio.socket

    text = source(engineio.socket.Socket._websocket_handler)
    steps = [
        "self.upgrading = True",
        "packet.Packet(packet.PONG, data='probe')",
        "self.queue.put(packet.Packet(packet.NOOP))",
        "self.upgraded = True",
        "packets = self.poll()",
        "ws.send(pkt.encode())",
        "ws.close()",
        "writer_task = self.server.start_background_task(writer)",
        "self.receive(pkt)",
        "self.queue.put(None)",
        "writer_task.join()",
        "self.close(wait=False, abort=True",
    ]
    places = [text.find(step) for step in steps]
    missing = [step for step, place in zip(steps, places, strict=True) if place < 0]
    assert not missing, f"no longer in the handler: {missing}"
    assert places == sorted(places), "the handler's steps changed order"


@hook(
    "python-engineio",
    "engineio.socket.Socket .server .sid .queue .closed .upgrading .upgraded, "
    "close(wait, abort, reason)",
    "qa_app/websocket.py (send_now), qa_app/sendlimit.py (cut)",
)
def _socket_attributes():
    import engineio

    eio = engineio.Server(async_mode="gevent")
    sock = engineio.socket.Socket(eio, "sid")
    assert sock.server is eio and sock.sid == "sid"
    assert (sock.closed, sock.upgrading, sock.upgraded) == (False, False, False)
    assert callable(sock.queue.put) and callable(sock.queue.empty)
    assert parameters(sock.close)[:3] == ["wait", "abort", "reason"], parameters(sock.close)


@hook(
    "python-engineio",
    "engineio.socket.Socket.schedule_ping(), called after the connect handler and on each pong; "
    ".last_ping set at start and when a ping is sent; .closing; engine.io's 'connect' handler "
    "runs before the first schedule_ping",
    "qa_app/pinger.py (PingedSocket, install)",
)
def _ping_schedule():
    import engineio
    import engineio.server
    import engineio.socket

    assert parameters(engineio.socket.Socket.schedule_ping) == ["self"]
    assert "self.schedule_ping()" in source(engineio.socket.Socket.receive)
    assert "self.last_ping = time.time()" in source(engineio.socket.Socket._send_ping)
    connect = source(engineio.server.Server._handle_connect)
    assert "socket.Socket(self, sid)" in connect and "self.sockets[sid] = s" in connect
    trigger, schedule = connect.find("_trigger_event('connect'"), connect.find("s.schedule_ping()")
    assert 0 < trigger < schedule, "the first ping is no longer scheduled after the connect handler"
    eio = engineio.Server(async_mode="gevent")
    sock = engineio.socket.Socket(eio, "sid")
    assert sock.last_ping and sock.closing is False
    assert isinstance(eio.handlers, dict)


@hook(
    "python-engineio",
    "engineio.Server .sockets .ping_interval .ping_timeout .max_http_buffer_size "
    ".reason.TRANSPORT_ERROR, send_packet(sid, pkt)",
    "qa_app/websocket.py, qa_app/sendlimit.py (send_packet is wrapped)",
)
def _server_attributes():
    import engineio

    eio = engineio.Server(async_mode="gevent", ping_interval=7, ping_timeout=3)
    assert isinstance(eio.sockets, dict)
    assert (eio.ping_interval, eio.ping_timeout) == (7, 3)
    assert isinstance(eio.max_http_buffer_size, int)
    assert eio.reason.TRANSPORT_ERROR
    assert parameters(eio.send_packet) == ["sid", "pkt"], parameters(eio.send_packet)


@hook(
    "python-engineio",
    "engineio.packet.Packet.encode() caches its text (one object for every recipient)",
    "qa_app/websocket.py (FrameCache finds a broadcast's frame by identity)",
)
def _packet_encode_cache():
    from engineio import packet

    message = packet.Packet(packet.MESSAGE, "2" + "x" * 100)
    assert message.encode() is message.encode(), "encode() is no longer cached"


# -- python-socketio -------------------------------------------------------------------------------


@hook(
    "python-socketio",
    "socketio.Server._send_eio_packet(eio_sid, eio_pkt), called by Manager.emit per recipient",
    "qa_app/websocket.py (write_broadcasts_at_once replaces it)",
)
def _send_eio_packet():
    import socketio

    server = socketio.Server(async_mode="threading")
    assert parameters(server._send_eio_packet) == ["eio_sid", "eio_pkt"]
    sent = []
    server._send_eio_packet = lambda eio_sid, eio_pkt: sent.append((eio_sid, eio_pkt))
    for eio_sid in ("a", "b"):
        server.manager.enter_room(server.manager.connect(eio_sid, "/"), "/", "event:1")
    server.emit("update", {"version": 1}, to="event:1")
    assert [eio_sid for eio_sid, _ in sent] == ["a", "b"], sent
    assert sent[0][1] is sent[1][1], "a broadcast no longer sends one packet object to all"


@hook(
    "python-socketio",
    "socketio Manager.rooms[namespace][room] (the sockets in a room)",
    "qa_app/rooms.py (connected, local_events)",
)
def _manager_rooms():
    import socketio

    server = socketio.Server(async_mode="threading")
    sid = server.manager.connect("a", "/")
    server.manager.enter_room(sid, "/", "event:7")
    assert sid in server.manager.rooms["/"]["event:7"], server.manager.rooms


@hook(
    "python-socketio",
    "socketio.RedisManager._publish(data) returns redis' PUBLISH count (None: gave up), "
    "called by emit; .channel",
    "qa_app/queue_health.py (CountingRedisManager overrides it)",
)
def _redis_publish():
    import socketio
    from socketio.pubsub_manager import PubSubManager

    assert parameters(socketio.RedisManager._publish) == ["self", "data"]
    assert "return self.redis.publish(" in source(socketio.RedisManager._publish)
    assert "self._publish(" in source(PubSubManager.emit)
    manager = socketio.RedisManager("redis://127.0.0.1:1/0", channel="c", write_only=True)
    assert manager.channel == "c"


# -- simple-websocket ------------------------------------------------------------------------------


@hook(
    "simple-websocket",
    "simple_websocket.Server(environ, max_message_size=...) .sock .connected .ws (wsproto)",
    "qa_app/websocket.py (FramedWebSocket writes frames to .sock itself)",
)
def _simple_websocket_server():
    import simple_websocket
    from simple_websocket.ws import Base

    assert "max_message_size" in parameters(simple_websocket.Server.__init__)
    text = source(Base.__init__)
    for needed in ("self.sock = sock", "self.connected", "self.ws = WSConnection("):
        assert needed in text, needed


@hook(
    "simple-websocket",
    "simple_websocket.Server under gevent takes environ['wsgi.input'](.rfile).raw._sock and "
    "dup()s it",
    "qa_app/websocket.py (use_one_descriptor closes the duplicate)",
)
def _simple_websocket_gevent_socket():
    import simple_websocket

    text = source(simple_websocket.Server.__init__)
    assert "raw._sock" in text and ".dup()" in text, "the gevent branch changed"


@hook(
    "simple-websocket",
    "simple_websocket.Base(thread_class=, event_class=) starts thread_class(target=self._thread) "
    "(its .name set), whose loop recv(self.receive_bytes)s, ws.receive_data()s and "
    "self._handle_events() (which fills .input_buffer and returns whether to go on)",
    "qa_app/websocket.py (NoThread, NoEvent: FramedWebSocket.wait reads the socket itself)",
)
def _simple_websocket_reader():
    from simple_websocket.ws import Base

    init = source(Base.__init__)
    for needed in ("thread_class(target=self._thread)", "self.thread.start()", "event_class()"):
        assert needed in init, needed
    loop = source(Base._thread)
    for needed in (
        "self.sock.recv(self.receive_bytes)",
        "self.ws.receive_data(in_data)",
        "self.connected = self._handle_events()",
    ):
        assert needed in loop, needed
    assert "self.input_buffer.append(" in source(Base._handle_events)


# -- wsproto ---------------------------------------------------------------------------------------


@hook(
    "wsproto",
    "wsproto.frame_protocol.FrameProtocol(client=False, extensions=[]).send_data(text)",
    "qa_app/websocket.py (FrameCache frames a broadcast once)",
)
def _frame_protocol():
    from wsproto.frame_protocol import FrameProtocol

    assert bytes(FrameProtocol(client=False, extensions=[]).send_data("hi")) == b"\x81\x02hi"


# -- gevent ----------------------------------------------------------------------------------------


@hook(
    "gevent",
    "gevent.pywsgi.WSGIHandler(sock, address, server, rfile=None), handle, handle_one_request, "
    "read_request(raw_requestline), handle_one_response; WSGIServer.init_socket",
    "qa_app/httpserver.py (gevent_handler subclasses it)",
)
def _gevent_handler():
    from gevent import pywsgi

    for method in ("handle", "handle_one_request", "handle_one_response"):
        assert callable(getattr(pywsgi.WSGIHandler, method, None)), method
    assert parameters(pywsgi.WSGIHandler.read_request) == ["self", "raw_requestline"]
    # a handler given an rfile reads through it (the smaller read buffer)
    assert parameters(pywsgi.WSGIHandler.__init__) == ["self", "sock", "address", "server", "rfile"]
    assert "self.rfile = rfile" in source(pywsgi.WSGIHandler.__init__)
    assert callable(pywsgi.WSGIServer.init_socket)
    handle = source(pywsgi.WSGIHandler.read_request)
    assert "content_length" in handle and "self.headers" in handle


@hook(
    "gevent",
    "gevent.queue.Queue().queue (the deque of waiting items); socket.makefile().raw._sock",
    "qa_app/sendlimit.py (CountingQueue.over), qa_app/websocket.py (use_one_descriptor)",
)
def _gevent_queue_and_socket():
    import gevent.queue
    import gevent.socket

    queue = gevent.queue.Queue()
    queue.put(1)
    assert list(queue.queue) == [1]
    left, right = gevent.socket.socketpair()
    try:
        with left.makefile("rb") as reader:
            assert reader.raw._sock is left
    finally:
        left.close()
        right.close()


# -- eventlet --------------------------------------------------------------------------------------


def quiet_eventlet():
    """Import eventlet without its deprecation warning failing the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EventletDeprecationWarning, a plain Warning
        import engineio.async_drivers.eventlet  # noqa: F401
        import eventlet.queue  # noqa: F401
        import eventlet.wsgi  # noqa: F401


@hook(
    "python-engineio",
    "engineio.async_drivers.eventlet WebSocketWSGI .handler, ._sock (set in __call__)",
    "qa_app/websocket.py (EventletWebSocket)",
)
def _eventlet_websocket():
    quiet_eventlet()
    from engineio.async_drivers import eventlet as driver

    class Server:
        max_http_buffer_size = 1024

    def handler(ws):
        return None

    wrapper = driver._async["websocket"](handler, Server())
    assert wrapper.handler is handler and wrapper._sock is None
    assert "self._sock = " in source(driver._async["websocket"].__call__)


@hook(
    "eventlet",
    "eventlet.wsgi.HttpProtocol handle_one_request, parse_request, handle_one_response "
    "(.connection .rfile .wfile .headers .close_connection); eventlet.queue.Queue().queue",
    "qa_app/httpserver.py (eventlet_protocol), qa_app/sendlimit.py",
)
def _eventlet_protocol():
    quiet_eventlet()
    import eventlet.queue
    import eventlet.wsgi

    for method in ("handle_one_request", "parse_request", "handle_one_response"):
        assert callable(getattr(eventlet.wsgi.HttpProtocol, method, None)), method
    assert "self.close_connection" in source(eventlet.wsgi.HttpProtocol.handle_one_request)
    queue = eventlet.queue.Queue()
    queue.put(1)
    assert list(queue.queue) == [1]


# -- and they take effect --------------------------------------------------------------------------


@hook(
    "python-engineio",
    "qa_app's WebSocket and send limit install under gevent (not silently skipped)",
    "qa_app/websocket.py, qa_app/sendlimit.py (install returns False when a hook is gone)",
)
def _installs():
    import socketio

    from qa_app import sendlimit, websocket

    server = socketio.Server(async_mode="gevent")
    assert websocket.install(server), "websocket.install did not apply"
    assert issubclass(server.eio._async["websocket"], websocket.FramedWebSocket)
    assert server._send_eio_packet.__name__ == "send_eio_packet"
    assert sendlimit.install(server, 1000), "sendlimit.install did not apply"
    assert server.eio.send_packet.__name__ == "bounded_send_packet"


@pytest.mark.parametrize("hook", HOOKS, ids=str)
def test_private_hook(hook: Hook):
    try:
        hook.check()
    except Exception as exc:  # AssertionError, AttributeError, ImportError, TypeError...
        detail = f"{type(exc).__name__}: {exc}".strip()
        pytest.fail(
            f"{hook.library} {version(hook.library)}: {hook.attribute} is missing or changed "
            f"({detail}). {hook.used_in} relies on it: adapt it before upgrading "
            f"{hook.library} (README, Dependencies).",
            pytrace=False,
        )


HOOKED = ("python-engineio", "python-socketio", "simple-websocket", "wsproto", "gevent", "eventlet")


def test_the_hooked_libraries_are_declared_pinned_and_installed_as_pinned():
    """pyproject.toml declares each with a range, constraints.txt pins a version in it, and the
    suite runs on that version (so the checks above vouch for what CI installs)."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from tests.live import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {canonicalize_name(r.name): r for r in map(Requirement, project["dependencies"])}
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, pin = line.split(";")[0].strip().partition("==")
            pinned[canonicalize_name(name)] = pin
    for library in HOOKED:
        assert library in declared, f"{library} is not declared in pyproject.toml"
        assert declared[library].specifier, f"{library} has no version range in pyproject.toml"
        assert library in pinned, f"{library} is not pinned in constraints.txt"
        assert pinned[library] in declared[library].specifier, (
            f"constraints.txt pins {library}=={pinned[library]}, outside pyproject.toml's "
            f"{declared[library].specifier}"
        )
        assert version(library) == pinned[library], (
            f"{library} {version(library)} is installed, constraints.txt pins {pinned[library]}: "
            "reinstall with `make setup-test` (pip install -c constraints.txt)"
        )
