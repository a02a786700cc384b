"""The publisher and its ticker: committed changes are marked and flushed as `update`s.

The real-time layer, by module: `realtime` (this: marks, the ticker, holding and re-sending
when the message queue fails), `fanout` (what each room's `update` carries: who sees what),
`rooms` (the rooms and their members), `presence` (who is connected and moderating),
`queue_health` (the Redis queue, its fast-failing client, noticing a lost process), `sockets`
(the Socket.IO events, thin adapters over the domain), `websocket` and `sendlimit` (the
WebSocket fast path and its bounds), `httpserver` and `serving` (the HTTP server and its
start-up). The domain knows none of them: it reports each committed change through
domain/core.on_commit, and `init_app` subscribes the publisher.

Each process marks what its own domain calls changed and flushes the marks once per tick
(`QA_TICK_MS`; 0 flushes every change at once, the baseline of the benchmark). With a message
queue the flush goes through it, so each change reaches the clients of every process once.

When the message queue fails, nothing is lost and no write fails: python-socketio hands every
emit to this process's own clients before it publishes, so they keep receiving what is changed
through this process. What reached no other process (the publish failed, or fewer processes
heard it than before, e.g. while one re-subscribes after a Redis restart) is held; while the
queue is down, flushes reach this process's clients only and make no Redis call at all (a
background task tries it every QUEUE_RECHECK_S). The held marks are sent again, once, when every
process listens again (checked every tick). Clients apply rows by `rev`, so a repeated row is
harmless.

Private hooks (tests/test_private_hooks.py): `RedisManager._publish` (its return value, the
subscribers reached, is how a lost process is noticed: qa_app/queue_health.py's
CountingRedisManager records it) and the manager's `rooms` dict.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app

from .extensions import db, socketio
from .presence import Presence, PresenceStore, emit_presence
from .queue_health import HEARD, QUEUE_RECHECK_S, Receivers
from .rooms import moderator_room

log = logging.getLogger(__name__)


@dataclass
class Marks:
    """What changed in one event since the last flush."""

    question_ids: set[int] = field(default_factory=set)
    event_changed: bool = False
    programme: bool = False  # the issues or speakers changed: the update carries them

    def add(self, other: Marks) -> None:
        """Fold other marks into these."""
        self.question_ids |= other.question_ids
        self.event_changed |= other.event_changed
        self.programme |= other.programme


def merge_marks(into: dict[int, Marks], marks: dict[int, Marks]) -> None:
    """Fold per-event marks into a per-event dict."""
    for event_id, event_marks in marks.items():
        into.setdefault(event_id, Marks()).add(event_marks)


class Publisher:
    """Collects marks after commit and flushes them once per tick (or at once when tick is 0)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.tick = app.config["QA_TICK_MS"] / 1000
        self.marks: dict[int, Marks] = {}
        self.held: dict[int, Marks] = {}  # published while some process was not listening
        self.presence: set[int] = set()  # events whose presence changed since the last tick
        self.lock = threading.Lock()
        self.ticker_started = False
        self.queue_down = False
        self.receivers = Receivers()
        self.presence_store = PresenceStore.from_app(app)  # None: one process, no queue
        self.people = Presence(self.presence_store)

    # -- marking -------------------------------------------------------------------------------

    def publish(
        self, event_id: int, question_ids: set[int], event_changed: bool, programme: bool = False
    ) -> None:
        """Mark rows as changed; they reach every room at the next tick."""
        if not question_ids and not event_changed:
            return
        marks = Marks(set(question_ids), event_changed, programme)
        if self.tick <= 0:
            try:
                self.flush_event(event_id, marks)
            except Exception:  # the write is committed: its ack must not fail; retry next tick
                db.session.rollback()
                log.exception("publishing event %s failed; retrying", event_id)
                self.requeue({event_id: marks})
            return
        with self.lock:
            self.marks.setdefault(event_id, Marks()).add(marks)
        self.ensure_ticker()

    def presence_changed(self, event_id: int) -> None:
        """Someone connected or left: moderators hear the new count at the next tick."""
        if self.tick <= 0 and self.presence_store is None:
            emit_presence(event_id, self.people.count(event_id))
            return
        with self.lock:
            self.presence.add(event_id)
        self.ensure_ticker()

    def requeue(self, marks: dict[int, Marks]) -> None:
        """Put marks back for the next tick (their publish failed)."""
        with self.lock:
            merge_marks(self.marks, marks)
        self.ensure_ticker()

    def ensure_ticker(self) -> None:
        """Start this process's ticker once."""
        with self.lock:
            if self.ticker_started:
                return
            self.ticker_started = True
        socketio.start_background_task(self.run)

    # -- the ticker ----------------------------------------------------------------------------

    def run(self) -> None:
        """The ticker: flush the marks every tick, forever.

        Ticks are kept at a fixed rate: a flush to a full hall takes a good part of a tick, and
        sleeping a whole tick after it would make the tick that much longer.
        """
        interval = self.tick if self.tick > 0 else 0.25  # tick 0 still retries and refreshes
        due = time.monotonic()
        while True:
            due += interval
            socketio.sleep(max(0.0, due - time.monotonic()))
            due = max(due, time.monotonic() - interval)  # after a long stall, do not race ahead
            try:
                self.flush()
            except Exception:  # a failed tick must not stop the ticker
                log.exception("flushing updates failed")

    def flush(self) -> None:
        """Send one `update` per room for every event with marks; keep what could not be sent."""
        with self.lock:
            marks, self.marks = self.marks, {}
            presence, self.presence = self.presence, set()
        self.people.flush(presence, self.queue_down)
        self.release_held()
        if not marks:
            return
        failed: dict[int, Marks] = {}
        with self.app.app_context():
            try:
                for event_id, event_marks in marks.items():
                    try:
                        self.flush_event(event_id, event_marks)
                    except Exception:
                        failed[event_id] = event_marks
                        db.session.rollback()
                        log.exception("flushing event %s failed; retrying next tick", event_id)
            finally:
                db.session.remove()
        if failed:
            self.requeue(failed)

    def flush_event(self, event_id: int, marks: Marks) -> None:
        """Load the marked rows at their current values and emit each room its update."""
        from .fanout import updates

        sends = updates(event_id, marks.question_ids, marks.event_changed, marks.programme)
        # end the read before writing to thousands of sockets: a broadcast yields to other
        # greenlets, and a database connection held across it is one a vote would wait for
        db.session.rollback()
        if sends is None:  # the event is gone
            return
        heard = [self.emit("update", payload, room) for payload, room in sends]
        self.note_receivers(event_id, marks, None if None in heard else min(heard))

    def emit(self, name: str, payload: dict, room: str) -> int | None:
        """Emit to a room of every process; return how many processes heard it.

        None: only this process's clients got it (the message queue is down or failed the publish;
        python-socketio emits to local clients first either way).
        """
        if self.presence_store is None:
            socketio.emit(name, payload, to=room)
            return 1
        if self.queue_down:
            socketio.emit(name, payload, to=room, ignore_queue=True)
            return None
        HEARD.count = None  # CountingRedisManager sets it when the publish reaches Redis
        socketio.emit(name, payload, to=room)
        heard = HEARD.count
        if heard is None:
            self.queue_lost()
        return heard

    def queue_lost(self) -> None:
        """The message queue failed: flush to this process's clients only until it answers."""
        with self.lock:
            if self.queue_down:
                return
            self.queue_down = True
        log.error("the message queue is unavailable; holding updates until it is back")
        socketio.start_background_task(self.watch_queue)

    def watch_queue(self) -> None:
        """Try the queue every QUEUE_RECHECK_S until it answers (off the ticker: against a Redis
        that hangs, each try waits its timeout)."""
        while True:
            socketio.sleep(QUEUE_RECHECK_S)
            try:
                self.presence_store.listeners(socketio.server.manager.channel)
                break
            except Exception:
                continue
        log.warning("the message queue is back; holding updates until every process listens")
        self.queue_down = False

    def note_receivers(self, event_id: int, marks: Marks, heard: int | None) -> None:
        """Hold marks heard by fewer processes than before; send the held ones once all listen."""
        if self.presence_store is None:
            return
        with self.lock:
            missed = heard is None or not self.receivers.heard_by(heard, time.monotonic())
            if missed:
                self.held.setdefault(event_id, Marks()).add(marks)
            else:
                held, self.held = self.held, {}
        if missed:
            self.ensure_ticker()  # it re-sends them
            return
        if held:
            log.warning("every process listens again; re-sending %d held event(s)", len(held))
            self.requeue(held)

    def release_held(self) -> None:
        """Re-send held marks once every process that listened before listens again."""
        if not self.held or self.queue_down:
            return
        try:
            count = self.presence_store.listeners(socketio.server.manager.channel)
        except Exception:  # the queue is down again: keep holding
            self.queue_lost()
            return
        with self.lock:
            if not self.receivers.heard_by(count, time.monotonic()):
                return
            held, self.held = self.held, {}
        log.warning("every process listens again; re-sending %d held event(s)", len(held))
        self.requeue(held)


def init_app(app: Flask) -> None:
    """Attach a publisher to the app, told of every change the domain commits."""
    from .domain.core import on_commit  # here: the domain's modules import the app's others

    publisher = app.extensions["qa_publisher"] = Publisher(app)
    on_commit(
        app,
        lambda change: publisher.publish(
            change.event_id, change.question_ids, change.event_changed, change.programme_changed
        ),
    )


def presence_changed(event_id: int) -> None:
    """A socket joined or left an event."""
    current_app.extensions["qa_publisher"].presence_changed(event_id)


def moderator_joined(event_id: int, sid: str, seat_id: int | None, name: str) -> None:
    """A moderator's socket joined: it counts in `moderating` until it leaves."""
    current_app.extensions["qa_publisher"].people.joined(event_id, sid, seat_id, name)


def moderator_left(event_id: int, sid: str) -> None:
    """A moderator's socket left."""
    current_app.extensions["qa_publisher"].people.left(event_id, sid)


def tell_moderators(event_id: int, name: str, payload: dict, skip_sid: str | None = None) -> None:
    """Emit an ephemeral event (nothing stored, nothing held if lost) to the moderators of every
    process but one socket (the sender's)."""
    local = current_app.extensions["qa_publisher"].queue_down
    socketio.emit(name, payload, to=moderator_room(event_id), skip_sid=skip_sid, ignore_queue=local)
