"""One connection's outgoing packets under gevent, in a queue that costs a tenth of gevent's.

engine.io keeps what it sends to each client in a queue made by its async driver: under gevent a
`gevent.queue.JoinableQueue`, which starts with three deques, a lock and an event, about 3.7 KB
for every connected phone, though a phone's queue is empty nearly all the time (a broadcast is
written at once to an idle socket, qa_app/websocket.py). `SendQueue` does what engine.io asks of
that queue (put; get, blocking with a timeout for a long-poll or not at all for the WebSocket
writer; empty, qsize; task_done and join for a close that waits until everything was sent) with
a list, and makes its two events only when someone waits on them: a long-polling client, or a
close that waits. After each put it calls `on_put`, the connection's `Writer.kick` while it is
on a WebSocket served by qa_app/websocket.py (None otherwise).

Only for gevent, one thread of greenlets: nothing switches inside a method except where it
waits, so no lock is needed. Private hook (tests/test_private_hooks.py): engine.io's
`Server._async['queue']` and `['queue_empty']`; upstream-style, a `queue_class` option of
engine.io's Server.
"""

from __future__ import annotations

import time

from gevent.event import Event
from gevent.queue import Empty


class SendQueue:
    """An unbounded first-in, first-out queue of one connection's packets (see the module)."""

    __slots__ = ("queue", "unfinished", "arrived", "finished", "on_put")

    def __init__(self, maxsize=None) -> None:
        self.queue: list = []  # short: a slow client's is bounded by QA_SEND_BUFFER
        self.unfinished = 0  # put and not yet marked done (task_done)
        self.arrived: Event | None = None  # made when a get first waits
        self.finished: Event | None = None  # made when a join first waits
        self.on_put = None

    def put(self, item, block: bool = True, timeout: float | None = None) -> None:
        """Queue item (never waits: the queue is unbounded), wake a waiting get, call on_put."""
        self.queue.append(item)
        self.unfinished += 1
        if self.arrived is not None:
            self.arrived.set()
        if self.on_put is not None:
            self.on_put()

    def get(self, block: bool = True, timeout: float | None = None):
        """The first item; if there is none, wait up to timeout seconds (forever with None,
        not at all when block is false), then raise gevent's queue.Empty."""
        if block:
            self.wait_while(self.empty, "arrived", timeout)
        if not self.queue:
            raise Empty
        return self.queue.pop(0)

    def get_nowait(self):
        """The first item, or gevent's queue.Empty at once."""
        return self.get(block=False)

    def empty(self) -> bool:
        """Whether nothing waits."""
        return not self.queue

    def qsize(self) -> int:
        """How many items wait."""
        return len(self.queue)

    def task_done(self) -> None:
        """An item taken was dealt with; when none is left unfinished, wake a join."""
        if self.unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self.unfinished -= 1
        if not self.unfinished and self.finished is not None:
            self.finished.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every item put was marked done (up to timeout seconds); whether it was."""
        return self.wait_while(lambda: self.unfinished > 0, "finished", timeout)

    def wait_while(self, pending, event: str, timeout: float | None) -> bool:
        """Wait while pending() holds, up to timeout seconds (forever with None), on the event
        named `event`, made the first time someone waits; whether pending() ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while pending():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            waiter = getattr(self, event) or Event()
            setattr(self, event, waiter)
            waiter.clear()
            waiter.wait(left)
        return True
