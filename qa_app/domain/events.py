"""Domain functions on an event: create, join, settings, key, current issue, screen, export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from .. import storage
from ..auth import (
    Actor,
    EventRef,
    digest,
    new_event_code,
    new_participant_token,
    require_moderator,
)
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Event, Issue, Participant, Question, Speaker, utcnow
from ..schemas import EventIn, SetIssueIn, SettingsIn, ShowIn
from . import audit, ratelimit
from .core import archived, change
from .questions import changed_entry, state_of, undo_data
from .seats import FIRST_SEAT_NAME, open_seat
from .views import utc_iso


def create_event(
    data: EventIn, history: Callable[[Event], None] | None = None
) -> tuple[Event, str]:
    """Create an event with its issues, speakers and first moderator seat (and what `history`
    adds to it, in the same transaction: domain/transfer.py); return it and the seat's key
    (shown once)."""
    if data.starts_at and data.ends_at and data.ends_at < data.starts_at:
        raise Invalid("The end time is before the start time.")
    for _attempt in range(10):
        try:
            with storage.writing():
                event = _new_event(data)
                _seat, key = open_seat(event.id, FIRST_SEAT_NAME)
                if history is not None:
                    history(event)
            return event, key
        except IntegrityError:  # join code taken (rolled back): draw another
            pass
    raise Conflict("Could not find a free join code; try again.")


def _new_event(data: EventIn) -> Event:
    """Add a new event, its issues and speakers to the session (not committed)."""
    settings = data.settings.model_dump(exclude_none=True)
    event = Event(
        code=new_event_code(),
        title=data.title,
        starts_at=data.starts_at.replace(tzinfo=None) if data.starts_at else None,
        ends_at=data.ends_at.replace(tzinfo=None) if data.ends_at else None,
        time_zone=data.time_zone,
        venue=data.venue or None,
        description=data.description or None,
        language=data.language or "en",
        **settings,
    )
    db.session.add(event)
    db.session.flush()
    for position, title in enumerate(data.issues):
        db.session.add(Issue(event_id=event.id, title=title, position=position))
    for position, speaker in enumerate(data.speakers):
        db.session.add(Speaker(event_id=event.id, position=position, **speaker.model_dump()))
    db.session.flush()
    event.current_issue_id = event.issues[0].id
    return event


def update_settings(actor: Actor, data: SettingsIn) -> Event:
    """Change the event's settings (pre-moderation, open/closed, anonymity, length limit)."""
    require_moderator(actor)
    values = data.model_dump(exclude_none=True)
    if not values:
        raise Invalid("Name at least one setting to change.")
    with change(actor.event_id) as current:
        was = {name: getattr(current.event, name) for name in values}
        for name, value in values.items():
            setattr(current.event, name, value)
        current.touch_event()
        audit.record(current, actor, "settings", detail={"changed": values, "was": was})
    return current.event


@dataclass(frozen=True)
class Joined:
    """A new participant: its id and its token (shown once)."""

    participant_id: int
    token: str


# every column given (no defaults are filled in for a statement run as it is by fetch_one)
ADD_PARTICIPANT = (
    insert(Participant)
    .values(
        event_id=bindparam("event_id"),
        token_hash=bindparam("token_hash"),
        display_name=bindparam("display_name"),
        banned=bindparam("banned"),
        created_at=bindparam("created_at"),
    )
    .returning(Participant.id)
)


def join(event: Event | EventRef, display_name: str | None, client_key: str) -> Joined:
    """Register a new audience device for event; return its id and token (shown once)."""
    if event.archived:
        raise archived()
    ratelimit.hit("join", client_key)
    token = new_participant_token()
    values = {
        "event_id": event.id,
        "token_hash": digest(token),
        "display_name": display_name,
        "banned": False,
        "created_at": utcnow(),
    }
    with storage.writing():
        # one INSERT on the DBAPI cursor, no ORM object: a hall joining at once makes
        # thousands a minute
        (participant_id,) = storage.fetch_one(ADD_PARTICIPANT, values)
    return Joined(participant_id, token)


def set_issue(actor: Actor, data: SetIssueIn) -> Event:
    """Make an issue the current one: phones and screen follow it."""
    require_moderator(actor)
    with change(actor.event_id) as current:
        issue = db.session.get(Issue, data.issue_id)
        if issue is None or issue.event_id != actor.event_id:
            raise NotFound("This event has no such issue.", details={"what": "issue"})
        was = current.event.current_issue_id
        current.event.current_issue_id = issue.id
        current.touch_event()
        audit.record(current, actor, "set_issue", detail={"issue_id": issue.id, "was": was})
    return current.event


@dataclass(frozen=True)
class Shown:
    """The event after `show`, and the audit log entry of the change (for undo)."""

    event: Event
    action_id: int


def show(actor: Actor, data: ShowIn) -> Shown:
    """Put a question on the screen (approving it if pending), or clear the screen."""
    require_moderator(actor)
    with change(actor.event_id) as current:
        screen, approved = current.event.on_screen_question_id, []
        if data.question_id is not None:
            question = db.session.get(Question, data.question_id)
            if question is None or question.event_id != actor.event_id:
                raise NotFound("This event has no such question.", details={"what": "question"})
            if question.status in ("dismissed", "merged", "withdrawn"):
                raise Conflict(
                    f"A {question.status} question cannot go on screen.",
                    details={"reason": "not_live"},
                )
            if question.status == "pending":
                before = state_of(question)
                question.status = "live"
                question.was_public = True
                current.touch(question)
                approved.append(changed_entry(question, before))
        current.event.on_screen_question_id = data.question_id
        current.touch_event()
        entry = audit.record(
            current,
            actor,
            "show",
            data.question_id,
            detail={"question_id": data.question_id, "was": screen, "approved": bool(approved)},
            undo=undo_data(current, approved, screen),
        )
    return Shown(current.event, entry.id)


def export_rows(actor: Actor) -> list[dict]:
    """Every question of the event with issue, author, addressee, votes, status and times."""
    require_moderator(actor)
    event = db.session.get(Event, actor.event_id)
    issues = {issue.id: issue for issue in event.issues}
    speakers = {speaker.id: speaker.name for speaker in event.speakers}
    query = select(Question).where(Question.event_id == event.id).order_by(Question.id)
    return [
        {
            "id": question.id,
            "issue_position": issues[question.issue_id].position + 1,
            "issue": issues[question.issue_id].title,
            "text": question.text,
            "author_name": question.author_name,
            "addressed_to": speakers.get(question.addressed_to),
            "votes": question.vote_count,
            "status": question.status,
            "merged_into": question.merged_into,
            "created_at": utc_iso(question.created_at),
            "answered_at": utc_iso(question.answered_at),
        }
        for question in db.session.scalars(query)
    ]
