"""Domain functions on questions: ask, withdraw, moderate, merge (votes are in votes.py).

Every moderator action records itself in the audit log (audit.record) inside its own change,
with what its inverse needs (undo.py): the questions it changed, each as it was before and as the
action left it, and the screen before and after when it moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, literal, select

from ..auth import BANNED_MESSAGE, Actor, require_moderator, require_participant
from ..errors import Banned, Closed, Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import (
    PUBLIC_STATUSES,
    Event,
    Issue,
    Participant,
    Question,
    Speaker,
    Vote,
    utcnow,
)
from ..schemas import AskIn, MergeIn, ModerateIn, WithdrawIn
from . import audit, ratelimit
from .blocklist import held_reason
from .core import Change, change
from .similar import suggestions


def _question_of(event_id: int, question_id: int) -> Question:
    """A question of this event, or NotFound."""
    question = db.session.get(Question, question_id, populate_existing=True)
    if question is None or question.event_id != event_id:
        raise NotFound("This event has no such question.", details={"what": "question"})
    return question


def _issue_of(event_id: int, issue_id: int) -> Issue:
    """An issue of this event, or NotFound."""
    issue = db.session.get(Issue, issue_id)
    if issue is None or issue.event_id != event_id:
        raise NotFound("This event has no such issue.", details={"what": "issue"})
    return issue


def _existing(participant_id: int, client_id: str) -> Question | None:
    """The question this participant already sent with this client_id, if any."""
    return db.session.scalar(
        select(Question).filter_by(participant_id=participant_id, client_id=client_id)
    )


def _check_text(event: Event, text: str) -> None:
    """Refuse a text longer than the event allows."""
    if len(text) > event.max_question_length:
        raise Invalid(
            f"The question is {len(text)} characters long; the limit is "
            f"{event.max_question_length}.",
            details=[{"field": "text", "problem": "too_long", "max": event.max_question_length}],
        )


def _check_ask(event: Event, participant: Participant, data: AskIn) -> None:
    """Everything that must hold before a question is accepted."""
    if participant.banned:
        raise Banned(BANNED_MESSAGE)
    if not event.questions_open:
        raise Closed("Questions are closed for this event.", details={"what": "questions"})
    _check_text(event, data.text)
    if data.author_name is None and not event.anonymous_allowed:
        raise Invalid(
            "This event does not accept anonymous questions: give your name.",
            details=[{"field": "author_name", "problem": "required"}],
        )
    _issue_of(event.id, data.issue_id)
    if data.addressed_to is not None:
        _speaker_of(event.id, data.addressed_to)


def _speaker_of(event_id: int, speaker_id: int) -> Speaker:
    """A speaker of this event, or NotFound."""
    speaker = db.session.get(Speaker, speaker_id)
    if speaker is None or speaker.event_id != event_id:
        raise NotFound("This event has no such speaker.", details={"what": "speaker"})
    return speaker


def ask(actor: Actor, data: AskIn) -> Question:
    """Ask a question; the same client_id again returns the first question unchanged."""
    participant_id = require_participant(actor)
    earlier = _existing(participant_id, data.client_id)
    if earlier is not None:
        return earlier
    ratelimit.check("ask", participant_id)
    similar_to = suggestions(actor.event_id, data.text)  # read-only, before the write
    with change(actor.event_id) as current:
        earlier = _existing(participant_id, data.client_id)
        if earlier is not None:
            return earlier
        participant = db.session.get(Participant, participant_id, populate_existing=True)
        _check_ask(current.event, participant, data)
        ratelimit.hit("ask", participant_id)  # only a question that would be accepted counts
        held = held_reason(current.event, data.text, data.author_name)
        status = "pending" if current.event.pre_moderation or held else "live"
        question = Question(
            event_id=actor.event_id,
            issue_id=data.issue_id,
            participant_id=participant_id,
            text=data.text,
            author_name=data.author_name,
            addressed_to=data.addressed_to,
            status=status,
            was_public=status == "live",
            client_id=data.client_id,
            similar_to=similar_to,
            held_reason=held,
        )
        db.session.add(question)
        current.touch(question)
    return question


WITHDRAWN_MESSAGE = "The asker withdrew this question."


def withdraw(actor: Actor, data: WithdrawIn) -> Question:
    """The asker takes back an own question while it waits for review (status `withdrawn`,
    seen by the asker's devices and the moderators, never by the audience). Not a moderator
    action: it is not in the audit log and cannot be undone."""
    participant_id = require_participant(actor)
    with change(actor.event_id) as current:
        question = _question_of(actor.event_id, data.question_id)
        if question.participant_id != participant_id:
            if question.status in PUBLIC_STATUSES:
                raise Forbidden("Only the person who asked a question can withdraw it.")
            raise NotFound("This event has no such question.", details={"what": "question"})
        if question.status == "withdrawn":
            raise Conflict("You already withdrew this question.", details={"reason": "withdrawn"})
        if question.status != "pending":
            raise Conflict(
                f"Only a question waiting for review can be withdrawn; this one is "
                f"{question.status}.",
                details={"reason": "not_pending", "status": question.status},
            )
        question.status = "withdrawn"
        current.touch(question)
    return question


def _count_votes(question: Question) -> None:
    """Recount a question's votes from the vote rows."""
    question.vote_count = db.session.scalar(
        select(func.count()).select_from(Vote).where(Vote.question_id == question.id)
    )


def _apply_status(current: Change, question: Question, status: str) -> None:
    """Move a question to a new status, with what follows from it: a question that is no longer
    live (dismissed, answered, sent back to pending) leaves the screen."""
    question.status = status
    if status in ("live", "answered"):
        question.was_public = True
    question.answered_at = utcnow() if status == "answered" else None
    if status != "live" and current.event.on_screen_question_id == question.id:
        current.event.on_screen_question_id = None
        current.touch_event()


# -- what undo needs ------------------------------------------------------------------------------

FIELDS = ("status", "text", "issue_id", "addressed_to", "merged_into")


def fields_of(question: Question) -> dict:
    """What a moderator action may change in a question, as the undo data keeps it."""
    return {name: getattr(question, name) for name in FIELDS}


def state_of(question: Question) -> dict:
    """A question's fields before an action, with its answer time and whether it was public."""
    answered_at = question.answered_at.isoformat() if question.answered_at else None
    return fields_of(question) | {"answered_at": answered_at, "was_public": question.was_public}


def restore_state(current: Change, question: Question, state: dict) -> None:
    """Put a question back as state_of saw it (through _apply_status, so the screen follows).
    A question the audience has seen stays `was_public`, so its phones hear it was taken back."""
    if question.status != state["status"]:
        _apply_status(current, question, state["status"])
    question.text = state["text"]
    question.issue_id = state["issue_id"]
    question.addressed_to = state["addressed_to"]
    question.merged_into = state["merged_into"]
    answered_at = state["answered_at"]
    question.answered_at = datetime.fromisoformat(answered_at) if answered_at else None
    question.was_public = question.was_public or state["was_public"]
    current.touch(question)


def changed_entry(question: Question, before: dict) -> dict:
    """One question of an action's undo data: as it was, and as the action left it."""
    return {"id": question.id, "before": before, "after": fields_of(question)}


def undo_data(current: Change, questions: list[dict], screen: int | None = None, **more) -> dict:
    """An action's undo data: its version, the questions it changed and, when it moved the
    screen, the screen before and after."""
    moved = screen != current.event.on_screen_question_id
    return {
        "version": current.version,
        "questions": questions,
        "screen": {"before": screen, "after": current.event.on_screen_question_id}
        if moved
        else None,
        **more,
    }


# -- moderate -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moderated:
    """A moderated question, and the audit log entry of the change (for undo)."""

    question: Question
    action_id: int


def _action_name(before: str, data: ModerateIn, question: Question, changed: dict) -> str:
    """The audit log's name of a `moderate`: what a moderator would call it."""
    if data.status is not None and (data.status != before or not changed):
        if data.status == "live":
            return "approve" if before == "pending" else "reopen"
        return {"pending": "hold", "dismissed": "dismiss", "answered": "answered"}[data.status]
    for field, name in (("text", "edit"), ("issue_id", "move"), ("addressed_to", "addressee")):
        if field in changed:
            return name
    return "edit"


def moderate(actor: Actor, data: ModerateIn) -> Moderated:
    """Approve, dismiss, mark answered, reopen, edit, move or re-address a question."""
    require_moderator(actor)
    if data.status is None and data.text is None and data.issue_id is None:
        if not data.readdressed:
            raise Invalid("Give a new status, text, issue_id or addressed_to.")
    with change(actor.event_id) as current:
        question = _question_of(actor.event_id, data.question_id)
        if question.status == "merged":
            raise Conflict(
                "This question was merged into another; moderate that one.",
                details={"reason": "merged"},
            )
        if question.status == "withdrawn":
            raise Conflict(WITHDRAWN_MESSAGE, details={"reason": "withdrawn"})
        before, screen = state_of(question), current.event.on_screen_question_id
        if data.text is not None:
            _check_text(current.event, data.text)
            question.text = data.text
        if data.issue_id is not None:
            question.issue_id = _issue_of(actor.event_id, data.issue_id).id
        if data.readdressed:
            if data.addressed_to is not None:
                _speaker_of(actor.event_id, data.addressed_to)
            question.addressed_to = data.addressed_to
        if data.status is not None and data.status != question.status:
            _apply_status(current, question, data.status)
        current.touch(question)
        after = fields_of(question)
        changed = {k: after[k] for k in FIELDS if after[k] != before[k]}
        entry = audit.record(
            current,
            actor,
            _action_name(before["status"], data, question, changed),
            question.id,
            detail={"changed": changed, "was": {k: before[k] for k in changed}},
            undo=undo_data(current, [changed_entry(question, before)], screen),
        )
    return Moderated(question, entry.id)


# -- merge ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Merged:
    """The target of a merge, the questions merged into it, and the audit log entry."""

    question: Question
    merged: list[int]
    action_id: int


def _voters(question_id: int) -> set[int]:
    """Who votes for a question."""
    return set(
        db.session.scalars(select(Vote.participant_id).where(Vote.question_id == question_id))
    )


def _move_votes(source_id: int, target_id: int) -> None:
    """Give the target a vote from each voter of the source who has not voted for it."""
    already = select(Vote.participant_id).where(Vote.question_id == target_id)
    moved = select(Vote.participant_id, literal(target_id), Vote.created_at).where(
        Vote.question_id == source_id, Vote.participant_id.not_in(already)
    )
    db.session.execute(
        insert(Vote).from_select(["participant_id", "question_id", "created_at"], moved)
    )


def _vote_rows(question_id: int) -> list[list]:
    """A question's votes as [participant id, time] pairs (kept so an undo restores them)."""
    rows = db.session.execute(
        select(Vote.participant_id, Vote.created_at).where(Vote.question_id == question_id)
    )
    return [[participant_id, created.isoformat()] for participant_id, created in rows]


def _merge_target(event_id: int, target_id: int) -> Question:
    """The question to merge into: not merged, not dismissed."""
    target = _question_of(event_id, target_id)
    if target.status == "merged":
        raise Conflict(
            "The target was merged into another question; merge into that one.",
            details={"reason": "merged"},
        )
    if target.status == "dismissed":
        raise Conflict(
            "The target is dismissed; reopen it before merging into it.",
            details={"reason": "target_dismissed"},
        )
    if target.status == "withdrawn":
        raise Conflict("The target was withdrawn by its asker.", details={"reason": "withdrawn"})
    return target


def merge(actor: Actor, data: MergeIn) -> Merged:
    """Merge duplicates into one question in one change: the target's voters become the union
    (one vote per participant), the sources become `merged`, the screen follows."""
    require_moderator(actor)
    sources = data.sources
    if len(set(sources)) != len(sources):
        raise Invalid("A question is named twice in question_ids.")
    if data.into in sources:
        raise Invalid("A question cannot be merged into itself.")
    with change(actor.event_id) as current:
        target = _merge_target(actor.event_id, data.into)
        questions = [_question_of(actor.event_id, question_id) for question_id in sources]
        for question in questions:
            if question.status == "merged":
                raise Conflict(
                    f"Question {question.id} is already merged into another.",
                    details={"reason": "merged"},
                )
            if question.status == "withdrawn":
                raise Conflict(
                    f"Question {question.id} was withdrawn by its asker.",
                    details={"reason": "withdrawn"},
                )
        target_before, screen = state_of(target), current.event.on_screen_question_id
        voters_before = _voters(target.id)
        changed, votes = [], {}
        for source in questions:
            before = state_of(source)
            votes[str(source.id)] = _vote_rows(source.id)
            _move_votes(source.id, target.id)
            db.session.execute(delete(Vote).where(Vote.question_id == source.id))
            source.status, source.merged_into, source.vote_count = "merged", target.id, 0
            current.touch(source)
            changed.append(changed_entry(source, before))
        if target.status == "pending" and any(source.was_public for source in questions):
            _apply_status(current, target, "live")
        _count_votes(target)
        current.touch(target)
        if current.event.on_screen_question_id in sources:
            current.event.on_screen_question_id = target.id
            current.touch_event()
        added = sorted(_voters(target.id) - voters_before)
        entry = audit.record(
            current,
            actor,
            "merge",
            target.id,
            detail={"into": target.id, "merged": sources},
            undo=undo_data(
                current,
                [changed_entry(target, target_before), *changed],
                screen,
                into=target.id,
                added=added,
                votes=votes,
            ),
        )
    return Merged(target, sources, entry.id)
