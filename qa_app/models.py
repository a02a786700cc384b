"""The data model: admins and their sessions, events, issues, speakers, moderator seats,
participants, questions, votes, and the moderators' audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

STATUSES = ("pending", "live", "answered", "dismissed", "merged", "withdrawn")
PUBLIC_STATUSES = ("live", "answered")
ROLES = ("moderator", "panelist")
SCREEN_MODES = ("questions", "join")


def utcnow() -> datetime:
    """The current time in UTC, naive (stored as UTC everywhere)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Admin(db.Model):
    """An organiser who may create and manage every event."""

    __tablename__ = "admins"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AdminSession(db.Model):
    """One logged-in browser of an admin: its random id (in the cookie) stored hashed.

    Logging out deletes the row and changing the password deletes all of the admin's rows, so the
    cookie alone is never enough; a session also ends at `expires_at` whatever happens.
    """

    __tablename__ = "admin_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admins.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Event(db.Model):
    """One live session, with its settings and its version counter."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    venue: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    pre_moderation: Mapped[bool] = mapped_column(Boolean, default=False)
    questions_open: Mapped[bool] = mapped_column(Boolean, default=True)
    voting_open: Mapped[bool] = mapped_column(Boolean, default=True)
    anonymous_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    max_question_length: Mapped[int] = mapped_column(Integer, default=300)
    current_issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("issues.id", use_alter=True, ondelete="SET NULL")
    )
    on_screen_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", use_alter=True, ondelete="SET NULL")
    )
    blocklist: Mapped[str] = mapped_column(Text, default="", server_default="")
    builtin_blocklists: Mapped[str] = mapped_column(String(16), default="", server_default="")
    screen_mode: Mapped[str] = mapped_column(
        String(16), default="questions", server_default="questions"
    )
    clock_on: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the organiser archived it: read-only, hidden from the default list (None: not archived)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    # the venue's time zone (an IANA name such as "Europe/Moscow", or a fixed offset "+03:00");
    # starts_at and ends_at are the venue's wall-clock times in it. None: the server's own zone
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # the digest of the report's share link for panelists (None: sharing is off)
    report_share_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=0)
    rev: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    issues: Mapped[list[Issue]] = relationship(
        order_by="Issue.position", foreign_keys="Issue.event_id", back_populates="event"
    )
    speakers: Mapped[list[Speaker]] = relationship(
        order_by="Speaker.position", back_populates="event"
    )

    @property
    def settings(self) -> dict:
        """The settings object of the wire format."""
        return {
            "pre_moderation": self.pre_moderation,
            "questions_open": self.questions_open,
            "voting_open": self.voting_open,
            "anonymous_allowed": self.anonymous_allowed,
            "max_question_length": self.max_question_length,
        }

    @property
    def archived(self) -> bool:
        """The organiser has archived the event: it is read-only."""
        return self.archived_at is not None


class Issue(db.Model):
    """A discussion topic of an event, in order."""

    __tablename__ = "issues"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    # the moderator's adjustment of this issue's share of the programme (the clock), in minutes
    extra_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    event: Mapped[Event] = relationship(back_populates="issues", foreign_keys=[event_id])


class Speaker(db.Model):
    """The moderator or a panelist of an event."""

    __tablename__ = "speakers"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    affiliation: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    event: Mapped[Event] = relationship(back_populates="speakers")


class ModeratorSeat(db.Model):
    """One moderator's link to an event: a name and a key (stored hashed).

    A seat is one credential: rotating its key revokes the row and makes a new one with the same
    name, so the sockets and sessions of the old key end while the other seats go on.
    """

    __tablename__ = "moderator_seats"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Participant(db.Model):
    """An audience device: a random token (stored hashed) and an optional name."""

    __tablename__ = "participants"
    __table_args__ = (Index("ix_participants_event_banned", "event_id", "banned"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(80))
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    banned_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Question(db.Model):
    """A question asked under an issue; never deleted, only moved between statuses."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("participant_id", "client_id"),
        Index("ix_questions_event_rev", "event_id", "rev"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    text: Mapped[str] = mapped_column(Text)
    author_name: Mapped[str | None] = mapped_column(String(80))
    addressed_to: Mapped[int | None] = mapped_column(ForeignKey("speakers.id"))
    status: Mapped[str] = mapped_column(String(16), default="live")
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    was_public: Mapped[bool] = mapped_column(Boolean, default=False)
    held_reason: Mapped[str | None] = mapped_column(String(200))
    similar_to: Mapped[list[int] | None] = mapped_column(JSON)
    rev: Mapped[int] = mapped_column(Integer, default=0)


class Vote(db.Model):
    """One participant's upvote of one question."""

    __tablename__ = "votes"
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ModerationAction(db.Model):
    """One moderator action, with the seat (or organiser) that made it: the audit log.

    `detail` says what changed, for people; `undo` holds what its inverse needs (None when it
    cannot be undone); an undone action points at the action that undid it.
    """

    __tablename__ = "moderation_actions"
    __table_args__ = (Index("ix_moderation_actions_event_id_id", "event_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    seat_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderator_seats.id", ondelete="SET NULL")
    )
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("admins.id", ondelete="SET NULL"))
    who: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"))
    detail: Mapped[dict | None] = mapped_column(JSON)
    undo: Mapped[dict | None] = mapped_column(JSON)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    undone_by: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
