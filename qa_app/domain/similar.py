"""Similar questions: duplicate suggestions on arrival, and the phone's "already asked" hint.

Both read an in-process index of each event's questions (qa_app/similarity.py), prepared once per
question text and kept up to date incrementally: every call reads only the question rows whose
`rev` is above the highest rev the index has seen (one indexed query; a vote bumps a row's rev,
but an unchanged text is not prepared again). Each process keeps its own index, so several
processes behind a message queue each stay right on their own. Nothing here writes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select, text

from .. import similarity
from ..auth import BANNED_MESSAGE, Actor
from ..errors import Banned, Forbidden, NotFound
from ..extensions import db
from ..models import PUBLIC_STATUSES, Issue, Participant, Question
from ..schemas import SimilarIn
from . import ratelimit
from .views import view_for, voted_ids

#: Statuses a new question may duplicate (the moderator's suggestions): not dismissed or merged.
SUGGESTABLE = ("pending", "live", "answered")
#: How many similar questions a suggestion or a hint names at most.
LIMIT = 3
#: The phone asks only once the text has this many content words (stop words do not count).
MIN_WORDS = 3
#: Events whose index a process keeps (least recently used dropped first).
CACHED_EVENTS = 64

CHANGED = text(
    "SELECT id, issue_id, status, text, rev FROM questions"
    " WHERE event_id = :event_id AND rev > :since"
)


@dataclass
class EventIndex:
    """One event's questions as the engine sees them, up to question rev `seen`."""

    seen: int = -1
    suggestable: similarity.Index = field(default_factory=similarity.Index)
    public: similarity.Index = field(default_factory=similarity.Index)
    issue_of: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self, event_id: int) -> None:
        """Read the rows changed since the last call and file each under its status."""
        with self.lock:
            rows = db.session.execute(CHANGED, {"event_id": event_id, "since": self.seen}).all()
            for row in rows:
                self.issue_of[row.id] = row.issue_id
                prepared = None
                for index, statuses in (
                    (self.suggestable, SUGGESTABLE),
                    (self.public, PUBLIC_STATUSES),
                ):
                    if row.status in statuses:
                        prepared = index.put(row.id, row.text, prepared)
                    else:
                        index.discard(row.id)
                self.seen = max(self.seen, row.rev)


def _index_of(event_id: int) -> EventIndex:
    """This process's index of an event, brought up to date."""
    cache: OrderedDict[int, EventIndex] = current_app.extensions.setdefault(
        "qa_similar", OrderedDict()
    )
    index = cache.get(event_id)
    if index is None:
        index = cache[event_id] = EventIndex()
        while len(cache) > CACHED_EVENTS:
            cache.popitem(last=False)
    else:
        cache.move_to_end(event_id)
    index.refresh(event_id)
    return index


def suggestions(event_id: int, question_text: str) -> list[int] | None:
    """The ids of up to three questions of the event (any issue, not dismissed or merged) that a
    new question with this text may duplicate, most similar first; None when there are none.

    Read-only and cheap: `ask` calls it before its write transaction."""
    found = _index_of(event_id).suggestable.query(question_text, limit=LIMIT)
    return [key for key, _score in found] or None


def similar(actor: Actor, data: SimilarIn) -> list[dict]:
    """`similar`: up to three live or answered questions like a text being typed, as actor may
    see them (with `voted` for a participant); questions of data.issue_id first when given."""
    if actor.role == "participant":
        participant = db.session.get(Participant, actor.participant_id)
        if participant is None or participant.event_id != actor.event_id:
            raise Forbidden("Join the event as a participant first.")
        if participant.banned:
            raise Banned(BANNED_MESSAGE)
        ratelimit.hit("similar", actor.participant_id)
    elif not actor.is_moderator:
        raise Forbidden("Join the event as a participant to look for similar questions.")
    if data.issue_id is not None:
        issue = db.session.get(Issue, data.issue_id)
        if issue is None or issue.event_id != actor.event_id:
            raise NotFound("This event has no such issue.", details={"what": "issue"})
    index = _index_of(actor.event_id)
    found = index.public.query(data.text, limit=LIMIT * 4, typing=True, min_words=MIN_WORDS)
    if data.issue_id is not None:  # stable: by score within each group
        found.sort(key=lambda item: index.issue_of.get(item[0]) != data.issue_id)
    ids = [key for key, _score in found[:LIMIT]]
    if not ids:
        return []
    rows = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))}
    views = []
    for key in ids:
        question = rows.get(key)
        if question is None or question.status not in PUBLIC_STATUSES:
            continue  # changed since the index read it
        view = view_for(actor, question)
        if view is not None:
            views.append(view)
    if actor.participant_id is not None:
        voted = voted_ids(actor.participant_id, [view["id"] for view in views])
        for view in views:
            view["voted"] = view["id"] in voted
    return views
