"""The event's blocklist: moderators and the organiser set it; a question that matches it is held
for review (qa_app/blocklist.py does the matching)."""

from __future__ import annotations

from .. import blocklist
from ..auth import Actor, require_moderator
from ..errors import Invalid
from ..models import Event
from ..schemas import BlocklistIn
from .audit import record
from .core import change
from .views import blocklist_view


def set_blocklist(actor: Actor, data: BlocklistIn) -> dict:
    """Replace the event's phrases and/or its built-in lists; answer the blocklist as stored."""
    require_moderator(actor)
    if data.phrases is None and data.builtin is None:
        raise Invalid("Give phrases, builtin or both.")
    with change(actor.event_id) as current:
        event = current.event
        if data.phrases is not None:
            event.blocklist = "\n".join(dict.fromkeys(data.phrases))  # in order, once each
        if data.builtin is not None:
            chosen = set(data.builtin)
            event.builtin_blocklists = ",".join(
                code for code in blocklist.BUILTIN_LANGUAGES if code in chosen
            )
        current.touch_event()
        view = blocklist_view(event)
        record(
            current,
            actor,
            "blocklist",
            detail={"phrases": len(view["phrases"]), "builtin": view["builtin"]},
        )
    # compile it now, so that the next question does not wait for it (in this process)
    blocklist.matcher(tuple(view["phrases"]), tuple(view["builtin"]))
    return view


def get_blocklist(actor: Actor, event: Event) -> dict:
    """The event's blocklist, for its moderators and the organiser."""
    require_moderator(actor)
    return blocklist_view(event)


def held_reason(event: Event, *texts: str | None) -> str | None:
    """Why a question with these texts (its text, its author's name) must be held for review,
    in plain words for the moderator; None if nothing matches the event's blocklist."""
    phrases = blocklist.split_phrases(event.blocklist)
    builtin = blocklist.split_builtin(event.builtin_blocklists)
    for text in texts:
        match = blocklist.find(text, phrases, builtin) if text else None
        if match is not None:
            return f'Blocklist: "{match.entry}"'[:200]
    return None
