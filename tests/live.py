"""Start the real server (`qa-app serve`) as a subprocess on a free port, for live tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll until predicate() is true (the server flushes updates every tick)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running server: its base URL, environment and process."""

    url: str
    env: dict
    process: subprocess.Popen
    log: Path

    def cli(self, *args: str) -> str:
        """Run another `qa-app` command against the same database; return its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "qa_app", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def create_event(self, programme: Path) -> dict:
        """Create an event with `qa-app create-event --json`."""
        return json.loads(
            self.cli("create-event", str(programme), "--json", "--base-url", self.url)
        )

    def create_seed_event(self, **changes) -> dict:
        """Create the tests' sample event (SEED_EVENT with changes) with `qa-app create-event`:
        its code and moderator key."""
        from tests.conftest import SEED_EVENT

        path = self.log.with_name(f"event-{uuid.uuid4().hex[:8]}.json")
        path.write_text(json.dumps({**SEED_EVENT, **changes}))
        return self.create_event(path)


def join(url: str, code: str) -> str:
    """A new participant of the event on the server at url: its token."""
    answer = requests.post(f"{url}/api/v1/events/{code}/participants", json={}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


def server_env(tmp_path: Path, **extra: str) -> dict:
    """The environment of a test server: its own instance folder and SQLite file by default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_") and k != "DATABASE_URL"}
    env.update(
        {
            "QA_SECRET_KEY": "live-test-secret",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
            "QA_RATE_LIMITS": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    """Wait for the server to answer HTTP, or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(url + "/api/openapi.json", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start in {timeout}s:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    """Ask a process to end, and kill it if it has not within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_server(tmp_path: Path, port: int | None = None, **env_extra: str):
    """Run `qa-app serve` until the block ends; yield a Server."""
    port = port or free_port()
    env = server_env(tmp_path, **env_extra)
    log = tmp_path / f"server-{port}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "qa_app", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
        yield Server(url, env, process, log)
    finally:
        stop(process)


@contextmanager
def two_servers(tmp_path: Path, database_url: str, queue_url: str, a=None, b=None):
    """Two `qa-app serve` processes (gevent) on one PostgreSQL database and one Redis, each in
    a folder of its own, with extra settings for either (a, b: dicts); yield both Servers."""
    shared = {"DATABASE_URL": database_url, "QA_MESSAGE_QUEUE": queue_url}
    shared |= {"QA_ASYNC_MODE": "gevent", "QA_TICK_MS": "100"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        running_server(tmp_path / "a", **shared | (a or {})) as first,
        running_server(tmp_path / "b", **shared | (b or {})) as second,
    ):
        yield first, second


class Redis:
    """A redis-server of a test's own, on a free port, that can be stopped and started again
    (never the shared one on 6379)."""

    def __init__(self, tmp_path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            from tests.conftest import service_unavailable

            service_unavailable("Redis", "no redis-server on PATH")
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*args, "--bind", "127.0.0.1", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, 10, "redis-server to start")

    def answers(self) -> bool:
        """Whether it answers now (one try, no client retries: `start` returns once it is up)."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        once = Retry(NoBackoff(), 0)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, retry=once)
        try:
            return client.ping()
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # in case it was paused
            self.process.terminate()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """Kill it without a clean shutdown (SIGKILL); `start` brings it back on the same port."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def pause(self) -> None:
        """Stop it answering while its port stays open (SIGSTOP): a hung Redis."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)
