"""The docs keep up: every setting, socket event and API route is documented."""

from __future__ import annotations

import re
from pathlib import Path

from qa_app import openapi
from qa_app.sockets import HANDLERS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text("utf-8")


def test_every_setting_is_in_the_readme():
    names = set(
        re.findall(r'environ\.get\("([A-Z_]+)"', (ROOT / "qa_app" / "config.py").read_text())
    )
    names |= set(
        re.findall(r'_(?:flag|list)\("([A-Z_]+)"', (ROOT / "qa_app" / "config.py").read_text())
    )
    assert names, "no settings found"
    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert not missing, f"settings missing from the README: {missing}"


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


def test_the_docs_stand_alone():
    """No doc, docstring or page cites a file outside the repository."""
    outside = re.compile(r"DESIGN\.md|\.\./shared")
    files = [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "CHANGELOG.md"]
    files += [*(ROOT / "docs").glob("*.md"), *(ROOT / "qa_app").rglob("*.py")]
    files += [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static" / "js").glob("*.js")]
    citing = [str(path.relative_to(ROOT)) for path in files if outside.search(path.read_text())]
    assert not citing, f"these cite files outside the repository: {citing}"
