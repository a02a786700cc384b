"""Migrations on a database with data: a database of the first release (0001) with rows in
every table upgrades to the latest schema with nothing lost; 0003 keeps every event's key
working as its first seat, loses no row (SQLite's foreign keys stay on while `events` changes)
and downgrades cleanly; 0004 adds the projector's columns with their defaults and drops them
again; 0005 adds the organiser's columns (archived, time zone, report share) empty and drops
them again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade as alembic_downgrade
from flask_migrate import upgrade as alembic_upgrade

from qa_app import create_app, domain
from qa_app.auth import actor_for, digest
from qa_app.extensions import db
from qa_app.models import Event, ModeratorSeat
from qa_app.passwords import check_password, hash_password
from qa_app.schemas import VoteIn
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


def test_0005_adds_the_organisers_columns_empty_and_drops_them(empty_url):
    app = create_app(conftest.test_config(empty_url))
    with app.app_context():
        alembic_upgrade(directory=MIGRATIONS, revision="0004")
        db.session.execute(
            sa.text(
                "INSERT INTO events (id, code, title, language, pre_moderation, questions_open,"
                " voting_open, anonymous_allowed, max_question_length, version, rev, created_at,"
                " blocklist, builtin_blocklists) VALUES (1, 'ABCDEF', 'Old', 'en', false, true,"
                " true, true, 300, 5, 0, CURRENT_TIMESTAMP, '', '')"
            )
        )
        db.session.commit()

        alembic_upgrade(directory=MIGRATIONS)
        event = db.session.get(Event, 1)
        assert (event.archived_at, event.time_zone, event.report_share_hash) == (None, None, None)
        assert event.title == "Old"
        db.session.rollback()

        alembic_downgrade(directory=MIGRATIONS, revision="0004")
        columns = run_columns()
        assert not {"archived_at", "time_zone", "report_share_hash"} & set(columns)
        assert columns["title"] == "Old"
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def run_columns() -> dict:
    """The one event row's columns, as the database has them now."""
    return dict(db.session.execute(sa.text("SELECT * FROM events WHERE id = 1")).mappings().one())


FIRST_KEYS = {1: "mk.the-first-release-key-one", 2: "mk.the-first-release-key-two"}
FIRST_TOKENS = {1: "p.anna", 2: "p.banned", 3: "p.quiet", 4: "p.other-event"}
# each table's rows as the first release (migration 0001) wrote them, in its columns
FIRST_RELEASE = {
    "admins": [
        {"id": 1, "name": "organiser", "password_hash": "set below", "created_at": "2026-11-01"}
    ],
    "events": [
        {
            "id": n,
            "code": code,
            "title": title,
            "starts_at": "2026-12-01 10:00:00",
            "ends_at": "2026-12-01 12:00:00",
            "venue": venue,
            "description": "Old text",
            "language": language,
            "pre_moderation": n == 1,
            "questions_open": True,
            "voting_open": n == 1,
            "anonymous_allowed": n == 2,
            "max_question_length": 280,
            "current_issue_id": None,
            "on_screen_question_id": None,
            "moderator_key_hash": digest(FIRST_KEYS[n]),
            "moderator_key_generation": n + 1,
            "version": 9,
            "rev": 0,
            "created_at": "2026-11-02 09:00:00",
        }
        for n, code, title, venue, language in (
            (1, "FIRST1", "Первый выпуск", "Зал 1", "ru"),
            (2, "FIRST2", "Second event", None, "en"),
        )
    ],
    "issues": [
        {"id": 1, "event_id": 1, "title": "Кластеры?", "position": 0},
        {"id": 2, "event_id": 1, "title": "Talent?", "position": 1},
        {"id": 3, "event_id": 2, "title": "Only issue", "position": 0},
    ],
    "speakers": [
        {
            "id": 1,
            "event_id": 1,
            "name": "Олег Фомичев",
            "role": "moderator",
            "affiliation": "Deputy Minister",
            "position": 0,
        },
        {
            "id": 2,
            "event_id": 1,
            "name": "Artem Zdunov",
            "role": "panelist",
            "affiliation": None,
            "position": 1,
        },
    ],
    "participants": [
        {
            "id": n,
            "event_id": 2 if n == 4 else 1,
            "token_hash": digest(token),
            "display_name": "Anna" if n == 1 else None,
            "banned": n == 2,
            "created_at": "2026-12-01 10:01:00",
        }
        for n, token in FIRST_TOKENS.items()
    ],
    "questions": [
        {
            "id": n,
            "event_id": event,
            "issue_id": issue,
            "participant_id": who,
            "text": text,
            "author_name": author,
            "addressed_to": to,
            "status": status,
            "merged_into": into,
            "vote_count": votes,
            "client_id": f"c{n}",
            "created_at": f"2026-12-01 10:0{n}:00",
            "answered_at": "2026-12-01 11:00:00" if status == "answered" else None,
            "was_public": status in ("live", "answered", "merged"),
            "rev": n + 1,
        }
        for n, event, issue, who, text, author, to, status, into, votes in (
            (1, 1, 1, 1, "Как растут кластеры?", "Anna", 2, "live", None, 2),
            (2, 1, 2, 3, "What about talent?", None, None, "answered", None, 1),
            (3, 1, 1, 2, "Spam", None, None, "dismissed", None, 0),
            (4, 1, 1, 3, "How do clusters grow?", None, 2, "merged", 1, 0),
            (5, 1, 2, 1, "Waiting for review", "Anna", None, "pending", None, 0),
            (6, 2, 3, 4, "Another event's question", None, None, "live", None, 1),
        )
    ],
    "votes": [
        {"participant_id": who, "question_id": qid, "created_at": "2026-12-01 10:30:00"}
        for who, qid in ((1, 2), (3, 1), (1, 1), (4, 6))
    ],
}


def insert(table: str, row: dict) -> None:
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    db.session.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


MOVED = {"moderator_key_hash", "moderator_key_generation"}  # 0003: the key became a seat


def first_release_rows() -> dict[str, list[tuple]]:
    """Every row of the first release's tables, in its columns (but the key's), in key order."""
    rows = {}
    for table, written in FIRST_RELEASE.items():
        columns = ", ".join(name for name in written[0] if name not in MOVED)
        keys = "participant_id, question_id" if table == "votes" else "id"
        query = sa.text(f"SELECT {columns} FROM {table} ORDER BY {keys}")
        rows[table] = [tuple(row) for row in db.session.execute(query)]
    return rows


def test_a_first_release_database_upgrades_to_the_latest_with_nothing_lost(empty_url):
    app = create_app(conftest.test_config(empty_url))
    with app.app_context():
        alembic_upgrade(directory=MIGRATIONS, revision="0001")
        FIRST_RELEASE["admins"][0]["password_hash"] = hash_password("an old password")
        for table, rows in FIRST_RELEASE.items():
            for row in rows:
                insert(table, row)
        run = db.session.execute
        run(
            sa.text(
                "UPDATE events SET current_issue_id = 2, on_screen_question_id = 1 WHERE id = 1"
            )
        )
        db.session.commit()
        before = first_release_rows()
        assert [len(rows) for rows in before.values()] == [1, 2, 3, 2, 4, 6, 4]
        db.session.rollback()  # no read may hold a lock the migration's ALTER TABLE waits for

        alembic_upgrade(directory=MIGRATIONS)
        after = first_release_rows()
        for table in FIRST_RELEASE:
            assert after[table] == before[table], table
        pointers = "SELECT current_issue_id, on_screen_question_id FROM events ORDER BY id"
        assert [tuple(row) for row in run(sa.text(pointers))] == [(2, 1), (None, None)]
        assert check_password(
            run(sa.text("SELECT password_hash FROM admins")).scalar_one(), "an old password"
        )

        # each event's key is its first seat; each token is still its participant
        with app.test_request_context():
            for event_id, key in FIRST_KEYS.items():
                event = db.session.get(Event, event_id)
                actor = actor_for(event, key)
                assert actor.role == "moderator" and actor.seat_id is not None
                seat = db.session.get(ModeratorSeat, actor.seat_id)
                assert (seat.event_id, seat.name, seat.revoked_at) == (event_id, "Moderator", None)
                assert seat.key_hash == digest(key)
            event = db.session.get(Event, 1)
            quiet = actor_for(event, FIRST_TOKENS[3])
            anna = actor_for(event, FIRST_TOKENS[1])
            assert (quiet.role, quiet.participant_id, anna.participant_id) == ("participant", 3, 1)
            moderator = actor_for(event, FIRST_KEYS[1])
            seen = {q["id"]: q for q in domain.snapshot(moderator)["questions"]}
            assert {n: (q["status"], q["votes"]) for n, q in seen.items()} == {
                1: ("live", 2),
                2: ("answered", 1),
                3: ("dismissed", 0),
                4: ("merged", 0),
                5: ("pending", 0),
            }
            assert seen[4]["merged_into"] == 1 and seen[1]["addressed_to"] == 2
            mine = {q["id"]: q for q in domain.snapshot(anna)["questions"]}
            assert mine[1]["voted"] and mine[2]["voted"] and mine[1]["mine"]
            # and the upgraded database takes new writes: Anna's vote comes back once
            assert domain.vote(quiet, VoteIn(question_id=2, up=True)).votes == 2
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
