"""Who sees what: the `update` each room gets for the rows and event fields changed since the
last tick (docs/protocol.md, "Versions").

Moderators get every changed question as moderators see it (with the blocklist when the event
changed); the audience room (phones and screens) gets the public ones, and a removal for one it
saw once and may no longer see; the asker's own room gets the asker's own view of a question
that is not public (pending, dismissed, withdrawn, merged), before the audience room's removal
at the same rev. After a programme edit every room also gets the full issues and speakers.
"""

from __future__ import annotations

from sqlalchemy import select

from .domain.views import (
    audience_view,
    blocklist_view,
    event_view,
    issue_view,
    moderator_view,
    speaker_view,
)
from .extensions import db
from .models import Event, Question
from .rooms import audience_room, moderator_room, participant_room


def updates(
    event_id: int, question_ids: set[int], event_changed: bool, programme: bool
) -> list[tuple[dict, str]] | None:
    """(payload, room) for each room that has something new, read at the current values in
    this session; None when the event no longer exists."""
    event = db.session.get(Event, event_id, populate_existing=True)
    if event is None:
        return None
    rows = (
        list(
            db.session.scalars(
                select(Question)
                .where(Question.id.in_(question_ids))
                .execution_options(populate_existing=True)
            )
        )
        if question_ids
        else []
    )
    base = {"version": event.version}
    if event_changed:
        base["event"] = event_view(event)
    if programme:  # after a programme edit: the full lists, which clients replace
        base["issues"] = [issue_view(issue) for issue in event.issues]
        base["speakers"] = [speaker_view(speaker) for speaker in event.speakers]
    moderators = [moderator_view(q) for q in rows]
    audience = [v for v in (audience_view(q, None) for q in rows) if v is not None]
    # an author's own view first: the audience room carries a removal at the same rev, and a
    # client keeps the first row it gets at a rev (one flush reaches a socket in order)
    sends = [
        (base | {"questions": [audience_view(q, author)]}, participant_room(author))
        for q in rows
        if (author := q.participant_id) and q.status not in ("live", "answered")
    ]
    listed = {"blocklist": blocklist_view(event)} if event_changed else {}
    sends.append((base | listed | {"questions": moderators}, moderator_room(event_id)))
    if audience or event_changed:
        sends.append((base | {"questions": audience}, audience_room(event_id)))
    return sends
