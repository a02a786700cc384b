"""The database: SQLite (WAL) by default, PostgreSQL via DATABASE_URL; write turns; migrations.

SQLite lets one connection write at a time, and a blocked writer waits inside SQLite's busy
handler, in C: under gevent or eventlet that wait stops every phone, screen and moderator of
the process. So a served process never lets SQLite wait: its connections have a busy timeout
of 0, and each write transaction runs in `writing()`, which waits in Python (`time.sleep`,
cooperative once the server is monkey-patched) for the process's write turn and then for the
file's write lock (`BEGIN IMMEDIATE`), and answers Busy after WRITE_WAIT_S, having written
nothing. Only the writer whose turn it is holds a pooled connection while it waits, so a long
lock held elsewhere (a backup, `sqlite3` in a terminal, a migration) cannot drain the pool, and
reads, which never wait for a writer in WAL mode, keep answering. Processes without green
threads (the other commands, the threading server) may wait in C, for WRITE_WAIT_S. On
PostgreSQL `writing()` only commits.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from pathlib import Path

from flask import Flask, current_app
from flask_migrate import upgrade as alembic_upgrade
from sqlalchemy import Executable, event, text

from .asyncmode import green_library
from .errors import Busy
from .extensions import db, migrate

log = logging.getLogger(__name__)

MIGRATIONS = str(Path(__file__).resolve().parent / "migrations")
WRITE_WAIT_S = 5.0  # then `busy`: well inside the 10 s a phone waits for an acknowledgement
POLL_MAX_S = 0.02  # the longest pause between two tries for the write lock
MIGRATION_WAIT_MS = 30_000  # migrations run before anything is served: they may wait in C
SYNCHRONOUS = ("NORMAL", "FULL")  # QA_SQLITE_SYNCHRONOUS; docs/deployment.md explains both
GATE = "qa_sqlite_write_gate"

_busy_timeout_ms: ContextVar[int | None] = ContextVar("qa_sqlite_busy_timeout_ms", default=None)
_in_write: ContextVar[bool] = ContextVar("qa_in_write", default=False)


def init_app(app: Flask) -> None:
    """Configure the engine and bind Flask-SQLAlchemy and Flask-Migrate."""
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'qa_app.db'}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    sqlite = uri.startswith("sqlite")
    if sqlite:
        options.setdefault("connect_args", {})["timeout"] = 0  # the pragmas set it (see above)
    else:
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    if sqlite:
        synchronous = str(app.config.get("QA_SQLITE_SYNCHRONOUS") or "NORMAL").upper()
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"QA_SQLITE_SYNCHRONOUS must be NORMAL or FULL, not {synchronous!r}.")
        app.extensions[GATE] = threading.Lock()  # green under gevent/eventlet (monkey-patched)
        with app.app_context():
            event.listen(db.engine, "connect", partial(_sqlite_pragmas, synchronous=synchronous))


def _sqlite_pragmas(dbapi_connection, _record, synchronous: str) -> None:
    """Busy timeout (0 under green threads), WAL, foreign keys and the fsync level."""
    busy_timeout_ms = _busy_timeout_ms.get()
    if busy_timeout_ms is None:
        busy_timeout_ms = 0 if green_library() else int(WRITE_WAIT_S * 1000)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.close()


_compiled: dict[tuple[Executable, str], tuple[str, tuple[str, ...] | None, dict]] = {}


def fetch_one(statement: Executable, params: dict) -> tuple | None:
    """The first row of a statement (a read, or an `INSERT … RETURNING`), run on the DBAPI
    cursor of the session's connection, in the session's transaction: the statement is compiled
    once per dialect, and no SQLAlchemy result is built (a sixth of `execute`'s time). Parameters
    go through their types' bind processors (SQLite's booleans and times), results come back as
    the driver gives them, so only for rows of integers, strings and booleans (SQLite gives a
    boolean as 0 or 1): the few statements every phone's join and connection runs."""
    connection = db.session.connection()
    dialect = connection.dialect
    key = (statement, dialect.name)
    compiled = _compiled.get(key)
    if compiled is None:
        done = statement.compile(dialect=dialect)
        processors = {}
        for name, bind in done.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        compiled = _compiled[key] = (done.string, done.positiontup, processors)
    sql, order, processors = compiled
    if processors:
        params = {
            name: processors[name](value) if name in processors else value
            for name, value in params.items()
        }
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, [params[name] for name in order] if order else params)
        return cursor.fetchone()
    finally:
        cursor.close()


@contextmanager
def writing() -> Iterator[None]:
    """Run one write transaction: take the write lock without blocking the process (Busy after
    WRITE_WAIT_S), then commit, or roll back on any exception. Nested calls join the outer one."""
    if _in_write.get():
        yield
        return
    gate = current_app.extensions.get(GATE)
    deadline = time.monotonic() + WRITE_WAIT_S
    marker = _in_write.set(True)
    try:
        if gate is not None:
            _take_turn(gate, deadline)
        try:
            if gate is not None:
                _begin_immediate(deadline)
            yield
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            if gate is not None:
                gate.release()
    finally:
        _in_write.reset(marker)


def _take_turn(gate, deadline: float) -> None:
    """Wait for this process's write turn, holding no pooled connection meanwhile."""
    if gate.acquire(blocking=False):
        return
    session = db.session
    if not (session.new or session.dirty or session.deleted):
        session.rollback()  # hand back the connection of earlier reads: they run again later
    if not gate.acquire(timeout=max(0.0, deadline - time.monotonic())):
        log.warning("SQLite write turn not free after %.1f s: answered busy", WRITE_WAIT_S)
        raise Busy(Busy.MESSAGE)


def _begin_immediate(deadline: float) -> None:
    """Start the transaction holding SQLite's write lock, trying again after short pauses."""
    raw = db.session.connection().connection.driver_connection
    if raw.in_transaction:  # this transaction has written already: it holds the lock
        return
    pause = 0.001
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not (exc.sqlite_errorname or "").startswith("SQLITE_BUSY"):
                raise
            if time.monotonic() + pause > deadline:
                log.warning(
                    "SQLite write lock held elsewhere for %.1f s: answered busy", WRITE_WAIT_S
                )
                raise Busy(Busy.MESSAGE) from None
        time.sleep(pause)  # yields to the other greenlets once the server is monkey-patched
        pause = min(pause * 2, POLL_MAX_S)


def upgrade(app: Flask) -> None:
    """Apply pending migrations (one process at a time on PostgreSQL)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(724301)"))
                try:
                    alembic_upgrade(directory=MIGRATIONS)
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(724301)"))
                    connection.commit()
        elif db.engine.url.database in (None, "", ":memory:"):
            alembic_upgrade(directory=MIGRATIONS)
        else:
            # nothing is served yet, so these connections may wait for the lock in C; they are
            # closed afterwards, so no served connection ever does
            marker = _busy_timeout_ms.set(MIGRATION_WAIT_MS)
            db.engine.dispose()
            try:
                alembic_upgrade(directory=MIGRATIONS)
            finally:
                _busy_timeout_ms.reset(marker)
                db.engine.dispose()
            db.engine.connect().close()  # one served connection ready in the pool, as before
