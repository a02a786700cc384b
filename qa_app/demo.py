"""The reference panel session, created once for `qa-app demo`."""

from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import select

from . import domain
from .auth import Actor
from .extensions import db
from .models import Event
from .schemas import EventIn


def demo_event_data() -> dict:
    """The reference session shipped with the package."""
    return json.loads(resources.files("qa_app").joinpath("data/demo_event.json").read_text("utf-8"))


def ensure_demo_event() -> tuple[str, str]:
    """Create the demo event unless it exists; return its code and a fresh moderator key."""
    data = EventIn.model_validate(demo_event_data())
    event = db.session.scalar(
        select(Event).filter_by(title=data.title, starts_at=data.starts_at).order_by(Event.id)
    )
    if event is None:
        event, key = domain.create_event(data)
        return event.code, key
    return event.code, domain.rotate_moderator_key(Actor("admin", event.id))
