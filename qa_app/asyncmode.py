"""Which async library this process runs on.

`qa-app serve` and `qa-app demo` call `patch()` first thing, before the app (and with it Flask,
SQLAlchemy, the socket.io server and ssl) is imported: gevent's and eventlet's patches must be
in place before anything takes a lock or opens a socket. Every other command runs on plain
threads. Code that must never block a green loop (storage.py's SQLite waits, passwords.py's
hashing) asks `green_library()` which library, if any, did it.
"""

from __future__ import annotations

import os
import sys

DEFAULT = "gevent"


def configured() -> str:
    """The async server asked for: QA_ASYNC_MODE, gevent unless it says eventlet or threading."""
    return os.environ.get("QA_ASYNC_MODE", DEFAULT)


def patch(mode: str | None = None) -> None:
    """Monkey-patch the standard library for mode (default: configured()); threading: nothing."""
    mode = mode or configured()
    if mode == "gevent":
        from gevent import config, monkey

        # gevent records, for every greenlet it starts, the greenlet that started it, a dict
        # shared down the tree and the stack that started it: for a debugging tool, at a cost
        # for every connection, socket event and writer (GEVENT_TRACK_GREENLET_TREE=1 brings
        # it back)
        if "GEVENT_TRACK_GREENLET_TREE" not in os.environ:
            config.track_greenlet_tree = False
        monkey.patch_all()
    elif mode == "eventlet":
        # psycopg 3 only notices gevent's patching; under eventlet its C wait would block the
        # whole process on every query, so make it wait in (green) select.select instead.
        os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
        import eventlet

        eventlet.monkey_patch()


def green_library() -> str | None:
    """Which library monkey-patched this process: "gevent", "eventlet", or None (plain threads)."""
    gevent_monkey = sys.modules.get("gevent.monkey")
    if gevent_monkey is not None and gevent_monkey.is_module_patched("time"):
        return "gevent"
    eventlet_patcher = sys.modules.get("eventlet.patcher")
    if eventlet_patcher is not None and eventlet_patcher.is_monkey_patched("time"):
        return "eventlet"
    return None
