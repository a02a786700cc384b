"""The `qa-app` command: serve, demo, create-event, create-admin, export, migrate."""

from __future__ import annotations

import os
import sys

SERVING_COMMANDS = {"serve", "demo", "bench"}


def _patch_for_async_mode() -> None:
    """Monkey-patch the standard library before anything else imports it (gevent/eventlet)."""
    mode = os.environ.get("QA_ASYNC_MODE", "gevent")
    if len(sys.argv) < 2 or sys.argv[1] not in SERVING_COMMANDS or sys.argv[1] == "bench":
        return
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif mode == "eventlet":
        # psycopg 3 only notices gevent's patching; under eventlet its C wait would block the
        # whole process on every query, so make it wait in (green) select.select instead.
        os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
        import eventlet

        eventlet.monkey_patch()


def green_library() -> str | None:
    """Which library monkey-patched this process: "gevent", "eventlet", or None (plain threads).

    `qa-app serve` patches above, before anything else is imported, and the benchmark's
    processes patch themselves; what must never block a green loop asks here (storage.py's
    SQLite waits, passwords.py's hashing).
    """
    gevent_monkey = sys.modules.get("gevent.monkey")
    if gevent_monkey is not None and gevent_monkey.is_module_patched("time"):
        return "gevent"
    eventlet_patcher = sys.modules.get("eventlet.patcher")
    if eventlet_patcher is not None and eventlet_patcher.is_monkey_patched("time"):
        return "eventlet"
    return None


def main() -> None:
    """Entry point of the console script."""
    _patch_for_async_mode()
    from .commands import cli

    cli(prog_name="qa-app")
