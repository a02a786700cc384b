"""The WebSocket side of the server: bounded, each broadcast framed once, no compression.

Bounded: an incoming message may be at most the body limit (1 MiB, `MAX_CONTENT_LENGTH`); a
connection that says nothing for a ping interval and timeout is closed (engine.io means to set
that socket timeout, but looks for the socket where neither simple-websocket nor this wrapper
keeps it); closing a WebSocket ends its TCP connection too, so that a client that went away
without a word (no FIN) gives its slot back at once; and qa_app/sendlimit.py can end the
connection of a client that stops reading (`cut`).

Framed once: an `update` goes to thousands of phones as the same text. engine.io encodes a
packet once (its `encode` is cached), so every phone's writer hands the same `str` object to its
WebSocket. With `install`, gevent's WebSocket (simple-websocket) frames that text once with
wsproto and writes the same bytes to every socket, instead of framing it again in pure Python
for every phone; and a broadcast writes to each idle socket at once, without waking that
socket's writer greenlet through its queue (a busy socket, or a slow one whose kernel buffer is
full, still gets the frame through its queue, in order). It also gives back the duplicate that
simple-websocket makes of each socket, so that a phone costs one open file, not two, and reads
each client's messages in the connection's own greenlet instead of simple-websocket's reader
thread, so that a phone costs one greenlet fewer. Nor does a connection keep a writer greenlet
asleep on its queue for its whole life (`serve`, `Writer`): whoever queues a packet for an idle
socket starts a short-lived writer that sends what waits and ends, so an idle phone costs one
greenlet, not two. With
per-message compression (`QA_WS_COMPRESSION=1`) each text is framed, and compressed, by wsproto
for each phone. eventlet's WebSocket frames in its own way; it gets the bounds only.

Private hooks (tests/test_private_hooks.py checks each; pyproject.toml pins their ranges):
engine.io's `Server._async['websocket']` and `_async['queue']` (qa_app/sendqueue.py), its private
`_websocket_wsgi.SimpleWebSocketWSGI`, what its `Socket._websocket_handler` does (`serve` does
the same without the writer greenlet), python-socketio's `Server._send_eio_packet`,
simple-websocket's `.sock`/`.ws` and the socket it duplicates, wsproto's `FrameProtocol` and
`WSConnection.handshake` (with its `_events`). Upstream-style alternatives, not done yet: a
`websocket_class` option of engine.io's Server (instead of replacing `_async`), with engine.io
setting the socket timeout itself; a socketio.Server subclass overriding `_send_eio_packet`, or
better an option for a broadcast to hand every recipient the same encoded packet (instead of
replacing the method on the instance: Flask-SocketIO builds the Server, so a subclass needs an
option there too); an option of simple-websocket not to duplicate gevent's socket; an option of
engine.io's Socket to start its WebSocket writer on demand; wsproto letting go of a finished
handshake by itself.
"""

from __future__ import annotations

import itertools
from contextlib import suppress
from socket import SHUT_RDWR

import simple_websocket
from engineio import exceptions, packet
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from wsproto.events import CloseConnection, TextMessage
from wsproto.frame_protocol import CloseReason, FrameProtocol
from wsproto.utilities import LocalProtocolError

from .sendqueue import SendQueue

YIELD_EVERY = 250  # sends between two yields of a broadcast to other greenlets
YIELD_FOR = 0.001  # seconds; a timer, so that the loop polls for I/O (sleep(0) need not)


class FrameCache:
    """The frames of the texts sent last, found by identity: a broadcast sends one object.

    Least recently used first out: a broadcast's text is used again by every phone's writer and
    stays, while the one-off texts (acknowledgements) pass through.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self.entries: dict[int, tuple[str, bytes]] = {}  # id(text) -> (text, frame)

    def frame(self, text: str) -> bytes:
        """The unmasked WebSocket text frame of text (a server's frame)."""
        key = id(text)
        entry = self.entries.pop(key, None)  # holding text keeps its id from being reused
        if entry is None:
            entry = (text, bytes(FrameProtocol(client=False, extensions=[]).send_data(text)))
            if len(self.entries) >= self.size:
                del self.entries[next(iter(self.entries))]
        self.entries[key] = entry
        return entry[1]


FRAMES = FrameCache()


class HandshakeDone:
    """What stands in for wsproto's handshake of an open connection: no events."""

    @staticmethod
    def events() -> tuple:
        """None: the handshake's were all taken."""
        return ()


HANDSHAKE_DONE = HandshakeDone()


class FrameRest(bytes):
    """The unsent end of a frame written at once, left for the socket's writer to finish."""


class NoThread:
    """simple-websocket's reader thread, never started: the connection's own greenlet reads the
    socket when engine.io waits for a message (FramedWebSocket.wait), so a phone costs one
    greenlet and one event fewer."""

    name = "(_thread)"

    def __init__(self, target) -> None:
        pass

    def start(self) -> None:
        """Nothing to start."""


class NoEvent:
    """The event simple-websocket's reader would set for a waiting receive: nobody waits."""

    def set(self) -> None:
        """Nobody to wake."""

    def clear(self) -> None:
        """Nothing to clear."""

    def wait(self, timeout=None) -> bool:
        """Never waited on."""
        return True


class FramedWebSocket(SimpleWebSocketWSGI):
    """simple-websocket under engine.io: texts go out as cached frames, a broadcast may write
    to the socket at once when nothing else is being written to it, and the connection's own
    greenlet reads the client's messages (no reader greenlet of its own)."""

    busy = False  # the writer is in the middle of a frame
    framed = True  # False with per-message compression: wsproto frames each text for each socket

    def __call__(self, environ, start_response):
        """Serve the connection; its engine.io socket learns which WebSocket it has."""
        socket = self.app.__self__  # app is the engine.io socket's bound websocket handler
        eio = socket.server
        args = self.server_args | {"thread_class": NoThread, "event_class": NoEvent}
        self.ws = simple_websocket.Server(
            environ, max_message_size=eio.max_http_buffer_size, **args
        )
        self.use_one_descriptor(environ)
        self.drop_handshake()
        self.ws.sock.settimeout(eio.ping_interval + eio.ping_timeout)  # a client answers pings
        socket.qa_websocket = self  # from now on a broadcast may write to it at once
        try:
            return serve(socket, self)
        finally:
            del socket.qa_websocket  # leave no cycle for the garbage collector

    def wait(self):
        """The client's next message, read from the socket here (as simple-websocket's reader
        thread would: wsproto parses, `_handle_events` answers pings and closes and checks the
        size); None once the client is gone or silent for a ping interval and timeout, and then
        the connection is ended, so that a writer blocked on a full kernel buffer does not wait
        out its timeout."""
        ws = self.ws
        while ws.connected and not ws.input_buffer:
            try:
                data = ws.sock.recv(ws.receive_bytes)
                if not data:
                    raise ConnectionResetError("the client closed the connection")
                ws.ws.receive_data(data)
                ws.connected = ws._handle_events()
            except (OSError, LocalProtocolError):
                ws.connected = False
        if ws.input_buffer:
            return ws.input_buffer.pop(0)
        self.cut()
        return None

    def close(self):
        """Say goodbye if the kernel takes it at once (a client that stopped reading gets
        none), then end the connection."""
        if self.ws.connected:
            self.ws.connected = False
            with suppress(OSError, LocalProtocolError):
                self.write_now(self.ws.ws.send(CloseConnection(CloseReason.NORMAL_CLOSURE)))
        self.cut()

    def cut(self) -> None:
        """End the TCP connection now: the reader sees the end, a blocked writer fails."""
        with suppress(OSError):
            self.ws.sock.shutdown(SHUT_RDWR)

    def drop_handshake(self) -> None:
        """Let go of wsproto's handshake once the connection is open: its h11 parser, the
        request and an empty event deque, about 2 KB a phone kept for nothing, since wsproto's
        WSConnection then only asks it for events, and it has none."""
        connection = self.ws.ws  # wsproto's WSConnection
        handshake = connection.handshake
        if connection.connection is not None and not getattr(handshake, "_events", True):
            connection.handshake = HANDSHAKE_DONE

    def use_one_descriptor(self, environ) -> None:
        """Use the server's own socket instead of simple-websocket's duplicate of it.

        Under gevent, simple-websocket duplicates the connection's socket, which doubles the
        open files of a hall (10,000 phones would need 20,000). Its reader greenlet has not run
        yet, so it starts on the original; the duplicate is closed.
        """
        wsgi_input = environ.get("wsgi.input")  # found as simple-websocket finds it
        if not hasattr(wsgi_input, "raw"):
            wsgi_input = getattr(wsgi_input, "rfile", None)
        original = getattr(getattr(wsgi_input, "raw", None), "_sock", None)
        duplicate = self.ws.sock
        if original is None or original is duplicate:
            return
        self.ws.sock = original
        duplicate.close()

    def send(self, message):
        """The socket's writer: a text as its cached frame, a FrameRest as it is."""
        if isinstance(message, FrameRest):
            frame = message
        elif isinstance(message, str):
            frame = FRAMES.frame(message) if self.framed else self.ws.ws.send(TextMessage(message))
        else:
            return super().send(message)
        if not self.ws.connected:
            raise OSError("the WebSocket is closed")
        self.busy = True
        try:
            rest = self.write_now(frame)
            if rest:
                self.ws.sock.sendall(rest)
        finally:
            self.busy = False

    def write_now(self, frame: bytes) -> bytes:
        """Write what the kernel takes without waiting; return the rest."""
        try:
            sent = self.ws.sock.send(frame, 0, 0.0)  # timeout 0: never wait for a slow phone
        except BlockingIOError:
            sent = 0
        return frame[sent:]

    def send_now(self, socket, text: str) -> bool:
        """A broadcast's write: at once if the socket is idle; False to go through its queue."""
        if self.busy or not socket.queue.empty():
            return False
        if not self.ws.connected or socket.closed or socket.upgrading or not socket.upgraded:
            return False
        try:
            rest = self.write_now(FRAMES.frame(text))
        except OSError:
            return False  # the queue's writer meets the error and closes the socket
        if rest:  # the writer finishes the frame before anything queued after it
            socket.queue.put(packet.Packet(packet.MESSAGE, FrameRest(rest)))
        return True


class Writer:
    """A connection's writer while something waits in its queue, and no greenlet otherwise.

    engine.io gives each WebSocket a writer greenlet that sleeps on the socket's queue for the
    connection's whole life. Here a put on the queue (a ping, an acknowledgement, a snapshot, a
    broadcast the socket could not take at once, the end-of-connection mark) starts one if none
    is running; it sends what waits, in order, and ends when the queue is empty. Under gevent
    nothing switches between a put and its `kick`, nor between the writer finding the queue
    empty and ending, so every packet is sent, by exactly one writer.
    """

    __slots__ = ("socket", "ws", "task")

    def __init__(self, socket, ws) -> None:
        self.socket, self.ws, self.task = socket, ws, None

    def kick(self) -> None:
        """Start the writer if none is running (the queue's `on_put`, qa_app/sendqueue.py)."""
        if self.task is None:
            self.task = self.socket.server.start_background_task(self.drain)

    def drain(self) -> None:
        """Send what waits; at the end-of-connection mark, or when a send fails, close the
        WebSocket (as engine.io's writer does) and drop what is left."""
        try:
            if not self.send_waiting():
                self.ws.close()
                self.drop_waiting()
        finally:
            self.task = None

    def send_waiting(self) -> bool:
        """Send the queued packets in order until the queue is empty (True); False at the
        end-of-connection mark or when a send failed."""
        for item in self.taken():
            if item is None:
                return False
            try:
                self.ws.send(item.encode())
            except Exception:  # noqa: BLE001 - a failed send ends the connection, as in engine.io
                return False
        return True

    def drop_waiting(self) -> None:
        """Nothing more goes out: take what is left, so that a close(wait=True) waiting for
        the queue to be done ends."""
        for _item in self.taken():
            pass

    def taken(self):
        """Each item waiting in the queue, taken and marked done, until it is empty."""
        queue = self.socket.queue
        while not queue.empty():
            item = queue.get(block=False)
            queue.task_done()
            yield item

    def join(self) -> None:
        """Wait for a writer under way to end."""
        task = self.task
        if task is not None:
            task.join()


def serve(socket, ws) -> list:
    """engine.io's `Socket._websocket_handler` (python-engineio 4.15), with a `Writer` instead
    of its writer greenlet: upgrade from long-polling if the socket was connected, then read
    the client's packets until it goes; then send what waits and close."""
    server = socket.server
    if socket.connected:  # an upgrade: the client long-polled until now
        socket.upgrading = True  # hold packet sends during the upgrade
        if not probed(ws.wait(), packet.PING, "probe"):
            socket.upgrading = False
            return []
        ws.send(packet.Packet(packet.PONG, data="probe").encode())
        socket.queue.put(packet.Packet(packet.NOOP))  # end the long-poll under way
        if not probed(ws.wait(), packet.UPGRADE):
            socket.upgraded = socket.upgrading = False
            return []
        socket.upgraded, socket.upgrading = True, False
    else:
        socket.connected = socket.upgraded = True
    writer = Writer(socket, ws)
    socket.queue.on_put = writer.kick
    writer.kick()  # what was queued before (the connect handler's packets)
    try:
        while True:
            message = ws.wait()
            if message is None:  # the client went, or the connection was cut
                break
            try:
                socket.receive(packet.Packet(encoded_packet=message))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                break
            except Exception:  # noqa: BLE001 - as engine.io: log it and end the connection
                server.logger.exception("Unknown receive error")
                break
    except Exception as exc:  # noqa: BLE001 - a read error ends the connection
        if not socket.closed:
            server.logger.info("%s: Unexpected error %r, closing connection", socket.sid, exc)
    finally:
        socket.queue.put(None)  # the writer sends what waits, then closes the WebSocket
        writer.join()
        socket.queue.on_put = None  # no cycle left: queue, writer, socket
    socket.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)
    return []


def probed(message, packet_type: int, data=None) -> bool:
    """Whether an upgrade's message is the packet expected (with its data, when given)."""
    if message is None:
        return False
    received = packet.Packet(encoded_packet=message)
    return received.packet_type == packet_type and (data is None or received.data == data)


class EventletWebSocket:
    """eventlet's WebSocket under engine.io, which sets its timeout and message limit itself;
    its engine.io socket learns which WebSocket it has, so that a slow client can be cut."""

    def __call__(self, environ, start_response):
        """Serve the connection, known to its engine.io socket meanwhile."""
        socket = self.handler.__self__  # the engine.io socket's bound websocket handler
        socket.qa_websocket = self
        try:
            return super().__call__(environ, start_response)
        finally:
            del socket.qa_websocket

    def cut(self) -> None:
        """End the TCP connection now: the reader sees the end, a blocked writer fails."""
        if self._sock is not None:  # None until the handshake begins
            with suppress(OSError):
                self._sock.shutdown(SHUT_RDWR)


def install(server, framed: bool = True) -> bool:
    """Give a gevent or eventlet Socket.IO server qa_app's WebSocket, and under gevent (framed,
    without compression) frame each text once and write broadcasts at once.

    False where it does not apply (threading, or gevent-websocket installed).
    """
    eio = server.eio
    base = eio._async.get("websocket")
    if eio.async_mode == "eventlet" and base is not None:
        bounded = type("EventletWebSocket", (EventletWebSocket, base), {})
        eio._async = dict(eio._async, websocket=bounded)
        return True
    queued = getattr(server, "_send_eio_packet", None)  # python-socketio >= 5.8
    if eio.async_mode != "gevent" or not (base and issubclass(base, SimpleWebSocketWSGI)):
        return False
    if queued is None:
        return False
    websocket = type("FramedWebSocket", (FramedWebSocket, base), {"framed": framed})
    # engine.io builds each socket's WebSocket and queue from these
    eio._async = dict(eio._async, websocket=websocket, queue=SendQueue)
    if framed:
        write_broadcasts_at_once(server, queued)
    return True


def write_broadcasts_at_once(server, queued) -> None:
    """Send each broadcast to idle sockets at once, the rest through their queues."""
    import gevent  # only now: an eventlet process has no business loading it

    eio = server.eio
    sent = itertools.count()

    def send_eio_packet(eio_sid, eio_packet):  # what socketio.Manager.emit calls per recipient
        if next(sent) % YIELD_EVERY == 0:
            gevent.sleep(YIELD_FOR)  # let votes in between: a broadcast to a hall takes tens of ms
        socket = eio.sockets.get(eio_sid)
        websocket = getattr(socket, "qa_websocket", None)
        text = eio_packet.encode()  # cached by engine.io: one object for every recipient
        if websocket is None or not isinstance(text, str) or not websocket.send_now(socket, text):
            queued(eio_sid, eio_packet)

    server._send_eio_packet = send_eio_packet


def without_compression(app):
    """Refuse WebSocket per-message compression: it costs a zlib state (~300 KB) per connection
    and a compression per message per phone, for updates of a few hundred bytes."""

    def application(environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return app(environ, start_response)

    return application
