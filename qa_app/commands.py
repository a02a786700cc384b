"""Click commands behind `qa-app`; every option has help."""

from __future__ import annotations

import csv
import getpass
import json
import sys
from pathlib import Path

import click

from . import create_app, storage


def _app():
    """The app, with its database migrated to the latest version."""
    app = create_app()
    storage.upgrade(app)
    return app


@click.group(help="qa_app: live Q&A for panel discussions.")
@click.version_option(package_name="qa-app")
def cli() -> None:
    """The command group."""


def _serve(app, host: str, port: int) -> None:
    """Run the real-time server until interrupted."""
    from .extensions import socketio

    mode = app.config["QA_ASYNC_MODE"]
    click.echo(f"Serving on http://{host}:{port} ({mode}); press Ctrl+C to stop.", err=True)
    socketio.run(
        app, host=host, port=port, log_output=False, allow_unsafe_werkzeug=mode == "threading"
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Run the real-time server (gevent unless QA_ASYNC_MODE says eventlet or threading)."""
    _serve(_app(), host, port)


def _print_event(code: str, key: str, urls: dict) -> None:
    """Print an event's links, code and moderator key for a person."""
    click.echo(f"Join code:      {code}")
    click.echo(f"Audience link:  {urls['audience']}")
    click.echo(f"Screen link:    {urls['screen']}")
    click.echo(f"Moderator link: {urls['moderator']}")
    click.echo(f"Moderator key:  {key}  (shown once; rotate it to get a new one)")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
def demo(host: str, port: int) -> None:
    """Create the reference panel session (if absent), print its links, and serve."""
    from .demo import ensure_demo_event
    from .links import event_links

    app = _app()
    shown_host = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host
    with app.app_context():
        code, key = ensure_demo_event()
        urls = event_links(
            code, key, base=app.config.get("QA_PUBLIC_URL") or f"http://{shown_host}:{port}"
        )
    _print_event(code, key, urls)
    _serve(app, host, port)


@cli.command("create-event")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object: code, moderator_key, urls."
)
@click.option(
    "--base-url",
    default=None,
    help="Public base URL for the links (default: QA_PUBLIC_URL or http://localhost:5000).",
)
def create_event(file: Path, as_json: bool, base_url: str | None) -> None:
    """Create an event from a programme text file or a JSON event file."""
    from . import agenda, domain
    from .errors import DomainError
    from .links import event_links
    from .schemas import EventIn, parse

    app = _app()
    text = file.read_text(encoding="utf-8-sig")
    with app.app_context():
        try:
            raw = (
                agenda.parse_event_json(json.loads(text))
                if _looks_like_json(file, text)
                else agenda.parse_programme(text)
            )
            event, key = domain.create_event(parse(EventIn, raw))
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        urls = event_links(
            event.code,
            key,
            base=base_url or app.config.get("QA_PUBLIC_URL") or "http://localhost:5000",
        )
        if as_json:
            click.echo(json.dumps({"code": event.code, "moderator_key": key, "urls": urls}))
        else:
            click.echo(f"Created: {event.title}")
            _print_event(event.code, key, urls)


def _looks_like_json(file: Path, text: str) -> bool:
    """A .json file, or text that starts like a JSON object."""
    return file.suffix.lower() == ".json" or text.lstrip().startswith("{")


@cli.command("create-admin")
@click.argument("name")
@click.option(
    "--password",
    envvar="QA_ADMIN_PASSWORD",
    default=None,
    help="The password (default: asked for; or set QA_ADMIN_PASSWORD).",
)
def create_admin(name: str, password: str | None) -> None:
    """Create an admin account (or set a new password for an existing one)."""
    from .admin import set_admin_password

    if password is None:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat: "):
            raise click.ClickException("The passwords differ.")
    if len(password) < 8:
        raise click.ClickException("Use a password of at least 8 characters.")
    with _app().app_context():
        created = set_admin_password(name, password)
    click.echo(f"Admin {name!r} {'created' if created else 'updated'}; log in at /admin.")


@cli.command()
@click.argument("code")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="Output format.",
)
def export(code: str, fmt: str) -> None:
    """Print every question of an event (issue, author, addressee, votes, status, times)."""
    from . import domain
    from .api import EXPORT_FIELDS
    from .auth import Actor, find_event
    from .errors import DomainError

    with _app().app_context():
        try:
            event = find_event(code)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        rows = domain.export_rows(Actor("admin", event.id))
    if fmt == "json":
        click.echo(
            json.dumps(
                {"event": event.code, "title": event.title, "questions": rows},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows(rows)


@cli.command()
def migrate() -> None:
    """Apply pending database migrations (serve and demo do this at start too)."""
    _app()
    click.echo("The database is up to date.")
