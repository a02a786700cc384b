"""The docs keep up: every setting, socket event and API route is documented."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

from qa_app import openapi
from qa_app.sockets import HANDLERS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text("utf-8")


# A setting's name: what the code reads from the environment (and keeps in app.config).
SETTING = re.compile(r"(?:QA_[A-Z0-9_]+|DATABASE_URL)")
# app.config keys named like settings that the server computes itself: nobody sets them
COMPUTED = {"QA_ASSET_VERSION": "the static files' version, a hash of their contents"}


def settings_in_the_code() -> set[str]:
    """Every setting name the package spells out: a string constant in qa_app/**/*.py that is
    exactly a setting's name. That covers every way the code reads one (`os.environ.get(...)`,
    config.py's `_flag(...)`/`_list(...)`, click's `envvar=...`, `app.config[...]`) without
    depending on which of them it uses."""
    names = set()
    for path in (ROOT / "qa_app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if SETTING.fullmatch(node.value):
                    names.add(node.value)
    return names - set(COMPUTED)


def settings_in_the_readme() -> set[str]:
    """The names in the first column of the README's settings table (under Configuration)."""
    section = README.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


class RecordingEnviron(dict):
    """os.environ that notes every name looked up."""

    def __init__(self, values) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self.read.add(key)
        return super().__contains__(key)


def test_the_settings_found_in_the_code_are_what_it_reads(monkeypatch, tmp_path):
    """The extraction is sound: the names the server really looks up while it starts (its
    config, its instance folder) are all among those found in the source."""
    from qa_app import config, create_app

    environ = RecordingEnviron({"QA_INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setattr(os, "environ", environ)
    config.Config()
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'qa.db'}", "TESTING": True})
    read = {name for name in environ.read if SETTING.fullmatch(name)}
    assert {"QA_SECRET_KEY", "DATABASE_URL", "QA_INSTANCE_PATH", "QA_TICK_MS"} <= read
    assert read <= settings_in_the_code(), read - settings_in_the_code()


def test_every_setting_the_code_reads_is_in_the_readme():
    read = settings_in_the_code()
    assert len(read) > 20, f"found too few settings in the code: {sorted(read)}"
    missing = sorted(read - settings_in_the_readme())
    assert not missing, f"settings read by the code but missing from README's table: {missing}"


def test_every_setting_in_the_readme_is_read_by_the_code():
    documented = settings_in_the_readme()
    assert "QA_RATELIMIT_STORAGE" in documented
    unread = sorted(documented - settings_in_the_code())
    assert not unread, f"README's table documents settings the code never reads: {unread}"


def test_every_socket_event_is_in_the_protocol_doc():
    missing = [
        name
        for name in [*HANDLERS, "snapshot", "update", "presence"]
        if f"`{name}`" not in PROTOCOL
    ]
    assert not missing, f"socket events missing from docs/protocol.md: {missing}"


def test_every_api_route_is_in_the_protocol_doc(app):
    missing = []
    for op in openapi.OPERATIONS:
        path = re.sub(
            r"<(?:\w+:)?(\w+)>",
            lambda m: "<id>" if m.group(1) == "question_id" else f"<{m.group(1)}>",
            op.path,
        )
        path = path.replace("export.<fmt>", "export.csv")
        if path not in PROTOCOL:
            missing.append(f"{op.method} {path}")
    assert not missing, f"API routes missing from docs/protocol.md: {missing}"


def test_every_cli_command_is_in_the_readme():
    from qa_app.commands import cli

    missing = [name for name in cli.commands if f"qa-app {name}" not in README]
    assert not missing, f"commands missing from the README: {missing}"


# Generated, installed or third-party trees: not the project's own text
NOT_OURS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "build",
    "dist",
    "instance",
    "test-artifacts",
}


def project_text_files() -> list[Path]:
    """Every text file of the project: code, templates, static files, docs, tests, top level."""
    files = []
    for folder, subfolders, names in os.walk(ROOT):
        here = Path(folder)
        subfolders[:] = [
            name
            for name in subfolders
            if name not in NOT_OURS
            and not name.endswith(".egg-info")
            and here / name != ROOT / "static" / "vendor"
        ]
        for name in names:
            data = (here / name).read_bytes()
            if b"\0" in data:
                continue  # binary: images, compiled catalogues
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            files.append(here / name)
    return files


OUTSIDE = re.compile("DESIGN" + r"\.md|\.\./" + "shared", re.IGNORECASE)


def test_the_docs_stand_alone():
    """No doc, docstring, comment, page, test or description cites a file outside the
    repository (the pattern is assembled so that this file does not cite one either)."""
    files = project_text_files()
    folders = {path.relative_to(ROOT).parts[0] for path in files}
    expected = {"qa_app", "templates", "static", "docs", "tests"}
    assert expected | {"README.md", "CHANGELOG.md", "SECURITY.md"} <= folders
    citing = [
        str(path.relative_to(ROOT)) for path in files if OUTSIDE.search(path.read_text("utf-8"))
    ]
    assert not citing, f"these cite files outside the repository: {citing}"


def test_the_openapi_document_describes_the_api_on_its_own_terms(client):
    doc = client.get("/api/openapi.json").json
    description = doc["info"]["description"]
    assert "docs/protocol.md" in description and "Socket.IO" in description
    assert "Authorization: Bearer" in description and "X-CSRFToken" in description
    assert not OUTSIDE.search(json.dumps(doc))
    unexplained = [
        f"{method.upper()} {path}"
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if not operation.get("summary")
    ]
    assert not unexplained, f"operations without a summary (the view's docstring): {unexplained}"
