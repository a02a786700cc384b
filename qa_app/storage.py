"""The database: SQLite (WAL, busy timeout) by default, PostgreSQL via DATABASE_URL; migrations."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_migrate import upgrade as alembic_upgrade
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from .extensions import db, migrate

MIGRATIONS = str(Path(__file__).resolve().parent / "migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000


def init_app(app: Flask) -> None:
    """Configure the engine and bind Flask-SQLAlchemy and Flask-Migrate."""
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'qa_app.db'}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {})["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
    else:
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL mode, a busy timeout and foreign keys on every SQLite connection."""
    if type(dbapi_connection).__module__.split(".")[0] not in ("sqlite3", "pysqlite2"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


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
        else:
            alembic_upgrade(directory=MIGRATIONS)
