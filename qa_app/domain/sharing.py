"""The report's share link for panelists: `/e/<code>/report?share=<token>`, on while the
organiser keeps sharing on.

`events.report_share_hash` holds a random value while sharing is on (None: off). The link's
token is that value's HMAC with the server's secret key: the database alone does not give the
link (as with a digest of it), yet the organiser's page can show the link again at any time.
Turning sharing off, or on again, draws a new value, so every earlier link stops working.

Not through core.change(): sharing changes nothing any screen shows (nothing to publish), and
it stays possible on an archived event, whose report is what gets shared. It is logged in the
audit log as `report_share` (detail `{"on": true|false}`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode

from flask import current_app

from .. import storage
from ..auth import Actor
from ..extensions import db
from ..models import Event
from . import audit
from .core import Change
from .seats import require_organiser

SALT = b"qa-report-share:"


def share_token(event: Event) -> str | None:
    """The token of the event's share link, while sharing is on."""
    seed = event.report_share_hash
    if not seed:
        return None
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    mac = hmac.new(key, SALT + seed.encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(mac[:24]).decode()  # 192 bits, 32 characters


def shared_with(event: Event, token: str | None) -> bool:
    """Whether token opens the event's report (sharing on, and this link the current one)."""
    expected = share_token(event)
    return bool(expected and token) and hmac.compare_digest(expected, token)


def _set(actor: Actor, seed: str | None) -> Event:
    """Store a new seed (None: sharing off) and log it, in one write."""
    require_organiser(actor)
    with storage.writing():
        event = db.session.get(Event, actor.event_id, populate_existing=True)
        event.report_share_hash = seed
        audit.record(
            Change(event.id, event.version), actor, "report_share", detail={"on": bool(seed)}
        )
    return event


def share_report(actor: Actor) -> str:
    """Turn sharing on with a new link (the organiser's); every earlier link stops working.
    Returns the token."""
    return share_token(_set(actor, secrets.token_hex(32)))


def stop_sharing(actor: Actor) -> None:
    """Turn sharing off (the organiser's): every share link stops working."""
    _set(actor, None)
