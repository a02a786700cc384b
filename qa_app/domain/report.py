"""The report of an event: what the hall asked, per issue, per panelist, over time, and what
the panel still owes it — one plain, JSON-ready dict (docs/report.md defines every number).

Shaped for a big hall: the counts come from a handful of grouped queries (one GROUP BY over
the questions gives the headline, the issues and the panelists at once; one per minute for the
timeline), and only the questions that are listed are loaded (the top few per issue and per
addressee with a window function, the unanswered ones), as plain rows. 10,000 questions and
100,000 votes take about half a second on SQLite (`python -m qa_app.bench.report`).

What counts (statuses as in models.STATUSES):
- *published*: live or answered, the questions the hall and the panel saw; their votes are
  the report's votes, and the answered share is answered ÷ published;
- *questions*: every question the hall asked that a moderator did not dismiss and its asker
  did not withdraw: published, merged (a duplicate: counted as asked; its votes moved to the
  question it was merged into) and pending (never reviewed);
- dismissed, withdrawn, merged and pending are also counted on their own.

The organiser's list in /admin shows the headline's participants, questions and votes of every
listed event through `headlines` below: the same grouped query as the report's tallies, grouped
by event instead of by issue and addressee, so the list and the report never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, and_, cast, func, select

from ..extensions import db
from ..models import (
    PUBLIC_STATUSES,
    Event,
    ModerationAction,
    Participant,
    Question,
    Speaker,
    Vote,
    utcnow,
)
from ..timezones import venue_time, zone

TOP = 5  # questions listed per issue and per panelist
MAX_BARS = 180  # the timeline's buckets grow (1, 2, 5 ... minutes) to stay at most this many
BUCKETS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
SLACK = timedelta(hours=2)  # activity this close to the programme's times stretches them
NOT_ASKED = ("dismissed", "withdrawn")  # left out of "questions", counted on their own
COUNTED = ("live", "answered", "merged", "pending")


def share(part: int, whole: int) -> float | None:
    """part ÷ whole, rounded to 4 places (None when whole is 0: no share to speak of)."""
    return round(part / whole, 4) if whole else None


def minute(at: datetime) -> str:
    """A venue wall-clock time as ISO 8601 text to the minute (no offset: the venue's)."""
    return at.strftime("%Y-%m-%dT%H:%M")


class Tally:
    """The counts of one group of questions (the event, an issue, an addressee)."""

    def __init__(self) -> None:
        self.by_status: dict[str, int] = defaultdict(int)
        self.votes = 0

    def add(self, status: str, count: int, votes: int) -> None:
        """Count `count` questions of a status carrying `votes` votes."""
        self.by_status[status] += count
        if status in PUBLIC_STATUSES:
            self.votes += votes

    def view(self) -> dict:
        """The numbers of docs/report.md for this group."""
        s = self.by_status
        published = s["live"] + s["answered"]
        return {
            "questions": sum(s[status] for status in COUNTED),
            "published": published,
            "answered": s["answered"],
            "unanswered": s["live"],
            "answered_share": share(s["answered"], published),
            "votes": self.votes,
            "pending": s["pending"],
            "merged": s["merged"],
            "dismissed": s["dismissed"],
            "withdrawn": s["withdrawn"],
        }


def _counted(where, *keys):
    """The questions matching `where`, counted per status and per value of keys, with their
    votes: (*keys, status, questions, votes) rows for Tally.add (one grouped query)."""
    return db.session.execute(
        select(
            *keys,
            Question.status,
            func.count(),
            func.coalesce(func.sum(Question.vote_count), 0),
        )
        .where(where)
        .group_by(*keys, Question.status)
    )


def _tallies(event_id: int) -> tuple[Tally, dict[int, Tally], dict[int | None, Tally]]:
    """The event's, each issue's and each addressee's tally, from one grouped query."""
    rows = _counted(Question.event_id == event_id, Question.issue_id, Question.addressed_to)
    total, issues, addressees = Tally(), defaultdict(Tally), defaultdict(Tally)
    for issue_id, addressed_to, status, count, votes in rows:
        for tally in (total, issues[issue_id], addressees[addressed_to]):
            tally.add(status, count, votes)
    return total, issues, addressees


def _participants(event_ids: list[int]) -> dict[int, int]:
    """The devices that joined each event (one grouped COUNT)."""
    query = (
        select(Participant.event_id, func.count())
        .where(Participant.event_id.in_(event_ids))
        .group_by(Participant.event_id)
    )
    return dict(db.session.execute(query).all())


def headlines(event_ids: list[int]) -> dict[int, dict]:
    """The headline of each event but askers and voters: participants and Tally.view()'s numbers
    (questions, votes, answered share ...), exactly as the report counts them, in two grouped
    queries for all the events at once (the /admin list; never one query per event)."""
    if not event_ids:
        return {}
    tallies: dict[int, Tally] = defaultdict(Tally)
    for event_id, status, count, votes in _counted(
        Question.event_id.in_(event_ids), Question.event_id
    ):
        tallies[event_id].add(status, count, votes)
    people = _participants(event_ids)
    return {
        event_id: {"participants": people.get(event_id, 0)} | tallies[event_id].view()
        for event_id in event_ids
    }


def _people(event_id: int) -> dict:
    """Participants (devices that joined), askers, and voters (devices with a standing vote on a
    published question)."""
    count = func.count
    participants = _participants([event_id]).get(event_id, 0)
    askers = db.session.scalar(
        select(count(Question.participant_id.distinct())).where(Question.event_id == event_id)
    )
    voters = db.session.scalar(
        select(count(Vote.participant_id.distinct()))
        .join(Question, Question.id == Vote.question_id)
        .where(Question.event_id == event_id, Question.status.in_(PUBLIC_STATUSES))
    )
    return {"participants": participants, "askers": askers, "voters": voters}


class Names:
    """What a listed question shows besides itself: its issue's number, its addressee's name."""

    def __init__(self, event: Event) -> None:
        self.zone = zone(event.time_zone)  # looked up once: thousands of times are converted
        self.issue_position = {issue.id: issue.position + 1 for issue in event.issues}
        self.speaker = {speaker.id: speaker.name for speaker in event.speakers}

    def local(self, moment: datetime | None) -> str | None:
        """A stored UTC time as the venue's wall-clock time, to the minute."""
        return minute(moment.replace(tzinfo=UTC).astimezone(self.zone)) if moment else None

    def question(self, question) -> dict:
        """A question as the report lists it."""
        return {
            "id": question.id,
            "text": question.text,
            "author_name": question.author_name,
            "issue_position": self.issue_position.get(question.issue_id),
            "addressed_to": self.speaker.get(question.addressed_to),
            "votes": question.vote_count,
            "status": question.status,
            "asked_at": self.local(question.created_at),
            "answered_at": self.local(question.answered_at),
        }


# what a listed question needs, loaded as plain rows (no ORM objects: the unanswered list can be
# thousands long)
LISTED = (
    Question.id,
    Question.text,
    Question.author_name,
    Question.issue_id,
    Question.addressed_to,
    Question.vote_count,
    Question.status,
    Question.created_at,
    Question.answered_at,
)


def _ranked():
    """Published questions, most votes first (then the earliest asked)."""
    return (Question.vote_count.desc(), Question.created_at, Question.id)


def _top(event_id: int, column) -> dict[object, list]:
    """The TOP published questions of each value of column (issue_id or addressed_to)."""
    rank = func.row_number().over(partition_by=column, order_by=_ranked()).label("rank")
    ranked = (
        select(Question.id, rank)
        .where(Question.event_id == event_id, Question.status.in_(PUBLIC_STATUSES))
        .subquery()
    )
    query = (
        select(*LISTED)
        .join(ranked, and_(ranked.c.id == Question.id, ranked.c.rank <= TOP))
        .order_by(*_ranked())
    )
    found: dict[object, list] = defaultdict(list)
    for question in db.session.execute(query):
        found[getattr(question, column.key)].append(question)
    return found


def _issues(event: Event, tallies: dict[int, Tally], names: Names) -> list[dict]:
    """Each issue of the programme, in order: its numbers and its top questions."""
    top = _top(event.id, Question.issue_id)
    return [
        {"id": issue.id, "position": issue.position + 1, "title": issue.title}
        | tallies[issue.id].view()
        | {"top": [names.question(q) for q in top[issue.id]]}
        for issue in event.issues
    ]


def _panelists(event: Event, tallies: dict[int | None, Tally], names: Names) -> list[dict]:
    """Each panelist (and any other speaker a question was addressed to), then "to all
    panelists" (id None): the questions addressed to them, their numbers, their top questions."""
    top = _top(event.id, Question.addressed_to)
    speakers: list[Speaker | None] = [
        s for s in event.speakers if s.role == "panelist" or s.id in tallies
    ]
    rows = []
    for speaker in [*speakers, None]:
        key = speaker.id if speaker else None
        person = {
            "id": key,
            "name": speaker.name if speaker else None,
            "affiliation": speaker.affiliation if speaker else None,
            "role": speaker.role if speaker else None,
        }
        rows.append(person | tallies[key].view() | {"top": [names.question(q) for q in top[key]]})
    return rows


def _owed(event_id: int, names: Names) -> list[dict]:
    """The published questions never answered, most votes first: what the panel still owes."""
    query = (
        select(*LISTED)
        .where(Question.event_id == event_id, Question.status == "live")
        .order_by(*_ranked())
    )
    return [names.question(question) for question in db.session.execute(query)]


def report(event: Event, now: datetime | None = None) -> dict:
    """The report of an event (docs/report.md): a JSON-ready dict."""
    names = Names(event)
    total, issues, addressees = _tallies(event.id)
    return {
        "event": {
            "code": event.code,
            "title": event.title,
            "venue": event.venue,
            "starts_at": minute(event.starts_at) if event.starts_at else None,
            "ends_at": minute(event.ends_at) if event.ends_at else None,
            "time_zone": event.time_zone,
            "language": event.language,
        },
        "generated_at": names.local(now or utcnow()),
        "headline": _people(event.id) | total.view(),
        "issues": _issues(event, issues, names),
        "panelists": _panelists(event, addressees, names),
        "timeline": timeline(event, names),
        "owed": _owed(event.id, names),
    }


# -- the timeline ----------------------------------------------------------------------------------


def _minute_number(column):
    """SQL for the minute a stored UTC time falls in, as minutes since 1970 (an integer)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer) // 60  # whole minutes
    return cast(func.floor(func.extract("epoch", column) / 60), Integer)


def _per_minute(query, column) -> dict[int, int]:
    """{minute since 1970: count} of a query's rows, grouped in SQL."""
    number = _minute_number(column).label("minute")
    rows = db.session.execute(
        query.with_only_columns(number, func.count()).group_by(number).order_by(number)
    )
    counts: dict[int, int] = defaultdict(int)
    for at, count in rows:
        counts[int(at)] += count
    return counts


def _activity(event_id: int) -> tuple[dict[int, int], dict[int, int]]:
    """Questions (as counted) and votes (on published questions) per UTC minute."""
    questions = select(Question.id).where(
        Question.event_id == event_id, Question.status.in_(COUNTED)
    )
    votes = (
        select(Vote.question_id)
        .join(Question, Question.id == Vote.question_id)
        .where(Question.event_id == event_id, Question.status.in_(PUBLIC_STATUSES))
    )
    return _per_minute(questions, Question.created_at), _per_minute(votes, Vote.created_at)


def _utc_minute(number: int) -> datetime:
    """Minutes since 1970 as a naive UTC time."""
    return datetime.fromtimestamp(number * 60, UTC).replace(tzinfo=None)


def _window(event: Event, first: datetime | None, last: datetime | None):
    """The timeline's first and last minute (venue time): the programme's times stretched to
    every question and vote, or, when the activity is far from them (or there are none), the
    span of the activity."""
    start, end = (
        at.replace(second=0, microsecond=0) if at else None
        for at in (event.starts_at, event.ends_at)
    )
    programme = start is not None and end is not None and end > start
    if first is None:
        return (start, end) if programme else (None, None)
    if programme and first >= start - SLACK and last <= end + SLACK:
        return min(first, start), max(last, end)
    return first, last


def _bucket_minutes(start: datetime, end: datetime) -> int:
    """The shortest bucket in BUCKETS that keeps the timeline to MAX_BARS bars."""
    span = int((end - start).total_seconds() // 60) + 1
    for size in BUCKETS:
        if span <= size * MAX_BARS:
            return size
    return -(-span // MAX_BARS)


def _marks(event: Event, names: Names) -> tuple[list[dict], list[dict]]:
    """The moments the current issue changed and the questions put on screen (venue time); a
    `show` undone at once was a slip and is left out, as is clearing the screen."""
    query = (
        select(ModerationAction, Question.text)
        .outerjoin(Question, Question.id == ModerationAction.question_id)
        .where(
            ModerationAction.event_id == event.id,
            ModerationAction.action.in_(("set_issue", "show")),
            ModerationAction.undone_at.is_(None),
        )
        .order_by(ModerationAction.at, ModerationAction.id)
    )
    titles = {issue.id: issue.title for issue in event.issues}
    changes, shown = [], []
    for action, text in db.session.execute(query):
        detail = action.detail or {}
        at = names.local(action.at)
        if action.action == "set_issue":
            issue_id = detail.get("issue_id")
            if issue_id != detail.get("was") and issue_id in titles:
                position = names.issue_position[issue_id]
                changes.append(
                    {
                        "at": at,
                        "issue_id": issue_id,
                        "position": position,
                        "title": titles[issue_id],
                    }
                )
        elif action.question_id is not None:
            shown.append({"at": at, "question_id": action.question_id, "text": text})
    return changes, shown


def timeline(event: Event, names: Names) -> dict:
    """Questions and votes per minute (or per bucket of minutes on a long timeline) in the
    venue's time, with the moments the issue changed and the questions put on screen."""
    questions, votes = _activity(event.id)
    local = {n: venue_time(_utc_minute(n), event.time_zone) for n in {*questions, *votes}}
    changes, shown = _marks(event, names)
    marked = [datetime.fromisoformat(mark["at"]) for mark in (*changes, *shown)]
    moments = sorted([*local.values(), *marked])
    start, end = _window(event, moments[0] if moments else None, moments[-1] if moments else None)
    if start is None:
        return {"bucket_minutes": 1, "start": None, "end": None, "buckets": [],
                "issue_changes": changes, "on_screen": shown}  # fmt: skip
    size = _bucket_minutes(start, end)
    count = int((end - start).total_seconds() // 60) // size + 1
    buckets = [
        {"at": minute(start + timedelta(minutes=i * size)), "questions": 0, "votes": 0}
        for i in range(count)
    ]
    for series, name in ((questions, "questions"), (votes, "votes")):
        for number, n in series.items():
            index = int((local[number] - start).total_seconds() // 60) // size
            buckets[min(max(index, 0), count - 1)][name] += n
    inside = minute(start), minute(start + timedelta(minutes=count * size))
    return {
        "bucket_minutes": size,
        "start": minute(start),
        "end": minute(end),
        "buckets": buckets,
        "issue_changes": [m for m in changes if inside[0] <= m["at"] < inside[1]],
        "on_screen": [m for m in shown if inside[0] <= m["at"] < inside[1]],
    }
