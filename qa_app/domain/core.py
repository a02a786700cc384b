"""The one way to change an event: lock it, bump its version, commit, then publish."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import text

from .. import realtime, storage
from ..errors import NotFound
from ..extensions import db
from ..models import Event, Question

# Plain SQL, built once: the lock is taken by every change, and building an ORM statement costs
# more CPU than running it.
LOCK = text("UPDATE events SET version = version + 1 WHERE id = :event_id RETURNING version")


@dataclass
class Change:
    """What one transaction changed: stamped with the new version, published after commit."""

    event_id: int
    version: int
    question_ids: set[int] = field(default_factory=set)
    event_changed: bool = False

    @cached_property
    def event(self) -> Event:
        """The locked event, loaded at its current values on first use (a vote never needs it)."""
        return db.session.get(Event, self.event_id, populate_existing=True)

    def touch(self, question: Question) -> None:
        """Stamp a question as changed in this version."""
        question.rev = self.version
        if question.id is None:
            db.session.flush()
        self.question_ids.add(question.id)

    def touch_event(self) -> None:
        """Stamp the event's own fields as changed in this version."""
        self.event.rev = self.version
        self.event_changed = True


@contextmanager
def change(event_id: int) -> Iterator[Change]:
    """Serialise writers on the event row, yield the Change, commit, then publish it."""
    with storage.writing():  # commits, or rolls back on any exception
        version = db.session.execute(LOCK, {"event_id": event_id}).scalar_one_or_none()
        if version is None:
            raise NotFound("This event does not exist.", details={"what": "event"})
        current = Change(event_id=event_id, version=version)
        yield current
    realtime.publish(event_id, current.question_ids, event_changed=current.event_changed)
