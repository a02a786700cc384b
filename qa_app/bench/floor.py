"""`qa-app bench --floor`: the join storm against qa_app and against the bare stacks under it.

A hall fills when the QR code goes up: every phone joins over REST and opens its socket at once.
What that costs qa_app is measured here side by side with what it costs the same join and
connection with no application code at all, in memory (qa_app/bench/floors/):

- flask-socketio: Flask and Flask-SocketIO as they come, on gevent (the card's stack);
- python-socketio: python-socketio and a WSGI function, on gevent, without Flask;
- node socket.io: Node's http module and the socket.io server (when `socket.io` is installed
  with npm, as `make setup` does).

The Python floors set the garbage collector as qa_app's server does, so that what differs is
the code. Without that, their cost per phone grew with the hall (1.8 ms a phone for 1,000
phones, 2.9 ms for 3,000, on the same machine), as full collections walked every connection.

Each stack's server runs alone on the machine with the same load generator (storm.js: N phones,
200 joins and handshakes in flight, two Node processes), and the table gives joins per second,
the time until every phone has its snapshot, and the server's CPU time and memory per phone let
in (read from /proc once every phone is in, with every socket still open). qa_app runs as
`qa-app bench` runs it: one gevent process, a fresh SQLite file, rate limits off.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ..serving import GC_YOUNG_THRESHOLD
from . import (
    NODE_FLAGS,
    Plan,
    ProcessWatch,
    free_port,
    node_modules,
    prepare_event,
    server_env,
    start_servers,
    stop_servers,
    wait_until_answered,
)

HERE = Path(__file__).resolve().parent
STORM = HERE / "storm.js"
FLOORS = HERE / "floors"
STACKS = ("qa_app", "flask-socketio", "python-socketio", "node socket.io")
BURST = 200  # joins and handshakes in flight, as loadgen.js keeps them
WORKERS = 2  # Node processes of the load generator


def run(phones: int, echo) -> dict:
    """Storm qa_app, then each floor; every stack's figures and qa_app's ratios to them."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node (18 or later) is needed for the load generator.")
    modules = node_modules()
    workdir = Path(tempfile.mkdtemp(prefix="qa-bench-floor-"))
    try:
        return {"phones": phones, "results": storm_each(phones, node, modules, workdir, echo)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def storm_each(phones: int, node: str, modules: str, workdir: Path, echo) -> dict:
    """qa_app's figures, then each floor's."""
    allow_files(2 * phones + 100)  # inherited by the floors' processes
    plan = Plan(phones=phones, join_storm=True)
    env = server_env(plan, "floor", plan.tick_ms, workdir)
    event = prepare_event(env, 0)
    results = {}
    echo("[qa_app] starting the server ...")
    servers = start_servers(env, 1, workdir)
    process, url = servers[0]
    try:
        snapshot = workdir / "snapshot.json"
        snapshot.write_text(json.dumps(phone_snapshot(url, event["code"])))
        results["qa_app"] = storm(process.pid, url, event["code"], phones, node, modules, echo)
    finally:
        stop_servers(servers)
    python = [sys.executable, str(FLOORS / "python_server.py")]
    commands = {
        "flask-socketio": [*python, "flask-socketio"],
        "python-socketio": [*python, "python-socketio"],
    }
    if (Path(modules) / "socket.io").is_dir():
        commands["node socket.io"] = [node, str(FLOORS / "node_server.js")]
    else:
        echo("[node socket.io] skipped: the socket.io server is not installed (npm install)")
    for stack, command in commands.items():
        port = free_port()
        echo(f"[{stack}] starting the server ...")
        log = (workdir / f"{stack.replace(' ', '-')}.log").open("w")
        server = subprocess.Popen(
            [*command, str(port), str(snapshot), str(GC_YOUNG_THRESHOLD)],
            env=env | {"NODE_PATH": modules},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_answered(  # a join: that phone is not counted
                server,
                lambda url=url: join_over_rest(url, event["code"], timeout=1),
                time.monotonic() + 30,
                f"the floor server exited ({stack})",
                "the floor server did not start in 30 s",
            )
            results[stack] = storm(server.pid, url, event["code"], phones, node, modules, echo)
        finally:
            server.terminate()
            server.wait(timeout=10)
            log.close()
    return results


def allow_files(count: int) -> None:
    """Room for count open files in this process and the floors it starts, as qa_app's server
    makes for itself (simple-websocket holds two descriptors a connection under gevent)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= count:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, max(count, hard)))
    except (ValueError, OSError):  # not allowed: the floors make do, and the table shows it
        pass


def join_over_rest(url: str, code: str, timeout: float = 10) -> str:
    """Join the event on the server at url as a phone does: the new participant's token."""
    join = urllib.request.Request(
        f"{url}/api/v1/events/{code}/participants",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(join, timeout=timeout) as answer:
        return json.load(answer)["token"]


def phone_snapshot(url: str, code: str) -> dict:
    """What a phone that just joined gets as its snapshot (the floors send the same)."""
    read = urllib.request.Request(
        f"{url}/api/v1/events/{code}",
        headers={"Authorization": f"Bearer {join_over_rest(url, code)}"},
    )
    with urllib.request.urlopen(read, timeout=10) as answer:
        return json.load(answer)


def storm(pid: int, url: str, code: str, phones: int, node: str, modules: str, echo) -> dict:
    """Join and connect phones against the server pid; its cost per phone, read with every
    socket still open."""
    watch = ProcessWatch(pid)
    time.sleep(0.5)  # the server idle, after its start-up
    cpu_before, rss_before_kb = watch.mark_start()
    echo(f"  joining and connecting {phones} phones ...")
    loadgen = subprocess.Popen(
        [node, *NODE_FLAGS, str(STORM), url, code, str(phones), str(BURST), str(WORKERS)],
        env=os.environ | {"NODE_PATH": modules},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = loadgen.stdout.readline()
        watch.finish()  # every phone is in: the server's CPU and memory now
        if not line:
            raise RuntimeError(f"the load generator failed ({loadgen.wait()})")
        result = json.loads(line)
    finally:
        loadgen.stdin.close()
        try:
            loadgen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            loadgen.kill()
    connected = max(1, result["connected"])
    result["joins_per_s"] = round(result["joined"] * 1000 / max(1.0, result["join_span_ms"]))
    result["connect_s"] = round(result["connect_ms"] / 1000, 2)
    result["cpu_ms_per_phone"] = round((watch.cpu_s - cpu_before) * 1000 / connected, 2)
    result["kb_per_phone"] = round((watch.rss_kb - rss_before_kb) / connected, 1)
    result["loadgen_cpu_s"] = round(result["loadgen_cpu_s"], 1)
    echo(f"  {result['connected']}/{phones} connected in {result['connect_s']} s")
    return result


ROWS = [
    ("phones joined / connected", lambda r, n: f"{r['joined']}/{r['connected']} of {n}"),
    ("joins per second", lambda r, n: r["joins_per_s"]),
    ("time to connect everyone (s)", lambda r, n: r["connect_s"]),
    ("server CPU to let a phone in (ms)", lambda r, n: r["cpu_ms_per_phone"]),
    ("server memory per connected phone (KB)", lambda r, n: r["kb_per_phone"]),
    ("load generator CPU (s)", lambda r, n: r["loadgen_cpu_s"]),
]


def table(report: dict) -> str:
    """The stacks side by side (Markdown), and qa_app's CPU per phone over each floor's."""
    results, phones = report["results"], report["phones"]
    stacks = [stack for stack in STACKS if stack in results]
    lines = ["| | " + " | ".join(stacks) + " |", "| --- |" + " --- |" * len(stacks)]
    for title, cell in ROWS:
        cells = " | ".join(str(cell(results[stack], phones)) for stack in stacks)
        lines.append(f"| {title} | {cells} |")
    ours = results["qa_app"]["cpu_ms_per_phone"]
    ratios = [
        f"{stack} x{ours / results[stack]['cpu_ms_per_phone']:.2f}"
        for stack in stacks[1:]
        if results[stack]["cpu_ms_per_phone"]
    ]
    return "\n".join(lines) + "\n\nqa_app's CPU per phone over each floor's: " + ", ".join(ratios)


def lost(report: dict) -> str | None:
    """What qa_app lost: phones that never joined or never got their snapshot."""
    result, phones = report["results"]["qa_app"], report["phones"]
    if result["connected"] < phones:
        return f"{phones - result['connected']} of {phones} phones never joined or connected"
    return None
