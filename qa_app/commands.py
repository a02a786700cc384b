"""Click commands behind `qa-app`; every option has help."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click

from . import create_app, server_lock, storage


def _app(serving: bool = False):
    """The app, with its database migrated to the latest version (a server claims it first)."""
    app = create_app()
    if serving:
        server_lock.claim(app)  # one server per SQLite file, refused before anything changes
    storage.upgrade(app)
    return app


@click.group(help="qa_app: live Q&A for panel discussions.")
@click.version_option(package_name="qa-app")
def cli() -> None:
    """The command group."""


GC_YOUNG_THRESHOLD = 10_000  # allocations between young collections (Python's default: 700)


def _serve(app, host: str, port: int) -> None:
    """Run the real-time server until interrupted, with its connection limits raised."""
    from . import httpserver

    mode = app.config["QA_ASYNC_MODE"]
    limit = app.config["QA_MAX_CONNECTIONS"]
    _raise_fd_limit(limit)
    _tune_gc()
    click.echo(
        f"Serving on http://{host}:{port} ({mode}, up to {limit} connections); "
        "press Ctrl+C to stop.",
        err=True,
    )
    httpserver.serve(app, host, port)


def _tune_gc() -> None:
    """Keep the cyclic garbage collector's full passes rare: a hall is millions of long-lived
    objects, and with the default thresholds a full pass (half a second with 5,000 phones, all
    other work stopped) came every few seconds as each tick's short-lived objects were promoted.
    docs/benchmarks.md has the measurement."""
    import gc

    gc.collect()
    gc.freeze()  # the app, its modules and caches: never garbage, never scanned again
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


def _raise_fd_limit(connections: int) -> None:
    """Raise the open-files limit for connections; warn where it stays short.

    A connection holds one descriptor (under gevent qa_app's WebSocket closes the duplicate
    simple-websocket makes), and the database pool, Redis, logs and the listener need a few
    more. The hard limit is raised too where the process may (root, or CAP_SYS_RESOURCE).
    """
    import resource

    infinity = resource.RLIM_INFINITY
    wanted = connections + 100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != infinity and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            soft = hard = wanted
        except (ValueError, OSError):  # not allowed: make do with the hard limit
            pass
    if soft != infinity and soft < wanted:
        soft = wanted if hard == infinity else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft != infinity and soft < wanted:
        click.echo(
            f"Warning: only {soft} open files allowed (ulimit -n) for {connections} connections"
            f" ({wanted} descriptors in all); raise the hard limit (LimitNOFILE= in systemd,"
            " nofile in limits.conf).",
            err=True,
        )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Run the real-time server (gevent unless QA_ASYNC_MODE says eventlet or threading)."""
    _serve(_app(serving=True), host, port)


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

    app = _app(serving=True)
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
    from . import domain, exports
    from .auth import Actor, find_event
    from .errors import DomainError

    with _app().app_context():
        try:
            event = find_event(code)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        actor = Actor("admin", event.id)
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
    vote_path,
    similar_questions,
    vote_path_votes,
) -> None:
    """Benchmark the real-time server on loopback: N phones on Node, V votes/s, Q questions/s."""
    from . import bench as benchmark

    if vote_path:
        _bench_vote_path(vote_path_votes, json_out)
        return
    if similar_questions is not None:
        _bench_similar(similar_questions, json_out)
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
