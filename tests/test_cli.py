"""The `qa-app` command line, run as a user runs it (a subprocess on a fresh database)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import ROOT, server_env

SEED = Path(__file__).parent / "data" / "programmes" / "seed_en.txt"


def qa_app(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run `python -m qa_app ARGS` against a database in tmp_path."""
    return subprocess.run(
        [sys.executable, "-m", "qa_app", *args],
        env=server_env(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


def test_create_event_json_then_export(tmp_path):
    made = qa_app(
        tmp_path, "create-event", str(SEED), "--json", "--base-url", "https://qa.example.org"
    )
    assert made.returncode == 0, made.stderr
    event = json.loads(made.stdout)
    code, key = event["code"], event["moderator_key"]
    assert len(code) == 6 and key.startswith("mk.")
    assert event["urls"] == {
        "audience": f"https://qa.example.org/e/{code}",
        "screen": f"https://qa.example.org/e/{code}/screen",
        "moderator": f"https://qa.example.org/e/{code}/moderate#key={key}",
    }
    exported = qa_app(tmp_path, "export", code.lower(), "--format", "json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == {
        "event": code,
        "title": "Best Innovation Cluster Management Practices",
        "questions": [],
        "actions": [],
    }
    csv = qa_app(tmp_path, "export", code)
    assert csv.stdout.splitlines()[0].startswith("id,issue_position,issue,text,author_name")


def test_create_event_refuses_text_it_cannot_read(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("Just a title\n\nSome words, but no issues.\n")
    made = qa_app(tmp_path, "create-event", str(bad))
    assert made.returncode == 1
    assert "Issues for Discussion" in made.stderr
    assert "Join code" not in made.stdout


def test_create_event_prints_links_for_people(tmp_path):
    made = qa_app(tmp_path, "create-event", str(SEED))
    assert made.returncode == 0, made.stderr
    for label in (
        "Join code:",
        "Audience link:",
        "Screen link:",
        "Moderator link:",
        "Moderator key:",
    ):
        assert label in made.stdout


def test_create_admin(tmp_path):
    short = qa_app(tmp_path, "create-admin", "organiser", "--password", "short")
    assert short.returncode == 1 and "at least 8" in short.stderr
    made = qa_app(tmp_path, "create-admin", "organiser", "--password", "a long enough one")
    assert made.returncode == 0 and "created" in made.stdout
    again = qa_app(tmp_path, "create-admin", "organiser", "--password", "another long one")
    assert again.returncode == 0 and "updated" in again.stdout


def every_command():
    """Every `qa-app` command, by name (a new command is checked without touching this test)."""
    from qa_app.commands import cli

    return sorted(cli.commands.items())


@pytest.mark.parametrize("name, command", every_command(), ids=lambda v: getattr(v, "name", v))
def test_every_command_and_option_has_help_and_shows_it(name, command):
    import click
    from click.testing import CliRunner

    from qa_app.commands import cli

    assert command.help, f"`qa-app {name}` has no help text"
    shown = CliRunner().invoke(cli, [name, "--help"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    for option in (p for p in command.params if isinstance(p, click.Option)):
        assert option.help, f"`qa-app {name} {option.opts[0]}` has no help text"
        # the help page has a line starting with the option, its text on it (or on the next
        # line, after a long option name)
        at = [i for i, line in enumerate(lines) if line.lstrip().startswith(option.opts[0])]
        entry = " ".join(" ".join(lines[at[0] : at[0] + 2]).split()) if at else ""
        assert " ".join(option.help.split()[:4]) in entry, (option.opts[0], shown.output)


def test_demo_event_is_made_once(app):
    from qa_app.demo import ensure_demo_event

    with app.app_context():
        code, key = ensure_demo_event()
        again, new_key = ensure_demo_event()
        from qa_app.auth import find_event

        event = find_event(code)
        assert again == code and new_key != key
        assert len(event.issues) == 5 and len(event.speakers) == 13
        assert [s.name for s in event.speakers if s.role == "moderator"] == ["Oleg Fomichev"]
        assert event.starts_at.isoformat() == "2017-01-12T15:30:00"
        assert event.venue == "Building 5, 5th Floor, Executive Conference Room"


def test_secret_key_is_random_and_kept_in_the_instance_folder(tmp_path, monkeypatch):
    from qa_app import create_app

    monkeypatch.delenv("QA_SECRET_KEY", raising=False)
    keys = []
    for folder in ("one", "one", "two"):
        monkeypatch.setenv("QA_INSTANCE_PATH", str(tmp_path / folder))
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "QA_ASYNC_MODE": "threading"})
        keys.append(app.config["SECRET_KEY"])
    assert keys[0] == keys[1] != keys[2] and len(keys[0]) >= 48
    assert (tmp_path / "one" / "secret_key").stat().st_mode & 0o777 == 0o600
