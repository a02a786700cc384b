"""The full export of an event, and its import into a new event (on this server or another).

The export is one JSON document (`FORMAT`, docs/event-format.md): the event file's fields (so
`qa-app create-event` reads it like any event file), then the event's blocklist and state, its
participants, questions, votes and moderation log. Nothing in it opens the event: participants
are references ("p1", ...) with their names, never their tokens; the log names seats, never
their keys. Questions, participants and actions are named by references the file declares; issues
and speakers by their place in the file's lists ("i1", "s1"). Ids inside the log's `detail` are
written as the same references, and read back into the new event's ids.

The import is create_event with the history added in the same transaction, with new ids, a new
join code and a new moderator key. The log's undo data is not carried: an imported action
cannot be undone (its undo window has long passed anyway).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from .. import blocklist
from ..auth import Actor, digest, new_participant_token, require_moderator
from ..extensions import db
from ..models import (
    Event,
    ModerationAction,
    Participant,
    Question,
    Speaker,
    Vote,
    utcnow,
)
from ..schemas import EventFile
from ..timezones import zone
from .events import create_event
from .views import utc_iso

FORMAT = 1  # the value of "qa_app_event": a reader refuses a version it does not know

# What the ids inside an action's `detail` name, by key (in every action): see questions.py,
# events.py, bans.py, screen.py, seats.py and undo.py for what each action records.
ID_KEYS = {
    "question_id": "question",
    "into": "question",
    "merged_into": "question",
    "merged": "question",
    "dismissed": "question",
    "question_ids": "question",
    "issue_id": "issue",
    "addressed_to": "speaker",
    "speaker_id": "speaker",
    "undid": "action",
}
WAS_KEYS = {"show": "question", "set_issue": "issue"}  # what "was" names in these actions
DROPPED_KEYS = {"seat_id", "old_seat_id"}  # seats are not exported (their names are)

Maps = dict[str, dict]


def translate(action: str, detail: object, maps: Maps) -> object:
    """An action's detail with the ids it names mapped through maps (kind -> {old: new}); an
    id the map lacks becomes null. The same walk writes ids as references and reads them back."""
    if not isinstance(detail, dict):
        return detail
    result = {}
    for key, value in detail.items():
        kind = ID_KEYS.get(key) or (WAS_KEYS.get(action) if key == "was" else None)
        if key in DROPPED_KEYS:
            continue
        if kind is not None and not isinstance(value, dict):
            lookup = maps[kind].get
            value = [lookup(v) for v in value] if isinstance(value, list) else lookup(value)
        elif isinstance(value, dict):
            value = translate(action, value, maps)
        result[key] = value
    return result


# -------------------------------------------------------------------------------------- export


def export_event(actor: Actor) -> dict:
    """The whole event as one document (organiser or moderator): programme, settings, state,
    participants, questions, votes and the moderation log."""
    require_moderator(actor)
    event = db.session.get(Event, actor.event_id)
    speakers = sorted(event.speakers, key=lambda speaker: speaker.role != "moderator")
    maps: Maps = {
        "issue": {issue.id: f"i{n}" for n, issue in enumerate(event.issues, start=1)},
        "speaker": {speaker.id: f"s{n}" for n, speaker in enumerate(speakers, start=1)},
    }
    participants = _rows(Participant, event.id, Participant.id)
    questions = _rows(Question, event.id, Question.id)
    actions = _rows(ModerationAction, event.id, ModerationAction.id)
    maps["participant"] = {p.id: f"p{n}" for n, p in enumerate(participants, start=1)}
    maps["question"] = {q.id: f"q{n}" for n, q in enumerate(questions, start=1)}
    maps["action"] = {a.id: f"a{n}" for n, a in enumerate(actions, start=1)}
    return {
        "qa_app_event": FORMAT,
        "exported_at": utc_iso(utcnow()),
        **_programme(event, speakers),
        "blocklist": {
            "phrases": list(blocklist.split_phrases(event.blocklist)),
            "builtin": list(blocklist.split_builtin(event.builtin_blocklists)),
        },
        "state": {
            "current_issue": maps["issue"].get(event.current_issue_id),
            "on_screen": maps["question"].get(event.on_screen_question_id),
            "screen_mode": event.screen_mode,
            "clock_on": event.clock_on,
            "extra_minutes": [issue.extra_minutes for issue in event.issues],
        },
        "participants": [_participant(p, maps) for p in participants],
        "questions": [_question(q, maps) for q in questions],
        "votes": _votes(event.id, maps),
        "actions": [_action(a, maps) for a in actions],
    }


def _rows(model, event_id: int, order) -> list:
    """The event's rows of a model, in id order."""
    return list(db.session.scalars(select(model).filter_by(event_id=event_id).order_by(order)))


def _programme(event: Event, speakers: list[Speaker]) -> dict:
    """The event file's fields of an event (docs/event-format.md)."""
    return {
        "title": event.title,
        "time_zone": event.time_zone,
        "starts_at": event.starts_at.isoformat() if event.starts_at else None,
        "ends_at": event.ends_at.isoformat() if event.ends_at else None,
        "venue": event.venue,
        "description": event.description,
        "language": event.language,
        "issues": [issue.title for issue in event.issues],
        "speakers": [
            {"name": s.name, "role": s.role, "affiliation": s.affiliation} for s in speakers
        ],
        "settings": event.settings,
    }


def _participant(participant: Participant, maps: Maps) -> dict:
    """A participant as a reference with its name and ban; never its token."""
    return {
        "ref": maps["participant"][participant.id],
        "display_name": participant.display_name,
        "banned": participant.banned,
        "banned_at": utc_iso(participant.banned_at),
        "joined_at": utc_iso(participant.created_at),
    }


def _question(question: Question, maps: Maps) -> dict:
    """A question with its issue, asker, addressee and merge target as references."""
    return {
        "ref": maps["question"][question.id],
        "issue": maps["issue"].get(question.issue_id),
        "participant": maps["participant"].get(question.participant_id),
        "text": question.text,
        "author_name": question.author_name,
        "addressed_to": maps["speaker"].get(question.addressed_to),
        "status": question.status,
        "merged_into": maps["question"].get(question.merged_into),
        "similar_to": [
            maps["question"][i] for i in question.similar_to or [] if i in maps["question"]
        ],
        "held_reason": question.held_reason,
        "was_public": question.was_public,
        "created_at": utc_iso(question.created_at),
        "answered_at": utc_iso(question.answered_at),
    }


def _votes(event_id: int, maps: Maps) -> list[dict]:
    """Every vote: who (a reference), for which question, when."""
    query = (
        select(Vote.participant_id, Vote.question_id, Vote.created_at)
        .join(Question, Question.id == Vote.question_id)
        .where(Question.event_id == event_id)
        .order_by(Vote.question_id, Vote.participant_id)
    )
    return [
        {
            "participant": maps["participant"][participant_id],
            "question": maps["question"][question_id],
            "at": utc_iso(created_at),
        }
        for participant_id, question_id, created_at in db.session.execute(query)
    ]


def _action(action: ModerationAction, maps: Maps) -> dict:
    """A logged action: the seat's name, what it did, to which question, when."""
    return {
        "ref": maps["action"][action.id],
        "at": utc_iso(action.at),
        "who": action.who,
        "action": action.action,
        "question": maps["question"].get(action.question_id),
        "detail": translate(action.action, action.detail, maps),
        "undone_at": utc_iso(action.undone_at),
        "undone_by": maps["action"].get(action.undone_by),
    }


def dumps(document: dict) -> str:
    """The export as text: UTF-8 JSON, keys in the document's order, one record a line."""
    lists = ("participants", "questions", "votes", "actions")
    head = {key: value for key, value in document.items() if key not in lists}
    text = json.dumps(head, ensure_ascii=False, indent=2)[:-2]
    for key in lists:
        rows = ",\n    ".join(json.dumps(row, ensure_ascii=False) for row in document[key])
        text += f',\n  "{key}": [' + (f"\n    {rows}\n  ]" if rows else "]")
    return text + "\n}\n"


# -------------------------------------------------------------------------------------- import


def import_event(data: EventFile) -> tuple[Event, str]:
    """Create a new event from an event file, with the history of a full export if it has one
    (new ids, join code and moderator key), in one transaction; return it and its key."""
    return create_event(data, _history(data) if _has_history(data) else None)


def _has_history(data: EventFile) -> bool:
    """Whether the file carries more than the programme."""
    return any(data.history.values()) or data.blocklist is not None or data.state is not None


def _history(data: EventFile) -> Callable[[Event], None]:
    """What adds the file's history to the new event (inside create_event's transaction)."""

    def add(event: Event) -> None:
        moment = _moments(data.time_zone)
        maps: Maps = {
            "issue": {f"i{n}": issue.id for n, issue in enumerate(event.issues, start=1)},
            "speaker": {f"s{n}": s.id for n, s in enumerate(event.speakers, start=1)},
        }
        maps["participant"] = _add_participants(event, data, moment)
        maps["question"] = _add_questions(event, data, maps, moment)
        _add_votes(data, maps, moment)
        maps["action"] = _add_actions(event, data, maps, moment)
        _set_state(event, data, maps)

    return add


def _moments(time_zone: str | None) -> Callable[[datetime | None], datetime | None]:
    """How a time of the history is stored: in UTC, naive; a naive one is the venue's clock."""
    venue = zone(time_zone)

    def stored(moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=venue)
        return moment.astimezone(UTC).replace(tzinfo=None)

    return stored


def _insert(model, rows: list[dict]) -> list[int]:
    """Insert rows in one statement per batch; their new ids, in order."""
    if not rows:
        return []
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(db.session.scalars(statement, rows))


def _add_participants(event: Event, data: EventFile, moment) -> dict[str, int]:
    """The participants, each with a fresh token nobody holds (no device can act as them)."""
    now = utcnow()
    rows = [
        {
            "event_id": event.id,
            "token_hash": digest(new_participant_token()),
            "display_name": p.display_name,
            "banned": p.banned,
            "banned_at": moment(p.banned_at) or (now if p.banned else None),
            "created_at": moment(p.joined_at) or now,
        }
        for p in data.participants
    ]
    return dict(zip([p.ref for p in data.participants], _insert(Participant, rows), strict=True))


def _add_questions(event: Event, data: EventFile, maps: Maps, moment) -> dict[str, int]:
    """The questions with their vote counts; merge targets and similar ones once all have ids."""
    votes = Counter(vote.question for vote in data.votes)
    now = utcnow()
    rows = [
        {
            "event_id": event.id,
            "issue_id": maps["issue"][q.issue],
            "participant_id": maps["participant"].get(q.participant),
            "text": q.text,
            "author_name": q.author_name,
            "addressed_to": maps["speaker"].get(q.addressed_to),
            "status": q.status,
            "vote_count": votes[q.ref],
            "created_at": moment(q.created_at) or now,
            "answered_at": moment(q.answered_at),
            "was_public": q.was_public if q.was_public is not None else q.status in PUBLIC,
            "held_reason": q.held_reason,
        }
        for q in data.questions
    ]
    ids = dict(zip([q.ref for q in data.questions], _insert(Question, rows), strict=True))
    links = [
        {
            "id": ids[q.ref],
            "merged_into": ids.get(q.merged_into),
            "similar_to": [ids[ref] for ref in q.similar_to] or None,
        }
        for q in data.questions
        if q.merged_into or q.similar_to
    ]
    if links:
        db.session.execute(update(Question), links)
    return ids


PUBLIC = ("live", "answered")


def _add_votes(data: EventFile, maps: Maps, moment) -> None:
    """Every vote, in one statement."""
    now = utcnow()
    rows = [
        {
            "participant_id": maps["participant"][v.participant],
            "question_id": maps["question"][v.question],
            "created_at": moment(v.at) or now,
        }
        for v in data.votes
    ]
    if rows:
        db.session.execute(insert(Vote), rows)


def _add_actions(event: Event, data: EventFile, maps: Maps, moment) -> dict[str, int]:
    """The moderation log, without undo data; references to other actions once all have ids."""
    now = utcnow()
    rows = [
        {
            "event_id": event.id,
            "who": a.who,
            "action": a.action,
            "question_id": maps["question"].get(a.question),
            "detail": None,
            "at": moment(a.at) or now,
            "undone_at": moment(a.undone_at),
        }
        for a in data.actions
    ]
    new_ids = _insert(ModerationAction, rows)
    ids = {a.ref: i for a, i in zip(data.actions, new_ids, strict=True) if a.ref is not None}
    maps = maps | {"action": ids}
    details = [
        {
            "id": new_id,
            "detail": translate(a.action, a.detail, maps),
            "undone_by": ids.get(a.undone_by),
        }
        for a, new_id in zip(data.actions, new_ids, strict=True)
        if a.detail is not None or a.undone_by is not None
    ]
    if details:
        db.session.execute(update(ModerationAction), details)
    return ids


def _set_state(event: Event, data: EventFile, maps: Maps) -> None:
    """The blocklist, the current issue, the screen and the clock as the file left them."""
    if data.blocklist is not None:
        event.blocklist = "\n".join(dict.fromkeys(data.blocklist.phrases))
        chosen = set(data.blocklist.builtin)
        event.builtin_blocklists = ",".join(c for c in blocklist.BUILTIN_LANGUAGES if c in chosen)
    state = data.state
    if state is None:
        return
    if state.current_issue is not None:
        event.current_issue_id = maps["issue"][state.current_issue]
    event.on_screen_question_id = maps["question"].get(state.on_screen)
    event.screen_mode = state.screen_mode
    event.clock_on = state.clock_on
    for issue, minutes in zip(event.issues, state.extra_minutes, strict=False):
        issue.extra_minutes = minutes
    db.session.flush()
