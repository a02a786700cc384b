"""The host names the server answers to; links and the QR code are only ever built from those.

Trusted: the loopback names (`localhost`, `*.localhost`, `127.0.0.1`), the host of
QA_PUBLIC_URL, and QA_TRUSTED_HOSTS; when QA_TRUSTED_HOSTS is not set, this machine's host name
(and its `.local` name) and IPv4 addresses instead, so that `make run` and phones on the hall's
network work as they are (an address the machine gains later, on a new network, is learnt when
a request first names it). Names are written and matched as Flask's TRUSTED_HOSTS, by Werkzeug's
own `get_host` (a leading dot admits subdomains; the port is ignored; Werkzeug cannot match IPv6
literals).

`Guard` enforces the list in front of Flask and Socket.IO, for every request. Flask's own
TRUSTED_HOSTS is left unset on purpose: it is checked whenever a request context is made, which
Flask-SocketIO does for every socket event, so each vote would match its connection's host
again (20-55 us: Werkzeug IDNA-encodes every listed name on each call); it never covers
Engine.IO's own requests; and when it refuses, the error page cannot build a URL. The guard
hands a refused page or API request to Flask under the trusted name `localhost`, flagged, so
the refusal comes through the usual error handlers (a page, or JSON under /api) while nothing
in Flask sees the untrusted name; a Socket.IO request is refused with JSON at once. `/healthz`
alone is answered whatever the Host (as `localhost`): a load balancer probes each process by
its address, and the answer carries no link and nothing of the request's.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from urllib.parse import urlsplit

from flask import Flask, request
from flask_babel import gettext
from werkzeug.exceptions import SecurityError
from werkzeug.wsgi import get_host

from .errorhandlers import wants_json
from .errors import Invalid

log = logging.getLogger(__name__)

LOOPBACK = ["localhost", ".localhost", "127.0.0.1"]
UNTRUSTED = "qa.untrusted_host"  # environ key: the Host the guard refused
SOCKET_PATH = "/socket.io"
HEALTH_PATH = "/healthz"  # answered for any Host (see Guard)
RELEARN_AFTER = 10.0  # seconds between two looks at the machine's addresses
KNOWN_MAX = 256  # Host values remembered as trusted (a name with many ports is many values)
API_MESSAGE = (
    "This server does not answer to the host name of this request; use its public address."
)


def machine_hosts() -> list[str]:
    """This machine's host name (with its .local name) and its IPv4 addresses."""
    import psutil

    name = socket.gethostname().lower()
    names = [name] if "." in name else [name, f"{name}.local"]
    addresses = [
        address.address
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family == socket.AF_INET
    ]
    return names + addresses


def trusted_hosts(config) -> list[str]:
    """The names a request may use: loopback, QA_PUBLIC_URL's host, QA_TRUSTED_HOSTS (or the
    machine's own names and addresses when that is not set)."""
    hosts = LOOPBACK + (config["QA_TRUSTED_HOSTS"] or machine_hosts())
    public = config.get("QA_PUBLIC_URL")
    if public and urlsplit(public).hostname:
        hosts.append(urlsplit(public).hostname)
    return list(dict.fromkeys(host.lower() for host in hosts))


class Guard:
    """WSGI middleware: a request whose Host is not trusted gets 400 and builds nothing."""

    def __init__(self, wsgi_app, trusted: list[str], learn: bool) -> None:
        self.wsgi_app, self.trusted, self.learn = wsgi_app, trusted, learn
        self.learnt_at = time.monotonic()
        self.known: set[str] = set()  # Host values found trusted (the list only ever grows)

    def __call__(self, environ, start_response):
        if self.is_trusted(environ):
            return self.wsgi_app(environ, start_response)
        if environ.get("PATH_INFO") == HEALTH_PATH:
            # load balancers probe a process by its address; the answer builds no link, and
            # Flask sees the name `localhost`, never the untrusted one
            return self.wsgi_app({**environ, "HTTP_HOST": "localhost"}, start_response)
        host = environ.get("HTTP_HOST", "")
        log.warning(
            "refused %s %s for host %r: not QA_PUBLIC_URL's host or in QA_TRUSTED_HOSTS",
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            host,
        )
        if environ.get("PATH_INFO", "").startswith(SOCKET_PATH):
            error = {"error": {"code": "invalid", "message": API_MESSAGE}}
            body = json.dumps(error, separators=(",", ":")).encode()
            start_response(
                "400 BAD REQUEST",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self.wsgi_app({**environ, "HTTP_HOST": "localhost", UNTRUSTED: host}, start_response)

    def is_trusted(self, environ) -> bool:
        """Whether the request's host is trusted (looking again at the machine's addresses,
        now and then, when a name is not)."""
        header = environ.get("HTTP_HOST")
        if header in self.known:
            return True
        for attempt in range(2):
            try:
                get_host(environ, self.trusted)
            except SecurityError:
                if attempt or not self.relearn():
                    return False
                continue
            if header is not None:
                if len(self.known) >= KNOWN_MAX:
                    self.known.clear()
                self.known.add(header)
            return True
        return False

    def relearn(self) -> bool:
        """Add addresses the machine has gained since start (at most every RELEARN_AFTER s);
        True when there were new ones."""
        now = time.monotonic()
        if not self.learn or now - self.learnt_at < RELEARN_AFTER:
            return False
        self.learnt_at = now
        new = [host for host in machine_hosts() if host not in self.trusted]
        self.trusted.extend(new)
        return bool(new)


def refuse_untrusted_host() -> None:
    """Refuse a request the guard flagged (the first before_request hook: before CSRF's)."""
    if request.environ.get(UNTRUSTED) is None:
        return
    if wants_json():
        raise Invalid(API_MESSAGE)
    raise Invalid(
        gettext(
            "This server does not answer to the address you opened. "
            "Use the link or the QR code shown in the hall."
        )
    )


def init_app(app: Flask) -> None:
    """Guard every request, Socket.IO's included, with the trusted names (call after
    socketio.init_app)."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_untrusted_host)
    learn = not app.config["QA_TRUSTED_HOSTS"]
    app.wsgi_app = Guard(app.wsgi_app, trusted_hosts(app.config), learn=learn)
