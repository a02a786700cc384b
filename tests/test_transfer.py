"""The full export of an event and its import (domain/transfer.py): a seeded session with merged,
dismissed, withdrawn and answered questions, votes, a ban and a moderation log is exported,
imported into a fresh database (SQLite, and PostgreSQL when there is one) and exported again:
the two files say the same, modulo ids, codes, keys and references. The CLI and the API do
the same."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from qa_app import create_app, domain, storage
from qa_app.auth import Actor, actor_for
from qa_app.commands import cli
from qa_app.domain.transfer import dumps
from qa_app.errors import Conflict, Invalid
from qa_app.extensions import db
from qa_app.models import Event, ModerationAction, Participant, Question, Vote
from qa_app.schemas import (
    AskIn,
    BanIn,
    BlocklistIn,
    ClockIn,
    MergeIn,
    ModerateIn,
    SeatIn,
    SetIssueIn,
    SettingsIn,
    ShowIn,
    UndoIn,
    VoteIn,
    WithdrawIn,
    parse_event,
)
from tests import conftest
from tests.conftest import make_event, make_participant, moderator


def ask(actor, event, text, issue=0, **extra) -> Question:
    """Ask under one of the event's issues."""
    data = {
        "issue_id": event.issues[issue].id,
        "text": text,
        "client_id": f"c{time.monotonic_ns()}",
    }
    return domain.ask(actor, AskIn.model_validate(data | extra))


def seed() -> Event:
    """A session worth exporting: every status, votes, a merge, a ban, an undo, the log."""
    event, _key = make_event(time_zone="Europe/Moscow", language="en")
    mod, admin = moderator(event), Actor("admin", event.id)
    domain.set_blocklist(mod, BlocklistIn(phrases=["spam*"], builtin=["en"]))
    domain.create_seat(admin, SeatIn(name="Hall B"))
    anna, _ = make_participant(event, "Anna")
    boris, _ = make_participant(event, "Boris")
    quiet, _ = make_participant(event)
    troll, _ = make_participant(event, "Troll")
    make_participant(event, "Lurker")  # joined, never asked nor voted
    panelist = event.speakers[1].id
    answered = ask(anna, event, "How do clusters grow champions?", addressed_to=panelist)
    live = ask(boris, event, "Which clusters went abroad?")
    duplicate = ask(quiet, event, "Which clusters went international?")
    rude = ask(troll, event, "Nonsense", issue=1)
    held = ask(quiet, event, "Buy spammy coins", issue=2)
    later = ask(anna, event, "What should the state do?", issue=4)
    for voter, question in [(anna, live), (quiet, live), (boris, duplicate), (anna, duplicate)]:
        domain.vote(voter, VoteIn(question_id=question.id, up=True))
    domain.vote(boris, VoteIn(question_id=answered.id, up=True))
    domain.withdraw(quiet, WithdrawIn(question_id=held.id))
    domain.merge(mod, MergeIn(question_ids=[duplicate.id], into=live.id))
    domain.moderate(mod, ModerateIn(question_id=answered.id, status="answered"))
    domain.moderate(mod, ModerateIn(question_id=rude.id, status="dismissed"))
    domain.ban(mod, BanIn(question_id=rude.id))
    moved = domain.moderate(mod, ModerateIn(question_id=later.id, issue_id=event.issues[3].id))
    domain.undo(mod, UndoIn(action_id=moved.action_id))
    domain.set_issue(mod, SetIssueIn(issue_id=event.issues[1].id))
    domain.show(mod, ShowIn(question_id=live.id))
    domain.set_clock(mod, ClockIn(on=True, add_minutes=5))
    domain.update_settings(mod, SettingsIn(voting_open=False))
    return event


def export_of(event_id: int) -> dict:
    """The full export of an event, as a file's reader gets it."""
    return json.loads(dumps(domain.export_event(Actor("admin", event_id))))


def without_time_of_export(document: dict) -> dict:
    """The document without the one field that differs between two exports of one event."""
    return {key: value for key, value in document.items() if key != "exported_at"}


@pytest.fixture
def exported(ctx) -> dict:
    """The export of the seeded session (SQLite), with its own event's id."""
    event = seed()
    return export_of(event.id)


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_app(request, tmp_path):
    """A second app on a database of its own: a new SQLite file, or PostgreSQL (emptied)."""
    if request.param == "postgres":
        application = create_app(conftest.test_config(request.getfixturevalue("postgres_url")))
        conftest._empty_postgres(application)
    else:
        application = create_app(conftest.test_config(f"sqlite:///{tmp_path / 'other.db'}"))
        storage.upgrade(application)
    yield application
    conftest.close(application)


def test_the_export_names_everything_by_reference_and_holds_no_secret(exported):
    text = json.dumps(exported)
    assert exported["qa_app_event"] == 1 and exported["time_zone"] == "Europe/Moscow"
    assert [p["ref"] for p in exported["participants"]] == ["p1", "p2", "p3", "p4", "p5"]
    assert [p["banned"] for p in exported["participants"]] == [False, False, False, True, False]
    statuses = {q["ref"]: q["status"] for q in exported["questions"]}
    assert statuses == {
        "q1": "answered",
        "q2": "live",
        "q3": "merged",
        "q4": "dismissed",
        "q5": "withdrawn",
        "q6": "live",
    }
    q1, q3 = exported["questions"][0], exported["questions"][2]
    assert q1["addressed_to"] == "s2" and q1["participant"] == "p1" and q1["answered_at"]
    assert q3["merged_into"] == "q2"
    assert exported["questions"][4]["held_reason"]  # held by the blocklist, then withdrawn
    # the merge gave q2 the voters of q3 (one vote each): p1, p3 and p2
    assert sorted(v["participant"] for v in exported["votes"] if v["question"] == "q2") == [
        "p1",
        "p2",
        "p3",
    ]
    assert exported["state"]["current_issue"] == "i2" and exported["state"]["on_screen"] == "q2"
    assert exported["state"]["clock_on"] and exported["state"]["extra_minutes"][1] == 5
    assert exported["blocklist"] == {"phrases": ["spam*"], "builtin": ["en"]}
    log = {a["action"]: a for a in exported["actions"]}
    assert log["merge"]["detail"] == {"into": "q2", "merged": ["q3"]}
    assert log["set_issue"]["detail"] == {"issue_id": "i2", "was": "i1"}
    assert log["undo"]["detail"]["undid"] == log["move"]["ref"] == log["undo"]["detail"]["undid"]
    assert log["move"]["undone_by"] == log["undo"]["ref"]
    assert log["seat_create"]["detail"] == {"name": "Hall B"}  # seats are not exported
    assert "token" not in text and "key" not in text and "seat_id" not in text


def comparable(report: dict) -> object:
    """A report without what differs between two databases by design: ids and the join code."""

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("id", "code", "question_id")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(report)


def test_round_trip_into_a_fresh_database_says_the_same(exported, fresh_app):
    from qa_app.domain.report import report

    now = datetime(2026, 11, 27, 18, 0)
    before = comparable(report(db.session.scalars(select(Event)).one(), now))
    data = parse_event(json.loads(dumps(exported)))
    with fresh_app.app_context():
        event, key = domain.import_event(data)
        again = export_of(event.id)
        assert without_time_of_export(again) == without_time_of_export(exported)
        # the imported event's report says what the original's said, number for number
        assert comparable(report(event, now)) == before
        assert before["headline"]["questions"] > 0 and before["timeline"]
        # a new event: its own code and moderator key; imported actions cannot be undone
        assert actor_for(event, key).role == "moderator"
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 5
        assert db.session.scalar(select(func.count()).select_from(Vote)) == len(exported["votes"])
        imported = db.session.scalars(select(ModerationAction.id).filter_by(action="show")).one()
        with pytest.raises(Conflict, match="cannot be undone"):
            domain.undo(moderator(event), UndoIn(action_id=imported))
        counts = {q.text: q.vote_count for q in db.session.scalars(select(Question))}
        assert counts["Which clusters went abroad?"] == 3
        # and the event goes on (with voting closed, as it was left)
        newcomer, _ = make_participant(event, "Newcomer")
        assert ask(newcomer, event, "And next year?").status == "live"


def test_a_reference_that_names_nothing_is_refused_naming_it(exported):
    exported["votes"].append({"participant": "p9", "question": "q1", "at": None})
    exported["questions"][0]["merged_into"] = "q1"
    with pytest.raises(Invalid) as caught:
        parse_event(exported)
    message = caught.value.message
    assert "vote 5 participant: 'p9' names no participant of the file" in message
    assert "question 1 merged_into: a question cannot be merged into itself" in message


def test_the_cli_imports_an_export_and_exports_it_again(exported, tmp_path, monkeypatch):
    path = tmp_path / "exported.json"
    path.write_text(dumps(exported), encoding="utf-8")
    for name, value in {  # in process (the same command as `qa-app`), on a database of its own
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "QA_INSTANCE_PATH": str(tmp_path),
        "QA_SECRET_KEY": "test",
        "QA_ASYNC_MODE": "threading",
    }.items():
        monkeypatch.setenv(name, value)
    made = CliRunner().invoke(cli, ["create-event", str(path), "--json"])
    assert made.exit_code == 0, made.output
    answer = json.loads(made.stdout)
    assert answer["imported"] == {"participants": 5, "questions": 6, "votes": 4, "actions": 12}
    again = CliRunner().invoke(cli, ["export", answer["code"], "--format", "event"])
    assert again.exit_code == 0, again.output
    assert without_time_of_export(json.loads(again.stdout)) == without_time_of_export(exported)


def test_the_api_exports_to_moderators_and_imports_for_the_organiser(app, client):
    from qa_app.admin import set_admin_password
    from tests.test_api import login_admin

    with app.app_context():
        event = seed()
        code, event_id = event.code, event.id
        set_admin_password("organiser", "correct horse battery")
    path = f"/api/v1/events/{code}/export/event.json"  # who may: tests/test_api.py ROUTES
    headers = {"X-CSRFToken": login_admin(client)}
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    with app.app_context():
        assert answer.json == export_of(event_id) | {"exported_at": answer.json["exported_at"]}
    dry = client.post(
        "/api/v1/events/import?dry_run=1",
        data=answer.data,
        headers=headers | {"Content-Type": "text/plain"},
    )
    assert dry.json["history"] == {"participants": 5, "questions": 6, "votes": 4, "actions": 12}
    made = client.post(
        "/api/v1/events/import", data=answer.data, headers=headers | {"Content-Type": "text/plain"}
    )
    assert made.status_code == 201, made.json
    assert made.json["code"] != code and made.json["moderator_key"]
    again = client.get(
        f"/api/v1/events/{made.json['code']}/export/event.json",
        headers={"Authorization": f"Bearer {made.json['moderator_key']}"},
    )
    assert without_time_of_export(again.json) == without_time_of_export(answer.json)


def test_a_hand_written_history_reads_naive_times_as_the_venue_clock(ctx):
    data = parse_event(
        {
            "title": "Open questions",
            "time_zone": "Europe/Moscow",
            "issues": ["What next?"],
            "participants": [{"ref": "anna", "display_name": "Anna"}],
            "questions": [
                {
                    "ref": "why",
                    "issue": "i1",
                    "participant": "anna",
                    "text": "Why?",
                    "created_at": "2017-01-12T15:40:00",
                },
            ],
            "votes": [{"participant": "anna", "question": "why", "at": "2017-01-12T12:41:00Z"}],
        }
    )
    event, _key = domain.import_event(data)
    question = db.session.scalars(select(Question).filter_by(event_id=event.id)).one()
    assert question.created_at == datetime(2017, 1, 12, 12, 40)  # stored in UTC
    assert (question.status, question.was_public, question.vote_count) == ("live", True, 1)


def test_addressees_need_the_moderators_listed_first(exported):
    exported["speakers"].reverse()  # a panelist first: "s2" would name someone else
    with pytest.raises(Invalid, match="speakers: list the moderators first"):
        parse_event(exported)
