"""The organiser's events: their status and numbers, programme edits, archive and delete.

A programme edit goes through core.change like every other change, and marks the programme as
changed: the `update` that follows carries the full lists of issues and speakers, so every phone,
console and screen shows the new titles at once. The numbers of the admin list are the report's
headline (domain/report.py, docs/report.md), from two grouped queries for all the listed events
at once, never one query per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update

from .. import revocation, storage
from ..auth import Actor
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import (
    Event,
    Issue,
    ModerationAction,
    ModeratorSeat,
    Participant,
    Question,
    Speaker,
    Vote,
    utcnow,
)
from ..schemas import ArchiveIn, DeleteEventIn, ProgrammeIn, ProgrammeIssueIn, ProgrammeSpeakerIn
from ..timezones import to_venue, venue_now
from . import audit, report
from .core import change
from .views import iso

STATUSES = ("upcoming", "live", "ended", "archived")
FIELDS = ("title", "starts_at", "ends_at", "time_zone", "venue", "description")


def require_organiser(actor: Actor) -> None:
    """Refuse anyone but the logged-in organiser."""
    if actor.role != "admin":
        raise Forbidden("Only the organiser may do this; log in at /admin.")


# -- status and numbers ---------------------------------------------------------------------------


def status(event: Event, now: datetime | None = None) -> str:
    """upcoming, live, ended or archived. `now`: a naive time is the venue's wall clock, an aware
    one is converted to it; None reads the venue's clock. Live from starts_at to ends_at, both
    included; without times, live until archived."""
    if event.archived:
        return "archived"
    if now is None:
        now = venue_now(event.time_zone)
    now = to_venue(now, event.time_zone)
    if event.starts_at is not None and now < event.starts_at:
        return "upcoming"
    if event.ends_at is not None and now > event.ends_at:
        return "ended"
    return "live"


@dataclass(frozen=True)
class Numbers:
    """An event's numbers in the admin list: the report's headline numbers (docs/report.md)."""

    participants: int = 0  # devices that joined
    questions: int = 0  # asked: live, answered, merged, pending (not dismissed nor withdrawn)
    votes: int = 0  # standing on published questions (a merged question's moved to its target)


def numbers(event_ids: list[int]) -> dict[int, Numbers]:
    """The numbers of each event, counted by the report's own function (report.headlines), in
    grouped queries for all of them."""
    return {
        event_id: Numbers(headline["participants"], headline["questions"], headline["votes"])
        for event_id, headline in report.headlines(event_ids).items()
    }


def find_events(search: str = "", wanted: str = "") -> list[Event]:
    """The events whose title, venue or code contains `search` (any case, any alphabet: matched
    here, since SQLite's lower() knows only ASCII), newest first, with the status `wanted` ("":
    every status but archived; "all": every one)."""
    query = select(Event).order_by(Event.id.desc())
    if wanted == "archived":
        query = query.where(Event.archived_at.is_not(None))
    elif wanted != "all":
        query = query.where(Event.archived_at.is_(None))
    events = list(db.session.scalars(query))
    needle = search.strip()[:100].casefold()
    if needle:
        events = [
            event
            for event in events
            if any(
                needle in (text or "").casefold() for text in (event.title, event.venue, event.code)
            )
        ]
    if wanted in ("upcoming", "live", "ended"):
        events = [event for event in events if status(event) == wanted]
    return events


# -- editing the programme ------------------------------------------------------------------------


def edit_programme(actor: Actor, data: ProgrammeIn) -> Event:
    """Change an event's title, times, zone, venue, description, issues and speakers."""
    require_organiser(actor)
    given = data.model_fields_set
    if not given:
        raise Invalid("Name at least one thing to change.")
    with change(actor.event_id) as current:
        event = current.event
        was = {name: _field(event, name) for name in FIELDS}
        _set_fields(event, data, given)
        changed = {name: _field(event, name) for name in FIELDS if _field(event, name) != was[name]}
        detail: dict = {"changed": changed, "was": {name: was[name] for name in changed}}
        if data.issues is not None:
            detail["issues"] = _set_issues(event, data.issues)
        if data.speakers is not None:
            detail["speakers"] = _set_speakers(event, data.speakers)
        db.session.flush()
        db.session.expire(event, ["issues", "speakers"])
        current.touch_programme()
        audit.record(current, actor, "edit_programme", detail=detail)
    return current.event


def _field(event: Event, name: str) -> object:
    """A field's value as the audit log keeps it (times as ISO text)."""
    value = getattr(event, name)
    return iso(value) if isinstance(value, datetime) else value


def _set_fields(event: Event, data: ProgrammeIn, given: set[str]) -> None:
    """Set the plain fields that were given; times are the venue's wall-clock times."""
    if "time_zone" in given:
        event.time_zone = data.time_zone
    for name in ("title", "venue", "description"):
        if name in given:
            setattr(event, name, getattr(data, name) or None)
    for name in ("starts_at", "ends_at"):
        if name in given:
            moment = getattr(data, name)
            setattr(event, name, to_venue(moment, event.time_zone) if moment else None)
    if event.starts_at and event.ends_at and event.ends_at < event.starts_at:
        raise Invalid(
            "The end time is before the start time.",
            details=[{"field": "ends_at", "problem": "before the start", "type": "ends_before"}],
        )


def _kept(event_id: int, model, wanted: list) -> tuple[dict, list]:
    """The rows named by id in wanted (each must be the event's) and the rows left out."""
    rows = {row.id: row for row in db.session.scalars(select(model).filter_by(event_id=event_id))}
    what = "issue" if model is Issue else "speaker"
    for item in wanted:
        if item.id is not None and item.id not in rows:
            raise NotFound(f"This event has no {what} {item.id}.", details={"what": what})
    named = {item.id for item in wanted}
    return rows, [row for row_id, row in rows.items() if row_id not in named]


def _set_issues(event: Event, wanted: list[ProgrammeIssueIn]) -> dict:
    """Add, rename, reorder and remove issues (only empty ones); the first becomes current when
    the current one goes. Returns what changed, for the log."""
    rows, removed = _kept(event.id, Issue, wanted)
    busy = [issue for issue in removed if _has(Question.issue_id, issue.id)]
    if busy:
        raise Conflict(
            f"The issue {busy[0].title!r} has questions: move them to another issue first.",
            details={"reason": "issue_has_questions", "issue_id": busy[0].id},
        )
    done: dict = {"added": [], "renamed": [], "removed": [i.title for i in removed]}
    order_before = [row.id for row in sorted(rows.values(), key=lambda r: r.position)]
    for issue in removed:
        db.session.delete(issue)
    db.session.flush()
    for position, item in enumerate(wanted):
        issue = rows.get(item.id) if item.id else None
        if issue is None:
            issue = Issue(event_id=event.id, title=item.title, position=position)
            db.session.add(issue)
            done["added"].append(item.title)
        elif issue.title != item.title:
            done["renamed"].append({"id": issue.id, "was": issue.title, "title": item.title})
            issue.title = item.title
        issue.position = position
    db.session.flush()
    order_after = [item.id for item in wanted if item.id]
    done["reordered"] = order_after != [i for i in order_before if i in order_after]
    if event.current_issue_id is None or event.current_issue_id in {i.id for i in removed}:
        first = wanted[0].id or db.session.scalar(
            select(Issue.id).filter_by(event_id=event.id, position=0)
        )
        event.current_issue_id = first
    return done


def _set_speakers(event: Event, wanted: list[ProgrammeSpeakerIn]) -> dict:
    """Add, edit, reorder and remove speakers (not while questions are addressed to one)."""
    rows, removed = _kept(event.id, Speaker, wanted)
    busy = [speaker for speaker in removed if _has(Question.addressed_to, speaker.id)]
    if busy:
        raise Conflict(
            f"Questions are addressed to {busy[0].name}: readdress them before removing them.",
            details={"reason": "speaker_has_questions", "speaker_id": busy[0].id},
        )
    done: dict = {"added": [], "edited": [], "removed": [s.name for s in removed]}
    for speaker in removed:
        db.session.delete(speaker)
    for position, item in enumerate(wanted):
        values = item.model_dump(exclude={"id"})
        speaker = rows.get(item.id) if item.id else None
        if speaker is None:
            db.session.add(Speaker(event_id=event.id, position=position, **values))
            done["added"].append(item.name)
            continue
        if any(getattr(speaker, name) != value for name, value in values.items()):
            done["edited"].append({"id": speaker.id, "name": item.name})
        for name, value in values.items():
            setattr(speaker, name, value)
        speaker.position = position
    return done


def _has(column, row_id: int) -> bool:
    """Whether any question points at row_id through column."""
    return db.session.scalar(select(func.count()).where(column == row_id)) > 0


# -- archive and delete ---------------------------------------------------------------------------


def archive(actor: Actor, data: ArchiveIn) -> Event:
    """Archive the event (read-only, hidden from the default list) or bring it back."""
    require_organiser(actor)
    with change(actor.event_id, archived_ok=True) as current:
        event = current.event
        if event.archived == data.archived:
            return event  # already so: nothing to log
        event.archived_at = utcnow() if data.archived else None
        current.touch_event()
        audit.record(current, actor, "archive" if data.archived else "unarchive")
    return current.event


def delete_event(actor: Actor, data: DeleteEventIn) -> None:
    """Delete the event and every row of it, once the organiser typed its code; its open
    sockets are cut off."""
    require_organiser(actor)
    with storage.writing():
        event = db.session.get(Event, actor.event_id)
        if event is None:
            raise NotFound("This event does not exist.", details={"what": "event"})
        if data.confirm.strip().upper() != event.code.upper():
            raise Invalid(
                f"Type the event's code ({event.code}) to delete it.",
                details=[{"field": "confirm", "problem": "not the code", "type": "confirm"}],
            )
        _delete_rows(event.id)
    revocation.cut_off_event(actor.event_id)


def _delete_rows(event_id: int) -> None:
    """Every row of an event, children first (foreign keys are enforced)."""
    run = db.session.execute
    questions = select(Question.id).where(Question.event_id == event_id)
    run(
        update(Event)
        .where(Event.id == event_id)
        .values(current_issue_id=None, on_screen_question_id=None)
    )
    run(delete(Vote).where(Vote.question_id.in_(questions)))
    run(delete(ModerationAction).where(ModerationAction.event_id == event_id))
    run(update(Question).where(Question.event_id == event_id).values(merged_into=None))
    run(delete(Question).where(Question.event_id == event_id))
    for model in (Participant, ModeratorSeat, Issue, Speaker):
        run(delete(model).where(model.event_id == event_id))
    run(delete(Event).where(Event.id == event_id))
    db.session.expunge_all()


# -- the same programme twice ---------------------------------------------------------------------


def same_title(title: str) -> str:
    """A title as compared for duplicates: any case, any spacing."""
    return " ".join(title.split()).casefold()


def duplicates(title: str, starts_at: datetime | None, time_zone: str | None = None) -> list[dict]:
    """The existing events with this title (any case or spacing) and this start (a time with an
    offset is read in time_zone, as create_event stores it): {code, title, starts_at}."""
    start = to_venue(starts_at, time_zone) if starts_at else None
    query = select(Event).where(
        Event.starts_at.is_(None) if start is None else Event.starts_at == start
    )
    wanted = same_title(title)
    return [
        {"code": event.code, "title": event.title, "starts_at": iso(event.starts_at)}
        for event in db.session.scalars(query.order_by(Event.id))
        if same_title(event.title) == wanted
    ]
