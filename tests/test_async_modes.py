"""What is specific to the async servers: cooperative database waits and connection limits."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.live import running_server

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
from qa_app import asyncmode
asyncmode.patch()  # what `qa-app serve` does first
import psycopg.waiting
print(psycopg.waiting.wait.__name__)
"""


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_psycopg_waits_cooperatively_under_each_async_server(mode):
    env = {k: v for k, v in os.environ.items() if k != "PSYCOPG_WAIT_FUNC"}
    env["QA_ASYNC_MODE"] = mode
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # wait_c waits in C and would stop every other greenlet during each query
    assert done.stdout.strip() != "wait_c"


COMMANDS_ALONE = """
import sys
import qa_app.cli, qa_app.commands
early = sorted({"flask", "sqlalchemy", "ssl", "engineio", "socketio", "psycopg"} & set(sys.modules))
print(",".join(early))
"""


def test_the_commands_import_nothing_the_async_server_must_patch_first():
    """`qa-app serve` patches for gevent/eventlet as its first step: that only works while the
    command line itself has imported none of the libraries that open sockets or take locks."""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", COMMANDS_ALONE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported before the patch: {done.stdout.strip()}"


@pytest.mark.live
@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_the_server_holds_more_than_eventlets_default_1024_connections(mode, tmp_path):
    with running_server(tmp_path, QA_ASYNC_MODE=mode, QA_MAX_CONNECTIONS="4000") as server:
        port = int(server.url.rsplit(":", 1)[1])
        held = []
        try:
            for _ in range(1100):  # each holds a server greenlet with a half-sent request
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                conn.sendall(b"GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n")
                held.append(conn)
            answer = requests.get(server.url + "/api/openapi.json", timeout=20)
            assert answer.status_code == 200
        finally:
            for conn in held:
                conn.close()
        assert server.process.poll() is None
