"""Presence: how many phones, screens and moderators are connected to an event, and who is
moderating, summed over every server process through Redis (a hash per event, a field per
process, refreshed every PRESENCE_REFRESH_S and dropped after PRESENCE_TTL_S).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid

from flask import Flask

from .extensions import socketio
from .queue_health import redis_options
from .rooms import audience_room, connected, local_events, moderator_room

log = logging.getLogger(__name__)

PRESENCE_TTL_S = 30  # a process's presence counts older than this no longer count
PRESENCE_REFRESH_S = 10  # how often a process rewrites its presence counts


class PresenceStore:
    """Per-event connection counts of every process, in a Redis hash with a field per process."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, **redis_options())
        self.process = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    @classmethod
    def from_app(cls, app: Flask) -> PresenceStore | None:
        """A store when the message queue is Redis; None for one process."""
        url = app.config.get("QA_MESSAGE_QUEUE") or ""
        return cls(url) if url.startswith(("redis://", "rediss://", "unix://")) else None

    def update(self, event_id: int, counts: dict) -> dict:
        """Write this process's counts; return the sums over every live process (and everyone
        moderating on any of them)."""
        key = f"qa:presence:{event_id}"
        now = time.time()
        moderating = json.dumps(counts.get("moderating", []), separators=(",", ":"))
        value = f"{counts['audience']}:{counts['moderators']}:{now:.0f}:{moderating}"
        pipe = self.redis.pipeline()
        pipe.hset(key, self.process, value)
        pipe.expire(key, PRESENCE_TTL_S * 4)
        pipe.hgetall(key)
        fields = pipe.execute()[-1]
        total = {"audience": 0, "moderators": 0}
        who: set[tuple[int | None, str]] = set()
        stale = []
        for name, raw in fields.items():
            parts = raw.decode().split(":", 3)
            audience, moderators, stamp = (int(x) for x in parts[:3])
            if now - stamp > PRESENCE_TTL_S:
                stale.append(name)
                continue
            total["audience"] += audience
            total["moderators"] += moderators
            if len(parts) > 3:  # a process of an older version writes no names
                who |= {(entry["seat_id"], entry["name"]) for entry in json.loads(parts[3])}
        if stale:
            self.redis.hdel(key, *stale)
        return total | {"moderating": moderating_list(who)}

    def listeners(self, channel: str) -> int:
        """How many processes listen on the message queue's channel (`PUBSUB NUMSUB`)."""
        listening = dict(self.redis.pubsub_numsub(channel))
        return int(next(iter(listening.values()), 0))


def moderating_list(who: set[tuple[int | None, str]]) -> list[dict]:
    """`moderating` of the presence payload: one {seat_id, name} per seat or organiser, by name."""
    ordered = sorted(who, key=lambda entry: (entry[1].casefold(), entry[0] or 0))
    return [{"seat_id": seat_id, "name": name} for seat_id, name in ordered]


def emit_presence(event_id: int, counts: dict, local: bool = False) -> None:
    """Tell the moderators how many audience devices and screens, and moderators, are connected,
    and who is moderating."""
    socketio.emit("presence", counts, to=moderator_room(event_id), ignore_queue=local)


class Presence:
    """This process's moderators by socket, and the presence it tells moderators: its own
    counts, or with a store (several processes) the sums over every process."""

    def __init__(self, store: PresenceStore | None) -> None:
        self.store = store
        self.moderating: dict[int, dict[str, tuple[int | None, str]]] = {}  # event -> sid -> who
        self.lock = threading.Lock()
        self.refreshed = 0.0

    def joined(self, event_id: int, sid: str, seat_id: int | None, name: str) -> None:
        """A moderator's or organiser's socket joined (named by its seat, or the admin)."""
        with self.lock:
            self.moderating.setdefault(event_id, {})[sid] = (seat_id, name)

    def left(self, event_id: int, sid: str) -> None:
        """A moderator's socket left."""
        with self.lock:
            sockets = self.moderating.get(event_id, {})
            sockets.pop(sid, None)
            if not sockets:
                self.moderating.pop(event_id, None)

    def count(self, event_id: int) -> dict:
        """This process's connected audience/screens and moderators of an event, and who is
        moderating (one entry per seat or organiser, however many sockets it has)."""
        with self.lock:
            who = set(self.moderating.get(event_id, {}).values())
        return {
            "audience": connected(audience_room(event_id)),
            "moderators": connected(moderator_room(event_id)),
            "moderating": moderating_list(who),
        }

    def flush(self, events: set[int], queue_down: bool) -> None:
        """Publish this process's counts of events (and, every PRESENCE_REFRESH_S, of all its
        events), and tell moderators the totals of every process (this one's only while the
        queue is down)."""
        now = time.monotonic()
        if self.store is not None and now - self.refreshed > PRESENCE_REFRESH_S:
            self.refreshed = now
            events = events | local_events()
        for event_id in events:
            counts = self.count(event_id)
            if self.store is not None and not queue_down:
                try:
                    counts = self.store.update(event_id, counts)
                except Exception as exc:  # Redis down: report this process's own counts
                    log.warning("presence store unavailable: %s", exc)
            try:
                emit_presence(event_id, counts, local=queue_down)
            except Exception:
                log.exception("sending presence failed")
