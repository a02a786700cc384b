"""Create the bench event and its participants in one transaction (run in a subprocess)."""

from __future__ import annotations

from .. import create_app, domain, storage
from ..auth import digest, new_participant_token
from ..extensions import db
from ..models import Participant
from ..schemas import EventIn

BENCH_EVENT = {
    "title": "Benchmark panel",
    "starts_at": "2026-11-27T10:00:00",
    "ends_at": "2026-11-27T12:00:00",
    "venue": "Loopback hall",
    "issues": ["Scale?", "Latency?", "Memory?"],
    "speakers": [
        {"name": "Moderator", "role": "moderator"},
        {"name": "Panelist", "role": "panelist"},
    ],
}


def create(phones: int) -> dict:
    """A fresh event with phones participants; its code, moderator key and tokens."""
    app = create_app()
    storage.upgrade(app)
    with app.app_context():
        event, key = domain.create_event(EventIn.model_validate(BENCH_EVENT))
        tokens = [new_participant_token() for _ in range(phones)]
        db.session.add_all(
            Participant(event_id=event.id, token_hash=digest(token)) for token in tokens
        )
        db.session.commit()
        code = event.code
        db.session.remove()
        db.engine.dispose()
    return {"code": code, "moderator_key": key, "tokens": tokens}
