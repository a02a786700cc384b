"""Domain functions for the projector: the screen's mode (the join slide) and the issue clock."""

from __future__ import annotations

from datetime import timedelta

from ..auth import Actor, require_moderator
from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import Event, Issue
from ..schemas import ClockIn, ScreenModeIn
from . import audit
from .core import change
from .views import issue_slot

# An issue keeps at least this much time, and the moderator's adjustments of one issue add up
# to at most a day either way.
SHORTEST = timedelta(minutes=1)
MOST_EXTRA = 24 * 60


def set_screen_mode(actor: Actor, data: ScreenModeIn) -> Event:
    """Switch every screen of the event between the questions and the full-screen join slide."""
    require_moderator(actor)
    with change(actor.event_id) as current:
        was = current.event.screen_mode
        current.event.screen_mode = data.mode
        current.touch_event()
        audit.record(current, actor, "screen_mode", detail={"mode": data.mode, "was": was})
    return current.event


def set_clock(actor: Actor, data: ClockIn) -> Event:
    """Switch the issue clock on or off, and/or give the current issue more or less time."""
    require_moderator(actor)
    if data.on is None and not data.add_minutes:
        raise Invalid("Send 'on' (true or false) and/or a non-zero 'add_minutes'.")
    with change(actor.event_id) as current:
        event = current.event
        issue = db.session.get(Issue, event.current_issue_id) if event.current_issue_id else None
        slot = issue_slot(event, issue) if issue is not None else None
        if slot is None and (data.on or data.add_minutes):
            raise Conflict(
                "The clock needs the programme's start and end times; this event has none."
            )
        detail: dict = {}
        if data.on is not None:
            detail |= {"on": data.on, "was": event.clock_on}
            event.clock_on = data.on
        if data.add_minutes:
            extra = issue.extra_minutes + data.add_minutes
            if slot[1] - slot[0] + timedelta(minutes=data.add_minutes) < SHORTEST:
                raise Conflict("The issue cannot get less than a minute.")
            if abs(extra) > MOST_EXTRA:
                raise Conflict("An issue's time can change by at most a day.")
            detail |= {"issue_id": issue.id, "add_minutes": data.add_minutes}
            issue.extra_minutes = extra
        current.touch_event()
        audit.record(current, actor, "clock", detail=detail)
    return current.event
