"""Operations: `GET /healthz` for load balancers and systemd; `qa-app backup` while serving, and
the restore docs/deployment.md describes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests
from click.testing import CliRunner

from qa_app import create_app
from qa_app.commands import cli
from tests import conftest
from tests.live import ROOT, free_port, running_server


def health(app, host: str = "localhost"):
    answer = app.test_client().get("/healthz", headers={"Host": host})
    return answer.status_code, answer.get_json(), answer.headers


def test_healthz_answers_ok_without_credentials_for_any_host(app):
    status, body, headers = health(app)
    assert (status, body) == (200, {"ok": True, "database": "ok", "queue": "off"})
    assert headers["Cache-Control"] == "no-store"
    # a load balancer probing the process by its address: answered, though pages are refused
    assert health(app, "10.11.12.13")[:2] == (200, body)
    page = app.test_client().get("/", headers={"Host": "10.11.12.13"})
    assert page.status_code == 400


def test_healthz_is_not_rate_limited(make_app):
    app = make_app(QA_RATE_LIMITS=True, QA_JOIN_LIMIT="2/minute", QA_ASK_LIMIT="2/minute")
    assert {health(app)[0] for _ in range(30)} == {200}


def test_healthz_names_a_database_that_does_not_answer(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = create_app(conftest.test_config(url))
    status, body, _ = health(app)
    assert (status, body) == (503, {"ok": False, "database": "failed", "queue": "off"})


@pytest.mark.redis
def test_healthz_names_a_message_queue_that_is_down_or_hung(make_app, redis_server):
    app = make_app(QA_MESSAGE_QUEUE=redis_server.url)
    assert health(app)[:2] == (200, {"ok": True, "database": "ok", "queue": "ok"})

    redis_server.pause()  # port open, no answers
    started = time.monotonic()
    status, body, _ = health(app)
    assert (status, body["queue"], body["database"]) == (503, "timeout", "ok")
    assert time.monotonic() - started < 3  # the check's deadline, not Redis's silence
    redis_server.resume()

    redis_server.stop()  # connection refused
    assert health(app)[:2] == (503, {"ok": False, "database": "ok", "queue": "failed"})
    redis_server.start()
    time.sleep(1.2)  # the paused check's own 1 s socket timeout has run out meanwhile
    assert health(app)[0] == 200


def run_cli(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_backup_refuses_to_overwrite_and_explains_postgresql(tmp_path):
    sqlite_env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'qa.db'}", "QA_SECRET_KEY": "x"}
    assert run_cli("migrate", env=sqlite_env).exit_code == 0
    target = tmp_path / "copy.db"
    target.write_text("an older backup")
    refused = run_cli("backup", str(target), env=sqlite_env)
    assert refused.exit_code == 1 and "exists; pass --force" in refused.output
    assert target.read_text() == "an older backup"
    done = run_cli("backup", str(target), "--force", env=sqlite_env)
    assert done.exit_code == 0, done.output
    assert sqlite3.connect(target).execute("SELECT count(*) FROM events").fetchone() == (0,)

    pg_env = {"DATABASE_URL": "postgresql://qa@db.example.org/qa", "QA_SECRET_KEY": "x"}
    postgres = run_cli("backup", str(tmp_path / "pg.db"), env=pg_env)
    assert postgres.exit_code == 1 and "PostgreSQL" in postgres.output
    assert "pg_dump" in postgres.output and "pg_restore" in postgres.output
    assert not (tmp_path / "pg.db").exists()


@pytest.mark.live
def test_a_backup_taken_while_serving_restores_every_acknowledged_question(tmp_path):
    copy = tmp_path / "backup.db"
    with running_server(tmp_path) as server:
        assert requests.get(server.url + "/healthz", timeout=5).json()["ok"] is True  # gevent
        event = server.create_seed_event()
        code, api = event["code"], f"{server.url}/api/v1/events/{event['code']}"
        token = requests.post(f"{api}/participants", json={}, timeout=10).json()["token"]
        issue = requests.get(api, timeout=10).json()["issues"][0]["id"]
        acknowledged: list[tuple[float, int]] = []
        stop = threading.Event()

        def ask() -> None:  # a phone asking all along, acknowledged one by one
            n = 0
            while not stop.is_set():
                n += 1
                answer = requests.post(
                    f"{api}/questions",
                    json={"issue_id": issue, "text": f"Question {n}?", "client_id": f"c{n}"},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
                assert answer.status_code == 201, answer.text
                acknowledged.append((time.monotonic(), answer.json()["question"]["id"]))

        asker = threading.Thread(target=ask)
        asker.start()
        time.sleep(0.5)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "qa_app", "backup", str(copy)],
            env=server.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        time.sleep(0.3)
        stop.set()
        asker.join(timeout=15)
        assert done.returncode == 0, done.stderr
        assert f"to {copy}" in done.stdout
        before = {qid for at, qid in acknowledged if at < started}
        assert len(before) >= 3 and len(acknowledged) > len(before)  # it asked on throughout
        assert server.process.poll() is None

    with sqlite3.connect(copy) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        saved = {row[0] for row in check.execute("SELECT id FROM questions")}
    assert before <= saved

    # the restore of docs/deployment.md: server stopped, the file and its -wal/-shm replaced
    database = tmp_path / "live.db"
    for leftover in (database, tmp_path / "live.db-wal", tmp_path / "live.db-shm"):
        leftover.unlink(missing_ok=True)
    copy.replace(database)
    with running_server(tmp_path, port=free_port()) as restored:
        answer = requests.get(f"{restored.url}/api/v1/events/{code}", timeout=10)
        assert answer.status_code == 200
        assert {q["id"] for q in answer.json()["questions"]} == saved
