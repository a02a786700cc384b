"""The shipped deployment files agree with each other and with the way CI installs.

No container builder runs on the test machines (`docker info` finds no daemon), so the image is
not built here: instead its install step must be the Makefile's `make setup`, the very target
CI's `make test` builds on, and nothing else may install packages of its own. tests/test_nginx.py
runs the nginx site itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.live import ROOT

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
