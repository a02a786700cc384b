"""Domain functions on questions: ask, moderate, merge (votes are in votes.py)."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, literal, select

from ..auth import BANNED_MESSAGE, Actor, require_moderator, require_participant
from ..errors import Banned, Closed, Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Event, Issue, Participant, Question, Speaker, Vote, utcnow
from ..schemas import AskIn, MergeIn, ModerateIn
from . import ratelimit
from .blocklist import held_reason
from .core import Change, change


def _question_of(event_id: int, question_id: int) -> Question:
    """A question of this event, or NotFound."""
    question = db.session.get(Question, question_id, populate_existing=True)
    if question is None or question.event_id != event_id:
        raise NotFound("This event has no such question.")
    return question


def _issue_of(event_id: int, issue_id: int) -> Issue:
    """An issue of this event, or NotFound."""
    issue = db.session.get(Issue, issue_id)
    if issue is None or issue.event_id != event_id:
        raise NotFound("This event has no such issue.")
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
        raise Closed("Questions are closed for this event.")
    _check_text(event, data.text)
    if data.author_name is None and not event.anonymous_allowed:
        raise Invalid("This event does not accept anonymous questions: give your name.")
    _issue_of(event.id, data.issue_id)
    if data.addressed_to is not None:
        speaker = db.session.get(Speaker, data.addressed_to)
        if speaker is None or speaker.event_id != event.id:
            raise NotFound("This event has no such speaker.")


def ask(actor: Actor, data: AskIn) -> Question:
    """Ask a question; the same client_id again returns the first question unchanged."""
    participant_id = require_participant(actor)
    earlier = _existing(participant_id, data.client_id)
    if earlier is not None:
        return earlier
    ratelimit.check("ask", participant_id)
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
            held_reason=held,
        )
        db.session.add(question)
        current.touch(question)
    return question


def _count_votes(question: Question) -> None:
    """Recount a question's votes from the vote rows."""
    question.vote_count = db.session.scalar(
        select(func.count()).select_from(Vote).where(Vote.question_id == question.id)
    )


def _apply_status(current: Change, question: Question, status: str) -> None:
    """Move a question to a new status, with what follows from it."""
    question.status = status
    if status in ("live", "answered"):
        question.was_public = True
    question.answered_at = utcnow() if status == "answered" else None
    if status == "dismissed" and current.event.on_screen_question_id == question.id:
        current.event.on_screen_question_id = None
        current.touch_event()


def moderate(actor: Actor, data: ModerateIn) -> Question:
    """Approve, dismiss, mark answered, edit the text of, or move a question."""
    require_moderator(actor)
    if data.status is None and data.text is None and data.issue_id is None:
        raise Invalid("Give a new status, text or issue_id.")
    with change(actor.event_id) as current:
        question = _question_of(actor.event_id, data.question_id)
        if question.status == "merged":
            raise Conflict("This question was merged into another; moderate that one.")
        if data.text is not None:
            _check_text(current.event, data.text)
            question.text = data.text
        if data.issue_id is not None:
            question.issue_id = _issue_of(actor.event_id, data.issue_id).id
        if data.status is not None and data.status != question.status:
            _apply_status(current, question, data.status)
        current.touch(question)
    return question


def _move_votes(source_id: int, target_id: int) -> None:
    """Give the target a vote from each voter of the source who has not voted for it."""
    already = select(Vote.participant_id).where(Vote.question_id == target_id)
    moved = select(Vote.participant_id, literal(target_id), Vote.created_at).where(
        Vote.question_id == source_id, Vote.participant_id.not_in(already)
    )
    db.session.execute(
        insert(Vote).from_select(["participant_id", "question_id", "created_at"], moved)
    )


def merge(actor: Actor, data: MergeIn) -> Question:
    """Merge a duplicate into another question; the target's voters become the union."""
    require_moderator(actor)
    if data.question_id == data.into:
        raise Invalid("A question cannot be merged into itself.")
    with change(actor.event_id) as current:
        source = _question_of(actor.event_id, data.question_id)
        target = _question_of(actor.event_id, data.into)
        if "merged" in (source.status, target.status):
            raise Conflict("One of these questions is already merged.")
        _move_votes(source.id, target.id)
        db.session.execute(delete(Vote).where(Vote.question_id == source.id))
        source.status, source.merged_into = "merged", target.id
        if target.status == "pending" and source.was_public:
            _apply_status(current, target, "live")
        _count_votes(source)
        _count_votes(target)
        if current.event.on_screen_question_id == source.id:
            current.event.on_screen_question_id = target.id
            current.touch_event()
        current.touch(source)
        current.touch(target)
    return target
