"""What an acknowledgement promises: an acknowledged question or vote survives kill -9 of the
server, and the next server starts on the same file at once; QA_SQLITE_SYNCHRONOUS picks the
fsync level (NORMAL by default, FULL to survive power loss too)."""

from __future__ import annotations

import signal
import sqlite3

import pytest
import requests
import socketio
from sqlalchemy import text

from qa_app import create_app
from qa_app.extensions import db
from tests.live import running_server

pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning")]


@pytest.mark.live
def test_an_acknowledged_question_and_vote_survive_kill_9(tmp_path):
    with running_server(tmp_path) as first:
        code = first.create_seed_event()["code"]
        token = requests.post(f"{first.url}/api/v1/events/{code}/participants", json={}).json()
        issue = requests.get(f"{first.url}/api/v1/events/{code}", timeout=10).json()["issues"][0]
        phone = socketio.Client(reconnection=False)
        auth = {"event": code, "token": token["token"]}
        phone.connect(first.url, auth=auth, transports=["websocket"], wait_timeout=10)
        asked = phone.call(
            "ask", {"issue_id": issue["id"], "text": "Kept?", "client_id": "c-1"}, timeout=10
        )
        assert asked["ok"], asked
        voted = phone.call("vote", {"question_id": asked["question"]["id"], "up": True})
        assert voted["ok"] and voted["votes"] == 1, voted
        first.process.send_signal(signal.SIGKILL)  # acknowledged, then gone without a goodbye
        assert first.process.wait(timeout=10) == -signal.SIGKILL

    with sqlite3.connect(tmp_path / "live.db") as database:
        rows = database.execute(
            "SELECT questions.text, questions.vote_count, COUNT(votes.question_id)"
            " FROM questions LEFT JOIN votes ON votes.question_id = questions.id"
            " GROUP BY questions.id"
        ).fetchall()
    assert rows == [("Kept?", 1, 1)]
    with running_server(tmp_path) as second:  # the file is free again: no refusal, no wait
        shown = requests.get(f"{second.url}/api/v1/events/{code}", timeout=10).json()
        assert [(q["text"], q["votes"]) for q in shown["questions"]] == [("Kept?", 1)]


@pytest.mark.parametrize(("setting", "level"), [(None, 1), ("FULL", 2), ("normal", 1)])
def test_the_sqlite_fsync_level_is_a_setting(tmp_path, setting, level):
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'qa.db'}"}
    if setting is not None:
        config["QA_SQLITE_SYNCHRONOUS"] = setting
    app = create_app(config)
    with app.app_context():
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == level
        db.session.remove()
        db.engine.dispose()


def test_an_unknown_fsync_level_is_refused_with_the_choices(tmp_path):
    config = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'qa.db'}",
        "QA_SQLITE_SYNCHRONOUS": "OFF",
    }
    with pytest.raises(ValueError, match="NORMAL or FULL"):
        create_app(config)
