"""`GET /healthz`: whether this process can serve — its database answers and, with
QA_MESSAGE_QUEUE set, its Redis too — for load balancers, systemd and monitoring.

200 `{"ok": true, "database": "ok", "queue": "ok"}` (`"queue": "off"` without a message
queue); 503 with `"ok": false` and `"failed"` or `"timeout"` for what did not answer. No
authentication, no rate limit, nothing that names the database or its error (that goes to the
log), and any Host: the host guard lets this one path through under the name `localhost`, so
that a load balancer may probe a process by its address (qa_app/hosts.py).

Each check runs in a thread of its own (a greenlet once the server is monkey-patched) and is
waited for at most CHECK_TIMEOUT_S: a database or Redis that stops answering, with its port
open, makes the check answer `timeout` in time instead of holding the prober. While a check
that timed out is still stuck, the next probes answer `timeout` at once rather than start
another, so a hung database costs one waiting thread, not one per probe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from .extensions import db

log = logging.getLogger(__name__)

PATH = "/healthz"
CHECK_TIMEOUT_S = 2.0
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

bp = Blueprint("health", __name__)


class Check:
    """One dependency's check, run off the request's thread with a deadline, one at a time."""

    def __init__(self, name: str, probe: Callable[[], None]) -> None:
        self.name, self.probe = name, probe
        self.running: threading.Thread | None = None
        self.lock = threading.Lock()

    def __call__(self, timeout: float) -> str:
        """The outcome: "ok", "failed" (it answered with an error) or "timeout"."""
        with self.lock:
            if self.running is not None and self.running.is_alive():
                return "timeout"  # the last one is still stuck: do not pile up another
            outcome: list[str] = []
            thread = threading.Thread(target=self.run, args=(outcome,), daemon=True)
            self.running = thread
            thread.start()
        thread.join(timeout)
        if not outcome:
            log.warning("health check: the %s did not answer in %.1f s", self.name, timeout)
            return "timeout"
        return outcome[0]

    def run(self, outcome: list[str]) -> None:
        try:
            self.probe()
        except TimeoutError as exc:  # it gave up waiting before the deadline did
            log.warning("health check: the %s did not answer: %s", self.name, exc)
            outcome.append("timeout")
        except Exception as exc:  # any failure is the dependency's, named in the log only
            log.warning("health check: the %s failed: %s", self.name, exc)
            outcome.append("failed")
        else:
            outcome.append("ok")


def database_probe(app) -> Callable[[], None]:
    """SELECT 1 on a connection of the app's pool (a new one if the pool has none free)."""

    def probe() -> None:
        with app.app_context(), db.engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()

    return probe


def queue_probe(url: str) -> Callable[[], None]:
    """PING the message queue's Redis with the fast-failing options of qa_app/queue_health.py."""
    import redis

    from .queue_health import redis_options

    client = redis.Redis.from_url(url, **redis_options())

    def probe() -> None:
        try:
            client.ping()
        except redis.TimeoutError as exc:  # connected, no answer: a hung Redis
            raise TimeoutError(str(exc)) from exc

    return probe


@bp.get(PATH)
def healthz():
    """The process's health: 200 when it can serve, 503 naming what does not answer."""
    checks = current_app.extensions["qa_health"]
    body: dict = {"database": checks["database"](CHECK_TIMEOUT_S)}
    queue = checks.get("queue")
    body["queue"] = queue(CHECK_TIMEOUT_S) if queue is not None else "off"
    body = {"ok": all(value in ("ok", "off", "unchecked") for value in body.values())} | body
    response = jsonify(body)
    response.status_code = 200 if body["ok"] else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app) -> None:
    """Register /healthz and its checks."""
    checks: dict = {"database": Check("database", database_probe(app))}
    url = app.config.get("QA_MESSAGE_QUEUE") or ""
    if url.startswith(REDIS_SCHEMES):
        checks["queue"] = Check("message queue", queue_probe(url))
    elif url:  # a kombu queue (AMQP, ...): served, but not checked here
        checks["queue"] = lambda _timeout: "unchecked"
    app.extensions["qa_health"] = checks
    app.register_blueprint(bp)
