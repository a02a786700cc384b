"""What `qa-app` says when something is wrong or worth knowing: one or two lines, never a
traceback, a non-zero exit; quiet output; Ctrl+C; links phones on the same network can open.

Runs the installed `qa-app` entry point as a subprocess, as an organiser does.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from qa_app.serving import fd_warning
from tests.live import free_port, server_env, wait_until_up

QA_APP = str(Path(sys.executable).with_name("qa-app"))
PROGRAMMES = Path(__file__).parent / "data" / "programmes"
ALEMBIC_INFO = "INFO  [alembic"


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`qa-app ARGS` on a database in tmp_path; its exit status and output."""
    return subprocess.run(
        [QA_APP, *args],
        env=server_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused(done: subprocess.CompletedProcess, *words: str) -> str:
    """Assert a clear refusal: non-zero exit, no traceback, at most two lines, the words."""
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output, output
    assert len(done.stderr.strip().splitlines()) <= 2, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr
    return done.stderr


# --- programme files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.json", b"", ["empty.json is empty"]),
        ("blank.txt", b"  \n\n", ["blank.txt is empty"]),
        ("broken.json", b'{"title": "Panel",\n  "issues": [\n}\n', ["not valid JSON", "line 3"]),
        ("slides.txt", bytes(range(256)) * 8, ["not a text file", "UTF-8"]),
        ("photo.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), ["not a text file"]),
    ],
)
def test_a_programme_file_it_cannot_read_is_refused_in_a_line(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    refused(run(tmp_path, "create-event", str(path)), *words)


def test_a_broken_json_file_names_line_and_column(tmp_path):
    path = tmp_path / "event.json"
    path.write_text('{\n  "title": "Panel"\n  "issues": []\n}\n')
    message = refused(run(tmp_path, "create-event", str(path)))
    assert "line 3, column 3" in message


def test_a_cp1251_programme_is_read_and_its_encoding_named(tmp_path):
    text = (PROGRAMMES / "seed_ru.txt").read_text("utf-8")
    path = tmp_path / "programme.txt"
    path.write_bytes(text.encode("cp1251"))
    done = run(tmp_path, "create-event", str(path))
    assert done.returncode == 0, done.stderr
    assert "Created: Лучшие практики управления инновационными кластерами" in done.stdout
    assert "cp1251" in done.stderr and "not UTF-8" in done.stderr
    assert ALEMBIC_INFO not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


# A short programme as typed on a Unix machine in koi8-r (ASCII dashes, no guillemets): read
# as charset-normalizer likes best it would be half-width katakana (shift_jis)
KOI8_PROGRAMME = """Лучшие практики управления инновационными кластерами

12 января 2017 г., 15:30 - 17:30

Вопросы для обсуждения

- Как вырастить несколько кластеров?
- Какие российские кластеры лучше готовы к выходу на международный уровень?
"""


def test_a_koi8_r_programme_is_read_and_its_encoding_named(tmp_path):
    path = tmp_path / "programme.txt"
    path.write_bytes(KOI8_PROGRAMME.encode("koi8-r"))
    done = run(tmp_path, "create-event", str(path), "--json")
    assert done.returncode == 0, done.stderr
    assert "read it as koi8_r" in done.stderr and "not UTF-8" in done.stderr, done.stderr
    code = json.loads(done.stdout)["code"]
    exported = json.loads(run(tmp_path, "export", code, "--format", "event").stdout)
    assert exported["title"] == "Лучшие практики управления инновационными кластерами"
    assert exported["issues"] == [
        "Как вырастить несколько кластеров?",
        "Какие российские кластеры лучше готовы к выходу на международный уровень?",
    ]
    # told the encoding, it reads it without a note; the note names both Russian code pages
    again = run(tmp_path, "create-event", str(path), "--encoding", "koi8-r")
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert "Created: Лучшие практики управления инновационными кластерами" in again.stdout
    assert "--encoding cp1251 or --encoding koi8-r" in done.stderr


def test_a_wrong_encoding_given_is_refused(tmp_path):
    path = tmp_path / "programme.txt"
    path.write_bytes((PROGRAMMES / "seed_ru.txt").read_text("utf-8").encode("utf-8"))
    refused(run(tmp_path, "create-event", str(path), "--encoding", "ascii"), "is not ascii")
    refused(run(tmp_path, "create-event", str(path), "--encoding", "klingon"), "Unknown encoding")


def test_create_event_prints_no_migration_lines_unless_verbose(tmp_path):
    quiet = run(tmp_path, "create-event", str(PROGRAMMES / "seed_en.txt"))
    assert quiet.returncode == 0, quiet.stderr
    assert ALEMBIC_INFO not in quiet.stdout + quiet.stderr
    assert quiet.stderr == ""
    (tmp_path / "v").mkdir()
    verbose = run(tmp_path / "v", "--verbose", "migrate")
    assert verbose.returncode == 0, verbose.stderr
    assert f"{ALEMBIC_INFO}.runtime.migration] Running upgrade" in verbose.stderr


# --- databases -------------------------------------------------------------------------------


def test_an_sqlite_file_in_a_missing_folder_is_named(tmp_path):
    database = tmp_path / "no-such-folder" / "qa.db"
    done = run(tmp_path, "migrate", DATABASE_URL=f"sqlite:///{database}")
    refused(done, f"Cannot open the SQLite database {database}", "folder")


def test_a_postgresql_server_that_is_down_is_named_without_its_password(tmp_path):
    url = f"postgresql+psycopg://organiser:s3cret@127.0.0.1:{free_port()}/qa"
    done = run(tmp_path, "create-event", str(PROGRAMMES / "seed_en.txt"), DATABASE_URL=url)
    message = refused(done, "Cannot open the database", "127.0.0.1", "is running")
    assert "s3cret" not in message


# --- the server: busy port, Ctrl+C, links for phones ---------------------------------------


def stop_with_ctrl_c(process: subprocess.Popen) -> int:
    """Send SIGINT, as Ctrl+C in a terminal does; the exit status."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def start(tmp_path: Path, log: Path, *args: str) -> subprocess.Popen:
    """`qa-app ARGS` running, its output going to log."""
    with open(log, "w") as out:
        return subprocess.Popen(
            [QA_APP, *args], env=server_env(tmp_path), stdout=out, stderr=subprocess.STDOUT
        )


def moderator_key_works(url: str, code: str, key: str) -> bool:
    """Whether the server lets this moderator key in (the ban list is for moderators only)."""
    answer = requests.get(
        f"{url}/api/v1/events/{code}/bans",
        headers={"Host": "localhost", "Authorization": f"Bearer {key}"},
        timeout=5,
    )
    return answer.status_code == 200


def lan_addresses() -> set[str]:
    """This machine's IPv4 addresses a phone on its network could open (on interfaces that
    are up)."""
    found = set()
    up = {name for name, stats in psutil.net_if_stats().items() if stats.isup}
    for name, entries in psutil.net_if_addrs().items():
        for entry in entries if name in up else ():
            if entry.family == socket.AF_INET:
                ip = ipaddress.ip_address(entry.address)
                if not (ip.is_loopback or ip.is_link_local):
                    found.add(entry.address)
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    """`qa-app demo --host 0.0.0.0` served once (its screen page read as localhost, its key
    tried), then stopped with Ctrl+C."""
    tmp_path = tmp_path_factory.mktemp("demo")
    port = free_port()
    log = tmp_path / "demo.log"
    process = start(tmp_path, log, "demo", "--host", "0.0.0.0", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
        printed = log.read_text()
        code = re.search(r"Join code:\s+(\w+)", printed)[1]
        key = re.search(r"Moderator key:\s+(mk\.\S+)", printed)[1]
        screen = requests.get(f"{url}/e/{code}/screen", headers={"Host": "localhost"}, timeout=5)
        key_worked = moderator_key_works(url, code, key)
    finally:
        status = stop_with_ctrl_c(process)
    return {
        "tmp_path": tmp_path,
        "port": port,
        "code": code,
        "key": key,
        "key_worked": key_worked,
        "screen": screen.text,
        "output": log.read_text(),
        "status": status,
    }


def test_demo_output_is_quiet(demo):
    output = demo["output"]
    assert ALEMBIC_INFO not in output, output
    assert "Traceback" not in output
    assert "open files" not in output and "open connections" not in output  # enough for 2,000
    assert demo["key_worked"]


def test_ctrl_c_stops_the_demo_quietly(demo):
    assert demo["status"] == 0
    assert demo["output"].rstrip().endswith("Stopped."), demo["output"]
    assert "KeyboardInterrupt" not in demo["output"] and "Aborted" not in demo["output"]


def test_demo_on_every_address_prints_links_phones_can_open(demo):
    addresses = lan_addresses()
    if not addresses:
        pytest.skip("this machine has no network address besides loopback")
    links = re.findall(r"link:\s+http://([^:/]+):(\d+)/", demo["output"])
    assert len(links) == 3, demo["output"]
    for host, port in links:
        assert host in addresses and int(port) == demo["port"], demo["output"]
    assert "localhost" not in demo["output"]
    # the screen, opened on the laptop as localhost, shows phones the same address (and QR)
    join = re.search(r'data-join="([^"]+)"', demo["screen"])[1]
    assert join == f"{links[0][0]}:{demo['port']}/e/{demo['code']}"


# `qa-app ARGS` in a network namespace of its own whose only interface is loopback (up): a
# machine on no network. unshare(1) makes it (as root, or in a user namespace of its own).
LOOPBACK_ONLY = ["unshare", "--net", "--map-root-user"]
LOOPBACK_ONLY += ["sh", "-c", 'ip link set lo up && exec "$@"', "sh"]  # "sh": the script's $0


def loopback_only_machine() -> list[str]:
    """The command prefix that runs a command on a loopback-only machine, or skip."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        pytest.skip("needs unshare and ip (util-linux, iproute2) to make a loopback-only network")
    tried = subprocess.run(
        [*LOOPBACK_ONLY, "ip", "-o", "-4", "addr"], capture_output=True, text=True
    )
    if tried.returncode != 0:
        pytest.skip(f"this machine cannot make a network namespace: {tried.stderr.strip()}")
    assert tried.stdout.split()[1] == "lo" and len(tried.stdout.splitlines()) == 1, tried.stdout
    return LOOPBACK_ONLY


def demo_output(tmp_path: Path, prefix: list[str], **env: str) -> tuple[str, int]:
    """What `qa-app demo --host 0.0.0.0` prints until it serves and Ctrl+C stops it (quietly,
    status 0), and its port."""
    port = free_port()
    log = tmp_path / f"demo-{port}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [*prefix, QA_APP, "demo", "--host", "0.0.0.0", "--port", str(port)],
            env=server_env(tmp_path, **env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while "Serving on" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        status = stop_with_ctrl_c(process)
    assert status == 0, log.read_text()
    return log.read_text(), port


def test_on_a_machine_with_only_loopback_the_demo_says_how_to_set_qa_public_url(tmp_path):
    prefix = loopback_only_machine()
    output, port = demo_output(tmp_path, prefix)
    assert "No network address found for phones to use" in output, output
    assert f"QA_PUBLIC_URL=http://192.168.1.20:{port} qa-app demo --host 0.0.0.0" in output
    links = re.findall(r"link:\s+(http://[^/]+)/", output)
    assert links == [f"http://localhost:{port}"] * 3, output  # this machine's own, said plainly
    assert "Traceback" not in output and output.rstrip().endswith("Stopped."), output
    # done as the hint says: the links are the address given, and the hint is gone
    output, port = demo_output(tmp_path, prefix, QA_PUBLIC_URL="http://qa.example.org")
    assert re.findall(r"link:\s+(http://[^/]+)/", output) == ["http://qa.example.org"] * 3
    assert "No network address" not in output and "Serving on" in output, output


def test_a_busy_port_is_refused_before_the_moderator_key_changes(demo):
    tmp_path, port = demo["tmp_path"], demo["port"]
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("0.0.0.0", port))
        taken.listen()
        done = run(tmp_path, "demo", "--host", "0.0.0.0", "--port", str(port))
    refused(done, f"Port {port} is already in use", "Nothing was changed")
    # served again elsewhere: the moderator link printed before still lets the moderator in
    other = free_port()
    log = tmp_path / "serve.log"
    process = start(tmp_path, log, "serve", "--port", str(other))
    url = f"http://127.0.0.1:{other}"
    try:
        wait_until_up(url, process, log)
        assert moderator_key_works(url, demo["code"], demo["key"])
    finally:
        status = stop_with_ctrl_c(process)
    output = log.read_text()
    assert status == 0 and output.rstrip().endswith("Stopped."), output
    assert "Traceback" not in output and ALEMBIC_INFO not in output
    assert "Only this computer can open the server's links" in output  # served on 127.0.0.1


def test_an_address_this_machine_lacks_is_refused(tmp_path):
    refused(run(tmp_path, "serve", "--host", "203.0.113.77"), "no address 203.0.113.77")


# --- the open-files warning ----------------------------------------------------------------


def test_the_open_files_warning_speaks_of_phones_and_only_when_they_do_not_fit():
    assert fd_warning(None, 20_000) is None
    assert fd_warning(65_536, 20_000) is None
    assert fd_warning(1_024, 500) is None
    warning = fd_warning(1_024, 2_000)
    assert "allows 1,024 open connections" in warning
    assert "more than ~900 phones" in warning
    assert "ulimit -n 65536" in warning and "LimitNOFILE" in warning
