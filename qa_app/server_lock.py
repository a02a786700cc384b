"""One server per SQLite file: `serve` and `demo` hold a lock file beside the database.

A second server on the same SQLite file without a message queue would start, but its changes
would never reach the first one's phones, and each would count rate limits on its own. So the
serving commands take an exclusive lock (flock) on `<database>-serve.lock` before they change
anything (migrations, the demo's new moderator key), and hold it until the process ends; the
kernel drops it when the process dies, even by kill -9. With QA_MESSAGE_QUEUE set, several
servers may share the file (they pass changes and rate limits through the queue). Commands
that do not serve (create-event, export, create-admin, migrate) never take it.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

import click
from flask import Flask

from .extensions import db

log = logging.getLogger(__name__)

_held: list[int] = []  # the lock files this process holds open until it ends


class AlreadyServed(click.ClickException):
    """Another server holds the database: what happened and what to do, in one paragraph."""

    def __init__(self, database: Path, holder: str) -> None:
        who = f" (process {holder})" if holder.isdigit() else ""
        super().__init__(
            f"Another qa-app server{who} is already serving the SQLite database {database}. "
            "Two servers on one SQLite file without a message queue would not pass each "
            "other's changes to their phones, and each would count rate limits on its own. "
            "Stop the other server first; or give this one its own database (DATABASE_URL or "
            "QA_INSTANCE_PATH); or, to serve one event from several processes, set "
            "QA_MESSAGE_QUEUE to the same Redis URL on every one of them (for a hall, with "
            "PostgreSQL as DATABASE_URL: see docs/deployment.md)."
        )


def sqlite_file(app: Flask) -> Path | None:
    """The file of the app's SQLite database; None for PostgreSQL or an in-memory database."""
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    name = url.database
    if url.query.get("uri"):
        if url.query.get("mode") == "memory" or name.startswith("file::memory:"):
            return None
        name = name.removeprefix("file:")
    return Path(name).resolve()


def claim(app: Flask) -> None:
    """Hold this app's SQLite file for this process, or raise AlreadyServed (exit status 1)."""
    database = sqlite_file(app)
    if database is None or app.config.get("QA_MESSAGE_QUEUE"):
        return
    path = database.with_name(database.name + "-serve.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # e.g. a read-only folder: serve reads, and say what is not checked
        log.warning("cannot open %s (%s): a second server is not refused", path, exc)
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise AlreadyServed(database, holder) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _held.append(fd)
