"""The JSON API under /api/v1: a thin adapter over the domain functions."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import asdict

from flask import Blueprint, Response, current_app, jsonify, request
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.routing import IntegerConverter
from wtforms import ValidationError

from . import agenda, domain, exports, openapi
from .auth import (
    Actor,
    active_seat,
    actor_for,
    current_admin,
    find_event,
    find_event_ref,
    moderator_session_token,
    require_moderator,
)
from .domain import programme, transfer
from .domain.seats import seat_view
from .domain.views import event_view, issue_view, moderator_view, speaker_view, view_for
from .errors import DomainError, Forbidden, Invalid, NotFound, Unauthorized
from .extensions import csrf, db
from .links import event_links
from .models import Event, ModerationAction, ModeratorSeat, Question
from .report import share_url
from .schemas import (
    LOG_LIMIT_MAX,
    MAX_INT,
    ArchiveIn,
    AskIn,
    BanIn,
    BlocklistIn,
    ClockIn,
    DeleteEventIn,
    DuplicatesIn,
    EventIn,
    JoinIn,
    LogIn,
    MergeIn,
    MergeInto,
    MergeMany,
    ModerateChange,
    ModerateIn,
    ProgrammeIn,
    ScreenModeIn,
    SeatIn,
    SetIssueIn,
    SettingsIn,
    ShowIn,
    SimilarIn,
    UndoIn,
    VoteIn,
    WithdrawIn,
    parse,
    parse_event,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


class IdConverter(IntegerConverter):
    """`<id:name>`: an id the database can hold (1 to 2^31-1); any other number is a 404, for
    every method (a converter's ValidationError would make some of them a 405)."""

    def to_python(self, value: str) -> int:
        """The id, or NotFound before a number too large for the database reaches SQL."""
        if len(value) > len(str(MAX_INT)) or not 1 <= int(value) <= MAX_INT:
            raise HTTPNotFound(f"Nothing has the id {value[:20]}: ids run from 1 to {MAX_INT}.")
        return int(value)


bp.record_once(lambda state: state.app.url_map.converters.setdefault("id", IdConverter))


def route(method: str, path: str, who: str, body=None, **documented):
    """Register a view on the blueprint and document it in the OpenAPI document (`documented`:
    the other fields of openapi.Operation)."""

    def decorator(fn: Callable) -> Callable:
        summary = (fn.__doc__ or "").strip().splitlines()[0]
        openapi.document(
            openapi.Operation(method, bp.url_prefix + path, summary, who, body, **documented)
        )
        bp.add_url_rule(path, fn.__name__, fn, methods=[method])
        return fn

    return decorator


def bearer() -> str | None:
    """The token of the Authorization header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        if header:
            raise Unauthorized("Send the token as 'Authorization: Bearer <token>'.")
        return None
    return token.strip()


def check_csrf() -> None:
    """Cookie-authenticated changes (the admin's) must carry the CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not current_app.config.get(
        "WTF_CSRF_ENABLED", True
    ):
        return
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except (ValidationError, CSRFError) as exc:
        raise Forbidden(f"Missing or wrong CSRF token: {exc}") from None


def actor_of(event: Event) -> Actor:
    """The caller's role in event."""
    token = bearer()
    actor = actor_for(event, token)
    if actor.role == "admin":
        check_csrf()
    return actor


def actor_of_question(question_id: int) -> Actor:
    """The caller's role in the event of a question (NotFound if there is no such question)."""
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound("There is no such question.", details={"what": "question"})
    return actor_of(db.session.get(Event, question.event_id))


def actor_of_action(action_id: int) -> Actor:
    """The caller's role in the event of an audit log entry (NotFound if there is none)."""
    action = db.session.get(ModerationAction, action_id)
    if action is None:
        raise NotFound("There is no such action.")
    return actor_of(db.session.get(Event, action.event_id))


def json_body() -> object:
    """The JSON request body (None if there is none), or Invalid saying why it cannot be read:
    the one place where a body is parsed, so no malformed or too deep body becomes a 500."""
    data = request.get_data(cache=True)
    if not data:
        return None
    if not request.is_json:
        raise Invalid("The body must be JSON (Content-Type: application/json).")
    try:
        return json.loads(data)
    except RecursionError:
        raise Invalid("The JSON body is nested too deeply.") from None
    except ValueError as exc:
        raise Invalid(f"The body is not valid JSON: {exc}.") from None


def require_admin() -> None:
    """Only a logged-in admin (cookie session, with CSRF token) may do this."""
    if bearer() is not None:
        raise Forbidden("Only an admin may do this; log in at /admin.")
    if current_admin() is None:
        raise Unauthorized("Log in as an admin at /admin first.")
    check_csrf()


def created(event: Event, key: str) -> tuple[Response, int]:
    """The answer to creating an event: the event, its key (shown once) and its links."""
    actor = Actor("admin", event.id)
    body = domain.sync(actor) | {
        "code": event.code,
        "moderator_key": key,
        "urls": event_links(event.code, key),
    }
    return jsonify(body), 201


@route("POST", "/events", "admin", body=EventIn, success=201)
def create_event():
    """Create an event from JSON: title, times, venue, description, issues, speakers, settings."""
    require_admin()
    data = parse_event(json_body(), EventIn)  # the event file's schema: docs/event-format.md
    return created(*domain.create_event(data))


@route(
    "POST",
    "/events/import",
    "admin",
    body_type="text/plain",
    success=(201, 200),
    query={"dry_run": {"type": "string", "enum": ["1", "true", "0", "false"]}},
)
def import_event():
    """Create an event from programme text, a JSON event file or a full export; ?dry_run=1
    parses only."""
    require_admin()
    data = parse_event(agenda.read_event(request.get_data(as_text=True)))  # event-format.md
    if request.args.get("dry_run") in ("1", "true"):
        event = data.model_dump(mode="json", include=set(EventIn.model_fields))
        found = programme.duplicates(data.title, data.starts_at, data.time_zone)
        return jsonify(
            {"dry_run": True, "event": event, "history": data.history, "duplicates": found}
        )
    return created(*domain.import_event(data))


@route("GET", "/events/<code>", "anyone")
def get_event(code: str):
    """The snapshot of an event for the caller's role."""
    event = find_event(code)
    return jsonify(domain.snapshot(actor_of(event)))


@route(
    "POST", "/events/<code>/participants", "anyone", body=JoinIn, body_required=False, success=201
)
def join(code: str):
    """Join an event as a new participant: returns its id and token (shown once)."""
    event = find_event_ref(code)
    data = parse(JoinIn, json_body())
    joined = domain.join(event, data.display_name, request.remote_addr or "?")
    return jsonify({"participant_id": joined.participant_id, "token": joined.token}), 201


@route("POST", "/events/<code>/questions", "participant", body=AskIn, success=201)
def ask(code: str):
    """Ask a question (as the `ask` event); the same client_id again returns the same question."""
    actor = actor_of(find_event(code))
    question = domain.ask(actor, parse(AskIn, json_body()))
    return jsonify({"question": view_for(actor, question)}), 201


@route(
    "GET",
    "/events/<code>/similar",
    "participant",
    query={
        "text": {"type": "string", "minLength": 1, "maxLength": 5000},
        "issue_id": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
    },
)
def similar(code: str):
    """Up to three live questions like a text being typed (as `similar`)."""
    actor = actor_of(find_event(code))
    query: dict = {
        name: request.args[name] for name in ("text", "issue_id") if name in request.args
    }
    raw = query.get("issue_id")
    if raw is not None and raw.isascii() and raw.isdigit() and len(raw) <= 10:
        query["issue_id"] = int(raw)
    questions = domain.similar(actor, parse(SimilarIn, query))
    return jsonify({"ok": True, "questions": questions})


def _vote(question_id: int, up: bool):
    """Vote or unvote, and answer with the new count."""
    actor = actor_of_question(question_id)
    return jsonify(asdict(domain.vote(actor, VoteIn(question_id=question_id, up=up))))


@route("PUT", "/questions/<id:question_id>/vote", "participant")
def vote(question_id: int):
    """Vote for a question (idempotent)."""
    return _vote(question_id, True)


@route("DELETE", "/questions/<id:question_id>/vote", "participant")
def unvote(question_id: int):
    """Take a vote back (idempotent)."""
    return _vote(question_id, False)


@route("POST", "/questions/<id:question_id>/withdraw", "participant")
def withdraw(question_id: int):
    """Withdraw an own question still waiting for review (as `withdraw`)."""
    actor = actor_of_question(question_id)
    question = domain.withdraw(actor, WithdrawIn(question_id=question_id))
    return jsonify({"question": view_for(actor, question)})


def with_id(body: object, **values) -> dict:
    """The body with the ids from the path (the body may not set them)."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Invalid("The payload must be a JSON object.")
    return {**body, **values}


@route("PATCH", "/questions/<id:question_id>", "moderator", body=ModerateChange)
def moderate(question_id: int):
    """Approve, dismiss, mark answered, edit, move or re-address a question (as `moderate`)."""
    actor = actor_of_question(question_id)
    data = parse(ModerateIn, with_id(json_body(), question_id=question_id))
    done = domain.moderate(actor, data)
    return jsonify({"question": moderator_view(done.question), "action_id": done.action_id})


def merged(actor: Actor, data: MergeIn):
    """Merge, and answer with the target, the merged ids and the action's id."""
    done = domain.merge(actor, data)
    return jsonify(
        {
            "question": moderator_view(done.question),
            "merged": done.merged,
            "action_id": done.action_id,
        }
    )


@route("POST", "/questions/<id:question_id>/merge", "moderator", body=MergeInto)
def merge(question_id: int):
    """Merge a question into another (as `merge`); returns the target."""
    actor = actor_of_question(question_id)
    return merged(actor, parse(MergeIn, with_id(json_body(), question_id=question_id)))


@route("POST", "/events/<code>/merge", "moderator", body=MergeMany)
def merge_many(code: str):
    """Merge several questions into one (as `merge` with question_ids); returns the target."""
    actor = actor_of(find_event(code))
    data = parse(MergeMany, json_body())
    return merged(actor, MergeIn(question_ids=data.question_ids, into=data.into))


@route("POST", "/actions/<id:action_id>/undo", "moderator")
def undo(action_id: int):
    """Undo a moderator action of the last few seconds (as `undo`)."""
    actor = actor_of_action(action_id)
    return jsonify(asdict(domain.undo(actor, UndoIn(action_id=action_id))))


@route("GET", "/events/<code>/bans", "moderator")
def bans(code: str):
    """The event's banned participants, newest first (as `bans`)."""
    return jsonify({"banned": domain.banned(actor_of(find_event(code)))})


def _ban(question_id: int, banned: bool):
    """Ban or unban the asker of a question, and answer with the outcome."""
    actor = actor_of_question(question_id)
    data = BanIn(question_id=question_id)
    if banned:
        return jsonify(asdict(domain.ban(actor, data)))
    result = asdict(domain.unban(actor, data))
    del result["action_id"]  # an unban is logged, but not undone
    return jsonify(result)


@route("PUT", "/questions/<id:question_id>/ban", "moderator")
def ban(question_id: int):
    """Ban the asker of a question (as `ban`): no more asking or voting from that device."""
    return _ban(question_id, True)


@route("DELETE", "/questions/<id:question_id>/ban", "moderator")
def unban(question_id: int):
    """Lift the ban on the asker of a question (as `unban`)."""
    return _ban(question_id, False)


@route("PUT", "/events/<code>/screen", "moderator", body=ShowIn)
def show(code: str):
    """Put a question on screen, or clear it with {question_id: null} (as `show`)."""
    actor = actor_of(find_event(code))
    shown = domain.show(actor, parse(ShowIn, json_body()))
    return jsonify({"ok": True, "action_id": shown.action_id})


@route("PUT", "/events/<code>/current-issue", "moderator", body=SetIssueIn)
def set_issue(code: str):
    """Set the current issue (as `set_issue`)."""
    actor = actor_of(find_event(code))
    domain.set_issue(actor, parse(SetIssueIn, json_body()))
    return jsonify({"ok": True})


@route("PATCH", "/events/<code>/settings", "moderator", body=SettingsIn)
def settings(code: str):
    """Change the event's settings."""
    actor = actor_of(find_event(code))
    event = domain.update_settings(actor, parse(SettingsIn, json_body()))
    return jsonify({"settings": event.settings})


@route("PUT", "/events/<code>/screen-mode", "moderator", body=ScreenModeIn)
def screen_mode(code: str):
    """Switch the screens between the questions and the join slide (as `screen_mode`)."""
    actor = actor_of(find_event(code))
    event = domain.set_screen_mode(actor, parse(ScreenModeIn, json_body()))
    return jsonify({"event": event_view(event)})


@route("PATCH", "/events/<code>/clock", "moderator", body=ClockIn)
def clock(code: str):
    """Switch the issue clock on or off; give the current issue more or less time (as `clock`)."""
    actor = actor_of(find_event(code))
    event = domain.set_clock(actor, parse(ClockIn, json_body()))
    return jsonify({"event": event_view(event)})


@route("GET", "/events/<code>/blocklist", "moderator")
def get_blocklist(code: str):
    """The event's blocklist: its own phrases and the built-in lists switched on."""
    event = find_event(code)
    return jsonify({"blocklist": domain.get_blocklist(actor_of(event), event)})


@route("PUT", "/events/<code>/blocklist", "moderator", body=BlocklistIn)
def set_blocklist(code: str):
    """Replace the event's blocklist phrases and/or built-in lists (as `set_blocklist`)."""
    actor = actor_of(find_event(code))
    return jsonify({"blocklist": domain.set_blocklist(actor, parse(BlocklistIn, json_body()))})


@route("POST", "/events/<code>/moderator-key", "moderator", success=201)
def rotate_key(code: str):
    """Replace a seat's moderator key (the caller's own; the organiser's: the first seat)."""
    event = find_event(code)
    key = domain.rotate_moderator_key(actor_of(event))
    return jsonify({"moderator_key": key, "urls": event_links(event.code, key)}), 201


@route("POST", "/events/<code>/moderator-session", "moderator", success=201)
def moderator_session(code: str):
    """Trade a seat's moderator key for a moderator session token of that seat."""
    event = find_event(code)
    actor = actor_of(event)
    require_moderator(actor)
    seat = active_seat(event.id, id=actor.seat_id) if actor.seat_id is not None else None
    if seat is None:
        raise Forbidden("Only a moderator link is traded for a session; an organiser logs in.")
    return jsonify({"token": moderator_session_token(seat)}), 201


def actor_of_seat(seat_id: int) -> Actor:
    """The caller's role in the event of a moderator seat (NotFound if there is no such seat)."""
    seat = db.session.get(ModeratorSeat, seat_id)
    if seat is None:
        raise NotFound("There is no such moderator seat.")
    return actor_of(db.session.get(Event, seat.event_id))


def seat_created(event: Event, seat: ModeratorSeat, key: str) -> tuple[Response, int]:
    """A new seat row, its key (shown once) and the event's links with that key."""
    urls = event_links(event.code, key)
    return jsonify(
        {"seat": seat_view(seat), "key": key, "urls": urls, "link": urls["moderator"]}
    ), 201


@route("GET", "/events/<code>/seats", "moderator")
def seats(code: str):
    """The event's moderator seats (active first, then revoked ones); never their keys."""
    actor = actor_of(find_event(code))
    return jsonify({"seats": [seat_view(seat) for seat in domain.list_seats(actor)]})


@route("POST", "/events/<code>/seats", "admin", body=SeatIn, success=201)
def create_seat(code: str):
    """Add a named moderator seat: its key and link are shown once (the organiser's)."""
    event = find_event(code)
    actor = actor_of(event)
    seat, key = domain.create_seat(actor, parse(SeatIn, json_body()))
    return seat_created(event, seat, key)


@route("POST", "/seats/<id:seat_id>/key", "moderator", success=201)
def rotate_seat(seat_id: int):
    """Give one seat a new key (a new seat row with its name); its old link stops working."""
    actor = actor_of_seat(seat_id)
    seat, key = domain.rotate_seat(actor, seat_id)
    return seat_created(db.session.get(Event, seat.event_id), seat, key)


@route("DELETE", "/seats/<id:seat_id>", "admin")
def revoke_seat(seat_id: int):
    """Revoke one seat: its link, sessions and open consoles stop working at once."""
    actor = actor_of_seat(seat_id)
    return jsonify({"seat": seat_view(domain.revoke_seat(actor, seat_id))})


@route(
    "GET",
    "/events/<code>/log",
    "moderator",
    query={"limit": {"type": "integer", "minimum": 1, "maximum": LOG_LIMIT_MAX}},
)
def log(code: str):
    """The event's audit log of moderator actions, newest first (as `log`)."""
    actor = actor_of(find_event(code))
    limit = request.args.get("limit")
    if limit is not None and not (limit.isascii() and limit.isdigit() and len(limit) <= 10):
        raise Invalid(f"limit must be a whole number from 1 to {LOG_LIMIT_MAX}.")
    data = parse(LogIn, {} if limit is None else {"limit": int(limit)})
    return jsonify({"actions": domain.actions(actor, data)})


@route(
    "GET",
    "/events/<code>/export.<fmt>",
    "moderator",
    params={"fmt": {"type": "string", "enum": ["csv", "json"]}},
)
def export(code: str, fmt: str):
    """Every question with issue, author, addressee, votes, status and times (csv or json)."""
    event = find_event(code)
    actor = actor_of(event)
    rows = domain.export_rows(actor)
    if fmt == "json":
        actions = domain.actions(actor)
        return jsonify(
            {"event": event.code, "title": event.title, "questions": rows, "actions": actions}
        )
    if fmt != "csv":
        raise NotFound("Export as .csv or .json.")
    buffer = io.StringIO()
    exports.write_csv(buffer, rows)
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=qa-{event.code}.csv"},
    )


@route("GET", "/events/<code>/export/event.json", "moderator")
def export_event(code: str):
    """The whole event as one JSON document (programme, participants as references, questions,
    votes, moderation log) that `qa-app create-event` and POST /events/import read back."""
    event = find_event(code)
    document = domain.export_event(actor_of(event))
    return Response(
        transfer.dumps(document),
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=qa-{event.code}-event.json"},
    )


# -- the report's share link (qa_app/report.py, domain/sharing.py) -------------------------------


def share_view(event: Event) -> dict:
    """Whether the report is shared, and its link while it is."""
    url = share_url(event)
    return {"shared": url is not None, "url": url}


@route("GET", "/events/<code>/report-share", "admin")
def report_share(code: str):
    """Whether the event's report is shared with panelists, and its share link."""
    require_admin()
    return jsonify(share_view(find_event(code)))


@route("PUT", "/events/<code>/report-share", "admin")
def share_report(code: str):
    """Share the report with a new link (earlier links stop working): `{shared, url}`."""
    require_admin()
    event = find_event(code)
    domain.share_report(actor_of(event))
    return jsonify(share_view(db.session.get(Event, event.id)))


@route("DELETE", "/events/<code>/report-share", "admin")
def stop_sharing(code: str):
    """Stop sharing the report: every share link stops working."""
    require_admin()
    event = find_event(code)
    domain.stop_sharing(actor_of(event))
    return jsonify(share_view(db.session.get(Event, event.id)))


# -- the organiser's events: programme edits, archive, delete (issue 12) --------------------------


def programme_view(event: Event) -> dict:
    """An event with its issues and speakers, as a snapshot has them."""
    return {
        "event": event_view(event),
        "issues": [issue_view(issue) for issue in event.issues],
        "speakers": [speaker_view(speaker) for speaker in event.speakers],
    }


@route(
    "GET",
    "/events/duplicates",
    "admin",
    query={
        "title": {"type": "string", "minLength": 1, "maxLength": 300},
        "starts_at": {"type": "string", "format": "date-time"},
        "time_zone": {"type": "string", "maxLength": 64},
    },
)
def duplicates():
    """The events with this title (any case or spacing) and start: warn before creating twice."""
    require_admin()
    names = ("title", "starts_at", "time_zone")
    data = parse(
        DuplicatesIn, {name: request.args[name] for name in names if request.args.get(name)}
    )
    found = programme.duplicates(data.title, data.starts_at, data.time_zone)
    return jsonify({"duplicates": found})


@route("PATCH", "/events/<code>/programme", "admin", body=ProgrammeIn)
def edit_programme(code: str):
    """Edit the programme: title, times, time zone, venue, description, issues, speakers."""
    actor = actor_of(find_event(code))
    return jsonify(programme_view(domain.edit_programme(actor, parse(ProgrammeIn, json_body()))))


@route("PUT", "/events/<code>/archive", "admin", body=ArchiveIn)
def archive(code: str):
    """Archive the event (read-only, hidden from the default list), or bring it back."""
    actor = actor_of(find_event(code))
    return jsonify({"event": event_view(domain.archive(actor, parse(ArchiveIn, json_body())))})


@route("DELETE", "/events/<code>", "admin", body=DeleteEventIn)
def delete_event(code: str):
    """Delete the event and all its rows; the body's `confirm` must be the event's code."""
    event = find_event(code)
    domain.delete_event(actor_of(event), parse(DeleteEventIn, json_body()))
    return jsonify({"deleted": event.code})


def error_response(exc: DomainError):
    """The JSON error shape for every refusal."""
    db.session.rollback()
    return jsonify({"error": exc.to_dict()}), exc.status
