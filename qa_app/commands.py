"""Click commands behind `qa-app`; every option has help. Starting the server and tuning the
process for it are in qa_app/serving.py. Nothing here imports the app at module level: `serve`
and `demo` patch the standard library for their async server first (qa_app/asyncmode.py)."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path

import click

from . import asyncmode, create_app
from .serving import DEFAULT_PHONES, base_url, check_port, phones_hint, serve_until_stopped


def _app(serving: bool = False):
    """The app, with its database migrated to the latest version (a server claims it first);
    a database that cannot be opened is named, with what to do, in place of a traceback."""
    from sqlalchemy.exc import DBAPIError

    from . import assets, server_lock, storage

    try:
        app = create_app()
    except OSError as exc:  # the instance folder (database, secret key) cannot be made
        raise click.ClickException(
            f"Cannot use the instance folder {exc.filename or ''}: {exc.strerror}. "
            "Set QA_INSTANCE_PATH to a folder this user may write, or DATABASE_URL."
        ) from None
    if serving:
        assets.require_page_assets(app)  # a page without its scripts: refused before anything
        server_lock.claim(app)  # one server per SQLite file, refused before anything changes
    try:
        storage.upgrade(app)
    except DBAPIError as exc:
        raise DatabaseUnavailable(app, exc) from None
    return app


class DatabaseUnavailable(click.ClickException):
    """The database could not be opened: which one, why (the driver's first line), what to do."""

    def __init__(self, app, exc) -> None:
        from .extensions import db

        with app.app_context():
            url = db.engine.url
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        if url.get_backend_name() == "sqlite":
            where = Path(url.database or "").resolve()
            advice = (
                f"Check that the folder {where.parent} exists and this user may write to it "
                "(or point DATABASE_URL / QA_INSTANCE_PATH elsewhere)."
            )
            name = f"the SQLite database {where}"
        else:
            advice = (
                "Check that the server is running and reachable, and the user, password and "
                "database name in DATABASE_URL."
            )
            name = f"the database {url.render_as_string(hide_password=True)}"
        super().__init__(f"Cannot open {name}: {reason}.\n{advice}")


@click.group(help="qa_app: live Q&A for panel discussions.")
@click.version_option(package_name="qa-app")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Also show each database migration as it runs (or set QA_VERBOSE=1).",
)
def cli(verbose: bool) -> None:
    """The command group."""
    if verbose:
        os.environ["QA_VERBOSE"] = "1"  # read by the migrations' logging set-up


PHONES_OPTION = click.option(
    "--phones",
    default=DEFAULT_PHONES,
    show_default=True,
    type=click.IntRange(1),
    help="How many phones you expect at most: you are warned if this machine cannot hold them.",
)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@PHONES_OPTION
def serve(host: str, port: int, phones: int) -> None:
    """Run the real-time server (gevent unless QA_ASYNC_MODE says eventlet or threading)."""
    asyncmode.patch()  # before the app is imported
    check_port(host, port)
    app = _app(serving=True)
    phones_hint(app, host, port)
    serve_until_stopped(app, host, port, phones)


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
@PHONES_OPTION
def demo(host: str, port: int, phones: int) -> None:
    """Create the reference panel session (if absent), print its links, and serve."""
    asyncmode.patch()  # before the app is imported
    from .demo import ensure_demo_event
    from .links import event_links

    check_port(host, port)  # before the moderator key is replaced
    app = _app(serving=True)
    with app.app_context():
        code, key = ensure_demo_event()
        urls = event_links(code, key, base=base_url(app, host, port))
    _print_event(code, key, urls)
    phones_hint(app, host, port)
    serve_until_stopped(app, host, port, phones)


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
@click.option(
    "--encoding",
    default=None,
    help="The file's text encoding (default: UTF-8, else guessed, e.g. cp1251 or koi8-r).",
)
def create_event(file: Path, as_json: bool, base_url: str | None, encoding: str | None) -> None:
    """Create an event from a programme text file, a JSON event file or a full export."""
    from . import agenda, domain
    from .errors import DomainError
    from .links import event_links
    from .schemas import parse_event

    text = read_programme(file, encoding)
    try:  # read and checked before the database is touched
        data = parse_event(agenda.read_event(text, _looks_like_json(file, text) or None))
    except DomainError as exc:
        raise click.ClickException(f"{file}: {exc.message}") from None
    app = _app()
    with app.app_context():
        try:
            event, key = domain.import_event(data)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        urls = event_links(
            event.code,
            key,
            base=base_url or app.config.get("QA_PUBLIC_URL") or "http://localhost:5000",
        )
        history = data.history if any(data.history.values()) else None
        if as_json:
            body = {"code": event.code, "moderator_key": key, "urls": urls}
            click.echo(json.dumps(body | ({"imported": history} if history else {})))
        else:
            click.echo(f"Created: {event.title}")
            if history:
                click.echo("Imported: " + ", ".join(f"{n} {k}" for k, n in history.items()))
            _print_event(event.code, key, urls)


def _looks_like_json(file: Path, text: str) -> bool:
    """A .json file, or text that starts like JSON."""
    from .agenda import looks_like_json

    return file.suffix.lower() == ".json" or looks_like_json(text)


def read_programme(file: Path, encoding: str | None = None) -> str:
    """The text of a programme or event file: UTF-8 (with or without a BOM), or the encoding
    given, or one charset-normalizer recognises (cp1251, koi8-r, UTF-16, ...), with a note
    naming it; a binary or empty file is refused in one line."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"Cannot read {file}: {exc.strerror}.") from None
    if not data.strip():
        raise click.ClickException(f"{file} is empty: give a programme text or a JSON event file.")
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except LookupError:
            raise click.ClickException(f"Unknown encoding {encoding!r}.") from None
        except UnicodeDecodeError as exc:
            raise click.ClickException(
                f"{file} is not {encoding} (byte {exc.start}); leave out --encoding to guess it."
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    guess = None if (b"\x00" in data and not utf16) else _guess_encoding(data)
    if guess is None:
        raise click.ClickException(
            f"{file} is not a text file: save the programme as plain text (UTF-8) or JSON."
        )
    click.echo(
        f"Note: {file} is not UTF-8; read it as {guess.encoding}. If the text looks wrong, "
        "name its encoding (for Russian text: --encoding cp1251 or --encoding koi8-r) or save "
        "it as UTF-8.",
        err=True,
    )
    return str(guess).removeprefix("\ufeff")


# The code pages Russian text is saved in (Windows, Unix, DOS, old Macs, ISO)
CYRILLIC_ENCODINGS = ["cp1251", "koi8_r", "cp866", "mac_cyrillic", "iso8859_5"]


def _guess_encoding(data: bytes):
    """charset-normalizer's best reading of data, or None. When that reading is in no language
    it knows, a Russian code page that reads as cleanly is preferred: a short programme in
    koi8-r, its letters all above 0xC0, otherwise reads best as half-width katakana
    (shift_jis), which no programme is written in."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or not best.coherence:
        cyrillic = from_bytes(data, cp_isolation=CYRILLIC_ENCODINGS).best()
        if cyrillic is not None and (
            best is None or cyrillic.coherence or cyrillic.chaos <= best.chaos
        ):
            return cyrillic
    return best


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
    type=click.Choice(["csv", "json", "event"]),
    default="csv",
    show_default=True,
    help="csv or json: every question (json adds the moderation log); event: the whole event "
    "as one file that `qa-app create-event` imports (docs/event-format.md).",
)
def export(code: str, fmt: str) -> None:
    """Print every question of an event (issue, author, addressee, votes, status, times), or
    the whole event (--format event)."""
    from . import domain, exports
    from .auth import Actor, find_event
    from .domain.transfer import dumps
    from .errors import DomainError

    with _app().app_context():
        try:
            event = find_event(code)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        actor = Actor("admin", event.id)
        if fmt == "event":
            click.echo(dumps(domain.export_event(actor)), nl=False)
            return
        rows = domain.export_rows(actor)
        actions = domain.actions(actor) if fmt == "json" else []
    if fmt == "json":
        click.echo(
            json.dumps(
                {"event": event.code, "title": event.title, "questions": rows, "actions": actions},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    exports.write_csv(sys.stdout, rows)


@cli.command()
def migrate() -> None:
    """Apply pending database migrations (serve and demo do this at start too)."""
    _app()
    click.echo("The database is up to date.")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def backup(file: Path, force: bool) -> None:
    """Copy the SQLite database to FILE, safely while it is served (PostgreSQL: use pg_dump)."""
    from .backup import BackupError
    from .backup import backup as make_backup
    from .extensions import db

    with create_app().app_context():  # no migration: a backup changes nothing
        url = db.engine.url
    try:
        done = make_backup(url, file, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Backed up {done.source} to {done.target} ({done.size / 1e6:.1f} MB,"
        f" {done.events} events, {done.questions} questions). To restore it, see the"
        " Backups section of docs/deployment.md."
    )


@cli.command()
@click.option("--phones", default=1000, show_default=True, help="Phones (participants) to connect.")
@click.option("--votes", default=100.0, show_default=True, help="Votes per second.")
@click.option("--questions", default=1.0, show_default=True, help="Questions per second.")
@click.option("--duration", default=20.0, show_default=True, help="Seconds of voting and asking.")
@click.option(
    "--processes",
    default=1,
    show_default=True,
    help="Server processes (more than 1 needs "
    "--database-url on PostgreSQL and --message-queue on Redis).",
)
@click.option(
    "--async-mode",
    type=click.Choice(["gevent", "eventlet"]),
    default="gevent",
    show_default=True,
    help="Async server of the server processes.",
)
@click.option("--tick-ms", default=250, show_default=True, help="QA_TICK_MS of the coalesced run.")
@click.option(
    "--baseline/--no-baseline",
    default=True,
    show_default=True,
    help="Also run the workload with QA_TICK_MS=0 (every change broadcast at once) and compare.",
)
@click.option(
    "--database-url",
    default=None,
    help="DATABASE_URL of the servers (default: a temporary SQLite file per run).",
)
@click.option("--message-queue", default=None, help="QA_MESSAGE_QUEUE of the servers (Redis URL).")
@click.option(
    "--compare-async-mode",
    type=click.Choice(["gevent", "eventlet"]),
    default=None,
    help="Also run the coalesced workload under this async server and print the ratio.",
)
@click.option(
    "--loadgen-workers",
    default=2,
    show_default=True,
    help="Node processes the phones are split over (one event loop for every phone would add "
    "its own backlog to the latencies).",
)
@click.option(
    "--join-storm",
    is_flag=True,
    help="The phones join over REST (POST .../participants, a connection each) and then open "
    "their sockets, as fast as the server takes them (200 in flight), instead of starting "
    "with participants made in the database: joins per second, time to connect everyone, the "
    "server's CPU and memory per phone let in.",
)
@click.option(
    "--compare-ref",
    default=None,
    metavar="GIT_REF",
    help="Also run the coalesced workload on the server code of this git revision (e.g. "
    "HEAD~3 or a tag; needs a git checkout) and print previous / current ratios.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write every figure to this JSON file.",
)
@click.option(
    "--vote-path",
    is_flag=True,
    help="Instead: measure the vote path in one gevent process, on SQLite files in the instance "
    "folder (no phones, no Node): SQLite waiting in C (the baseline) against qa_app's "
    "cooperative waits and gevent's native thread pool, and synchronous=FULL against NORMAL; "
    "each with its ratio to its baseline.",
)
@click.option(
    "--similar",
    "similar_questions",
    type=int,
    default=None,
    metavar="N",
    help="Instead: measure duplicate suggestions with N questions in the event (e.g. 1000), on "
    "a temporary SQLite file in one process: the server's cost per keystroke (`similar`) and per "
    "arriving question (median and p95, ms).",
)
@click.option(
    "--floor",
    is_flag=True,
    help="Instead: a join storm of --phones phones against qa_app and then against the bare "
    "stacks under it, with no application code, in memory (Flask-SocketIO; python-socketio "
    "without Flask; Node's socket.io server, when installed): joins per second, time to connect "
    "everyone, and the server's CPU and memory per phone, side by side.",
)
@click.option(
    "--vote-path-votes",
    default=2000,
    show_default=True,
    help="Votes per variant and round with --vote-path (5 rounds).",
)
def bench(
    phones,
    votes,
    questions,
    duration,
    processes,
    async_mode,
    tick_ms,
    baseline,
    database_url,
    message_queue,
    compare_async_mode,
    loadgen_workers,
    json_out,
    join_storm,
    compare_ref,
    vote_path,
    similar_questions,
    floor,
    vote_path_votes,
) -> None:
    """Benchmark the real-time server on loopback: N phones on Node, V votes/s, Q questions/s.

    Exits with status 1, after printing the tables, when a run of the server as shipped lost
    anything (a phone that never connected, a vote never acknowledged, a phone that never saw an
    acknowledged vote); the tick-0 baseline is a reference and only reported.
    """
    from . import bench as benchmark

    if vote_path:
        _bench_vote_path(vote_path_votes, json_out)
        return
    if similar_questions is not None:
        _bench_similar(similar_questions, json_out)
        return
    if floor:
        _bench_floor(phones, json_out)
        return
    if processes > 1 and not (database_url and message_queue):
        raise click.UsageError("--processes > 1 needs --database-url and --message-queue.")
    plan = benchmark.Plan(
        phones=phones,
        votes_per_s=votes,
        questions_per_s=questions,
        duration_s=duration,
        processes=processes,
        async_mode=async_mode,
        tick_ms=tick_ms,
        baseline=baseline,
        database_url=database_url,
        message_queue=message_queue,
        loadgen_workers=loadgen_workers,
        compare_async_mode=compare_async_mode,
        join_storm=join_storm,
        compare_ref=compare_ref,
    )
    try:
        report = benchmark.run(plan, echo=lambda text: click.echo(text, err=True))
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(benchmark.table(report["results"]))
    for name, ratios in report.items():
        if "_over_" in name:
            title = name.replace("_over_", " / ").replace("_", " ")
            click.echo(f"\n{title}: " + ", ".join(f"{k} x{v}" for k, v in ratios.items()))
    if json_out:
        Path(json_out).write_text(json.dumps(report, indent=2))
    lost = benchmark.missed(report["results"])
    if lost:  # a fast server that drops updates has failed, whatever its latencies
        raise click.ClickException("updates were lost: " + "; ".join(lost))


def _bench_floor(phones: int, json_out: str | None) -> None:
    """`qa-app bench --floor`: qa_app's join storm beside its stacks' floors; exit 1 when qa_app
    lost a phone."""
    from .bench import floor

    try:
        report = floor.run(phones, echo=lambda text: click.echo(text, err=True))
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(floor.table(report))
    if json_out:
        Path(json_out).write_text(json.dumps(report, indent=2))
    lost = floor.lost(report)
    if lost:
        raise click.ClickException(lost)


def _bench_similar(questions: int, json_out: str | None) -> None:
    """`qa-app bench --similar N`: the cost of duplicate suggestions, per keystroke and question."""
    from .bench import similar

    click.echo(f"Measuring duplicate suggestions with {questions} questions ...", err=True)
    report = similar.run(questions)
    click.echo(similar.table(report))
    if json_out:
        Path(json_out).write_text(json.dumps(report, indent=2))


def _bench_vote_path(votes: int, json_out: str | None) -> None:
    """`qa-app bench --vote-path`: print the variants side by side and their ratios."""
    from .bench import vote_path

    click.echo(f"Measuring the vote path: {votes} votes per variant, 5 rounds ...", err=True)
    try:
        report = vote_path.run(votes, 5, create_app().instance_path)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(vote_path.table(report))
    for name, ratios in report["ratios"].items():
        title = name.replace("_over_", " / ")
        click.echo(f"\n{title}: " + ", ".join(f"{k} x{v}" for k, v in ratios.items()))
    if json_out:
        Path(json_out).write_text(json.dumps(report, indent=2))
