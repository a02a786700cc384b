"""Configuration read from the environment, with safe defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from . import asyncmode


def _flag(name: str, default: bool) -> bool:
    """Read a boolean environment variable (1/true/yes/on)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str) -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def instance_secret(instance_path: str) -> str:
    """Return the secret key kept in the instance folder, creating a random one once."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Map a plain postgres:// URL to the psycopg 3 driver SQLAlchemy expects."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings from the environment; every name is documented in the README."""

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("QA_SECRET_KEY")  # None: kept in the instance folder
        url = os.environ.get("DATABASE_URL")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(url) if url else None
        self.QA_MESSAGE_QUEUE = os.environ.get("QA_MESSAGE_QUEUE") or None
        # NORMAL: an acknowledged write survives the process's crash; FULL: power loss too
        self.QA_SQLITE_SYNCHRONOUS = os.environ.get("QA_SQLITE_SYNCHRONOUS", "NORMAL")
        self.QA_ASYNC_MODE = asyncmode.configured()  # what `serve` patched the process for
        self.QA_TICK_MS = int(os.environ.get("QA_TICK_MS", "250"))
        self.QA_MAX_CONNECTIONS = int(os.environ.get("QA_MAX_CONNECTIONS", "20000"))
        self.QA_BACKLOG = int(os.environ.get("QA_BACKLOG", "2048"))
        self.QA_WS_COMPRESSION = _flag("QA_WS_COMPRESSION", False)
        # Brotli/gzip for pages, JSON and static files (qa_app/assets.py); 0 if a proxy does it
        self.QA_COMPRESSION = _flag("QA_COMPRESSION", True)
        # what one connection may hold (qa_app/httpserver.py, qa_app/sendlimit.py)
        self.QA_HEADER_TIMEOUT = float(os.environ.get("QA_HEADER_TIMEOUT", "10"))
        self.QA_KEEPALIVE_TIMEOUT = float(os.environ.get("QA_KEEPALIVE_TIMEOUT", "20"))
        self.QA_SEND_BUFFER = int(os.environ.get("QA_SEND_BUFFER", str(256 * 1024)))
        self.QA_SOCKET_SNDBUF = int(os.environ.get("QA_SOCKET_SNDBUF", str(64 * 1024)))
        self.QA_PING_INTERVAL = float(os.environ.get("QA_PING_INTERVAL", "25"))
        self.QA_PING_TIMEOUT = float(os.environ.get("QA_PING_TIMEOUT", "20"))
        self.QA_ALLOWED_ORIGINS = _list("QA_ALLOWED_ORIGINS")
        self.QA_PUBLIC_URL = os.environ.get("QA_PUBLIC_URL", "").rstrip("/") or None
        self.QA_RATE_LIMITS = _flag("QA_RATE_LIMITS", True)
        self.QA_ASK_LIMIT = os.environ.get("QA_ASK_LIMIT", "5/minute")
        self.QA_VOTE_LIMIT = os.environ.get("QA_VOTE_LIMIT", "120/minute")
        # the phone asks while its participant types (debounced): generous
        self.QA_SIMILAR_LIMIT = os.environ.get("QA_SIMILAR_LIMIT", "240/minute")
        # a whole hall may join from behind one NAT address: this only stops floods
        self.QA_JOIN_LIMIT = os.environ.get("QA_JOIN_LIMIT", "3000/minute")
        # None: in memory for one process, in the message queue's Redis for several
        self.QA_RATELIMIT_STORAGE = os.environ.get("QA_RATELIMIT_STORAGE") or None
        # failed admin log-ins, per address and per account name (a success counts nothing)
        self.QA_LOGIN_LIMIT = os.environ.get("QA_LOGIN_LIMIT", "10/minute")
        self.QA_LOGIN_ACCOUNT_LIMIT = os.environ.get("QA_LOGIN_ACCOUNT_LIMIT", "30/hour")
        self.QA_ADMIN_SESSION_HOURS = float(os.environ.get("QA_ADMIN_SESSION_HOURS", "12"))
        # how long a moderator action may be undone (qa_app/domain/undo.py)
        self.QA_UNDO_SECONDS = float(os.environ.get("QA_UNDO_SECONDS", "10"))
        self.QA_REVOCATION_CHECK_MS = int(os.environ.get("QA_REVOCATION_CHECK_MS", "250"))
        self.QA_TRUSTED_PROXIES = int(os.environ.get("QA_TRUSTED_PROXIES", "0"))
        # none: loopback, QA_PUBLIC_URL's host and the machine's own names and addresses
        self.QA_TRUSTED_HOSTS = _list("QA_TRUSTED_HOSTS")
        # none: no site may frame any page; else who may frame the audience and screen pages
        self.QA_FRAME_ANCESTORS = os.environ.get("QA_FRAME_ANCESTORS", "").replace(",", " ").split()
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _flag("QA_SECURE_COOKIES", False)
        self.MAX_CONTENT_LENGTH = 1024 * 1024  # every request body and WebSocket message
        self.SQLALCHEMY_ENGINE_OPTIONS: dict = {}
        self.WTF_CSRF_TIME_LIMIT = None


class TestConfig(Config):
    """Settings for the test suite: threading server, no rate limits unless asked."""

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.QA_ASYNC_MODE = "threading"
        self.QA_RATE_LIMITS = False
