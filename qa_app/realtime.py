"""Rooms, publishing and the ticker: changes are marked after commit and flushed as `update`."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import select

from .extensions import db, socketio

log = logging.getLogger(__name__)


def audience_room(event_id: int) -> str:
    """The room of the audience and screens of an event."""
    return f"event:{event_id}"


def moderator_room(event_id: int) -> str:
    """The room of the moderators of an event."""
    return f"event:{event_id}:mod"


def participant_room(participant_id: int) -> str:
    """The room of one participant's sockets (its own hidden questions go there)."""
    return f"participant:{participant_id}"


@dataclass
class Marks:
    """What changed in one event since the last flush."""

    question_ids: set[int] = field(default_factory=set)
    event_changed: bool = False


class Publisher:
    """Collects marks after commit and flushes them once per tick (or at once when tick is 0)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.tick = app.config["QA_TICK_MS"] / 1000
        self.marks: dict[int, Marks] = {}
        self.presence: set[int] = set()
        self.lock = threading.Lock()
        self.ticker_started = False

    def publish(self, event_id: int, question_ids: set[int], event_changed: bool) -> None:
        """Mark rows as changed; they reach every room at the next tick."""
        if not question_ids and not event_changed:
            return
        if self.tick <= 0:
            self.flush_event(event_id, Marks(set(question_ids), event_changed))
            return
        with self.lock:
            marks = self.marks.setdefault(event_id, Marks())
            marks.question_ids |= question_ids
            marks.event_changed |= event_changed
            if not self.ticker_started:
                self.ticker_started = True
                socketio.start_background_task(self.run)

    def presence_changed(self, event_id: int) -> None:
        """Someone connected or left: moderators hear the new count at the next tick."""
        if self.tick <= 0:
            emit_presence(event_id)
            return
        with self.lock:
            self.presence.add(event_id)
            if not self.ticker_started:
                self.ticker_started = True
                socketio.start_background_task(self.run)

    def run(self) -> None:
        """The ticker: flush the marks every tick, forever."""
        while True:
            socketio.sleep(self.tick)
            try:
                self.flush()
            except Exception:  # a failed tick must not stop the ticker
                log.exception("flushing updates failed")

    def flush(self) -> None:
        """Send one `update` per room for every event with marks."""
        with self.lock:
            marks, self.marks = self.marks, {}
            presence, self.presence = self.presence, set()
        for event_id in presence:
            emit_presence(event_id)
        if not marks:
            return
        with self.app.app_context():
            try:
                for event_id, event_marks in marks.items():
                    self.flush_event(event_id, event_marks)
            finally:
                db.session.remove()

    def flush_event(self, event_id: int, marks: Marks) -> None:
        """Load the marked rows at their current values and emit them to each room."""
        from .domain.views import audience_view, event_view, question_view
        from .models import Event, Question

        event = db.session.get(Event, event_id, populate_existing=True)
        rows = (
            list(
                db.session.scalars(
                    select(Question)
                    .where(Question.id.in_(marks.question_ids))
                    .execution_options(populate_existing=True)
                )
            )
            if marks.question_ids
            else []
        )
        base = {"version": event.version}
        if marks.event_changed:
            base["event"] = event_view(event)
        moderators = [question_view(q) for q in rows]
        audience = [v for v in (audience_view(q, None) for q in rows) if v is not None]
        emit("update", base | {"questions": moderators}, moderator_room(event_id))
        if audience or marks.event_changed:
            emit("update", base | {"questions": audience}, audience_room(event_id))
        for question in rows:
            if question.participant_id and question.status not in ("live", "answered"):
                own = audience_view(question, question.participant_id)
                emit(
                    "update", base | {"questions": [own]}, participant_room(question.participant_id)
                )


def emit(name: str, payload: dict, room: str) -> None:
    """Emit to a room of every process (through the message queue when there is one)."""
    socketio.emit(name, payload, to=room)


def connected(room: str) -> int:
    """How many sockets of this process are in a room."""
    rooms = socketio.server.manager.rooms.get("/", {})
    return len(rooms.get(room, ()))


def emit_presence(event_id: int) -> None:
    """Tell the moderators how many audience devices and screens, and moderators, are connected."""
    payload = {
        "audience": connected(audience_room(event_id)),
        "moderators": connected(moderator_room(event_id)),
    }
    emit("presence", payload, moderator_room(event_id))


def init_app(app: Flask) -> None:
    """Attach a publisher to the app."""
    app.extensions["qa_publisher"] = Publisher(app)


def publish(event_id: int, question_ids: set[int], event_changed: bool = False) -> None:
    """Publish committed changes of an event (called by domain functions after commit)."""
    current_app.extensions["qa_publisher"].publish(event_id, question_ids, event_changed)


def presence_changed(event_id: int) -> None:
    """A socket joined or left an event."""
    current_app.extensions["qa_publisher"].presence_changed(event_id)
