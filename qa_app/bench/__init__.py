"""`qa-app bench`: start the server, drive phones from Node, measure, and compare to the baseline.

One run starts `qa-app serve` (one or more processes), creates an event with N participants,
and runs loadgen.js (the official socket.io client on Node) against it. The same workload runs
once with the coalescing ticker (`QA_TICK_MS`, default 250) and once with the baseline that
broadcasts every change at once (`QA_TICK_MS=0`), and the ratio of the two is printed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

LOADGEN = Path(__file__).resolve().parent / "loadgen.js"
# a larger young generation: the phones' updates are short-lived garbage, and scavenging it
# every few milliseconds showed up as event-loop lag in the measured latencies
NODE_FLAGS = ["--max-old-space-size=4096", "--max-semi-space-size=64"]


@dataclass
class Plan:
    """What one bench invocation does."""

    phones: int = 1000
    votes_per_s: float = 100
    questions_per_s: float = 1
    duration_s: float = 20
    processes: int = 1
    async_mode: str = "gevent"
    tick_ms: int = 250
    baseline: bool = True
    database_url: str | None = None
    message_queue: str | None = None
    seed_questions: int = 10
    burst: int = 200
    drain_s: float = 10
    connect_timeout_s: float = 180
    loadgen_workers: int = 2
    compare_async_mode: str | None = None  # also run the coalesced workload under this server
    join_storm: bool = False  # phones join over REST, then connect, as fast as the server takes
    compare_ref: str | None = None  # also run the coalesced workload on this git revision's code
    extra_env: dict = field(default_factory=dict)
    code_dir: Path | None = None  # where the server's code comes from (None: this package)


def slug(label: str) -> str:
    """label as a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_modules() -> str:
    """Where socket.io-client is installed: ./node_modules or the checkout's."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (base / "node_modules" / "socket.io-client").is_dir():
            return str(base / "node_modules")
    raise RuntimeError(
        "socket.io-client for Node is not installed: run `npm install socket.io-client` in this "
        "folder (Node 18 or later)."
    )


class ProcessWatch:
    """Samples a process's CPU seconds and memory from /proc while it runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss_kb = 0
        self.cpu_s = 0.0
        self.rss_before_kb = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        """Read utime+stime and VmHWM/VmRSS once."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            self.cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_kb = max(self.peak_rss_kb, int(line.split()[1]))
                elif line.startswith("VmRSS:"):
                    self.rss_kb = int(line.split()[1])
        except (OSError, IndexError, ValueError):
            pass

    def loop(self) -> None:
        """Sample every half second until stopped."""
        while not self.stop.wait(0.5):
            self.sample()

    def mark_start(self) -> tuple[float, int]:
        """CPU seconds and RSS now (before the load starts)."""
        self.sample()
        self.rss_before_kb = getattr(self, "rss_kb", 0)
        return self.cpu_s, self.rss_before_kb

    def finish(self) -> None:
        """Take the last sample."""
        self.sample()
        self.stop.set()


def prepare_event(env: dict, phones: int, code_dir: Path | None = None) -> dict:
    """Create the bench event and its participants directly in the database (with the code in
    code_dir, when given: another revision's)."""
    script = (
        "import json, sys\n"
        "from qa_app.bench.setup import create\n"
        "print(json.dumps(create(int(sys.argv[1]))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(phones)],
        env=env,
        cwd=code_dir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"creating the bench event failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_servers(
    env: dict, count: int, workdir: Path, code_dir: Path | None = None
) -> list[tuple[subprocess.Popen, str]]:
    """Start count `qa-app serve` processes on free ports (with the code in code_dir, when
    given); wait until they answer."""
    import urllib.request

    servers = []
    for index in range(count):
        port = free_port()
        log = open(workdir / f"server-{index}-{os.getpid()}-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "qa_app", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=code_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        servers.append((process, f"http://127.0.0.1:{port}"))
    deadline = time.monotonic() + 60
    for process, url in servers:
        wait_until_answered(
            process,
            lambda url=url: urllib.request.urlopen(url + "/api/openapi.json", timeout=1).read(),
            deadline,
            f"the server exited; see {workdir}/server-*.log",
            "the server did not start in 60 s",
        )
    return servers


def wait_until_answered(
    process: subprocess.Popen, ask, deadline: float, exited: str, late: str
) -> None:
    """Call ask until it raises no OSError (the server answers); RuntimeError(exited) if the
    process ends first, RuntimeError(late) if the monotonic deadline passes."""
    while True:
        if process.poll() is not None:
            raise RuntimeError(exited)
        try:
            ask()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(late) from None
            time.sleep(0.2)


def stop_servers(servers: list[tuple[subprocess.Popen, str]]) -> None:
    """Terminate the servers this run started."""
    for process, _url in servers:
        if process.poll() is None:
            process.terminate()
    for process, _url in servers:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_env(plan: Plan, label: str, tick_ms: int, workdir: Path) -> dict:
    """The environment of the servers of one run: this environment without its QA_ settings,
    rate limits off, a fresh SQLite file (or the plan's database) and the plan's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        {
            "QA_TICK_MS": str(tick_ms),
            "QA_ASYNC_MODE": plan.async_mode,
            "QA_RATE_LIMITS": "0",
            "QA_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "DATABASE_URL": plan.database_url or f"sqlite:///{workdir / (slug(label) + '.db')}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if plan.message_queue:
        env["QA_MESSAGE_QUEUE"] = plan.message_queue
    env.update(plan.extra_env)
    if plan.code_dir is not None:  # `python -m qa_app` in that folder runs that code
        env["PYTHONPATH"] = str(plan.code_dir)
    return env


def run_once(plan: Plan, label: str, tick_ms: int, workdir: Path, echo) -> dict:
    """One workload against fresh servers with the given tick; the load generator's figures."""
    env = server_env(plan, label, tick_ms, workdir)
    joining = 0 if plan.join_storm else plan.phones
    echo(f"[{label}] creating an event with {joining} participants ...")
    event = prepare_event(env, joining, plan.code_dir)
    echo(f"[{label}] starting {plan.processes} server process(es) ({plan.async_mode}) ...")
    servers = start_servers(env, plan.processes, workdir, plan.code_dir)
    watches = [ProcessWatch(process.pid) for process, _ in servers]
    try:
        before = [watch.mark_start() for watch in watches]
        plan_file = workdir / f"{slug(label)}-plan.json"
        plan_file.write_text(
            json.dumps(
                {
                    "label": label,
                    "urls": [url for _, url in servers],
                    "code": event["code"],
                    "moderator_key": event["moderator_key"],
                    "tokens": event["tokens"],
                    "phones": plan.phones,
                    "join_storm": plan.join_storm,
                    "server_pids": [process.pid for process, _ in servers],
                    "votes_per_s": plan.votes_per_s,
                    "questions_per_s": plan.questions_per_s,
                    "duration_s": plan.duration_s,
                    "seed_questions": plan.seed_questions,
                    "burst": plan.burst,
                    "drain_s": plan.drain_s,
                    "connect_timeout_s": plan.connect_timeout_s,
                    "workers": plan.loadgen_workers,
                }
            )
        )
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("Node (18 or later) is needed for the load generator.")
        limit = plan.connect_timeout_s + plan.duration_s + plan.drain_s + 120
        how = "joining and connecting" if plan.join_storm else "connecting"
        echo(
            f"[{label}] {how} {plan.phones} phones, then {plan.votes_per_s:g} votes/s and "
            f"{plan.questions_per_s:g} questions/s for {plan.duration_s:g} s ..."
        )
        done = subprocess.run(
            [node, *NODE_FLAGS, str(LOADGEN), str(plan_file)],
            env=env | {"NODE_PATH": node_modules()},
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
            timeout=limit,
        )
        for watch in watches:
            watch.finish()
        if done.returncode != 0:
            raise RuntimeError(f"the load generator failed ({done.returncode})")
        result = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        for watch in watches:
            watch.finish()
        echo(f"[{label}] stopping the servers ...")
        stop_servers(servers)
    result["server_cpu_s"] = round(
        sum(w.cpu_s - b[0] for w, b in zip(watches, before, strict=True)), 1
    )
    result["server_peak_mb"] = [round(w.peak_rss_kb / 1024) for w in watches]
    result["server_idle_mb"] = [round(b[1] / 1024) for b in before]
    growth = sum(w.peak_rss_kb - b[1] for w, b in zip(watches, before, strict=True))
    result["server_kb_per_connection"] = round(growth / max(1, result["phones"] + 2), 1)
    # the join and connect phase alone: what each phone cost the server to let in and hold
    connected = max(1, result["connected"])
    result["server_kb_per_connected_phone"] = round(result["server_connect_rss_kb"] / connected, 1)
    result["server_connect_cpu_ms_per_phone"] = round(
        result["server_connect_cpu_s"] * 1000 / connected, 2
    )
    result["joins_per_s"] = (
        round(result["joined"] * 1000 / result["join_span_ms"]) if result["join_span_ms"] else None
    )
    result["tick_ms"] = tick_ms
    result["async_mode"] = plan.async_mode
    result["plan_phones"] = plan.phones
    return result


ROWS = [
    (
        "phones joined over REST",
        lambda r: f"{r['joined']}/{r['plan_phones']}" if r["joined"] else "-",
    ),
    ("joins per second", lambda r: r["joins_per_s"] or "-"),
    ("join p50 / p99 (ms)", lambda r: pair(r["join_ms"])),
    ("phones connected", lambda r: f"{r['connected'] - 2}/{r['plan_phones']}"),
    ("time to connect everyone (s)", lambda r: r["connect_ms"] / 1000),
    ("server CPU to let a phone in (ms)", lambda r: r["server_connect_cpu_ms_per_phone"]),
    ("server memory per connected phone (KB)", lambda r: r["server_kb_per_connected_phone"]),
    ("vote ack p50 / p99 (ms)", lambda r: pair(r["vote_ack_ms"])),
    ("vote to every phone p50 / p99 (ms)", lambda r: pair(r["vote_seen_ms"])),
    ("  same process p50 / p99 (ms)", lambda r: pair(r["vote_seen_same_process_ms"])),
    ("  cross process p50 / p99 (ms)", lambda r: pair(r["vote_seen_cross_process_ms"])),
    ("votes acked / sent", lambda r: f"{r['votes_acked']}/{r['votes_sent']}"),
    ("questions acked / sent", lambda r: f"{r['asks_acked']}/{r['asks_sent']}"),
    ("vote sightings missing", lambda r: r["vote_sightings_missing"]),
    ("messages delivered", lambda r: r["messages_delivered"]),
    ("disconnects", lambda r: r["disconnects"]),
    ("server CPU (s)", lambda r: r["server_cpu_s"]),
    ("server peak memory (MB)", lambda r: "+".join(str(m) for m in r["server_peak_mb"])),
    ("server memory per connection (KB)", lambda r: r["server_kb_per_connection"]),
    ("load generator event-loop lag p50 / p99 (ms)", lambda r: pair(r["loadgen_lag_ms"])),
    ("load generator CPU (s)", lambda r: f"{round(r['loadgen_cpu_s'], 1)} ({r['workers']} proc.)"),
]


def missed(results: list[dict]) -> list[str]:
    """What each run of the server as shipped lost, in words: phones that never connected, votes
    never acknowledged, and vote sightings missing (a phone that never saw an acknowledged vote).
    Empty: nothing lost. A reference run (the tick-0 baseline, which collapses under load by
    design) is reported in the table but not judged here."""
    lost = []
    for r in results:
        if r.get("reference"):
            continue
        what = []
        if r["connected"] - 2 < r["plan_phones"]:
            what.append(
                f"{r['plan_phones'] - (r['connected'] - 2)} phones never joined or connected"
            )
        if r["votes_acked"] < r["votes_sent"]:
            what.append(f"{r['votes_sent'] - r['votes_acked']} votes not acknowledged")
        if r["vote_sightings_missing"]:
            what.append(f"{r['vote_sightings_missing']} vote sightings missing")
        if what:
            lost.append(f"{r['label']}: " + ", ".join(what))
    return lost


def pair(summary: dict) -> str:
    """p50 / p99 of a latency summary."""
    if not summary["n"]:
        return "-"
    return f"{summary['p50']} / {summary['p99']}"


def ratio(base: dict, tick: dict) -> dict:
    """Baseline over coalesced for the figures where lower is better."""

    def div(a, b):
        return round(a / b, 2) if a and b else None

    return {
        "connect_s": div(base["connect_ms"], tick["connect_ms"]),
        "vote_seen_p99": div(base["vote_seen_ms"]["p99"], tick["vote_seen_ms"]["p99"]),
        "vote_ack_p99": div(base["vote_ack_ms"]["p99"], tick["vote_ack_ms"]["p99"]),
        "messages": div(base["messages_delivered"], tick["messages_delivered"]),
        "server_cpu_s": div(base["server_cpu_s"], tick["server_cpu_s"]),
        "server_peak_mb": div(sum(base["server_peak_mb"]), sum(tick["server_peak_mb"])),
        "join_s": div(base["join_span_ms"], tick["join_span_ms"]),
        "server_cpu_per_phone_in": div(
            base["server_connect_cpu_ms_per_phone"], tick["server_connect_cpu_ms_per_phone"]
        ),
        "server_kb_per_phone": div(
            base["server_kb_per_connected_phone"], tick["server_kb_per_connected_phone"]
        ),
    }


def table(results: list[dict]) -> str:
    """The results side by side, as a Markdown table."""
    heads = [f"{r['label']} ({r['async_mode']}, tick {r['tick_ms']} ms)" for r in results]
    lines = ["| | " + " | ".join(heads) + " |", "| --- |" + " --- |" * len(results)]
    for name, get in ROWS:
        lines.append(f"| {name} | " + " | ".join(str(get(r)) for r in results) + " |")
    return "\n".join(lines)


def checkout(ref: str, folder: Path) -> Path:
    """The code of git revision ref, extracted into folder (with this checkout's socket.io
    browser client, which the server needs to start); RuntimeError outside a git checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        raise RuntimeError(
            "--compare-ref needs a git checkout of qa_app (this is an installed copy)."
        )
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", ref], capture_output=True
    )
    if archive.returncode != 0:
        raise RuntimeError(f"git cannot export {ref!r}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    vendor = root / "static" / "vendor"
    if vendor.is_dir():
        shutil.copytree(vendor, folder / "static" / "vendor", dirs_exist_ok=True)
    return folder


def run(plan: Plan, echo=print) -> dict:
    """Run the coalesced workload, the baseline and the other async server as asked; every figure.

    The first result is always the coalesced run; the ratios divide each other run by it.
    """
    workdir = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    results = []
    ratios = {}
    try:
        results.append(run_once(plan, "coalesced", plan.tick_ms, workdir, echo))
        if plan.baseline:
            results.append(run_once(plan, "baseline", 0, workdir, echo))
            results[-1]["reference"] = True  # the naive mode it is compared with: losses shown
            ratios["baseline_over_coalesced"] = ratio(results[-1], results[0])
        if plan.compare_async_mode:
            other = replace(plan, async_mode=plan.compare_async_mode)
            label = f"coalesced-{plan.compare_async_mode}"
            results.append(run_once(other, label, plan.tick_ms, workdir, echo))
            ratios[f"{plan.compare_async_mode}_over_{plan.async_mode}"] = ratio(
                results[-1], results[0]
            )
        if plan.compare_ref:
            code_dir = checkout(plan.compare_ref, workdir / "previous")
            label = f"previous ({plan.compare_ref})"
            results.append(
                run_once(replace(plan, code_dir=code_dir), label, plan.tick_ms, workdir, echo)
            )
            ratios["previous_over_current"] = ratio(results[-1], results[0])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = {"plan": {k: v for k, v in plan.__dict__.items() if k != "extra_env"}}
    report["results"] = results
    report.update(ratios)
    return report
