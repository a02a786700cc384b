"""Pydantic schemas: every socket payload and request body is validated here."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .agenda import detect_language
from .errors import Invalid
from .timezones import check_zone, offset_name, to_venue

# Ids and versions are INTEGER columns: PostgreSQL's INTEGER is signed 32-bit, so a larger
# number can name nothing and must be refused here, before it reaches SQL.
MAX_INT = 2**31 - 1

# Characters that draw nothing: format characters (zero-width space and joiners, BOM, bidi
# marks, embeddings and isolates, word joiner, soft hyphen, tags), controls, separators and
# combining marks with no letter to sit on; plus the few letters and symbols that Unicode
# draws as blanks (Hangul fillers, the blank braille pattern).
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
LINE_BREAKS = frozenset("\t\n\r")


def _controls(multiline: bool):
    """A validator refusing control characters: NUL (PostgreSQL cannot store it) and the rest
    (no reader wants them), except tab and line breaks in multi-line texts."""
    allowed = LINE_BREAKS if multiline else frozenset()

    def check(value: str) -> str:
        for char in value:
            if unicodedata.category(char) == "Cc" and char not in allowed:
                raise PydanticCustomError(
                    "control_character",
                    "contains the control character U+{code}; remove it",
                    {"code": f"{ord(char):04X}"},
                )
        return value

    return AfterValidator(check)


def _draws(char: str) -> bool:
    """Whether a character shows something on its own."""
    return unicodedata.category(char) not in INVISIBLE_CATEGORIES and char not in BLANK_CHARACTERS


def _visible(what: str):
    """A validator refusing text that draws nothing (empty, or only invisible characters)."""

    def check(value: str) -> str:
        if not any(map(_draws, value)):
            raise PydanticCustomError("empty", f"the {what} is empty")
        return value

    return AfterValidator(check)


def _text(max_length: int, *, what: str | None, multiline: bool = False, strip: bool = True):
    """A string type: stripped, at most max_length, no control characters, and (when `what`
    names it) required to show something (documented with minLength 1)."""
    parts: list = [
        StringConstraints(strip_whitespace=strip, max_length=max_length),
        _controls(multiline),
    ]
    if what is not None:
        parts += [_visible(what), Field(json_schema_extra={"minLength": 1})]
    return Annotated[str, *parts]


Text = _text(5000, what="question", multiline=True)
Name = _text(80, what="name")
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Id = Annotated[int, Field(ge=1, le=MAX_INT)]
Version = Annotated[int, Field(ge=0, le=MAX_INT)]
VERSION = TypeAdapter(Version)


def _squashed(value: object) -> object:
    """Runs of spaces and line breaks as one space (a one-line text of the event file)."""
    return " ".join(value.split()) if isinstance(value, str) else value


Squashed = BeforeValidator(_squashed)
Title = Annotated[_text(300, what="title"), Squashed]
IssueTitle = Annotated[_text(2000, what="title"), Squashed]
SpeakerName = Annotated[_text(200, what="name"), Squashed]
Affiliation = _text(2000, what=None, multiline=True)
Venue = Annotated[_text(300, what=None), Squashed]
Description = _text(20000, what=None, multiline=True)
TIME_EXAMPLE = "like 2017-01-12T15:30:00, or 2017-01-12T15:30:00+03:00 with an offset"


def _iso_moment(value: object) -> object:
    """An ISO 8601 date and time string as a datetime (to the second), in the event file's
    words when it is not one; numbers (Unix times) are refused: nobody writes a programme so."""
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "iso_time", f"must be an ISO 8601 date and time string, {TIME_EXAMPLE}"
        )
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PydanticCustomError(
            "iso_time", f"{value[:40]!r} is not an ISO 8601 date and time ({TIME_EXAMPLE})"
        ) from None
    return moment


def _iso_time(value: object) -> object:
    """_iso_moment to the second (a programme's time)."""
    moment = _iso_moment(value)
    return moment.replace(microsecond=0) if isinstance(moment, datetime) else moment


# A date and time of the event file: naive (the venue's wall clock) or with an offset or Z
IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]
Status = Literal["pending", "live", "answered", "dismissed"]


def _zone(value: str) -> str:
    """A time zone name (timezones.check_zone), refused in the organiser's words."""
    try:
        return check_zone(value)
    except ValueError as exc:
        raise PydanticCustomError("time_zone", str(exc)) from None


# The venue's time zone: an IANA name ("Europe/Moscow") or a fixed offset ("+03:00")
TimeZone = Annotated[_text(64, what="time zone"), AfterValidator(_zone)]


class Payload(BaseModel):
    """Base for inputs: unknown fields are refused, strings are not coerced to numbers."""

    model_config = ConfigDict(extra="forbid", strict=True)


class AskIn(Payload):
    """The `ask` event and POST /events/<code>/questions."""

    issue_id: Id
    text: Text
    author_name: Name | None = None
    addressed_to: Id | None = None
    client_id: ClientId


class SimilarIn(Payload):
    """The `similar` event and GET /events/<code>/similar: a question being typed."""

    text: Text
    issue_id: Id | None = None


class VoteIn(Payload):
    """The `vote` event."""

    question_id: Id
    up: bool


class ModerateChange(Payload):
    """The body of PATCH /questions/<id>: the change (the question's id is the path's).

    `addressed_to` null means "to all panelists"; absent means unchanged (`model_fields_set`
    tells the two apart)."""

    status: Status | None = None
    text: Text | None = None
    issue_id: Id | None = None
    addressed_to: Id | None = None

    @property
    def readdressed(self) -> bool:
        """Whether the change names an addressee (a speaker's id, or null for all panelists)."""
        return "addressed_to" in self.model_fields_set


class ModerateIn(ModerateChange):
    """The `moderate` event, and PATCH /questions/<id> with the id of its path."""

    question_id: Id


class MergeInto(Payload):
    """The body of POST /questions/<id>/merge: the question to merge into."""

    into: Id


MAX_MERGE = 50


class MergeMany(MergeInto):
    """The body of POST /events/<code>/merge: several questions merged into one."""

    question_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_MERGE)]


class MergeIn(MergeInto):
    """The `merge` event: `{question_ids: [ids], into}` or the older `{question_id, into}`; also
    POST /questions/<id>/merge with the id of its path and POST /events/<code>/merge."""

    question_id: Id | None = None
    question_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_MERGE)] | None = None

    @model_validator(mode="after")
    def one_way_of_naming(self) -> MergeIn:
        """Exactly one of question_id and question_ids."""
        if (self.question_id is None) == (self.question_ids is None):
            raise ValueError("give question_ids (a list) or question_id, not both or neither")
        return self

    @property
    def sources(self) -> list[int]:
        """The questions to merge into `into`, in the order given."""
        return self.question_ids if self.question_ids is not None else [self.question_id]


class ShowIn(Payload):
    """The `show` event and PUT /events/<code>/screen."""

    question_id: Id | None


class SetIssueIn(Payload):
    """The `set_issue` event and PUT /events/<code>/current-issue."""

    issue_id: Id


class ScreenModeIn(Payload):
    """The `screen_mode` event and PUT /events/<code>/screen-mode: what the projector shows."""

    mode: Literal["questions", "join"]


# Minutes the moderator adds to (or takes from) the current issue's time in one step.
ClockStep = Annotated[int, Field(ge=-120, le=120)]


class ClockIn(Payload):
    """The `clock` event and PATCH /events/<code>/clock: switch the issue clock on or off, and/or
    give the current issue more (or less) time, in minutes."""

    on: bool | None = None
    add_minutes: ClockStep | None = None


class BanIn(Payload):
    """The `ban` and `unban` events and PUT/DELETE /questions/<id>/ban: the asker of a question."""

    question_id: Id


class WithdrawIn(Payload):
    """The `withdraw` event (REST: POST /questions/<id>/withdraw): the asker takes back a
    question still waiting for review."""

    question_id: Id


class UndoIn(Payload):
    """The `undo` event (REST: POST /actions/<id>/undo): an action of the audit log."""

    action_id: Id


class Empty(Payload):
    """An event that takes no fields (`bans`)."""


class SeatIn(Payload):
    """POST /events/<code>/seats: a new moderator seat's name (1 to 80 characters)."""

    name: Name


class EditingIn(Payload):
    """The `editing` event: the question this moderator is editing now, or null when done."""

    question_id: Id | None


LOG_LIMIT_MAX = 1000


class LogIn(Payload):
    """The `log` event and GET /events/<code>/log?limit=: how many actions, newest first."""

    limit: Annotated[int, Field(ge=1, le=LOG_LIMIT_MAX)] = 100


MAX_PHRASES = 500


def _phrase_shape(value: str) -> str:
    """A blocklist phrase: `*` only at its start or end, and two letters or digits at least."""
    core = value.strip("*")
    if "*" in core:
        raise PydanticCustomError(
            "phrase_star", 'put * only at the start or end of a phrase ("spam*", "*coin")'
        )
    if sum(char.isalnum() for char in core) < 2:
        raise PydanticCustomError("phrase_short", "a phrase needs at least two letters or digits")
    return value


Phrase = Annotated[_text(100, what="phrase"), AfterValidator(_phrase_shape)]


class BlocklistIn(Payload):
    """The `set_blocklist` event and PUT /events/<code>/blocklist: the event's own phrases (one
    per item) and the built-in lists switched on; a field left out stays as it is."""

    phrases: Annotated[list[Phrase], Field(max_length=MAX_PHRASES)] | None = None
    builtin: Annotated[list[Literal["en", "ru"]], Field(max_length=2)] | None = None


class SyncIn(Payload):
    """The `sync` event."""

    since: Version = 0


def connect_since(value: object) -> int:
    """The `since` of a connection's auth; anything but a valid version means a full snapshot."""
    try:
        return VERSION.validate_python(value, strict=True)
    except ValidationError:
        return 0


class SpeakerIn(Payload):
    """A moderator or panelist of an event."""

    name: SpeakerName
    role: Literal["moderator", "panelist"] = "panelist"
    affiliation: Affiliation | None = None

    @field_validator("affiliation")
    @classmethod
    def empty_is_none(cls, value: str | None) -> str | None:
        """An affiliation left empty counts as absent."""
        return value or None


class SettingsIn(Payload):
    """Event settings; every field optional when changing them."""

    pre_moderation: bool | None = None
    questions_open: bool | None = None
    voting_open: bool | None = None
    anonymous_allowed: bool | None = None
    max_question_length: Annotated[int, Field(ge=20, le=2000)] | None = None


def _issue_text(item: object, number: int) -> object:
    """An issue of the file: a string, or an object {"title": string} taken as its title."""
    if not isinstance(item, dict):
        return item
    if set(item) != {"title"}:
        raise PydanticCustomError(
            "issue_object",
            f"issue {number} must be a string or an object with just a 'title' "
            f"(not {', '.join(sorted(map(str, item)))[:80]})",
        )
    return item["title"]


class EventIn(BaseModel):
    """The event file (docs/event-format.md), POST /api/v1/events and POST /events/import: one
    schema everywhere. Times are the venue's wall clock: a time with an offset (or Z) is
    converted into `time_zone`, or, without one, its offset becomes the event's time zone."""

    model_config = ConfigDict(extra="forbid")
    title: Title
    time_zone: TimeZone | None = None
    starts_at: IsoTime | None = None
    ends_at: IsoTime | None = None
    venue: Venue | None = None
    description: Description | None = None
    language: Literal["en", "ru"] | None = None
    issues: Annotated[list[IssueTitle], Field(min_length=1, max_length=50)]
    speakers: Annotated[list[SpeakerIn], Field(max_length=200)] = []
    settings: SettingsIn = SettingsIn()

    @field_validator("issues", mode="before")
    @classmethod
    def issue_objects(cls, value: object) -> object:
        """{"title": ...} objects as their titles."""
        if isinstance(value, list):
            return [_issue_text(item, number) for number, item in enumerate(value, start=1)]
        return value

    @field_validator("venue", "description")
    @classmethod
    def empty_is_none(cls, value: str | None) -> str | None:
        """An optional text left empty counts as absent; the description loses its blank ends."""
        return (value.strip() if value else value) or None

    @field_validator("speakers")
    @classmethod
    def moderators_first(cls, value: list[SpeakerIn]) -> list[SpeakerIn]:
        """Moderators first, otherwise in the file's order."""
        return sorted(value, key=lambda speaker: speaker.role != "moderator")

    @model_validator(mode="after")
    def venue_clock(self) -> EventIn:
        """Times as the venue's wall clock in the event's time zone; the language detected
        when absent; the end not before the start."""
        for moment in (self.starts_at, self.ends_at):
            if self.time_zone is None and moment is not None and moment.tzinfo is not None:
                self.time_zone = offset_name(moment.utcoffset())
        if self.starts_at is not None:
            self.starts_at = to_venue(self.starts_at, self.time_zone)
        if self.ends_at is not None:
            self.ends_at = to_venue(self.ends_at, self.time_zone)
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            raise PydanticCustomError(
                "time_order",
                f"the end time {self.ends_at:%Y-%m-%d %H:%M} is before the start time "
                f"{self.starts_at:%Y-%m-%d %H:%M}",
                {"field": "ends_at"},
            )
        if self.language is None:
            self.language = detect_language(" ".join([self.title, *self.issues]))
        return self


class JoinIn(Payload):
    """POST /api/v1/events/<code>/participants (body optional)."""

    display_name: Name | None = None


def parse(model: type[BaseModel], data: object) -> BaseModel:
    """Validate data against model, or raise Invalid listing each problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Invalid("The payload must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {
                "field": ".".join(str(p) for p in err["loc"]) or "(body)",
                "problem": err["msg"],
                "type": err["type"],  # stable: the pages pick their words by it, not by problem
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise Invalid(f"Invalid request: {summary}", details=problems) from None


# --------------------------------------------------------------------------- transfer
# The event file's refusals in the organiser's words, and the full export of an event
# (domain/transfer.py, docs/event-format.md): the event file plus its participants, questions,
# votes and moderation log, each named by a reference of the file ("p1", "q1", "a1"), issues and
# speakers by their place in the file's lists ("i1", "s1").

MAX_LISTED_PROBLEMS = 5
# a list of the file, and what one of its items is called ("issue 3")
ITEMS = {
    "issues": "issue",
    "speakers": "speaker",
    "participants": "participant",
    "questions": "question",
    "votes": "vote",
    "actions": "action",
    "similar_to": "similar_to",
    "phrases": "phrase",
}


def _where(loc: tuple) -> str:
    """A field's place in the event file for a person: "issue 3", "speaker 1 role", "title"."""
    words: list[str] = []
    for part in loc:
        if isinstance(part, int) and words and words[-1] in ITEMS:
            words.append(f"{ITEMS[words.pop()]} {part + 1}")
        else:
            words.append(str(part))
    return " ".join(words) or "the event"


def _problem(err: dict) -> str:
    """One refusal in words: pydantic's, made plainer where it is cryptic."""
    kind, message = err["type"], err["msg"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of the event file (check its spelling: docs/event-format.md)"
    if kind == "literal_error":
        return f"{repr(err.get('input'))[:40]} is not {err['ctx']['expected']}"
    if kind == "too_short" and err["ctx"].get("min_length") == 1:
        return "must not be empty"
    return message.removeprefix("Value error, ")


def event_problems(exc: ValidationError) -> list[dict]:
    """The problems of a refused event, as the API's details: field, problem, type."""
    problems = []
    for err in exc.errors(include_url=False):
        field = (err.get("ctx") or {}).get("field")
        loc = (field,) if field and not err["loc"] else err["loc"]
        problems.append(
            {
                "field": ".".join(str(p) for p in loc) or "(body)",
                "where": _where(loc),
                "problem": _problem(err),
                "type": err["type"],
            }
        )
    return problems


def refuse_event(problems: list[dict]) -> Invalid:
    """One Invalid naming the first few problems of an event on one line."""
    listed = [f"{p['where']}: {p['problem']}" for p in problems[:MAX_LISTED_PROBLEMS]]
    more = len(problems) - MAX_LISTED_PROBLEMS
    summary = "; ".join(listed) + (f"; and {more} more" if more > 0 else "")
    return Invalid(f"Invalid event: {summary}.", details=problems[:50])


def parse_event(data: object, model: type[EventIn] | None = None) -> EventIn:
    """Validate an event (a decoded event file, a programme's parse, a POST /events body)
    against the one schema: EventFile, which takes a full export too (or `model`), or raise
    Invalid listing the problems in the file's words."""
    model = model or EventFile
    if not isinstance(data, dict):
        raise Invalid('The event must be a JSON object, like {"title": ..., "issues": [...]}.')
    try:
        event = model.model_validate(data)
    except ValidationError as exc:
        raise refuse_event(event_problems(exc)) from None
    problems = event.reference_problems() if isinstance(event, EventFile) else []
    if problems:
        raise refuse_event(problems)
    return event


Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
IssueRef = Annotated[str, StringConstraints(pattern=r"^i[1-9][0-9]{0,2}$")]
SpeakerRef = Annotated[str, StringConstraints(pattern=r"^s[1-9][0-9]{0,3}$")]
# a moment of the event's history: with an offset or Z (as exported), or the venue's wall clock
Moment = Annotated[datetime, BeforeValidator(_iso_moment)]
Statuses = Literal["pending", "live", "answered", "dismissed", "merged", "withdrawn"]
MAX_PARTICIPANTS = 100_000
MAX_QUESTIONS = 100_000
MAX_VOTES = 2_000_000
MAX_ACTIONS = 200_000


class ParticipantRecord(Payload):
    """A participant of the export: a reference, never a token."""

    ref: Ref
    display_name: Name | None = None
    banned: bool = False
    banned_at: Moment | None = None
    joined_at: Moment | None = None


class QuestionRecord(Payload):
    """A question of the export, with its issue, asker, addressee and what moderators did."""

    ref: Ref
    issue: IssueRef
    participant: Ref | None = None
    text: _text(5000, what="question", multiline=True)
    author_name: Name | None = None
    addressed_to: SpeakerRef | None = None
    status: Statuses = "live"
    merged_into: Ref | None = None
    similar_to: Annotated[list[Ref], Field(max_length=50)] = []
    held_reason: _text(200, what=None) | None = None
    was_public: bool | None = None
    created_at: Moment | None = None
    answered_at: Moment | None = None


class VoteRecord(Payload):
    """One participant's vote for one question."""

    participant: Ref
    question: Ref
    at: Moment | None = None


class ActionRecord(Payload):
    """One entry of the moderation log: the seat's name (never its key) and what it did; ids in
    `detail` are references of the file. An imported action cannot be undone."""

    ref: Ref | None = None
    at: Moment | None = None
    who: _text(80, what="name")
    action: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
    question: Ref | None = None
    detail: dict | None = None
    undone_at: Moment | None = None
    undone_by: Ref | None = None


class BlocklistRecord(Payload):
    """The event's blocklist: its own phrases and the built-in lists switched on."""

    phrases: Annotated[list[Phrase], Field(max_length=MAX_PHRASES)] = []
    builtin: Annotated[list[Literal["en", "ru"]], Field(max_length=2)] = []


ExtraMinutes = Annotated[int, Field(ge=-1440, le=1440)]


class StateRecord(Payload):
    """Where the session stood: current issue, the screen, the issue clock."""

    current_issue: IssueRef | None = None
    on_screen: Ref | None = None
    screen_mode: Literal["questions", "join"] = "questions"
    clock_on: bool = False
    extra_minutes: Annotated[list[ExtraMinutes], Field(max_length=50)] = []


class EventFile(EventIn):
    """The event file with, optionally, the history of a full export (`qa-app export --format
    event`): `qa-app create-event` and POST /events/import read it into a new event."""

    qa_app_event: Literal[1] | None = None
    exported_at: Moment | None = None
    blocklist: BlocklistRecord | None = None
    state: StateRecord | None = None
    participants: Annotated[list[ParticipantRecord], Field(max_length=MAX_PARTICIPANTS)] = []
    questions: Annotated[list[QuestionRecord], Field(max_length=MAX_QUESTIONS)] = []
    votes: Annotated[list[VoteRecord], Field(max_length=MAX_VOTES)] = []
    actions: Annotated[list[ActionRecord], Field(max_length=MAX_ACTIONS)] = []

    @model_validator(mode="before")
    @classmethod
    def addressees_count_moderators_first(cls, data: object) -> object:
        """Refuse addressees ("s2") in a file whose speakers do not list moderators first: the
        server lists them so, and an "sN" counts the speakers in that order."""
        if not isinstance(data, dict):
            return data
        speakers, questions = data.get("speakers"), data.get("questions")
        if not (isinstance(speakers, list) and isinstance(questions, list)):
            return data
        roles = [s.get("role", "panelist") if isinstance(s, dict) else None for s in speakers]
        addressed = any(isinstance(q, dict) and q.get("addressed_to") for q in questions)
        if addressed and roles != sorted(roles, key=lambda role: role != "moderator"):
            raise PydanticCustomError(
                "speaker_order",
                "list the moderators first: the questions' addressees (s1, s2, ...) count the "
                "speakers in that order",
                {"field": "speakers"},
            )
        return data

    @property
    def history(self) -> dict[str, int]:
        """How many records of each kind the file holds."""
        return {
            name: len(getattr(self, name))
            for name in ("participants", "questions", "votes", "actions")
        }

    def reference_problems(self) -> list[dict]:
        """Every reference that names nothing (or twice), as refusals."""
        return _References(self).problems


class _References:
    """The references of a full export, checked: each names one record of the file."""

    def __init__(self, event: EventFile) -> None:
        self.problems: list[dict] = []
        issues = {f"i{n}" for n in range(1, len(event.issues) + 1)}
        speakers = {f"s{n}" for n in range(1, len(event.speakers) + 1)}
        people = self._declared("participants", event.participants)
        asked = self._declared("questions", event.questions)
        done = self._declared("actions", event.actions)
        for n, question in enumerate(event.questions):
            at = ("questions", n)
            self._check(at + ("issue",), question.issue, issues, "issue")
            self._check(at + ("participant",), question.participant, people, "participant")
            self._check(at + ("addressed_to",), question.addressed_to, speakers, "speaker")
            self._check(at + ("merged_into",), question.merged_into, asked, "question")
            if question.merged_into == question.ref:
                self._add(at + ("merged_into",), "a question cannot be merged into itself")
            for ref in question.similar_to:
                self._check(at + ("similar_to",), ref, asked, "question")
            if (question.status == "merged") != (question.merged_into is not None):
                self._add(
                    at + ("merged_into",),
                    "a merged question (and only one) names the question it was merged into",
                )
        pairs: set[tuple[str, str]] = set()
        for n, vote in enumerate(event.votes):
            self._check(("votes", n, "participant"), vote.participant, people, "participant")
            self._check(("votes", n, "question"), vote.question, asked, "question")
            if (vote.participant, vote.question) in pairs:
                self._add(("votes", n), f"{vote.participant} votes for {vote.question} twice")
            pairs.add((vote.participant, vote.question))
        for n, action in enumerate(event.actions):
            self._check(("actions", n, "question"), action.question, asked, "question")
            self._check(("actions", n, "undone_by"), action.undone_by, done, "action")
        if event.state is not None:
            self._check(("state", "current_issue"), event.state.current_issue, issues, "issue")
            self._check(("state", "on_screen"), event.state.on_screen, asked, "question")
            if event.state.extra_minutes and len(event.state.extra_minutes) != len(issues):
                self._add(("state", "extra_minutes"), "needs one number per issue")

    def _add(self, loc: tuple, problem: str) -> None:
        """Note one problem (the first 50 are kept)."""
        if len(self.problems) < 50:
            field = ".".join(map(str, loc))
            self.problems.append(
                {"field": field, "where": _where(loc), "problem": problem, "type": "reference"}
            )

    def _declared(self, name: str, records: list) -> set[str]:
        """The references a list declares; one used twice is a problem."""
        seen: set[str] = set()
        for n, record in enumerate(records):
            if record.ref in seen:
                self._add((name, n, "ref"), f"{record.ref!r} is used twice")
            if record.ref is not None:
                seen.add(record.ref)
        return seen

    def _check(self, loc: tuple, ref: str | None, known: set[str], what: str) -> None:
        """A reference (if given) must name a known record."""
        if ref is not None and ref not in known:
            self._add(loc, f"{ref!r} names no {what} of the file")


# -- the organiser's events: programme edits, archive, delete (issue 12) --------------------------

# a time in a JSON body is text: read it as a datetime even though payloads are strict
WallTime = Annotated[datetime, Field(strict=False)]


class ProgrammeIssueIn(Payload):
    """An issue of an edited programme: an existing one by its id, or a new one (no id)."""

    id: Id | None = None
    title: IssueTitle


class ProgrammeSpeakerIn(Payload):
    """A speaker of an edited programme: an existing one by its id, or a new one (no id)."""

    id: Id | None = None
    name: SpeakerName
    role: Literal["moderator", "panelist"] = "panelist"
    affiliation: Affiliation | None = None


class ProgrammeIn(Payload):
    """PATCH /api/v1/events/<code>/programme: the fields to change (an absent field stays as it
    is; null clears times, zone, venue, description); `issues` and `speakers`, when given, are
    the whole new lists in order (an existing entry is named by its id)."""

    title: Title | None = None
    starts_at: WallTime | None = None
    ends_at: WallTime | None = None
    time_zone: TimeZone | None = None
    venue: Venue | None = None
    description: Description | None = None
    issues: Annotated[list[ProgrammeIssueIn], Field(min_length=1, max_length=50)] | None = None
    speakers: Annotated[list[ProgrammeSpeakerIn], Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _named_once(self) -> ProgrammeIn:
        """Each existing issue or speaker appears once; a title is never cleared."""
        for name in ("issues", "speakers"):
            ids = [item.id for item in getattr(self, name) or [] if item.id is not None]
            if len(ids) != len(set(ids)):
                raise PydanticCustomError("duplicate", f"an entry of {name} appears twice")
        for name in ("title", "issues"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise PydanticCustomError("required", f"{name} cannot be null")
        return self


class ArchiveIn(Payload):
    """PUT /api/v1/events/<code>/archive: archive the event (true) or bring it back (false)."""

    archived: bool


class DeleteEventIn(Payload):
    """DELETE /api/v1/events/<code>: the organiser types the event's code to confirm."""

    confirm: Annotated[str, StringConstraints(max_length=64)]


class DuplicatesIn(Payload):
    """GET /api/v1/events/duplicates: a title and start to look for before creating."""

    title: Title
    starts_at: WallTime | None = None
    time_zone: TimeZone | None = None
