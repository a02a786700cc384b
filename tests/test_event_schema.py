"""One schema for the event file (schemas.EventIn, docs/event-format.md): the same inputs give
the same event, or the same refusal, through every way of creating one: `qa-app create-event`,
POST /api/v1/events (the organiser's form), POST /api/v1/events/import (scripts) and the
organiser's "Upload JSON" (which sends the file's text to the import). Time zones: a naive time
is the venue's clock, a time with an offset or Z is converted, never dropped nor refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa_app.admin import set_admin_password
from qa_app.auth import find_event
from qa_app.commands import cli
from qa_app.extensions import db
from qa_app.schemas import EventIn, parse_event
from tests.test_api import login_admin

ROOT = Path(__file__).resolve().parent.parent
BASE = {"title": "Open questions", "issues": ["What next?"]}

# (id, the file's fields besides BASE, what the event gets: a dict of fields or a refusal)
CASES = [
    (
        "naive",
        {"starts_at": "2017-01-12T15:30", "ends_at": "2017-01-12 17:30:00"},
        {"time_zone": None, "starts_at": "2017-01-12T15:30:00", "ends_at": "2017-01-12T17:30:00"},
    ),
    (
        "naive-in-a-zone",
        {"time_zone": "Europe/Moscow", "starts_at": "2017-01-12T15:30:00"},
        {"time_zone": "Europe/Moscow", "starts_at": "2017-01-12T15:30:00"},
    ),
    (
        "Z-without-zone",
        {"starts_at": "2017-01-12T12:30:00Z", "ends_at": "2017-01-12T14:30:00Z"},
        {
            "time_zone": "+00:00",
            "starts_at": "2017-01-12T12:30:00",
            "ends_at": "2017-01-12T14:30:00",
        },
    ),
    (
        "Z-in-a-zone",
        {"time_zone": "Europe/Moscow", "starts_at": "2017-01-12T12:30:00Z"},
        {"time_zone": "Europe/Moscow", "starts_at": "2017-01-12T15:30:00"},
    ),
    (
        "offset-without-zone",
        {"starts_at": "2017-01-12T15:30:00+03:00", "ends_at": "2017-01-12T17:30"},
        {
            "time_zone": "+03:00",
            "starts_at": "2017-01-12T15:30:00",
            "ends_at": "2017-01-12T17:30:00",
        },
    ),
    (
        "offset-in-another-zone",
        {"time_zone": "Asia/Yekaterinburg", "starts_at": "2017-01-12T15:30:00+03:00"},
        {"time_zone": "Asia/Yekaterinburg", "starts_at": "2017-01-12T17:30:00"},
    ),
    (
        "issue-objects-russian-speakers",
        {
            "title": "  Круглый   стол ",
            "issues": [{"title": "Что  дальше?"}, "Почему?"],
            "speakers": [
                {"name": "Artem Zdunov", "affiliation": " "},
                {"name": "Oleg  Fomichev", "role": "moderator", "affiliation": "Deputy Minister"},
            ],
        },
        {
            "title": "Круглый стол",
            "language": "ru",
            "issues": ["Что дальше?", "Почему?"],
            "speakers": [
                ["Oleg Fomichev", "moderator", "Deputy Minister"],
                ["Artem Zdunov", "panelist", None],
            ],
        },
    ),
    ("unknown-field", {"notes": "draft"}, "notes: is not a field of the event file"),
    ("unknown-zone", {"time_zone": "Mars/Olympus"}, "time_zone: unknown time zone 'Mars/Olympus'"),
    (
        "end-before-start-once-converted",
        {"starts_at": "2017-01-12T15:30:00+03:00", "ends_at": "2017-01-12T12:00:00Z"},
        "ends_at: the end time 2017-01-12 15:00 is before the start time 2017-01-12 15:30",
    ),
    ("a-number-for-a-time", {"starts_at": 1484224200}, "starts_at: must be an ISO 8601"),
    ("no-issues", {"issues": []}, "issues: must not be empty"),
    (
        "bad-role",
        {"speakers": [{"name": "Anna Smith", "role": "host"}]},
        "speaker 1 role: 'host' is not 'moderator' or 'panelist'",
    ),
    ("a-list", None, "The event must be a JSON object"),
]


def event_fields(code: str) -> dict:
    """What the event was created with, as the file's fields."""
    event = find_event(code)
    return {
        "title": event.title,
        "time_zone": event.time_zone,
        "starts_at": event.starts_at.isoformat() if event.starts_at else None,
        "ends_at": event.ends_at.isoformat() if event.ends_at else None,
        "language": event.language,
        "issues": [issue.title for issue in event.issues],
        "speakers": [[s.name, s.role, s.affiliation] for s in event.speakers],
        "settings": event.settings,
    }


@pytest.fixture
def entry_points(app, client, tmp_path, monkeypatch):
    """Each way of creating an event, as a function of a file's data: ("event", its fields) or
    ("refused", the message)."""
    with app.app_context():
        set_admin_password("organiser", "correct horse battery")
    headers = {"X-CSRFToken": login_admin(client)}
    for name, value in {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "QA_INSTANCE_PATH": str(tmp_path),
        "QA_SECRET_KEY": "test",
        "QA_ASYNC_MODE": "threading",
    }.items():
        monkeypatch.setenv(name, value)

    def answer(response) -> tuple[str, object]:
        if response.status_code == 201:
            with app.app_context():
                return "event", event_fields(response.json["code"])
        assert response.status_code == 400, response.json
        return "refused", response.json["error"]["message"]

    def command(data) -> tuple[str, object]:
        path = tmp_path / "event.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        done = CliRunner().invoke(cli, ["create-event", str(path), "--json"])
        if done.exit_code == 0:
            with app.app_context():
                return "event", event_fields(json.loads(done.stdout)["code"])
        assert "Traceback" not in done.output and len(done.stderr.strip().splitlines()) == 1
        return "refused", done.stderr.removeprefix(f"Error: {path}: ").strip()

    def create(data) -> tuple[str, object]:
        return answer(client.post("/api/v1/events", json=data, headers=headers))

    def import_(data) -> tuple[str, object]:
        text = json.dumps(data, ensure_ascii=False)
        return answer(client.post("/api/v1/events/import", data=text, headers=headers))

    def upload(data) -> tuple[str, object]:
        # a file saved on Windows, as "Upload JSON" sends it: BOM, CRLF, indented
        text = "\ufeff" + json.dumps(data, ensure_ascii=False, indent=2).replace("\n", "\r\n")
        return answer(client.post("/api/v1/events/import", data=text.encode(), headers=headers))

    return {"cli": command, "POST /events": create, "import": import_, "upload": upload}


def test_every_entry_point_gives_the_same_event_or_refusal(entry_points, subtests):
    for name, changes, expected in CASES:  # one app and log-in for all: subtests
        with subtests.test(name):
            data = ["not", "an", "object"] if changes is None else BASE | changes
            results = {entry: make(data) for entry, make in entry_points.items()}
            first = results["POST /events"]
            assert all(result == first for result in results.values()), results
            kind, what = first
            if isinstance(expected, str):
                assert kind == "refused" and expected in what, what
                assert "\n" not in what
            else:
                assert kind == "event", what
                assert {field: what[field] for field in expected} == expected


def test_a_programme_and_its_fields_as_a_file_make_the_same_event(app, entry_points, tmp_path):
    from qa_app import agenda

    text = (ROOT / "tests" / "data" / "programmes" / "seed_en.txt").read_text("utf-8")
    fields = agenda.parse_programme(text)
    assert entry_points["import"](fields) == entry_points["cli"](fields)
    assert entry_points["import"](fields) == entry_points["POST /events"](fields)
    assert parse_event(fields, EventIn) == parse_event(agenda.read_event(text), EventIn)


def test_post_events_takes_the_event_fields_and_the_import_a_full_export(entry_points):
    export = BASE | {"qa_app_event": 1, "participants": [{"ref": "p1"}], "questions": []}
    kind, message = entry_points["POST /events"](export)
    assert kind == "refused" and "qa_app_event: is not a field" in message
    assert entry_points["import"](export)[0] == "event"


def test_the_full_export_example_of_the_docs_is_read(ctx):
    from qa_app.domain.transfer import import_event

    text = (ROOT / "docs" / "event-format.md").read_text("utf-8")
    example = re.search(r"```json\n(\{\n  \"qa_app_event\".*?)\n```", text, re.S).group(1)
    data = parse_event(json.loads(example))
    event, _key = import_event(data)
    assert data.history == {"participants": 2, "questions": 2, "votes": 2, "actions": 3}
    assert [q.vote_count for q in sorted(event_questions(event.id), key=lambda q: q.id)] == [2, 0]


def event_questions(event_id: int) -> list:
    """The questions of an event."""
    from qa_app.models import Question

    return list(db.session.scalars(db.select(Question).filter_by(event_id=event_id)))
