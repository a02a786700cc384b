"""Starting the server and tuning the process for a hall: the port checked before anything
changes, the open-files limit raised for the phones expected, the garbage collector tuned, the
links phones can open on this network, and a quiet stop on Ctrl+C. The click commands that use
it are in qa_app/commands.py; the server itself is qa_app/httpserver.py.
"""

from __future__ import annotations

import errno
import signal
import socket

import click

GC_YOUNG_THRESHOLD = 10_000  # allocations between young collections (Python's default: 700)


class Stopped(SystemExit):
    """Ctrl+C, raised in the main (green) thread, where the server's accept loop runs."""


def _on_ctrl_c(mode: str):
    """The SIGINT handler: stop the server's main loop, quietly.

    Python runs a signal handler in whatever greenlet is running. Raised in the main greenlet,
    or in the event loop's (gevent's and eventlet's hubs hand a SystemExit to the main one,
    unprinted), it stops the server; raised in a connection's or the ticker's, it could end
    only that one (some catch every exception). So there it is handed to the main greenlet by
    the event loop, which runs before it next sleeps."""
    import greenlet

    main = greenlet.getcurrent()

    def stop(_signum, _frame) -> None:
        current = greenlet.getcurrent()
        if mode == "gevent":
            import gevent

            hub = gevent.get_hub()
            if current not in (main, hub):
                hub.loop.run_callback(main.throw, Stopped(0))
                return
        elif mode == "eventlet":
            import eventlet.hubs

            hub = eventlet.hubs.get_hub()
            if current not in (main, hub.greenlet):
                hub.schedule_call_global(0, main.throw, Stopped(0))
                return
        raise Stopped(0)

    return stop


def check_port(host: str, port: int) -> None:
    """Refuse, in one line and before anything changes (migrations, the demo's new moderator
    key), a port that is taken or an address this machine does not have: bind a probe socket
    with the options the servers use, and close it."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError):
        message = f"{host!r} is not an address or host name of this machine."
        raise click.ClickException(message) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
            probe.listen(1)
        except OSError as exc:
            raise click.ClickException(_bind_refusal(host, port, exc)) from None


def _bind_refusal(host: str, port: int, exc: OSError) -> str:
    """What a failed bind means, and what to do, for a person."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"Port {port} is already in use (another qa-app, or another program): stop it, "
            f"or choose another port, e.g. --port {port + 1 if port < 65535 else 5000}. "
            "Nothing was changed."
        )
    if exc.errno == errno.EACCES:
        return (
            f"Port {port} needs administrator rights on this machine: use a port above 1023, "
            "e.g. --port 5000 (put nginx in front for port 80/443: docs/deployment.md)."
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"This machine has no address {host}: use --host 0.0.0.0 (every address) "
            "or --host 127.0.0.1 (this machine only)."
        )
    return f"Cannot listen on {host}:{port}: {exc.strerror}."


def serve_until_stopped(app, host: str, port: int, phones: int) -> None:
    """Run the real-time server until Ctrl+C, with its connection limits raised."""
    from . import httpserver

    mode = app.config["QA_ASYNC_MODE"]
    limit = app.config["QA_MAX_CONNECTIONS"]
    _raise_fd_limit(limit, phones)
    _tune_gc()
    shown = _lan_url(app, host, port) or f"http://{_shown_host(host)}:{port}"
    click.echo(
        f"Serving on {shown} ({mode}, up to {limit:,} connections); press Ctrl+C to stop.",
        err=True,
    )
    signal.signal(signal.SIGINT, _on_ctrl_c(mode))
    try:
        httpserver.serve(app, host, port)
    except Stopped:
        pass
    except OSError as exc:  # the port was taken between the check and now
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        raise click.ClickException(_bind_refusal(host, port, exc)) from None
    click.echo("Stopped.", err=True)


ALL_ADDRESSES = ("0.0.0.0", "::", "")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def _shown_host(host: str) -> str:
    """The host to print in links for a listening address."""
    if host in ALL_ADDRESSES or host in LOOPBACK_HOSTS:
        return "localhost"
    return f"[{host}]" if ":" in host else host


def _lan_url(app, host: str, port: int) -> str | None:
    """The base URL phones on this network can open, when listening on every address without
    QA_PUBLIC_URL: the machine's LAN address (remembered for the screen's QR code, see
    qa_app/links.py); None otherwise."""
    from .links import LAN_URL, lan_address

    if host not in ALL_ADDRESSES or app.config.get("QA_PUBLIC_URL"):
        return None
    if LAN_URL not in app.extensions:
        address = lan_address()
        app.extensions[LAN_URL] = f"http://{address}:{port}" if address else None
    return app.extensions[LAN_URL]


def base_url(app, host: str, port: int) -> str:
    """The base of the printed links: QA_PUBLIC_URL, the LAN address, or the host given."""
    return (
        app.config.get("QA_PUBLIC_URL")
        or _lan_url(app, host, port)
        or f"http://{_shown_host(host)}:{port}"
    )


def phones_hint(app, host: str, port: int) -> None:
    """Say how phones reach the server when the printed links would not work on a phone."""
    if app.config.get("QA_PUBLIC_URL"):
        return
    if host in LOOPBACK_HOSTS:
        click.echo(
            "Only this computer can open the server's links. For phones on the same network, start "
            "with --host 0.0.0.0.",
            err=True,
        )
    elif host in ALL_ADDRESSES and not _lan_url(app, host, port):
        click.echo(
            "No network address found for phones to use: connect to the hall's network, or "
            f"set QA_PUBLIC_URL to the address phones open (e.g. QA_PUBLIC_URL=http://"
            f"192.168.1.20:{port} qa-app demo --host 0.0.0.0).",
            err=True,
        )


def _tune_gc() -> None:
    """Keep the cyclic garbage collector's full passes rare: a hall is millions of long-lived
    objects, and with the default thresholds a full pass (half a second with 5,000 phones, all
    other work stopped) came every few seconds as each tick's short-lived objects were promoted.
    docs/benchmarks.md has the measurement."""
    import gc

    gc.collect()
    gc.freeze()  # the app, its modules and caches: never garbage, never scanned again
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


FD_RESERVE = 100  # descriptors besides connections: database pool, Redis, logs, the listener
DEFAULT_PHONES = 2000


def _raise_fd_limit(connections: int, phones: int = DEFAULT_PHONES) -> None:
    """Raise the open-files limit for connections; warn when it stays short of the phones
    expected (a warning about the 20,000-connection ceiling nobody reaches would be noise).

    A connection holds one descriptor (under gevent qa_app's WebSocket closes the duplicate
    simple-websocket makes), and the database pool, Redis, logs and the listener need a few
    more. The hard limit is raised too where the process may (root, or CAP_SYS_RESOURCE).
    """
    import resource

    infinity = resource.RLIM_INFINITY
    wanted = connections + FD_RESERVE
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
    warning = fd_warning(soft if soft != infinity else None, min(phones, connections))
    if warning:
        click.echo(warning, err=True)


def fd_warning(open_files: int | None, phones: int) -> str | None:
    """The warning for an organiser when open_files (None: unlimited) cannot hold phones."""
    if open_files is None or open_files - FD_RESERVE >= phones + 2:  # + screen and moderator
        return None
    room = max(0, open_files - FD_RESERVE) // 100 * 100 or max(0, open_files - FD_RESERVE)
    return (
        f"Warning: this machine allows {open_files:,} open connections; a hall of more than "
        f"~{room:,} phones needs more (you expect {phones:,}): run `ulimit -n 65536` before "
        "starting, or set LimitNOFILE=65536 in the systemd unit."
    )
