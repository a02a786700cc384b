"""The package: a wheel built from a fresh clone the documented way carries templates, static
files (the socket.io browser client too), migrations, the console script and the license;
installed, `qa-app serve` and `qa-app demo` run from it with no Node on PATH and serve every
asset every page references (join, audience, screen, moderator, the organiser's log-in and
pages, the report); an sdist builds a wheel without Node; a build that cannot get the client
fails saying how; a server without it refuses to start; the migrations match the models.

Offline: the build runs without isolation (hatchling is a test dependency) and the clone uses
the checkout's node_modules (`make setup-test` runs `npm ci`); the wheel is installed into a
fresh venv without its dependencies, which it finds in the test venv's site-packages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from flask_migrate import check

from qa_app.storage import MIGRATIONS
from tests.conftest import csrf_token
from tests.live import ROOT, free_port, server_env, wait_until_up

VENDOR = "static/vendor/socket.io.esm.min.js"
PAGE_ASSET = re.compile(r"""(?:src|href)=["'](/static/[^"']+)["']""")
MODULE_IMPORT = re.compile(r"""\b(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""")
PLAIN = {"Accept-Encoding": "identity"}


def fresh_clone(target: Path) -> Path:
    """The files a fresh clone of the working tree has (tracked and not ignored: no
    static/vendor), with the checkout's node_modules linked in."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    if (ROOT / "node_modules").is_dir():
        (target / "node_modules").symlink_to(ROOT / "node_modules")
    return target


def pip_wheel(source: Path, out: Path, path: str | None = None) -> subprocess.CompletedProcess:
    """`pip wheel --no-deps` of source into out (without build isolation: offline)."""
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def without_npm(tmp_path: Path) -> str:
    """A PATH with git and the test venv but no npm."""
    bin_dir = tmp_path / "no-npm-bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("git",):
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    return f"{Path(sys.executable).parent}:{bin_dir}"


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    return fresh_clone(tmp_path_factory.mktemp("clone"))


@pytest.fixture(scope="module")
def wheel(clone, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = pip_wheel(clone, out)
    assert built.returncode == 0, built.stderr
    return next(out.glob("qa_app-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; its dependencies come from the test venv."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # a plain path (not site.addsitedir): the test venv's editable qa_app stays out of sight
    Path(purelib, "test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
        + ["--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    where = subprocess.run(
        [python, "-c", "import qa_app; print(qa_app.PACKAGE_DIR)"],
        cwd=venv,  # not the checkout: `-c` puts the working directory first on sys.path
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(purelib), f"qa_app is imported from {where}, not the wheel"
    return venv


def test_wheel_contains_everything_the_server_needs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "qa_app/templates/audience.html",
        "qa_app/templates/moderate.html",
        "qa_app/templates/screen.html",
        "qa_app/static/css/app.css",
        "qa_app/" + VENDOR,
        "qa_app/migrations/env.py",
        "qa_app/migrations/versions/0001_initial_schema.py",
        "qa_app/data/demo_event.json",
    ):
        assert needed in names, needed
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "qa-app = qa_app.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    client = zipfile.ZipFile(wheel).read("qa_app/" + VENDOR)
    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/socket.io-client"]["version"]
    assert f"Socket.IO v{pinned}".encode() in client[:200]


def carries_the_license(metadata: str, license_text: str) -> None:
    """The MIT license as pyproject.toml declares it: its expression in the metadata, and the
    LICENSE file itself, with the project's copyright line."""
    assert "License-Expression: MIT" in metadata.splitlines(), metadata[:500]
    assert "License-File: LICENSE" in metadata.splitlines(), metadata[:500]
    assert license_text.startswith("MIT License"), license_text[:100]
    assert "Copyright (c) 2026 qa_app contributors" in license_text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in license_text


def test_the_wheel_carries_the_license(wheel):
    archive = zipfile.ZipFile(wheel)
    info = next(n.split("/")[0] for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    carries_the_license(
        archive.read(f"{info}/METADATA").decode(), archive.read(f"{info}/licenses/LICENSE").decode()
    )


def page_assets(browser: requests.Session, base: str, page: str, status: int = 200) -> set[str]:
    """Every /static/ URL a page references, with the ES modules its scripts import, each
    fetched (200, not empty)."""
    html = browser.get(base + page, headers=PLAIN, timeout=10)
    assert html.status_code == status, f"{page} answers {html.status_code}"
    pending = list(PAGE_ASSET.findall(html.text))
    found: set[str] = set()
    while pending:
        url = pending.pop()
        if url in found:
            continue
        found.add(url)
        response = browser.get(base + url, headers=PLAIN, timeout=10)
        assert response.status_code == 200, f"{url} (referenced from {page}) answers {response}"
        assert response.content, url
        if url.endswith(".js"):
            pending += [urljoin(url, rel) for rel in MODULE_IMPORT.findall(response.text)]
    return found


ORGANISER, PASSWORD = "organiser", "wheel-test-password"


def every_page(base: str, code: str) -> dict[str, set[str]]:
    """The static files of every page, by page, as their readers open them: the join page,
    the organiser's log-in, the audience, screen and moderator pages and the report's refusal
    for anyone; the organiser's events, event page, its log and the report once logged in."""
    anyone, organiser = requests.Session(), requests.Session()
    assets = {
        page: page_assets(anyone, base, page)
        for page in ("/", "/admin/login", f"/e/{code}", f"/e/{code}/screen", f"/e/{code}/moderate")
    }
    assets["report, refused"] = page_assets(anyone, base, f"/e/{code}/report", status=401)
    form = organiser.get(base + "/admin/login", timeout=10)
    logged_in = organiser.post(
        base + "/admin/login",
        data={"name": ORGANISER, "password": PASSWORD, "csrf_token": csrf_token(form.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert logged_in.status_code == 302, logged_in.text
    for page in ("/admin/", f"/admin/events/{code}", f"/admin/events/{code}/log"):
        assets[page] = page_assets(organiser, base, page)
    assets["report"] = page_assets(organiser, base, f"/e/{code}/report")
    worker = anyone.get(base + "/sw.js", timeout=10)  # the audience page registers it
    assert worker.status_code == 200 and "addEventListener" in worker.text, worker
    return assets


def without_node(venv: Path) -> str:
    """A PATH with the venv's scripts only: no node and no npm, as on a machine without Node."""
    path = str(venv / "bin")
    assert shutil.which("node", path=path) is None and shutil.which("npm", path=path) is None
    return path


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_wheel_from_a_fresh_clone_serves_every_asset_its_pages_reference(
    installed, tmp_path, command
):
    """The installed wheel, with no Node on PATH: `qa-app create-event` then `qa-app serve`, or
    `qa-app demo` alone (`pip install qa-app && qa-app demo`), serves every page with every file
    it references."""
    qa_app = installed / "bin" / "qa-app"
    env = server_env(
        tmp_path, QA_INSTANCE_PATH=str(tmp_path / "instance"), PATH=without_node(installed)
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def cli(*args: str) -> str:
        done = subprocess.run(
            [qa_app, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("create-admin", ORGANISER, "--password", PASSWORD)
    if command == "serve":
        demo = next((installed / "lib").glob("python*/site-packages/qa_app/data/demo_event.json"))
        code = json.loads(cli("create-event", str(demo), "--json", "--base-url", url))["code"]
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [qa_app, command, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(url, process, log)
        if command == "demo":
            printed = log.read_text()
            code = re.search(r"Join code:\s+(\w+)", printed)[1]
            assert f"Audience link:  http://localhost:{port}/e/{code}" in printed, printed
        assets = every_page(url, code)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "Traceback" not in log.read_text(), log.read_text()
    names = {
        page: {asset.split("/", 3)[3] for asset in found}  # /static/<version>/<path>
        for page, found in assets.items()
    }
    client = {"vendor/socket.io.esm.min.js", "js/live.js"}
    expected = {
        "/": {"css/app.css"},
        "/admin/login": {"css/app.css"},
        f"/e/{code}": {"css/app.css", "js/audience.js"} | client,
        f"/e/{code}/screen": {"css/app.css", "js/screen.js"} | client,
        f"/e/{code}/moderate": {"css/app.css", "js/moderate.js"} | client,
        "report, refused": {"css/app.css"},
        "/admin/": {"css/app.css", "js/admin.js"},
        f"/admin/events/{code}": {"css/app.css", "js/admin.js", "js/report-share.js"},
        f"/admin/events/{code}/log": {"css/app.css"},
        "report": {"css/app.css", "css/report.css"},
    }
    for page, needed in expected.items():
        assert needed <= names[page], f"{page}: {sorted(names[page])}"


def test_the_server_refuses_to_start_without_the_socket_io_client(installed, tmp_path):
    client = next((installed / "lib").glob("python*/site-packages/qa_app/" + VENDOR))
    aside = tmp_path / "client.js"
    client.rename(aside)
    try:
        refused = subprocess.run(
            [installed / "bin" / "qa-app", "serve", "--port", str(free_port())],
            env=server_env(tmp_path, QA_INSTANCE_PATH=str(tmp_path / "instance")),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        aside.rename(client)
    assert refused.returncode != 0
    message = refused.stderr.strip()
    assert "\n" not in message, message  # one line, no traceback
    assert "socket.io.esm.min.js is missing" in message and "wheel" in message, message
    assert not (tmp_path / "live.db").exists()  # refused before anything changed


def test_an_sdist_carries_the_client_and_builds_a_wheel_without_node(clone, tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(tmp_path)],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    sdist = next(tmp_path.glob("qa_app-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # 3.11.4+
        archive.extractall(tmp_path / "unpacked", **safe)
    source = next((tmp_path / "unpacked").iterdir())
    assert (source / VENDOR).is_file() and not (source / "node_modules").exists()
    carries_the_license((source / "PKG-INFO").read_text(), (source / "LICENSE").read_text())
    done = pip_wheel(source, tmp_path / "wheel", path=without_npm(tmp_path))
    assert done.returncode == 0, done.stderr
    wheel = next((tmp_path / "wheel").glob("qa_app-*.whl"))
    assert "qa_app/" + VENDOR in zipfile.ZipFile(wheel).namelist()

    (source / VENDOR).unlink()  # a tree with neither the client nor npm: the build says why
    failed = pip_wheel(source, tmp_path / "none", path=without_npm(tmp_path))
    assert failed.returncode != 0
    assert "the socket.io browser client" in failed.stderr and "npm ci" in failed.stderr
    assert not list((tmp_path / "none").glob("*.whl"))


def test_migrations_match_the_models(app):
    with app.app_context():
        check(directory=MIGRATIONS)  # raises SystemExit(1) when the models drifted
