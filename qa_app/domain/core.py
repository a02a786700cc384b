"""The one way to change an event: lock it, bump its version, commit, then tell the listeners.

The domain does not know who listens: the real-time layer subscribes with `on_commit` when the
app is made (qa_app/realtime.py) and turns each committed Change into broadcasts.

An archived event is read-only: change() refuses it (409 `conflict`, reason "archived") before
anything is written, so every action through it (asking, voting, moderating, settings...) is
refused alike; only unarchiving passes `archived_ok`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from flask import Flask, current_app
from sqlalchemy import Row, text

from .. import storage
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Event, Question

# Plain SQL, built once: the lock is taken by every change, and building an ORM statement costs
# more CPU than running it.
LOCK = text(
    "UPDATE events SET version = version + 1 WHERE id = :event_id RETURNING version, archived_at"
)
ARCHIVED_MESSAGE = "This event is archived: it is read-only."


def archived() -> Conflict:
    """The refusal of any change to an archived event."""
    return Conflict(ARCHIVED_MESSAGE, details={"reason": "archived"})


@dataclass
class Change:
    """What one transaction changed: stamped with the new version, published after commit."""

    event_id: int
    version: int
    question_ids: set[int] = field(default_factory=set)
    event_changed: bool = False
    programme_changed: bool = False  # the issues or speakers changed: `update` carries them

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

    def touch_programme(self) -> None:
        """Stamp the event's programme (issues, speakers) as changed in this version."""
        self.touch_event()
        self.programme_changed = True


LISTENERS = "qa_on_commit"  # app.extensions key: the functions told of each committed Change


def on_commit(app: Flask, listener: Callable[[Change], None]) -> None:
    """Have listener(change) called after each change of this app's events commits."""
    app.extensions.setdefault(LISTENERS, []).append(listener)


@contextmanager
def change(event_id: int, archived_ok: bool = False) -> Iterator[Change]:
    """Serialise writers on the event row, yield the Change, commit, then tell the listeners
    (an archived event is refused unless archived_ok)."""
    with storage.writing():  # commits, or rolls back on any exception
        current, _ = lock(event_id, archived_ok=archived_ok)
        yield current
    publish(current)


def lock(
    event_id: int, statement=LOCK, params: dict | None = None, archived_ok: bool = False
) -> tuple[Change, Row]:
    """Inside storage.writing(): take the event row's lock, held until the transaction ends,
    and the event's next version. statement is LOCK or one like it returning more of the same
    row (votes.VOTE_LOCK); its row is returned with the Change.

    Everything a transaction does after this waits for, and keeps waiting, every other writer
    of the event (on PostgreSQL, across processes): what only reads, and refusals that need no
    lock, go before it (as a vote's checks do)."""
    locked = db.session.execute(statement, {"event_id": event_id} | (params or {})).one_or_none()
    if locked is None:
        raise NotFound("This event does not exist.", details={"what": "event"})
    if locked.archived_at is not None and not archived_ok:
        raise archived()
    return Change(event_id=event_id, version=locked.version), locked


def publish(current: Change) -> None:
    """Tell the listeners of a committed change (after storage.writing() has committed it)."""
    for listener in current_app.extensions.get(LISTENERS, ()):
        listener(current)
