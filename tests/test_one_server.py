"""One SQLite file, one server: a second `serve` or `demo` on it refuses to start, says what to
do and changes nothing; the other commands keep working beside the server; with a message
queue, two servers may share the file."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
import socketio

from qa_app import create_app, storage
from qa_app.demo import ensure_demo_event
from qa_app.extensions import db
from tests.live import ROOT, free_port, running_server, server_env, wait_for

pytestmark = [pytest.mark.live, pytest.mark.filterwarnings("ignore::ResourceWarning")]


def second(command: str, env: dict) -> subprocess.CompletedProcess:
    """Start another server with the same environment; it must end by itself."""
    return subprocess.run(
        [sys.executable, "-m", "qa_app", command, "--port", str(free_port())],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def demo_event(env: dict) -> tuple[str, str]:
    """Create the demo event in the server's database (as `qa-app demo` does); code and key."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    storage.upgrade(app)
    with app.app_context():
        code, key = ensure_demo_event()
        db.session.remove()
        db.engine.dispose()
    return code, key


def test_a_second_server_on_the_same_sqlite_file_refuses_to_start_and_changes_nothing(
    tmp_path,
):
    code, key = demo_event(server_env(tmp_path))
    with running_server(tmp_path) as first:
        for command in ("demo", "serve"):
            done = second(command, first.env)
            assert done.returncode != 0, done.stderr
            message = done.stderr
            assert "already serving the SQLite database" in message
            assert str(tmp_path / "live.db") in message
            assert f"process {first.process.pid}" in message
            assert "QA_MESSAGE_QUEUE" in message and "PostgreSQL" in message
            assert "Traceback" not in message and done.stdout == ""
        # the refused demo did not rotate the moderator key
        session = requests.post(
            f"{first.url}/api/v1/events/{code}/moderator-session",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert session.status_code == 201, session.text

        # the commands that do not serve keep working beside the server
        created = first.create_seed_event()
        assert created["code"] in first.cli("export", created["code"], "--format", "json")
        assert "created" in first.cli("create-admin", "organiser", "--password", "s3cret-pass")
        assert requests.get(f"{first.url}/api/v1/events/{created['code']}", timeout=10).ok


@pytest.mark.redis
def test_with_a_message_queue_two_servers_share_the_file(tmp_path, request):
    from tests.live import Redis

    redis = Redis(tmp_path)
    redis.start()
    request.addfinalizer(redis.stop)
    queue = {"QA_MESSAGE_QUEUE": redis.url, "QA_TICK_MS": "100"}
    with running_server(tmp_path, **queue) as a, running_server(tmp_path, **queue) as b:
        code = a.create_seed_event()["code"]
        seen: list[dict] = []
        screen = socketio.Client(reconnection=False)
        screen.on("update", lambda data: seen.extend(data["questions"]))
        screen.connect(a.url, auth={"event": code}, transports=["websocket"], wait_timeout=10)
        token = requests.post(f"{b.url}/api/v1/events/{code}/participants", json={}).json()
        issue = requests.get(f"{b.url}/api/v1/events/{code}", timeout=10).json()["issues"][0]
        asked = requests.post(
            f"{b.url}/api/v1/events/{code}/questions",
            json={"issue_id": issue["id"], "text": "Heard on both?", "client_id": "c-1"},
            headers={"Authorization": f"Bearer {token['token']}"},
            timeout=10,
        )
        assert asked.status_code == 201
        wait_for(lambda: any(q["text"] == "Heard on both?" for q in seen), what="the update")
