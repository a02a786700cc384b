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


def main() -> None:
    """Entry point of the console script."""
    _patch_for_async_mode()
    from .commands import cli

    cli(prog_name="qa-app")
