"""The shipped nginx site (deploy/nginx/qa-app.conf), run by real nginx on loopback ports in front
of two `qa-app serve` processes on PostgreSQL and the test's own Redis, with
QA_TRUSTED_PROXIES=1: a question asked through nginx on one process reaches phones connected
through nginx to the other, over WebSocket and over long-polling only (sticky sessions), and
its TLS lines terminate HTTPS.

The site is used as shipped but for its ports and paths: the upstream servers, the listen
ports, and the TLS lines uncommented with a certificate made for the test. Which process a
client reaches depends on its address (`hash $remote_addr`), so the clients connect from
different loopback addresses (127.0.0.x), and each process trusts one extra host name of its
own to tell which one a request reached.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import socketio
import urllib3
from requests.adapters import HTTPAdapter

from tests.conftest import new_postgres_database, service_unavailable
from tests.live import ROOT, Redis, free_port, stop, two_servers, wait_for

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

SITE = ROOT / "deploy" / "nginx" / "qa-app.conf"
NAMES = {"a": "a.backend.test", "b": "b.backend.test"}  # what each process trusts besides loopback


def render_site(http_port: int, https_port: int, upstreams: list[str], cert: Path, key: Path):
    """The shipped site with the test's ports and paths, its TLS lines uncommented."""
    site = SITE.read_text()
    shipped = re.findall(r"^\s*server (127\.0\.0\.1:\d+)", site, re.M)
    assert len(shipped) == 2, "the site should list two qa-app processes"
    for old, new in zip(shipped, upstreams, strict=True):
        site = site.replace(f"server {old} ", f"server {new} ", 1)
    site = re.sub(
        r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{http_port};", site, count=1, flags=re.M
    )
    tls = re.compile(r"^(\s*)# (listen 443 ssl;|ssl_[a-z_]+\s.*)$", re.M)
    assert len(tls.findall(site)) >= 3, "the site should carry commented TLS lines"
    site = tls.sub(r"\1\2", site)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    site = re.sub(r"(ssl_certificate\s+)\S+;", rf"\g<1>{cert};", site)
    return re.sub(r"(ssl_certificate_key\s+)\S+;", rf"\g<1>{key};", site)


@contextmanager
def running_nginx(folder: Path, site: str):
    """nginx in the foreground with the site included in a minimal http block."""
    binary = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None
    )
    if binary is None:
        service_unavailable("nginx", "no nginx binary (make setup-test installs it)")
    (folder / "qa-app.conf").write_text(site)
    (folder / "nginx.conf").write_text(
        f"""daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
{"user root;" if _root() else ""}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/qa-app.conf;
}}
"""
    )
    command = [binary, "-p", str(folder), "-e", str(folder / "error.log")]
    command += ["-c", str(folder / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        stop(process)


def _root() -> bool:
    return os.geteuid() == 0


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl comes with Debian's ca-certificates)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + [
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


class FromAddress(HTTPAdapter):
    """A requests adapter whose connections leave from one loopback address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def process_reached(url: str, address: str) -> str:
    """Which process ("a" or "b") nginx sends a client at this address to: each answers only
    its own extra name besides loopback."""
    with session_from(address) as session:
        reached = [
            name
            for name, host in NAMES.items()
            if session.get(f"{url}/api/openapi.json", headers={"Host": host}, timeout=5).ok
        ]
    assert len(reached) == 1, reached
    return reached[0]


class Phone:
    """A phone's socket through nginx from one address, keeping the questions it is sent."""

    def __init__(self, url: str, code: str, address: str, transport: str) -> None:
        self.questions: dict[int, dict] = {}
        self.lock = threading.Lock()
        if transport == "websocket":
            host, port = url.removeprefix("http://").split(":")
            sock = socket.create_connection(
                (host, int(port)), timeout=10, source_address=(address, 0)
            )
            options = {"websocket_extra_options": {"socket": sock}}
        else:
            options = {"http_session": session_from(address)}
        self.sio = socketio.Client(reconnection=False, **options)
        self.sio.on("snapshot", lambda data: self.apply(data["questions"]))
        self.sio.on("update", lambda data: self.apply(data["questions"]))
        token = (
            session_from(address)
            .post(f"{url}/api/v1/events/{code}/participants", json={}, timeout=10)
            .json()["token"]
        )
        self.sio.connect(url, auth={"event": code, "token": token}, transports=[transport])
        assert self.sio.transport() == transport

    def apply(self, rows: list[dict]) -> None:
        with self.lock:
            for row in rows:
                held = self.questions.get(row["id"])
                if held is None or row["rev"] > held["rev"]:
                    self.questions[row["id"]] = row

    def votes(self, qid: int) -> int | None:
        with self.lock:
            row = self.questions.get(qid)
        return None if row is None else row["votes"]


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    """Two processes on a PostgreSQL database and a Redis of their own, nginx in front; yields
    nginx's HTTP and HTTPS URLs and the event."""
    tmp_path = tmp_path_factory.mktemp("nginx")
    settings = {"QA_TRUSTED_PROXIES": "1"}
    redis_server = Redis(tmp_path)
    redis_server.start()
    try:
        with (
            new_postgres_database("qa_nginx") as database,
            two_servers(
                tmp_path,
                database,
                redis_server.url,
                a=settings | {"QA_TRUSTED_HOSTS": NAMES["a"]},
                b=settings | {"QA_TRUSTED_HOSTS": NAMES["b"]},
            ) as (a, b),
        ):
            (tmp_path / "nginx").mkdir()
            cert, key = certificate(tmp_path / "nginx")
            http_port, https_port = free_port(), free_port()
            upstreams = [a.url.removeprefix("http://"), b.url.removeprefix("http://")]
            site = render_site(http_port, https_port, upstreams, cert, key)
            event = a.create_seed_event()
            with running_nginx(tmp_path / "nginx", site):
                url = f"http://127.0.0.1:{http_port}"
                wait_for(lambda: _answers(url), 10, "nginx to answer")
                yield url, f"https://127.0.0.1:{https_port}", event
    finally:
        redis_server.stop()


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).ok
    except requests.RequestException:
        return False


def test_a_question_through_nginx_reaches_phones_on_the_other_process(behind_nginx):
    url, _, event = behind_nginx
    code = event["code"]
    # a client address for each process (which one depends on nginx's hash of the address)
    found: dict[str, str] = {}
    for n in range(2, 60):
        address = f"127.0.0.{n}"
        found.setdefault(process_reached(url, address), address)
        if len(found) == 2:
            break
    assert set(found) == {"a", "b"}, f"every loopback address reached one process: {found}"

    websocket_phone = Phone(url, code, found["b"], "websocket")
    polling_phone = Phone(url, code, found["b"], "polling")  # sticky, or its session is lost

    asker = session_from(found["a"])
    api = f"{url}/api/v1/events/{code}"
    token = asker.post(f"{api}/participants", json={}, timeout=10).json()["token"]
    issue = asker.get(api, timeout=10).json()["issues"][0]["id"]
    asked = asker.post(
        f"{api}/questions",
        json={"issue_id": issue, "text": "Through nginx?", "client_id": "n1"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert asked.status_code == 201, asked.text
    qid = asked.json()["question"]["id"]
    for phone in (websocket_phone, polling_phone):
        wait_for(lambda p=phone: p.votes(qid) == 0, 15, "the question on the other process")

    # the polling phone votes (a POST, then the update on its long-poll: both to process B)
    answer = polling_phone.sio.call("vote", {"question_id": qid, "up": True}, timeout=15)
    assert answer["ok"] and answer["votes"] == 1, answer
    wait_for(lambda: websocket_phone.votes(qid) == 1, 15, "the vote on the WebSocket phone")
    seen = asker.get(api, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert [q["votes"] for q in seen["questions"] if q["id"] == qid] == [1]
    assert polling_phone.sio.transport() == "polling"
    for phone in (websocket_phone, polling_phone):
        phone.sio.disconnect()


def test_tls_terminates_at_nginx_and_the_server_sees_https(behind_nginx):
    url, secure, event = behind_nginx
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    page = requests.get(f"{secure}/e/{event['code']}", verify=False, timeout=10)
    assert page.status_code == 200
    # X-Forwarded-Proto: https, believed with QA_TRUSTED_PROXIES=1
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = requests.get(f"{url}/e/{event['code']}", timeout=10)
    assert plain.status_code == 200 and "Strict-Transport-Security" not in plain.headers
    health = requests.get(f"{secure}/healthz", verify=False, timeout=10)
    assert health.json() == {"ok": True, "database": "ok", "queue": "ok"}
    # a client's own X-Forwarded-Host is replaced by nginx: no made-up name gets through
    forged = requests.get(
        f"{url}/api/openapi.json", headers={"X-Forwarded-Host": "evil.example"}, timeout=10
    )
    assert forged.status_code == 200
