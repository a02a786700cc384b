"""Password hashing off the event loop, and the same cost for an unknown name as a wrong password.

Werkzeug's scrypt takes about 0.2 s of CPU per hash. Run on a gevent or eventlet loop it would stop
every socket of the process for that long (eight parallel wrong-password loops held every
acknowledgement back by seconds). hashlib's scrypt releases the GIL, so it runs here on native
threads while the loop goes on:

- under gevent, on a small thread pool of its own (`HASH_THREADS`): small, so that a flood of
  log-ins queues for it instead of taking every core from the loop;
- under eventlet, on `eventlet.tpool`, with at most `HASH_THREADS` hashes at a time;
- otherwise (the threading server, the command line) in the calling thread.

A name that matches no admin is checked against a dummy hash made the same way, so that the time
of an answer does not tell which names exist.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import TypeVar

from werkzeug.security import check_password_hash, generate_password_hash

from .asyncmode import green_library

HASH_THREADS = 1  # hashes at once per process: a whole core, leaving the other(s) to the loop

T = TypeVar("T")
_lock = threading.Lock()  # only guards the lazy set-up below; never held while hashing
_runner: Callable | None = None
_dummy: str | None = None


def hash_password(password: str) -> str:
    """The stored form of a new password (Werkzeug's scrypt), computed off the event loop."""
    return offload(generate_password_hash, password)


def check_password(stored: str | None, password: str) -> bool:
    """Whether password matches the stored hash; None (no such admin) costs one check too."""
    matched = offload(check_password_hash, stored or _dummy_hash(), password)
    return matched and stored is not None


def _dummy_hash() -> str:
    """A hash of a random password, made once, with the parameters of real ones."""
    global _dummy
    if _dummy is None:
        _dummy = offload(generate_password_hash, secrets.token_urlsafe(16))
    return _dummy


def offload(fn: Callable[..., T], *args: object) -> T:
    """Run fn(*args) where it cannot stop the event loop; return its result."""
    global _runner
    if _runner is None:
        with _lock:
            if _runner is None:
                _runner = _make_runner()
    return _runner(fn, *args)


def _make_runner() -> Callable:
    """A runner for the async library this process was patched for."""
    library = green_library()
    if library == "gevent":
        from gevent.threadpool import ThreadPool

        pool = ThreadPool(HASH_THREADS)
        return lambda fn, *args: pool.apply(fn, args)
    if library == "eventlet":
        from eventlet import tpool
        from eventlet.semaphore import Semaphore

        slots = Semaphore(HASH_THREADS)

        def run(fn, *args):
            with slots:
                return tpool.execute(fn, *args)

        return run
    return lambda fn, *args: fn(*args)
