"""The message queue between server processes (Redis), and noticing when it fails.

A Redis client that gives up fast (`redis_options`): a dead Redis is held against, never waited
on. Socket.IO's manager is built here (`queue_options`), a `CountingRedisManager`: a
RedisManager that records how many processes heard each publish (overriding the private
`RedisManager._publish`, checked by tests/test_private_hooks.py). `Receivers` notices a process
that stopped listening. What the publisher does about it (hold, re-send) is in
qa_app/realtime.py.
"""

from __future__ import annotations

import threading

import socketio as python_socketio
from flask import Flask

RECEIVERS_MEMORY_S = 90  # how long a missing receiver is waited for (re-subscribe back-off <= 60 s)
QUEUE_RECHECK_S = 1.0  # while the message queue is down, how often it is tried again
REDIS_TIMEOUT_S = 1.0  # a Redis that takes longer to connect or answer counts as down

HEARD = threading.local()  # per greenlet once monkey-patched: the last publish's receivers


class CountingRedisManager(python_socketio.RedisManager):
    """python-socketio's Redis manager, recording in HEARD.count how many processes heard the
    last publish of the calling greenlet (redis' PUBLISH count; None when the publish gave up).

    Per greenlet, because python-socketio's emit returns nothing and other greenlets publish
    through the same manager while one waits for Redis."""

    def _publish(self, data):
        heard = super()._publish(data)
        HEARD.count = heard
        return heard


class Receivers:
    """Watches how many processes hear a publish, to notice one that stopped listening."""

    def __init__(self) -> None:
        self.expected = 0
        self.short_since: float | None = None

    def heard_by(self, count: int, now: float) -> bool:
        """Record a publish heard by count processes; False while fewer than expected listen."""
        if count >= self.expected:
            self.expected = count
            self.short_since = None
            return True
        if self.short_since is None:
            self.short_since = now
        if now - self.short_since > RECEIVERS_MEMORY_S:  # that process is gone for good
            self.expected = count
            self.short_since = None
            return True
        return False


def redis_options() -> dict:
    """Redis client options that give up fast: a dead Redis is held against, never waited on."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "socket_timeout": REDIS_TIMEOUT_S,
        "socket_connect_timeout": REDIS_TIMEOUT_S,
        "retry": Retry(NoBackoff(), 0),
    }


def queue_options(app: Flask) -> dict:
    """Socket.IO's message-queue options: a Redis queue gets a client that gives up fast.

    Flask-SocketIO would build the same Redis manager with redis-py's defaults, under which one
    publish to a Redis that stopped answering blocks the ticker for two 5 s timeouts.
    """
    url = app.config.get("QA_MESSAGE_QUEUE")
    if not url:
        return {"message_queue": None, "client_manager": None}  # None: no stale manager is kept
    if not url.startswith(("redis://", "rediss://")):
        return {"message_queue": url}
    manager = CountingRedisManager(url, channel="flask-socketio", redis_options=redis_options())
    return {"message_queue": url, "client_manager": manager}
