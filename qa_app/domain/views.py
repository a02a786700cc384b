"""The objects on the wire, and what each role may see of them (snapshot and sync)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, exists, or_, select

from .. import blocklist, storage
from ..auth import Actor
from ..errors import NotFound
from ..extensions import db
from ..models import PUBLIC_STATUSES, Event, Issue, Question, Speaker, Vote


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 text for a stored time (None stays None)."""
    return moment.isoformat() if moment else None


def utc_iso(moment: datetime | None) -> str | None:
    """ISO 8601 text for a stored UTC time, marked as UTC."""
    return moment.isoformat() + "Z" if moment else None


def event_view(event: Event) -> dict:
    """The `event` object of docs/protocol.md."""
    return {
        "id": event.id,
        "code": event.code,
        "title": event.title,
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "venue": event.venue,
        "description": event.description,
        "language": event.language,
        "time_zone": event.time_zone,
        "archived": event.archived,
        "settings": event.settings,
        "current_issue_id": event.current_issue_id,
        "on_screen_question_id": event.on_screen_question_id,
        "screen_mode": event.screen_mode,
        "clock": clock_view(event),
        "rev": event.rev,
    }


def issue_slot(event: Event, issue: Issue) -> tuple[datetime, datetime] | None:
    """When an issue starts and ends by the programme: its start and end times split evenly
    over the issues, each share lengthened (or shortened) by the moderator's `extra_minutes`,
    which moves the issues after it too. None without both times (or with no time between)."""
    if not (event.starts_at and event.ends_at and event.ends_at > event.starts_at):
        return None
    issues = list(event.issues)
    if issue not in issues:
        return None
    share = (event.ends_at - event.starts_at) / len(issues)
    start = event.starts_at
    for before in issues[: issues.index(issue)]:
        start += share + timedelta(minutes=before.extra_minutes)
    return start, start + share + timedelta(minutes=issue.extra_minutes)


def clock_view(event: Event) -> dict:
    """The `clock` of the event object: whether it is on, whether the programme allows one, and
    the current issue's slot in the venue's local time (as the programme's times)."""
    current = next((i for i in event.issues if i.id == event.current_issue_id), None)
    slot = issue_slot(event, current) if current is not None else None
    return {
        "on": event.clock_on,
        "available": slot is not None,
        "issue_id": current.id if slot else None,
        "starts_at": iso(slot[0].replace(microsecond=0)) if slot else None,
        "ends_at": iso(slot[1].replace(microsecond=0)) if slot else None,
        "extra_minutes": current.extra_minutes if slot else 0,
    }


def issue_view(issue: Issue) -> dict:
    """The `issue` object."""
    return {"id": issue.id, "title": issue.title, "position": issue.position}


def speaker_view(speaker: Speaker) -> dict:
    """The `speaker` object."""
    return {
        "id": speaker.id,
        "name": speaker.name,
        "role": speaker.role,
        "affiliation": speaker.affiliation,
    }


def question_view(question: Question) -> dict:
    """The `question` object everyone may see (moderator_view adds moderators' fields)."""
    return {
        "id": question.id,
        "issue_id": question.issue_id,
        "text": question.text,
        "author_name": question.author_name,
        "addressed_to": question.addressed_to,
        "status": question.status,
        "merged_into": question.merged_into,
        "votes": question.vote_count,
        "created_at": utc_iso(question.created_at),
        "answered_at": utc_iso(question.answered_at),
        "rev": question.rev,
    }


def asker_handle(participant_id: int | None) -> str | None:
    """An opaque name for the device behind questions: the same for all of one participant's
    questions, telling moderators nothing else (they never see participant ids)."""
    if participant_id is None:
        return None
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"asker:%d" % participant_id, hashlib.sha256).hexdigest()[:12]


def moderator_view(question: Question) -> dict:
    """The `question` object as moderators see it: with the asker's handle, why it was held for
    review and the questions it may duplicate (the audience never gets these)."""
    return question_view(question) | {
        "asker": asker_handle(question.participant_id),
        "held_reason": question.held_reason,
        "similar_to": question.similar_to or [],
    }


def blocklist_view(event: Event) -> dict:
    """The `blocklist` object (moderators only): the event's phrases and built-in lists on."""
    return {
        "phrases": list(blocklist.split_phrases(event.blocklist)),
        "builtin": list(blocklist.split_builtin(event.builtin_blocklists)),
    }


def removal_view(question: Question) -> dict:
    """What the audience gets for a question it saw once and may no longer see."""
    return {"id": question.id, "issue_id": question.issue_id, "rev": question.rev, "removed": True}


def audience_view(question: Question, participant_id: int | None) -> dict | None:
    """A question as a participant or screen may see it; None where it must not see it."""
    if question.participant_id is not None and question.participant_id == participant_id:
        return question_view(question) | {"mine": True}
    if question.status in PUBLIC_STATUSES:
        view = question_view(question)
        if participant_id is not None:
            view["mine"] = False
        return view
    if question.was_public:
        return removal_view(question)
    return None


def view_for(actor: Actor, question: Question) -> dict | None:
    """A question as actor may see it."""
    if actor.is_moderator:
        return moderator_view(question)
    return audience_view(question, actor.participant_id)


def voted_ids(participant_id: int, question_ids: list[int]) -> set[int]:
    """Which of these questions the participant has voted for."""
    if not question_ids:
        return set()
    rows = db.session.scalars(
        select(Vote.question_id).where(
            Vote.participant_id == participant_id, Vote.question_id.in_(question_ids)
        )
    )
    return set(rows)


def questions_for(actor: Actor, since: int) -> list[dict]:
    """Every question actor may see whose rev is above since (removals only if since > 0)."""
    query = select(Question).where(Question.event_id == actor.event_id, Question.rev > since)
    views = []
    for question in db.session.scalars(query.order_by(Question.id)):
        view = view_for(actor, question)
        if view is None or (since == 0 and view.get("removed")):
            continue
        views.append(view)
    if actor.participant_id is not None:
        voted = voted_ids(actor.participant_id, [v["id"] for v in views if not v.get("removed")])
        for view in views:
            if not view.get("removed"):
                view["voted"] = view["id"] in voted
    return views


def sync(actor: Actor, since: int = 0) -> dict:
    """The state actor may see, with every question changed after version since."""
    if since == 0 and not actor.is_moderator:  # a phone or screen connecting: the hall's share
        return audience_snapshot(actor.event_id, actor.participant_id)
    event = db.session.get(Event, actor.event_id, populate_existing=True)
    state = {
        "version": event.version,
        "event": event_view(event),
        "issues": [issue_view(issue) for issue in event.issues],
        "speakers": [speaker_view(speaker) for speaker in event.speakers],
        "questions": questions_for(actor, since),
    }
    if actor.is_moderator:
        state["blocklist"] = blocklist_view(event)
    return state


# one row each, run for every phone that connects (storage.fetch_one)
EVENT_VERSION = select(Event.version, Event.code).where(Event.id == bindparam("event"))
HAS_OWN = select(
    or_(
        exists().where(Question.participant_id == bindparam("participant")),
        exists().where(Vote.participant_id == bindparam("participant")),
    )
)


@dataclass(frozen=True)
class Shared:
    """What every phone and screen of an event gets alike in its snapshot at one version, as
    JSON-ready objects shared by every snapshot and never changed."""

    version: int
    event: dict
    issues: list[dict]
    speakers: list[dict]
    public: list[dict]  # the public questions, as a screen sees them
    fresh: list[dict]  # the same, as a phone that has asked and voted nothing sees them


class HallCache:
    """The Shared part of each event's snapshot, built once per event version. A hall joining
    at once takes the same version thousands of times; any change bumps the version, so an
    entry is never stale. One entry per event."""

    def __init__(self) -> None:
        # event id -> (join code, shared part); the code tells a deleted event from a new one
        # that was given its id again
        self.entries: dict[int, tuple[str, Shared]] = {}

    def get(self, event_id: int) -> Shared:
        """The shared part of the event's snapshot at its current version."""
        row = storage.fetch_one(EVENT_VERSION, {"event": event_id})
        if row is None:
            raise NotFound("This event no longer exists.", details={"what": "event"})
        entry = self.entries.get(event_id)
        if entry is not None and (entry[1].version, entry[0]) == tuple(row):
            return entry[1]
        event = db.session.get(Event, event_id, populate_existing=True)
        query = select(Question).where(
            Question.event_id == event.id, Question.status.in_(PUBLIC_STATUSES)
        )
        public = [question_view(q) for q in db.session.scalars(query.order_by(Question.id))]
        shared = Shared(
            version=event.version,
            event=event_view(event),
            issues=[issue_view(issue) for issue in event.issues],
            speakers=[speaker_view(speaker) for speaker in event.speakers],
            public=public,
            fresh=[view | {"mine": False, "voted": False} for view in public],
        )
        self.entries[event.id] = (event.code, shared)
        return shared


def hall_cache() -> HallCache:
    """This app's HallCache."""
    return current_app.extensions.setdefault("qa_hall_cache", HallCache())


def audience_snapshot(event_id: int, participant_id: int | None) -> dict:
    """The whole state a phone (participant_id) or a screen (None) may see: the hall's shared
    part, with the phone's own questions (whatever their status) and its votes laid over it.
    The same as questions_for(actor, 0) gives, in a query or two instead of a full read; a phone
    that has asked and voted nothing (every phone of a hall joining) takes the shared part as
    it is."""
    shared = hall_cache().get(event_id)
    questions = shared.public
    if participant_id is not None:
        if storage.fetch_one(HAS_OWN, {"participant": participant_id})[0]:
            questions = own_view(shared, event_id, participant_id)
        else:
            questions = shared.fresh
    return {
        "version": shared.version,
        "event": shared.event,
        "issues": shared.issues,
        "speakers": shared.speakers,
        "questions": questions,
    }


def own_view(shared: Shared, event_id: int, participant_id: int) -> list[dict]:
    """The public questions with a phone's own questions (whatever their status) and its votes
    laid over them."""
    own = {
        q.id: audience_view(q, participant_id)
        for q in db.session.scalars(
            select(Question).where(
                Question.event_id == event_id, Question.participant_id == participant_id
            )
        )
    }
    public_ids = [view["id"] for view in shared.public]
    voted = voted_ids(participant_id, public_ids + [i for i in own if i not in public_ids])
    views = {view["id"]: own.get(view["id"]) or view | {"mine": False} for view in shared.public}
    views.update(own)
    return [views[i] | {"voted": i in voted} for i in sorted(views)]


def snapshot(actor: Actor) -> dict:
    """The whole state actor may see (sent once after connecting)."""
    return sync(actor, 0)
