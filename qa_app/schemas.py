"""Pydantic schemas: every socket payload and request body is validated here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .errors import Invalid

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Id = Annotated[int, Field(ge=1, le=2**62)]
Status = Literal["pending", "live", "answered", "dismissed"]


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


class VoteIn(Payload):
    """The `vote` event."""

    question_id: Id
    up: bool


class ModerateIn(Payload):
    """The `moderate` event and PATCH /questions/<id> (question_id from the path there)."""

    question_id: Id
    status: Status | None = None
    text: Text | None = None
    issue_id: Id | None = None


class MergeIn(Payload):
    """The `merge` event and POST /questions/<id>/merge."""

    question_id: Id
    into: Id


class ShowIn(Payload):
    """The `show` event and PUT /events/<code>/screen."""

    question_id: Id | None


class SetIssueIn(Payload):
    """The `set_issue` event and PUT /events/<code>/current-issue."""

    issue_id: Id


class BanIn(Payload):
    """The `ban` and `unban` events and PUT/DELETE /questions/<id>/ban: the asker of a question."""

    question_id: Id


class SyncIn(Payload):
    """The `sync` event."""

    since: Annotated[int, Field(ge=0)] = 0


class SpeakerIn(Payload):
    """A moderator or panelist of a new event."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    role: Literal["moderator", "panelist"] = "panelist"
    affiliation: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None
    ) = None


class SettingsIn(Payload):
    """Event settings; every field optional when changing them."""

    pre_moderation: bool | None = None
    questions_open: bool | None = None
    voting_open: bool | None = None
    anonymous_allowed: bool | None = None
    max_question_length: Annotated[int, Field(ge=20, le=2000)] | None = None


IssueTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class EventIn(BaseModel):
    """POST /api/v1/events: a new event with its issues and speakers."""

    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    venue: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    description: Annotated[str, StringConstraints(max_length=20000)] | None = None
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
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise Invalid(f"Invalid request: {summary}", details=problems) from None
