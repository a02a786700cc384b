"""The domain knows nothing of the real-time layer: no module of qa_app/domain imports the
sockets, the publisher, the WebSocket server or the Socket.IO object (it reports each committed
change through domain/core.on_commit, and the layer subscribes)."""

from __future__ import annotations

import ast
from pathlib import Path

import qa_app

PACKAGE = Path(qa_app.__file__).parent
REAL_TIME = {
    "qa_app.realtime",
    "qa_app.sockets",
    "qa_app.websocket",
    "qa_app.sendlimit",
    "qa_app.httpserver",
    "flask_socketio",
    "socketio",
    "engineio",
}


def imports_of(source: str, package: str) -> set[str]:
    """The modules (and module.name for `from m import name`) a module of package imports,
    absolute."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def test_no_domain_module_imports_the_real_time_layer():
    modules = sorted((PACKAGE / "domain").glob("*.py"))
    assert len(modules) > 10
    for path in modules:
        bad = {
            m
            for m in imports_of(path.read_text(), "qa_app.domain")
            if m.split(".")[0] in REAL_TIME
            or m in REAL_TIME
            or m.startswith(tuple(f"{r}." for r in REAL_TIME))
            or m == "qa_app.extensions.socketio"
        }
        assert not bad, f"qa_app/domain/{path.name} imports {sorted(bad)}"


def test_the_checker_sees_a_relative_import_of_the_publisher():
    # the test above would pass on a checker that found nothing: it finds the old import
    found = imports_of("from .. import realtime, storage\n", "qa_app.domain")
    assert {"qa_app.realtime", "qa_app.storage"} <= found
