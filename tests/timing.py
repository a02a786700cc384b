"""How much slower than usual this machine is just now: the factor the serial tests' bounds of time
are multiplied by.

The product's promises of time (a revoked socket is cut off within 1 s, a vote is acknowledged in
0.5 s at the 99th percentile under load, a read answers within 1 s while SQLite is locked, ...)
are asserted as they are on a machine like the one they were measured on. A shared CI machine is at
times several times slower for a whole run: the suite took four times as long there, and the same
Python work in the server took three times the CPU time. On such a day the bounds are the promise
times `SLOWER`: how long a fixed piece of Python work (`work`) takes here now, against
`REFERENCE_S`, what it took on that machine on a normal day. It is never below 1 (a fast machine
does not tighten a promise) and at most `MOST` (a machine slower than that fails, as a broken
server would). Each test prints the factor when it asserts with it.
"""

from __future__ import annotations

import functools
import json
import statistics
import time

REFERENCE_S = 0.037  # median of `took()` on the reference machine on a normal day (README, "Tests")
MOST = 3.0


def work() -> None:
    """What a server does most: build rows, serialise them, sort them, read them back."""
    rows = [
        {"id": i, "text": f"question {i}", "votes": i % 7, "issue": i % 5} for i in range(5_000)
    ]
    for _ in range(4):
        decoded = json.loads(json.dumps(rows))
        decoded.sort(key=lambda row: (-row["votes"], row["id"]))
        sum(row["votes"] for row in decoded if row["issue"] == 2)


def took(runs: int = 9) -> float:
    """The median time of `work` here, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@functools.cache
def slower() -> float:
    """This machine's factor now, measured once per test run (the first time it is asked)."""
    return min(MOST, max(1.0, took() / REFERENCE_S))


def bound(seconds: float) -> float:
    """A promise of `seconds`, as asserted on this machine now."""
    return seconds * slower()
