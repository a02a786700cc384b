"""Rate limits on asking, voting, joining and failed log-ins, through the `limits` library.

One process counts in its memory; several share their counters in Redis (`QA_RATELIMIT_STORAGE`,
else the message queue). A Redis outage must not stop the hall: while Redis cannot be reached,
each process counts in its own memory instead (said once in the log), and a background check
tries Redis every few seconds, so no request waits on a dead Redis after the first one that
found it gone. Once it answers, the limits are shared again (and the log says so).
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlparse

from flask import current_app
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..errors import RateLimited

log = logging.getLogger(__name__)

MESSAGES = {
    "ask": "You are asking too fast: wait a moment before the next question.",
    "vote": "You are voting too fast: wait a moment.",
    "similar": "You are looking for similar questions too fast: wait a moment.",
    "join": "Too many devices joined from this address: wait a minute.",
    "login": "Too many failed log-ins from this address: wait a minute and try again.",
    "login_account": "Too many failed log-ins for this account: wait a while and try again.",
}
REDIS_TIMEOUT_S = 0.5  # a Redis that takes longer than this to connect or answer is down
RECHECK_S = 2.0  # while the shared storage is down, how often it is tried again
REDIS_SCHEMES = ("redis", "rediss", "redis+unix")


def shared_storage(url: str) -> Storage:
    """The storage at url, raising StorageError on failure; a Redis client there fails fast."""
    options: dict = {}
    if urlparse(url).scheme in REDIS_SCHEMES:
        options = {
            "socket_timeout": REDIS_TIMEOUT_S,
            "socket_connect_timeout": REDIS_TIMEOUT_S,
            "retry": Retry(NoBackoff(), 0),  # the fallback is the retry
        }
    return storage_from_string(url, wrap_exceptions=True, **options)


class Limiter:
    """A moving-window limiter on a shared storage that falls back to this process's memory."""

    def __init__(self, url: str) -> None:
        self.local = MovingWindowRateLimiter(MemoryStorage())
        shared = None if urlparse(url).scheme == "memory" else shared_storage(url)
        self.shared = MovingWindowRateLimiter(shared) if shared is not None else None
        self.down = False
        self.lock = threading.Lock()

    def run(self, method: str, limit: RateLimitItem, identifiers: tuple[str, ...]) -> bool:
        """The limiter's `hit` (count one action; False past the limit) or `test` (whether one
        more is within it, counting nothing): on the shared storage, or on this process's
        memory while the shared one is down."""
        if self.shared is not None and not self.down:
            try:
                return getattr(self.shared, method)(limit, *identifiers)
            except StorageError as exc:
                self.lost(exc.storage_error)
        return getattr(self.local, method)(limit, *identifiers)

    def lost(self, error: Exception) -> None:
        """The shared storage failed: count in memory, and watch for it to come back."""
        with self.lock:
            if self.down:
                return
            self.down = True
        log.warning(
            "rate limits count per process: their storage is unreachable (%s); "
            "trying it again every %.0f s",
            error,
            RECHECK_S,
        )
        threading.Thread(target=self.recheck, name="qa-ratelimit-recheck", daemon=True).start()

    def recheck(self) -> None:
        """Try the shared storage every RECHECK_S until it answers, then use it again."""
        while True:
            time.sleep(RECHECK_S)
            if self.shared.storage.check():
                break
        self.down = False
        log.warning("rate limits are shared again: their storage answers")


def init_app(app) -> None:
    """Create the limiter: in memory for one process, in Redis when a message queue is set."""
    url = (
        app.config.get("QA_RATELIMIT_STORAGE") or app.config.get("QA_MESSAGE_QUEUE") or "memory://"
    )
    app.extensions["qa_limiter"] = Limiter(url)


def hit(action: str, who: object) -> None:
    """Count one action by who; raise RateLimited past the configured limit."""
    _limit(action, who, "hit")


def check(action: str, who: object) -> None:
    """Raise RateLimited if who has no room left for action; counts nothing.

    A domain function checks before its work and counts (`hit`) only once the action is accepted,
    so a refused action costs the caller nothing and an over-limit flood is refused cheaply.
    """
    _limit(action, who, "test")


def _limit(action: str, who: object, method: str) -> None:
    """Run the limiter's method for who's action; raise RateLimited when it says no."""
    if not current_app.config["QA_RATE_LIMITS"]:
        return
    limit = parse(current_app.config[f"QA_{action.upper()}_LIMIT"])
    limiter: Limiter = current_app.extensions["qa_limiter"]
    if not limiter.run(method, limit, ("qa", action, str(who))):
        raise RateLimited(MESSAGES[action])
