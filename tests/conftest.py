"""Shared fixtures: a real database per test (SQLite or PostgreSQL), factories via the domain."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from qa_app import create_app, domain, storage
from qa_app.auth import Actor
from qa_app.extensions import db
from qa_app.models import Event, Participant
from qa_app.schemas import EventIn

PG_SERVER = os.environ.get("QA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
IN_CI = os.environ.get("CI", "").lower() == "true"

# Tests that assert a bound of time or memory (a latency, a deadline, the memory slow phones
# hold) are marked `serial`: `make test` runs them alone,
# after the others have run on every core, so that a browser test beside them on a small machine
# cannot decide their outcome.
SERIAL = {
    "test_connections.py",
    "test_logins.py",
    "test_pings.py",
    "test_revocation.py",
    "test_seats.py",
    "test_sqlite_lock.py",
}


def pytest_configure(config) -> None:
    """Measure how slow the machine is now once, before any test loads it (tests/timing.py)."""
    from tests import timing

    timing.slower()


def pytest_report_header(config) -> str:
    """How much slower than usual the machine is now: the serial tests' bounds of time are
    multiplied by it (tests/timing.py)."""
    from tests import timing

    return f"bounds of time x{timing.slower():.2f}: the machine's speed now (tests/timing.py)"


def pytest_collection_modifyitems(config, items) -> None:
    """Mark the tests of SERIAL's modules (files directly in tests/) `serial`."""
    here = os.path.dirname(__file__)
    for item in items:
        if item.path.name in SERIAL and str(item.path.parent) == here:
            item.add_marker(pytest.mark.serial)


SEED_EVENT = {
    "title": "Best Innovation Cluster Management Practices",
    "starts_at": "2017-01-12T15:30:00",
    "ends_at": "2017-01-12T17:30:00",
    "venue": "Building 5, 5th Floor, Executive Conference Room",
    "issues": [
        "Global champions?",
        "Going international?",
        "Talent?",
        "Stakeholders?",
        "The state?",
    ],
    "speakers": [
        {"name": "Oleg Fomichev", "role": "moderator", "affiliation": "Deputy Minister"},
        {"name": "Andrey Antonov", "role": "panelist", "affiliation": "Tomsk Region"},
        {"name": "Artem Zdunov", "role": "panelist", "affiliation": "Tatarstan"},
    ],
}


def service_unavailable(what: str, why: str) -> None:
    """Skip a test that needs a service, except in CI where it must run."""
    message = f"{what} is not reachable ({why})"
    if IN_CI:
        pytest.fail(f"{message}; under CI=true this test must run, not skip")
    pytest.skip(message)


@contextmanager
def new_postgres_database(prefix: str = "qa_test") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards (skipped without the
    server, except in CI)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        service_unavailable("PostgreSQL", str(exc).splitlines()[0])
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session, migrated once."""
    with new_postgres_database() as url:
        migrator = create_app(test_config(url))
        storage.upgrade(migrator)
        with migrator.app_context():
            db.engine.dispose()
        yield url


def test_config(url: str, **extra) -> dict:
    """The configuration of a test app on database url."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "SQLALCHEMY_DATABASE_URI": url,
        "QA_ASYNC_MODE": "threading",
        "QA_TICK_MS": 0,
        "QA_RATE_LIMITS": False,
        "QA_MESSAGE_QUEUE": None,
        "WTF_CSRF_ENABLED": True,
        **extra,
    }


def _empty_postgres(app) -> None:
    """Remove every row (the schema stays, migrated once per session)."""
    with app.app_context():
        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture(params=["sqlite"])
def backend(request):
    """Which database the test runs on; parametrize with ["sqlite", "postgres"] to run on both."""
    return request.param


@pytest.fixture
def app(backend, tmp_path, request):
    """An app on a real, migrated database of its own."""
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        application = create_app(test_config(url))
        _empty_postgres(application)
    else:
        application = create_app(test_config(f"sqlite:///{tmp_path / 'qa.db'}"))
        storage.upgrade(application)
    yield application
    close(application)


def close(application) -> None:
    """Stop the app's credential watcher (a thread while sockets are open), then close its
    database connections: a sweep still running would give its connection back to the pool
    thrown away, which leaves it open until the garbage collector warns about it."""
    application.extensions["qa_revocation"].stop()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(backend, tmp_path, request):
    """A factory of apps on one real, migrated database of the test's backend (emptied once on
    PostgreSQL), each with settings of the test's choosing."""
    made = []

    def make(**settings):
        if backend == "postgres":
            url = request.getfixturevalue("postgres_url")
        else:
            url = f"sqlite:///{tmp_path / 'qa.db'}"
        application = create_app(test_config(url, **settings))
        if not made:
            (_empty_postgres if backend == "postgres" else storage.upgrade)(application)
        made.append(application)
        return application

    yield make
    for application in made:
        close(application)


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of the test's own (tests/live.py `Redis`), stopped at the end."""
    from tests.live import Redis

    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ctx(app):
    """An app context for calling domain functions directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    """A test HTTP client."""
    return app.test_client()


def make_event(**changes) -> tuple[Event, str]:
    """Create an event through the domain (inside an app context); return it and its key."""
    data = {**SEED_EVENT, **changes}
    return domain.create_event(EventIn.model_validate(data))


def make_participant(event: Event, name: str | None = None) -> tuple[Actor, str]:
    """Join event as a new participant; return its actor and token."""
    joined = domain.join(event, name, "test")
    return Actor("participant", event.id, joined.participant_id), joined.token


def moderator(event: Event) -> Actor:
    """The moderator actor of event's first seat."""
    from qa_app.domain.seats import active_seats

    return Actor("moderator", event.id, seat_id=active_seats(event.id)[0].id)


def participant_row(actor: Actor) -> Participant:
    """The participant row behind an actor."""
    return db.session.get(Participant, actor.participant_id)


def csrf_token(html: str) -> str:
    """The CSRF token in a rendered form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'data-csrf="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)
