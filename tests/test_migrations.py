"""Migrations on a database with data: 0003 keeps every event's key working as its first seat,
loses no row (SQLite's foreign keys stay on while `events` changes) and downgrades cleanly; 0004
adds the projector's columns with their defaults and drops them again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade as alembic_downgrade
from flask_migrate import upgrade as alembic_upgrade

from qa_app import create_app
from qa_app.auth import actor_for, digest
from qa_app.extensions import db
from qa_app.models import Event, ModeratorSeat
from qa_app.storage import MIGRATIONS
from tests import conftest
from tests.conftest import new_postgres_database

OLD_KEY = "mk.an-old-key-from-before-seats"
TABLES = ("events", "issues", "participants", "questions", "votes")


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path):
    """The URL of an empty database of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with new_postgres_database("qa_mig") as url:
        yield url


def count(table: str) -> int:
    """Rows of a table."""
    return db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_0003_turns_each_event_key_into_a_seat_and_loses_nothing(empty_url):
    app = create_app(conftest.test_config(empty_url))
    with app.app_context():
        alembic_upgrade(directory=MIGRATIONS, revision="0002")
        run = db.session.execute
        run(
            sa.text(
                "INSERT INTO events (id, code, title, language, pre_moderation, questions_open,"
                " voting_open, anonymous_allowed, max_question_length, moderator_key_hash,"
                " moderator_key_generation, version, rev, created_at) VALUES (1, 'ABCDEF',"
                " 'Old', 'en', false, true, true, true, 300, :hash, 3, 5, 0, CURRENT_TIMESTAMP)"
            ),
            {"hash": digest(OLD_KEY)},
        )
        run(sa.text("INSERT INTO issues (id, event_id, title, position) VALUES (1, 1, 'One', 0)"))
        run(
            sa.text(
                "INSERT INTO participants (id, event_id, token_hash, banned, created_at)"
                " VALUES (1, 1, 'p', false, CURRENT_TIMESTAMP)"
            )
        )
        run(
            sa.text(
                "INSERT INTO questions (id, event_id, issue_id, participant_id, text, status,"
                " vote_count, was_public, rev, created_at) VALUES (1, 1, 1, 1, 'Why?', 'live',"
                " 1, true, 5, CURRENT_TIMESTAMP)"
            )
        )
        run(sa.text("INSERT INTO votes VALUES (1, 1, CURRENT_TIMESTAMP)"))
        db.session.commit()

        alembic_upgrade(directory=MIGRATIONS)
        assert [count(t) for t in TABLES] == [1] * len(TABLES)
        seat = db.session.scalars(sa.select(ModeratorSeat)).one()
        assert (seat.event_id, seat.name, seat.revoked_at) == (1, "Moderator", None)
        event = db.session.get(Event, 1)
        with app.test_request_context():
            actor = actor_for(event, OLD_KEY)
        assert (actor.role, actor.seat_id) == ("moderator", seat.id)
        assert (event.blocklist, event.builtin_blocklists) == ("", "")
        db.session.rollback()

        alembic_downgrade(directory=MIGRATIONS, revision="0002")
        row = run(sa.text("SELECT moderator_key_hash FROM events WHERE id = 1")).one()
        assert row.moderator_key_hash == digest(OLD_KEY)
        assert count("questions") == 1 and count("votes") == 1
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_0004_adds_the_projector_columns_with_their_defaults_and_drops_them(empty_url):
    app = create_app(conftest.test_config(empty_url))
    with app.app_context():
        alembic_upgrade(directory=MIGRATIONS, revision="0003")
        run = db.session.execute
        run(
            sa.text(
                "INSERT INTO events (id, code, title, language, pre_moderation, questions_open,"
                " voting_open, anonymous_allowed, max_question_length, version, rev, created_at,"
                " blocklist, builtin_blocklists, starts_at, ends_at) VALUES (1, 'ABCDEF', 'Old',"
                " 'en', false, true, true, true, 300, 5, 0, CURRENT_TIMESTAMP, '', '',"
                " '2026-01-01 10:00:00', '2026-01-01 11:00:00')"
            )
        )
        for n in (1, 2):
            run(
                sa.text(
                    "INSERT INTO issues (id, event_id, title, position) VALUES (:n, 1, 'I', :p)"
                ),
                {"n": n, "p": n - 1},
            )
        run(sa.text("UPDATE events SET current_issue_id = 2 WHERE id = 1"))
        db.session.commit()

        alembic_upgrade(directory=MIGRATIONS)
        event = db.session.get(Event, 1)
        assert (event.screen_mode, event.clock_on) == ("questions", False)
        assert [issue.extra_minutes for issue in event.issues] == [0, 0]
        from qa_app.domain.views import event_view

        clock = event_view(event)["clock"]
        assert (clock["starts_at"], clock["ends_at"]) == (
            "2026-01-01T10:30:00",
            "2026-01-01T11:00:00",
        )
        db.session.rollback()

        alembic_downgrade(directory=MIGRATIONS, revision="0003")
        columns = run(sa.text("SELECT * FROM events WHERE id = 1")).mappings().one()
        assert "screen_mode" not in columns and "clock_on" not in columns
        assert count("issues") == 2 and columns["title"] == "Old"
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
