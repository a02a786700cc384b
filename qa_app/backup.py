"""`qa-app backup FILE`: a consistent copy of the SQLite database, taken while it is served.

SQLite's online backup API (`sqlite3.Connection.backup`) copies the database as of one read
transaction: in WAL mode that never blocks the server's writers, and it includes what is still
in the WAL file. The copy is written beside FILE under a temporary name, checked
(`PRAGMA quick_check`) and then renamed over FILE, so a failed or interrupted backup never leaves
a half-written FILE nor destroys an older one. docs/deployment.md describes the restore.
PostgreSQL is backed up with its own tools (pg_dump).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

BUSY_TIMEOUT_S = 30.0  # opening the source may wait for a migration or checkpoint to finish


class BackupError(Exception):
    """A backup that cannot be made; the message says what to do."""


@dataclass
class Backup:
    source: Path
    target: Path
    size: int
    events: int
    questions: int


def backup(engine_url, target: Path, force: bool = False) -> Backup:
    """Copy the SQLite database at engine_url (a SQLAlchemy URL) to target."""
    backend = engine_url.get_backend_name()
    if backend != "sqlite":
        name = {"postgresql": "PostgreSQL"}.get(backend, backend)
        raise BackupError(
            f"The database is {name}, not SQLite: back it up with its own tools, e.g."
            ' pg_dump --format=custom --file=qa_app.dump "$DATABASE_URL", and restore with'
            ' pg_restore --clean --if-exists --dbname="$DATABASE_URL" qa_app.dump'
            " (docs/deployment.md, Backups)."
        )
    database = engine_url.database
    if not database or database == ":memory:":
        raise BackupError("The database is in memory: there is nothing to back up.")
    source = Path(database).resolve()
    if not source.is_file():
        raise BackupError(f"No database at {source}.")
    target = target.resolve()
    if target == source:
        raise BackupError("FILE is the database itself; name another file.")
    if target.is_dir():
        raise BackupError(f"{target} is a folder; name a file.")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to replace it.")
    if not target.parent.is_dir():
        raise BackupError(f"No folder {target.parent}.")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)  # it only reads
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)  # one step: a consistent copy, and writers go on meanwhile
                if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise BackupError("The copy failed its check; the database may be damaged.")
                counts = [
                    dst.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                    for table in ("events", "questions")
                ]
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"Could not back up {source}: {exc}.") from None
    finally:
        partial.unlink(missing_ok=True)
    return Backup(source, target, target.stat().st_size, *counts)
