"""The HTTP server behind `qa-app serve`: gevent's or eventlet's, with what one connection may hold
bounded, so that no client can keep a connection slot, a file or memory for as long as it likes.

- A request's line and headers must arrive within `QA_HEADER_TIMEOUT` seconds in all: a client
  that trickles a byte every few seconds is closed, not waited for.
- A kept-alive connection may stay idle `QA_KEEPALIVE_TIMEOUT` seconds between requests.
- A request body must state its length (411 otherwise) and be at most `MAX_CONTENT_LENGTH`
  (1 MiB): a larger one is refused (413) as soon as its headers are in, before any of it is
  read, and the connection is closed rather than the body read and thrown away.
- Any other read or write (a body that stops coming, a response nobody reads) waits at most
  `IO_TIMEOUT` seconds; a WebSocket waits a ping interval and timeout instead.
- The kernel holds at most `QA_SOCKET_SNDBUF` unsent bytes per connection (Linux doubles the
  figure for its bookkeeping); without it, its send buffer grows to `tcp_wmem`'s maximum (4 MB)
  for a client that stops reading.
- After a WebSocket the connection is closed: what the client sends once the WebSocket is over
  is never read as another HTTP request (simple-websocket writes its handshake itself, so gevent
  never learns that the connection was upgraded and would go on reading it).

What waits in the server for one client is bounded by qa_app/sendlimit.py, the WebSocket itself
by qa_app/websocket.py.

The handler and protocol classes are the servers' own extension points (`handler_class`,
`protocol`); the methods overridden here are checked by tests/test_private_hooks.py.
"""

from __future__ import annotations

import json
import socket
from contextlib import suppress
from dataclasses import dataclass

from . import pinger, sendlimit, websocket

IO_TIMEOUT = 30.0  # seconds for any one read or write of a request's body or its response
# gevent's read buffer of a connection (8 KB by default, kept as long as the connection): a
# phone's request line and headers fit in 2 KB (longer ones are read in more steps), and a
# WebSocket reads the socket itself, so a hall of 10,000 phones keeps 20 MB less
READ_BUFFER = 2048


@dataclass(frozen=True)
class Limits:
    """What one connection may hold, from the app's configuration."""

    header_timeout: float
    keepalive_timeout: float
    max_body: int
    send_buffer: int  # SO_SNDBUF

    @classmethod
    def of(cls, config) -> Limits:
        """The limits configured for app.config."""
        return cls(
            header_timeout=config["QA_HEADER_TIMEOUT"],
            keepalive_timeout=config["QA_KEEPALIVE_TIMEOUT"],
            max_body=config["MAX_CONTENT_LENGTH"],
            send_buffer=config["QA_SOCKET_SNDBUF"],
        )


def refusal(content_length: int | None, transfer_encoding: str | None, limit: int) -> bytes | None:
    """The whole HTTP response refusing a request's body before it is read; None to read it."""
    if transfer_encoding:
        status, code, message = "411 Length Required", "invalid", "Send a Content-Length."
    elif content_length is not None and content_length > limit:
        status, code = "413 Content Too Large", "too_large"
        message = f"The body is over {limit} bytes."
    else:
        return None
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def serve(app, host: str, port: int) -> None:
    """Serve app under its async server (QA_ASYNC_MODE) until interrupted."""
    from .extensions import socketio

    config = app.config
    served = app
    compressed = config["QA_WS_COMPRESSION"]
    if not compressed:
        served = websocket.without_compression(app)
    websocket.install(socketio.server, framed=not compressed)  # frames would differ compressed
    sendlimit.install(socketio.server, config["QA_SEND_BUFFER"])
    pinger.install(socketio.server)  # one task pings every phone, not a greenlet each
    limits = Limits.of(config)
    mode = config["QA_ASYNC_MODE"]
    if mode == "gevent":
        _serve_gevent(served, host, port, limits, config)
    elif mode == "eventlet":
        _serve_eventlet(served, host, port, limits, config)
    else:  # development only: Werkzeug's server, without these limits
        socketio.run(app, host=host, port=port, log_output=False, allow_unsafe_werkzeug=True)


def _serve_gevent(application, host: str, port: int, limits: Limits, config) -> None:
    """gevent's WSGI server with a pool of QA_MAX_CONNECTIONS and the limits."""
    from gevent import pool, pywsgi

    # the default spawn has no limit; a pool makes the limit explicit and stops accepting
    # (leaving newcomers in the listen backlog) instead of running out of memory or files
    server = pywsgi.WSGIServer(
        (host, port),
        application,
        backlog=config["QA_BACKLOG"],
        spawn=pool.Pool(config["QA_MAX_CONNECTIONS"]),
        handler_class=gevent_handler(limits),
        log=None,
    )
    server.init_socket()
    _limit_send_buffer(server.socket, limits)  # accepted sockets inherit it
    server.serve_forever()


def _serve_eventlet(application, host: str, port: int, limits: Limits, config) -> None:
    """eventlet's WSGI server with QA_MAX_CONNECTIONS, QA_BACKLOG and the limits."""
    import eventlet
    import eventlet.wsgi

    # eventlet's defaults are 1,024 connections (max_size) and a listen backlog of 50
    listener = eventlet.listen((host, port), backlog=config["QA_BACKLOG"])
    _limit_send_buffer(listener, limits)  # accepted sockets inherit it
    eventlet.wsgi.server(
        listener,
        application,
        max_size=config["QA_MAX_CONNECTIONS"],
        log_output=False,
        protocol=eventlet_protocol(limits),
        keepalive=True,  # its idle time is the protocol's, as under gevent
        socket_timeout=IO_TIMEOUT,
    )


def _limit_send_buffer(listener, limits: Limits) -> None:
    """Fix the kernel's send buffer of every connection accepted on listener."""
    if limits.send_buffer > 0:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, limits.send_buffer)


def gevent_handler(limits: Limits) -> type:
    """gevent's WSGI handler with the limits."""
    import gevent
    from gevent import pywsgi

    class Handler(pywsgi.WSGIHandler):
        """One connection: deadlines for headers and idle time, a body limit, no request read
        after a WebSocket."""

        served = 0  # requests begun on this connection
        deadline = None

        def __init__(self, sock, address, server, rfile=None):
            if rfile is None:  # a smaller read buffer than gevent's (READ_BUFFER)
                rfile = sock.makefile("rb", READ_BUFFER)
            super().__init__(sock, address, server, rfile)

        def handle(self):
            """Serve the connection's requests; every read and write has a timeout."""
            self.socket.settimeout(IO_TIMEOUT)
            super().handle()

        def handle_one_request(self):
            """One request, if it begins within the keep-alive time and its headers arrive
            within the header deadline; otherwise the connection closes without an answer."""
            if self.served and not self.next_request_begins():
                return None
            self.served += 1
            self.deadline = deadline = gevent.Timeout(limits.header_timeout)
            deadline.start()
            try:
                return super().handle_one_request()
            except gevent.Timeout as exc:
                if exc is not deadline:
                    raise
                return None
            finally:
                deadline.close()

        def next_request_begins(self) -> bool:
            """Wait up to the keep-alive time for the first byte of another request."""
            self.socket.settimeout(limits.keepalive_timeout)
            try:
                return bool(self.rfile.peek(1))
            except OSError:  # timed out, or reset
                return False
            finally:
                self.socket.settimeout(IO_TIMEOUT)

        def read_request(self, raw_requestline):
            """Parse the headers; then the header deadline no longer runs."""
            try:
                return super().read_request(raw_requestline)
            finally:
                self.deadline.close()

        def handle_one_response(self):
            """Refuse a body over the limit unread; after a WebSocket, close the connection."""
            refused = refusal(
                self.content_length, self.headers.get("Transfer-Encoding"), limits.max_body
            )
            if refused is not None:
                self.close_connection = True
                with suppress(OSError):
                    self.socket.sendall(refused)
                return
            super().handle_one_response()
            if self.environ.get("HTTP_UPGRADE"):  # a WebSocket, which wrote its own handshake
                self.close_connection = True

    return Handler


def eventlet_protocol(limits: Limits) -> type:
    """eventlet's HTTP protocol with the limits (it closes after a WebSocket by itself)."""
    import eventlet
    import eventlet.wsgi

    class Protocol(eventlet.wsgi.HttpProtocol):
        """One connection: deadlines for headers and idle time, and a body limit."""

        served = 0  # requests begun on this connection
        deadline = None

        def handle_one_request(self):
            """One request, if it begins within the keep-alive time and its headers arrive
            within the header deadline; otherwise the connection closes without an answer."""
            if self.served and not self.next_request_begins():
                self.close_connection = 1
                return
            self.served += 1
            self.deadline = deadline = eventlet.Timeout(limits.header_timeout)
            try:
                super().handle_one_request()
            except eventlet.Timeout as exc:
                if exc is not deadline:
                    raise
                self.close_connection = 1
            finally:
                deadline.cancel()

        def next_request_begins(self) -> bool:
            """Wait up to the keep-alive time for the first byte of another request."""
            self.connection.settimeout(limits.keepalive_timeout)
            try:
                return bool(self.rfile.peek(1))
            except OSError:  # timed out, or reset
                return False
            finally:
                self.connection.settimeout(IO_TIMEOUT)

        def parse_request(self):
            """Parse the headers; then the header deadline no longer runs."""
            try:
                return super().parse_request()
            finally:
                self.deadline.cancel()

        def handle_one_response(self):
            """Refuse a body over the limit unread."""
            length = self.headers.get("Content-Length")
            refused = refusal(
                int(length) if length else None,
                self.headers.get("Transfer-Encoding"),
                limits.max_body,
            )
            if refused is None:
                return super().handle_one_response()
            self.close_connection = 1
            with suppress(OSError):
                self.wfile.write(refused)
                self.wfile.flush()

    return Protocol
