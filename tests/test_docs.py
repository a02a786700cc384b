"""The docs keep up: every setting, socket event and API route is documented."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pytest

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


def test_the_readme_lists_each_doc_once():
    """The README's list of docs (under "Protocol, API, deployment, security") has an entry for
    every Markdown file in docs/, and no entry twice."""
    section = README.split("\n## Protocol, API, deployment, security\n", 1)[1].split("\n## ", 1)[0]
    entries = re.findall(r"^- \[([^\]]+)\]\(", section, re.M)
    repeated = sorted({name for name in entries if entries.count(name) > 1})
    assert not repeated, f"the README lists these docs more than once: {repeated}"
    docs = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")}
    assert docs <= set(entries), f"docs missing from the README's list: {docs - set(entries)}"


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


EVENT_FORMAT = (ROOT / "docs" / "event-format.md").read_text("utf-8")
EXAMPLE = ROOT / "docs" / "example-event.json"


@pytest.fixture
def admin_headers(app, client) -> dict:
    """The test client logged in as an organiser: the CSRF header for API calls."""
    from qa_app.admin import set_admin_password
    from tests.test_api import login_admin

    with app.app_context():
        set_admin_password("organiser", "correct horse battery")
    return {"X-CSRFToken": login_admin(client)}


def event_format_rows() -> dict[str, str]:
    """The rows of docs/event-format.md's field table, by the field they document."""
    return {
        match.group(1): line
        for line in EVENT_FORMAT.splitlines()
        if (match := re.match(r"\| `([\w.\[\]]+)` \|", line))
    }


def limits(schema: dict) -> set[int]:
    """Every numeric limit in a JSON schema: lengths, item counts, bounds."""
    found = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("maxLength", "maxItems", "minItems", "minimum", "maximum"):
                found.add(value)
            elif key != "minLength":  # 1 for a required text: "must show something"
                found |= limits(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= limits(item)
    return found


def test_every_event_field_is_documented_with_its_limits_and_default():
    from qa_app.models import Event
    from qa_app.schemas import EventIn, SettingsIn, SpeakerIn

    rows = event_format_rows()
    fields = {name: EventIn for name in EventIn.model_fields}
    fields |= {f"speakers[].{name}": SpeakerIn for name in SpeakerIn.model_fields}
    fields |= {f"settings.{name}": SettingsIn for name in SettingsIn.model_fields}
    missing = sorted(set(fields) - set(rows))
    assert not missing, f"fields missing from docs/event-format.md: {missing}"
    assert not set(rows) - set(fields), "docs/event-format.md documents fields that do not exist"
    for field, model in fields.items():
        schema = model.model_json_schema()["properties"][field.rsplit(".", 1)[-1]]
        if field == "issues":
            schema = EventIn.model_json_schema()["properties"]["issues"]
        for number in limits(schema):
            assert re.search(rf"\b{number}\b", rows[field]), f"{field}: its limit {number}"
        if model is SettingsIn:
            default = Event.__table__.c[field.split(".")[1]].default.arg
            assert f"`{json.dumps(default)}`" in rows[field], f"{field}: its default {default}"


def test_the_example_event_file_is_the_reference_panel_and_is_accepted(client, admin_headers):
    from qa_app import agenda
    from qa_app.schemas import EventIn, parse_event

    text = EXAMPLE.read_text("utf-8")
    raw = json.loads(text)
    assert set(raw) == set(EventIn.model_fields), "the example shows every field"
    event = parse_event(agenda.read_event(text), EventIn)
    assert len(event.issues) == 5 and event.venue and event.description
    assert event.starts_at < event.ends_at
    assert [s.role for s in event.speakers].count("moderator") == 1
    assert [s.role for s in event.speakers].count("panelist") >= 3
    assert all(s.affiliation for s in event.speakers)
    assert set(event.settings.model_dump()) == set(raw["settings"])

    # the server's import (what "Upload JSON" sends): the dry run, then the real thing
    headers = admin_headers | {"Content-Type": "text/plain"}
    dry = client.post("/api/v1/events/import?dry_run=1", data=text.encode(), headers=headers)
    assert dry.status_code == 200, dry.json
    assert dry.json["event"] == event.model_dump(mode="json")
    made = client.post("/api/v1/events/import", data=text.encode(), headers=headers)
    assert made.status_code == 201, made.json
    snapshot = client.get(f"/api/v1/events/{made.json['code']}").json
    assert snapshot["event"]["title"] == raw["title"]
    assert snapshot["event"]["settings"] == raw["settings"]
    assert [issue["title"] for issue in snapshot["issues"]] == raw["issues"]


def test_the_import_names_the_fault_in_a_broken_event_file(client, admin_headers):
    headers = admin_headers | {"Content-Type": "text/plain"}
    broken = '{"title": "T", "issues": ["Why?"],}'
    answer = client.post("/api/v1/events/import", data=broken, headers=headers)
    assert answer.status_code == 400
    assert answer.json["error"]["message"].startswith("The event file is not valid JSON")
    assert "line 1, column 35" in answer.json["error"]["message"]
    misspelt = '{"title": "T", "issues": ["Why?"], "start_at": "2017-01-12T15:30:00Z"}'
    answer = client.post("/api/v1/events/import", data=misspelt, headers=headers)
    assert "start_at: is not a field of the event file" in answer.json["error"]["message"]


def test_qa_app_create_event_accepts_the_example_file(tmp_path):
    from tests.test_cli import qa_app

    made = qa_app(tmp_path, "create-event", str(EXAMPLE), "--json")
    assert made.returncode == 0, made.stderr
    code = json.loads(made.stdout)["code"]
    exported = qa_app(tmp_path, "export", code, "--format", "json")
    assert json.loads(exported.stdout)["title"] == json.loads(EXAMPLE.read_text())["title"]


def test_the_instance_folder_is_where_the_readme_says(monkeypatch, tmp_path):
    """A checkout keeps its data in instance/; QA_INSTANCE_PATH moves it, relative or not."""
    from qa_app import create_app

    monkeypatch.delenv("QA_INSTANCE_PATH", raising=False)
    assert create_app({"SECRET_KEY": "x"}).instance_path == str(ROOT / "instance")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QA_INSTANCE_PATH", "data")
    monkeypatch.delenv("QA_SECRET_KEY", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": None})
    assert app.instance_path == str(tmp_path / "data")
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'data' / 'qa_app.db'}"
