"""Pydantic schemas: every socket payload and request body is validated here."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .errors import Invalid
from .timezones import check_zone

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
Title = _text(300, what="title")
IssueTitle = _text(2000, what="title")
SpeakerName = _text(200, what="name")
Affiliation = _text(2000, what=None, multiline=True)
Venue = _text(300, what=None)
Description = _text(20000, what=None, multiline=True, strip=False)
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
            "phrase_star", "put * only at the start or end of a phrase (\"spam*\", \"*coin\")"
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
    """A moderator or panelist of a new event."""

    name: SpeakerName
    role: Literal["moderator", "panelist"] = "panelist"
    affiliation: Affiliation | None = None


class SettingsIn(Payload):
    """Event settings; every field optional when changing them."""

    pre_moderation: bool | None = None
    questions_open: bool | None = None
    voting_open: bool | None = None
    anonymous_allowed: bool | None = None
    max_question_length: Annotated[int, Field(ge=20, le=2000)] | None = None


class EventIn(BaseModel):
    """POST /api/v1/events: a new event with its issues and speakers."""

    model_config = ConfigDict(extra="forbid")
    title: Title
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    venue: Venue | None = None
    description: Description | None = None
    language: Literal["en", "ru"] = "en"
    issues: Annotated[list[IssueTitle], Field(min_length=1, max_length=50)]
    speakers: Annotated[list[SpeakerIn], Field(max_length=200)] = []
    settings: SettingsIn = SettingsIn()


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
