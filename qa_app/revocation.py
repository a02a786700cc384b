"""Revocation: a socket loses its rights within a second of the credential it connected with.

A socket resolves its actor once, at connect. What that actor rests on is its `Grant`: the
moderator's seat, the admin's server-side session, or the participant. A seat's rotated key or
revocation, a log-out, a password change or a ban ends the grant, and then:

- every privileged socket event (`moderate`, `merge`, `show`, `set_issue`, `sync`, ...) checks the
  grant again first (`check`), so a revoked socket is refused at once, on any process;
- each process runs a watcher that, every `QA_REVOCATION_CHECK_MS`, checks the grants of all its
  sockets with one small query per kind and disconnects the sockets whose grant ended, whichever
  process revoked it: only the database is read, so this holds while the message queue is down;
- the revoking process sweeps its own sockets right after its commit (`sweep`);
- a deleted event ends every grant in it: the watcher notices the event is gone, and the deleting
  process cuts off all of the event's sockets at once, screens included (`cut_off_event`).

A cut-off socket gets the server's disconnect; its page reconnects once and hears why (the
connection is refused: `unauthorized`, or `banned` for a banned device).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Collection
from typing import NamedTuple

from flask import Flask, current_app
from sqlalchemy import select, true

from .auth import Actor, current_admin_session
from .errors import Unauthorized
from .extensions import db, socketio
from .models import AdminSession, Event, ModeratorSeat, Participant, utcnow

log = logging.getLogger(__name__)


class Grant(NamedTuple):
    """What a socket's rights rest on: a kind, its event, and the seat id, admin session id or
    participant id."""

    kind: str  # "seat" | "admin" | "participant"
    event_id: int
    value: int


def grant_for(actor: Actor, event_id: int) -> Grant | None:
    """The grant of an actor resolved just now in an event (None for a read-only screen)."""
    if actor.role == "moderator":
        return Grant("seat", event_id, actor.seat_id)
    if actor.role == "admin":
        admin_session = current_admin_session()
        return Grant("admin", event_id, admin_session.id if admin_session else 0)
    if actor.participant_id is not None:
        return Grant("participant", event_id, actor.participant_id)
    return None


def ended(privileged: Collection[Grant], phone_events: Collection[int] = ()) -> set[Grant]:
    """Which of the moderators' and admins' grants no longer hold, and the grants of the banned
    participants of phone_events: one query per kind, whatever the number of phones.

    Each query is its own read transaction (called only before a handler writes, or after a
    commit): no lock is held while waiting for the next, so this never deadlocks with a writer
    that locks several tables (a migration, a TRUNCATE).
    """
    seats = {g.value for g in privileged if g.kind == "seat"}
    admins = {g.value for g in privileged if g.kind == "admin"}
    gone: set[Grant] = set()
    if seats:
        query = select(ModeratorSeat.id).where(
            ModeratorSeat.id.in_(seats), ModeratorSeat.revoked_at.is_(None)
        )
        active = {seat_id for (seat_id,) in _read(query)}
        gone |= {g for g in privileged if g.kind == "seat" and g.value not in active}
    if admins:
        query = select(AdminSession.id).where(
            AdminSession.id.in_(admins), AdminSession.expires_at > utcnow()
        )
        still_open = {session_id for (session_id,) in _read(query)}
        gone |= {g for g in privileged if g.kind == "admin" and g.value not in still_open}
    if phone_events:
        query = select(Participant.event_id, Participant.id).where(
            Participant.event_id.in_(phone_events), Participant.banned == true()
        )
        gone |= {Grant("participant", event_id, pid) for event_id, pid in _read(query)}
    return gone


def deleted(event_ids: Collection[int]) -> set[int]:
    """Which of these events no longer exist (they were deleted): one query."""
    if not event_ids:
        return set()
    query = select(Event.id).where(Event.id.in_(event_ids))
    return set(event_ids) - {event_id for (event_id,) in _read(query)}


def _read(query) -> list:
    """The rows of a query, read in a transaction of their own."""
    try:
        return db.session.execute(query).all()
    finally:
        db.session.rollback()


def check(grant: Grant | None) -> None:
    """Refuse a privileged socket event whose grant has ended (or that has none)."""
    if grant is None or ended([grant]):
        raise Unauthorized(
            "This connection's credential is no longer valid (the moderator link was rotated or "
            "revoked, or the organiser logged out); reconnect with a valid one."
        )


class Watcher:
    """The sockets of this process with a grant, checked every interval while there are any.

    Phones are kept apart from moderators and admins, and counted per event, so that a check
    costs the same with five phones or five thousand: one query finds an event's banned devices.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = app.config["QA_REVOCATION_CHECK_MS"] / 1000
        self.sockets: dict[Grant, set[str]] = {}  # grant -> its sockets' ids
        self.grant_of: dict[str, Grant] = {}  # socket id -> grant
        self.privileged: set[Grant] = set()  # the moderators' and admins' grants held
        self.phone_events: Counter[int] = Counter()  # event id -> participant sockets
        self.lock = threading.Lock()
        self.sweeping = threading.Lock()  # held by the watcher's sweep (stop waits on it)
        self.running = False
        self.failing = False

    def track(self, sid: str, grant: Grant) -> None:
        """Watch a socket that just connected; start the watcher if it is idle."""
        with self.lock:
            self.grant_of[sid] = grant
            self.sockets.setdefault(grant, set()).add(sid)
            if grant.kind == "participant":
                self.phone_events[grant.event_id] += 1
            else:
                self.privileged.add(grant)
            start, self.running = not self.running, True
        if start:
            socketio.start_background_task(self.run)

    def forget(self, sid: str) -> None:
        """Stop watching a socket that disconnected."""
        with self.lock:
            grant = self.grant_of.pop(sid, None)
            if grant is None:
                return
            sids = self.sockets[grant]
            sids.discard(sid)
            if not sids:
                del self.sockets[grant]
                self.privileged.discard(grant)
            if grant.kind == "participant":
                self.phone_events[grant.event_id] -= 1
                if not self.phone_events[grant.event_id]:
                    del self.phone_events[grant.event_id]

    def run(self) -> None:
        """Sweep every interval; stop when no socket is left to watch (track starts it again)."""
        while True:
            socketio.sleep(self.interval)
            with self.lock:
                if not self.grant_of:
                    self.running = False
                    return
            with self.sweeping, self.app.app_context():
                try:
                    self.sweep()
                    self.failing = False
                except Exception as exc:  # the database is away: keep trying, say it once
                    db.session.rollback()
                    if not self.failing:
                        log.warning("checking the sockets' credentials failed: %s", exc)
                    self.failing = True
                finally:
                    db.session.remove()

    def stop(self) -> None:
        """Watch no socket any more and wait for a sweep under way to end: after this the watcher
        takes no database connection (an app being closed, its engine about to be disposed;
        a connection taken meanwhile would be given back to a pool already thrown away)."""
        with self.lock:
            self.grant_of.clear()
            self.sockets.clear()
            self.privileged.clear()
            self.phone_events.clear()
        with self.sweeping:
            pass

    def sweep(self) -> None:
        """Disconnect this process's sockets whose grant has ended (inside an app context)."""
        with self.lock:
            privileged, phone_events = list(self.privileged), list(self.phone_events)
        if not privileged and not phone_events:
            return
        gone = ended(privileged, phone_events)
        # the events held, from what is counted per event: no pass over every phone's grant
        gone_events = deleted(set(phone_events) | {grant.event_id for grant in privileged})
        if gone_events:  # rare: only after an event was deleted
            with self.lock:
                gone |= {grant for grant in self.sockets if grant.event_id in gone_events}
        for grant in gone:
            with self.lock:
                sids = list(self.sockets.get(grant, ()))
            for sid in sids:
                self.forget(sid)
                log.info("cutting off socket %s: its %s credential ended", sid, grant.kind)
                # this process's own socket: no need for (or wait on) the message queue
                socketio.server.disconnect(sid, namespace="/", ignore_queue=True)


def init_app(app: Flask) -> None:
    """Attach a watcher to the app."""
    app.extensions["qa_revocation"] = Watcher(app)


def track(sid: str, grant: Grant | None) -> None:
    """Watch a socket with a grant (screens have none)."""
    if grant is not None:
        current_app.extensions["qa_revocation"].track(sid, grant)


def forget(sid: str) -> None:
    """Stop watching a socket."""
    current_app.extensions["qa_revocation"].forget(sid)


def sweep() -> None:
    """Cut off this process's revoked sockets now (after a commit that revoked something)."""
    current_app.extensions["qa_revocation"].sweep()


def cut_off_event(event_id: int) -> None:
    """Disconnect every socket of this process in a deleted event's rooms (screens too)."""
    from .rooms import audience_room, moderator_room

    rooms = socketio.server.manager.rooms.get("/", {})
    for room in (audience_room(event_id), moderator_room(event_id)):
        for sid in list(rooms.get(room, {})):
            forget(sid)
            socketio.server.disconnect(sid, namespace="/", ignore_queue=True)
