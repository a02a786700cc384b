"""`qa-app bench --vote-path`: what the vote path's database waits and fsyncs cost, in one process.

`qa-app bench --vote-path` runs `main` in a gevent-patched child process (`run`). Each variant
gets a fresh SQLite file in the instance folder (the disk the real database lives on: an fsync
costs what it costs there) with one event, 200 participants and 20 live questions.
`domain.vote` runs inside an app context, as for a socket event: N votes one at a time (each
vote's latency and the CPU per vote), then the same votes taken back by 20 greenlets at once
(votes per second), so that every vote is a real write. The variants take turns within each
round (starting with another one each round), and the figures are medians over the rounds:

- `blocking`, the baseline: SQLite waits for its lock in C (busy timeout 30 s, no write turn),
  as qa_app did before its writes became cooperative; such a wait stops the whole process;
- `cooperative`: qa_app's write turn and `BEGIN IMMEDIATE` polled in Python (storage.writing);
- `threadpool`: every vote on gevent's pool of native threads, SQLite waiting in C there;
- `cooperative-full`: `cooperative` with `PRAGMA synchronous=FULL` (an fsync per commit), the
  baseline of which is `cooperative` (synchronous=NORMAL).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = ("blocking", "cooperative", "threadpool", "cooperative-full")
RATIOS = {  # variant: its baseline
    "cooperative": "blocking",
    "threadpool": "blocking",
    "cooperative-full": "cooperative",
}
VOTERS = 20  # greenlets voting at once
PARTICIPANTS, QUESTIONS = 200, 20


def make_hall(folder: Path, variant: str):
    """An app on a fresh SQLite file set up as variant says, with the event; (app, actors, ids)."""
    from sqlalchemy import event

    from .. import create_app, domain, storage
    from ..auth import Actor
    from ..extensions import db
    from ..schemas import AskIn, EventIn
    from .setup import BENCH_EVENT

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / variant}.db",
            "SECRET_KEY": "vote-path",
            "QA_RATE_LIMITS": False,
            "QA_SQLITE_SYNCHRONOUS": "FULL" if variant.endswith("-full") else "NORMAL",
        }
    )
    storage.upgrade(app)
    with app.app_context():
        if variant in ("blocking", "threadpool"):  # SQLite's own busy handler, no write turn
            app.extensions.pop(storage.GATE)
            event.listen(
                db.engine, "connect", lambda dbapi, _r: dbapi.execute("PRAGMA busy_timeout=30000")
            )
            db.engine.dispose()  # no connection opened before keeps the timeout of 0
        created, _key = domain.create_event(
            EventIn.model_validate(BENCH_EVENT | {"settings": {"pre_moderation": False}})
        )
        issue = created.issues[0].id
        actors = []
        for _ in range(PARTICIPANTS):
            joined = domain.join(created, None, "bench")
            actors.append(Actor("participant", created.id, joined.participant_id))
        asks = (
            AskIn(issue_id=issue, text=f"Question {n}?", client_id=f"q{n}")
            for n in range(QUESTIONS)
        )
        questions = [domain.ask(actors[n], ask).id for n, ask in enumerate(asks)]
        db.session.remove()
    return app, actors, questions


def timed(hall, variant: str, votes: int, up: bool, voters: int) -> tuple[float, float, list]:
    """N votes from this many greenlets at once: wall time, CPU time and each vote's latency."""
    import gevent

    from .. import domain
    from ..extensions import db
    from ..schemas import VoteIn

    app, actors, questions = hall
    pool = gevent.get_hub().threadpool
    pool.maxsize = 10
    latencies: list[float] = []
    next_vote = iter(range(votes))

    def vote_once(k: int) -> None:
        with app.app_context():
            actor = actors[k % PARTICIPANTS]
            question = questions[(k // PARTICIPANTS) % QUESTIONS]
            domain.vote(actor, VoteIn(question_id=question, up=up))
            db.session.remove()

    def voter() -> None:
        for k in next_vote:
            started = time.perf_counter()
            if variant == "threadpool":
                pool.apply(vote_once, (k,))
            else:
                vote_once(k)
            latencies.append(time.perf_counter() - started)

    cpu, wall = time.process_time(), time.perf_counter()
    gevent.joinall([gevent.spawn(voter) for _ in range(voters)], raise_error=True)
    return time.perf_counter() - wall, time.process_time() - cpu, sorted(latencies)


def run_round(hall, variant: str, votes: int) -> dict:
    """N votes one at a time (latency, CPU), then taken back by VOTERS at once (throughput)."""
    _wall, cpu, latencies = timed(hall, variant, votes, up=True, voters=1)
    wall, _cpu, _latencies = timed(hall, variant, votes, up=False, voters=VOTERS)
    return {
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "cpu_ms_per_vote": cpu / votes * 1000,
        "votes_per_s": votes / wall,
    }


def measure(votes: int, rounds: int, folder: Path) -> dict:
    """Every variant, interleaved over the rounds; medians and ratios."""
    halls = {variant: make_hall(folder, variant) for variant in VARIANTS}
    runs: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    for n in range(rounds):  # each round in another order: no variant always follows FULL's
        for variant in VARIANTS[n % len(VARIANTS) :] + VARIANTS[: n % len(VARIANTS)]:  # fsyncs
            runs[variant].append(run_round(halls[variant], variant, votes))
    results = {
        variant: {key: statistics.median(run[key] for run in done) for key in done[0]}
        for variant, done in runs.items()
    }
    ratios = {
        f"{variant}_over_{base}": {
            key: round(results[variant][key] / results[base][key], 2) for key in results[base]
        }
        for variant, base in RATIOS.items()
    }
    return {
        "votes": votes,
        "rounds": rounds,
        "folder": str(folder),
        "results": results,
        "ratios": ratios,
    }


def table(report: dict) -> str:
    """The medians side by side, as a Markdown table."""
    heads = list(report["results"])
    rows = [
        ("vote p50, one at a time (ms)", "p50_ms", 2),
        ("vote p99, one at a time (ms)", "p99_ms", 2),
        ("CPU per vote (ms)", "cpu_ms_per_vote", 3),
        (f"votes per second, {VOTERS} at once", "votes_per_s", 0),
    ]
    lines = ["| | " + " | ".join(heads) + " |", "| --- |" + " --- |" * len(heads)]
    for name, key, digits in rows:
        cells = (f"{report['results'][h][key]:.{digits}f}" for h in heads)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


CHILD = (
    "from gevent import monkey; monkey.patch_all(); from qa_app.bench.vote_path import main; main()"
)


def main() -> None:
    """The child: `python -c CHILD VOTES ROUNDS INSTANCE_DIR`; prints the report as JSON."""
    votes, rounds, instance = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    instance.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qa-vote-path-", dir=instance) as folder:
        print(json.dumps(measure(votes, rounds, Path(folder))))


def run(votes: int, rounds: int, instance: str) -> dict:
    """Measure in a gevent-patched child process (as `qa-app serve` runs); its report."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(votes), str(rounds), instance],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the vote-path measurement failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
