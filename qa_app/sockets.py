"""Socket.IO adapter: validates payloads, calls one domain function, answers with an ack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps

from flask import request, session
from flask_socketio import ConnectionRefusedError, emit, join_room

from . import domain, realtime, revocation
from .auth import Actor, actor_for, find_event_ref
from .domain.audit import who
from .domain.views import event_view, moderator_view, view_for
from .errors import DomainError, Forbidden, Invalid, as_busy
from .extensions import db, socketio
from .rooms import audience_room, moderator_room, participant_room
from .schemas import (
    AskIn,
    BanIn,
    BlocklistIn,
    ClockIn,
    EditingIn,
    Empty,
    LogIn,
    MergeIn,
    ModerateIn,
    ScreenModeIn,
    SetIssueIn,
    SettingsIn,
    ShowIn,
    SimilarIn,
    SyncIn,
    UndoIn,
    VoteIn,
    WithdrawIn,
    connect_since,
    parse,
)

log = logging.getLogger(__name__)


def current_actor() -> Actor:
    """The actor this socket connected as; a moderator's or admin's credential is checked again."""
    actor = session.get("qa_actor")
    if actor is None:
        raise Forbidden("Connect to an event first.")
    if actor.is_moderator:
        revocation.check(session.get("qa_grant"))
    return actor


def failure(exc: DomainError) -> dict:
    """The ack for a refusal."""
    return {"ok": False, "error": exc.to_dict()}


def acked(fn: Callable[[Actor, object], dict]) -> Callable:
    """Wrap a handler: one actor, one validated call, one ack; nothing escapes."""

    @wraps(fn)
    def handler(payload: object = None, *extra: object) -> dict:
        try:
            if extra:
                raise Invalid("Send one payload object (and an acknowledgement callback).")
            return {"ok": True} | fn(current_actor(), payload)
        except DomainError as exc:
            return failure(exc)
        except Exception as exc:
            db.session.rollback()
            busy = as_busy(exc)
            if busy is not None:
                log.warning("socket handler %s: database busy: %s", fn.__name__, exc)
                return failure(busy)
            log.exception("socket handler %s failed", fn.__name__)
            return {
                "ok": False,
                "error": {
                    "code": "internal",
                    "message": "Something went wrong on the server; try again.",
                },
            }

    return handler


def refusal(exc: DomainError) -> ConnectionRefusedError:
    """A refused connection: the client's connect_error has the message, and {code, message} as
    its data (one argument alone would reach the client as a string)."""
    return ConnectionRefusedError(exc.message, exc.to_dict())


def sent_by_the_client() -> bool:
    """Whether the running `connect`/`disconnect` handler was called for an event a client sent
    under that name: a real connect gets the connection's own environ as its first argument, and
    a real disconnect runs once the socket counts as disconnected."""
    if request.event["message"] == "connect":
        args = request.event["args"]
        return not args or args[0] is not request.environ
    return socketio.server.manager.is_connected(request.sid, "/")


RESERVED = Invalid("'connect' and 'disconnect' are not events a client may send.")


def on_connect(auth: object = None) -> dict | None:
    """Check the event code and token, join the rooms of the role, send the snapshot."""
    if sent_by_the_client():  # it would re-run the connection's set-up on a live socket
        return failure(RESERVED)
    if not isinstance(auth, dict) or not isinstance(auth.get("event"), str):
        raise refusal(Invalid("Connect with auth = {event: CODE, token?: TOKEN}."))
    token = auth.get("token")
    try:
        event = find_event_ref(auth["event"])
        actor = actor_for(event, token if isinstance(token, str) else None)
        grant = revocation.grant_for(actor, event.id)
        name = who(actor) if actor.is_moderator else None
    except DomainError as exc:
        db.session.rollback()
        raise refusal(exc) from None
    session["qa_actor"] = actor  # the socket's own session: kept in memory, never serialised
    session["qa_grant"] = grant
    if actor.is_moderator:
        session["qa_who"] = name
        join_room(moderator_room(actor.event_id))
        realtime.moderator_joined(actor.event_id, request.sid, actor.seat_id, name)
    else:
        join_room(audience_room(actor.event_id))
    if actor.participant_id is not None:
        join_room(participant_room(actor.participant_id))
    snapshot = domain.sync(actor, connect_since(auth.get("since")))
    if actor.is_moderator:  # which seat (or organiser) this console is: `moderating` names it
        snapshot["you"] = {"seat_id": actor.seat_id, "name": name}
    # the socket is ours: its snapshot needs no message queue
    emit("snapshot", snapshot, ignore_queue=True)
    db.session.rollback()
    revocation.track(request.sid, grant)  # a grant that ended meanwhile is caught at the next check
    realtime.presence_changed(actor.event_id)


def on_disconnect(reason: object = None) -> dict | None:
    """Moderators see the new count of connected devices."""
    if sent_by_the_client():  # it would stop the watch on a socket that stays connected
        return failure(RESERVED)
    revocation.forget(request.sid)
    actor = session.get("qa_actor")
    if actor is not None:
        if actor.is_moderator:
            realtime.moderator_left(actor.event_id, request.sid)
            if session.get("qa_editing") is not None:  # its soft lock ends with it
                tell_editing(actor, None)
        realtime.presence_changed(actor.event_id)


@acked
def on_ask(actor: Actor, payload: object) -> dict:
    """`ask`: a participant asks a question."""
    question = domain.ask(actor, parse(AskIn, payload))
    return {"question": view_for(actor, question) | {"voted": False}}


@acked
def on_vote(actor: Actor, payload: object) -> dict:
    """`vote`: a participant votes or takes the vote back."""
    return asdict(domain.vote(actor, parse(VoteIn, payload)))


@acked
def on_withdraw(actor: Actor, payload: object) -> dict:
    """`withdraw`: the asker takes back an own question still waiting for review."""
    question = domain.withdraw(actor, parse(WithdrawIn, payload))
    return {"question": view_for(actor, question)}


@acked
def on_similar(actor: Actor, payload: object) -> dict:
    """`similar`: up to three live questions like the one being typed."""
    questions = domain.similar(actor, parse(SimilarIn, payload))
    db.session.rollback()
    return {"questions": questions}


@acked
def on_moderate(actor: Actor, payload: object) -> dict:
    """`moderate`: change a question's status, text, issue or addressee."""
    done = domain.moderate(actor, parse(ModerateIn, payload))
    return {"question": moderator_view(done.question), "action_id": done.action_id}


@acked
def on_merge(actor: Actor, payload: object) -> dict:
    """`merge`: fold duplicates into another question."""
    done = domain.merge(actor, parse(MergeIn, payload))
    return {
        "question": moderator_view(done.question),
        "merged": done.merged,
        "action_id": done.action_id,
    }


@acked
def on_show(actor: Actor, payload: object) -> dict:
    """`show`: put a question on screen, or clear it."""
    return {"action_id": domain.show(actor, parse(ShowIn, payload)).action_id}


@acked
def on_settings(actor: Actor, payload: object) -> dict:
    """`settings`: switch pre-moderation, questions, voting, anonymity; set the length limit."""
    return {"event": event_view(domain.update_settings(actor, parse(SettingsIn, payload)))}


@acked
def on_screen_mode(actor: Actor, payload: object) -> dict:
    """`screen_mode`: switch the screens between the questions and the join slide."""
    return {"event": event_view(domain.set_screen_mode(actor, parse(ScreenModeIn, payload)))}


@acked
def on_clock(actor: Actor, payload: object) -> dict:
    """`clock`: switch the issue clock on or off, give the current issue more or less time."""
    return {"event": event_view(domain.set_clock(actor, parse(ClockIn, payload)))}


@acked
def on_undo(actor: Actor, payload: object) -> dict:
    """`undo`: take back a moderator action of the last few seconds."""
    return asdict(domain.undo(actor, parse(UndoIn, payload)))


@acked
def on_bans(actor: Actor, payload: object) -> dict:
    """`bans`: the event's banned participants, newest first."""
    parse(Empty, payload)
    banned = domain.banned(actor)
    db.session.rollback()
    return {"banned": banned}


@acked
def on_set_issue(actor: Actor, payload: object) -> dict:
    """`set_issue`: change the current issue."""
    domain.set_issue(actor, parse(SetIssueIn, payload))
    return {}


@acked
def on_ban(actor: Actor, payload: object) -> dict:
    """`ban`: block the asker of a question from asking and voting (their sockets are cut off)."""
    return asdict(domain.ban(actor, parse(BanIn, payload)))


@acked
def on_unban(actor: Actor, payload: object) -> dict:
    """`unban`: let the asker of a question ask and vote again."""
    result = asdict(domain.unban(actor, parse(BanIn, payload)))
    del result["action_id"]  # an unban is logged, but not undone
    return result


def tell_editing(actor: Actor, question_id: int | None) -> None:
    """Tell the other moderators which question this socket is editing now (None: none)."""
    session["qa_editing"] = question_id
    payload = {"seat_id": actor.seat_id, "name": session.get("qa_who"), "question_id": question_id}
    realtime.tell_moderators(actor.event_id, "editing", payload, skip_sid=request.sid)


@acked
def on_editing(actor: Actor, payload: object) -> dict:
    """`editing`: a moderator starts or stops editing a question (a soft lock, not stored)."""
    question_id = domain.editing(actor, parse(EditingIn, payload))
    db.session.rollback()
    tell_editing(actor, question_id)
    return {}


@acked
def on_log(actor: Actor, payload: object) -> dict:
    """`log`: the event's audit log, newest first."""
    actions = domain.actions(actor, parse(LogIn, payload))
    db.session.rollback()
    return {"actions": actions}


@acked
def on_set_blocklist(actor: Actor, payload: object) -> dict:
    """`set_blocklist`: replace the event's blocklist phrases and/or built-in lists."""
    return {"blocklist": domain.set_blocklist(actor, parse(BlocklistIn, payload))}


@acked
def on_sync(actor: Actor, payload: object) -> dict:
    """`sync`: everything changed after `since`."""
    data = domain.sync(actor, parse(SyncIn, payload).since)
    db.session.rollback()
    return data


def on_unknown(event: object, *args: object) -> dict:
    """Any other event: refused through its ack, so a client waiting for one is not left hanging."""
    known = ", ".join(HANDLERS)
    return failure(Invalid(f"Unknown event {str(event)[:64]!r}; the events are {known}."))


HANDLERS = {
    "ask": on_ask,
    "vote": on_vote,
    "withdraw": on_withdraw,
    "similar": on_similar,
    "moderate": on_moderate,
    "merge": on_merge,
    "show": on_show,
    "set_issue": on_set_issue,
    "ban": on_ban,
    "unban": on_unban,
    "settings": on_settings,
    "screen_mode": on_screen_mode,
    "clock": on_clock,
    "undo": on_undo,
    "bans": on_bans,
    "editing": on_editing,
    "log": on_log,
    "set_blocklist": on_set_blocklist,
    "sync": on_sync,
}


def init_app() -> None:
    """Register the handlers on the namespace `/`."""
    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    for name, handler in HANDLERS.items():
        socketio.on_event(name, handler)
    socketio.on_event("*", on_unknown)
