"""The organiser's pages: log in, list events (status, numbers, search, filter), create them
(form, JSON, programme text), and one page per event (links, seats, settings, blocklist, programme
edits, archive, delete).

Log-ins are throttled per address and per account name before any password is checked (only
failures count), and every password is hashed off the event loop (passwords.py). Logging out and
changing a password end server-side sessions (auth.py), and revocation.py cuts off the sockets
opened with them.
"""

from __future__ import annotations

import unicodedata
from contextlib import suppress
from datetime import datetime

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import format_datetime, gettext, lazy_gettext, lazy_pgettext
from sqlalchemy import select

from . import domain, passwords, revocation, storage
from .auth import (
    Actor,
    close_admin_session,
    close_sessions_of,
    current_admin,
    find_event,
    open_admin_session,
)
from .domain import programme, ratelimit
from .errors import RateLimited
from .extensions import db
from .links import event_links
from .models import Admin, Event, ModeratorSeat, Question

bp = Blueprint("admin", __name__, url_prefix="/admin")
NAME_MAX = 80  # Admin.name's length: longer names match nobody and are not worth counting


def set_admin_password(name: str, password: str) -> bool:
    """Create the admin or change its password (ending all its sessions); True when created."""
    password_hash = passwords.hash_password(password)  # before the write: it takes a while
    with storage.writing():
        admin = db.session.scalar(select(Admin).filter_by(name=name))
        created = admin is None
        if created:
            admin = Admin(name=name, password_hash="")
            db.session.add(admin)
        else:
            close_sessions_of(admin.id)
        admin.password_hash = password_hash
    revocation.sweep()
    return created


def throttles(address: str, name: str) -> tuple[tuple[str, str], ...]:
    """The log-in throttles a log-in counts against: per address, and per account name."""
    return (("login", address), ("login_account", name[:NAME_MAX]))


def throttled(address: str, name: str) -> str | None:
    """The throttle that refuses a log-in now ("login" per address, "login_account"), if any."""
    for action, who in throttles(address, name):
        try:
            ratelimit.check(action, who)
        except RateLimited:
            return action
    return None


def could_be_a_name(name: str) -> bool:
    """Whether name could name an admin: not too long, no control character (PostgreSQL cannot
    even compare a text holding NUL, so such a name is never looked up)."""
    return len(name) <= NAME_MAX and not any(unicodedata.category(c) == "Cc" for c in name)


def check_login(name: str, password: str, address: str) -> int | None:
    """The id of the admin with this name and password, or None (counted against both throttles)."""
    query = select(Admin.id, Admin.password_hash).filter_by(name=name)
    found = db.session.execute(query).first() if could_be_a_name(name) else None
    db.session.rollback()  # no pooled connection is held while the hash waits for its thread
    if passwords.check_password(found.password_hash if found else None, password):
        return found.id
    for action, who in throttles(address, name):
        with suppress(RateLimited):  # a full window stays full: the next attempt is refused
            ratelimit.hit(action, who)
    return None


# the page's words for each throttle (ratelimit.MESSAGES has the API's)
THROTTLED = {
    "login": lazy_gettext(
        "Too many failed log-ins from this address. Wait a minute and try again."
    ),
    "login_account": lazy_gettext(
        "Too many failed log-ins for this account. Wait a while and try again."
    ),
}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a throttled log-in is refused before its password is looked at."""
    error, status = None, 200
    if request.method == "POST":
        name, address = request.form.get("name", ""), request.remote_addr or "?"
        refused = throttled(address, name)
        if refused:
            error, status = str(THROTTLED[refused]), 429
        else:
            admin_id = check_login(name, request.form.get("password", ""), address)
            if admin_id is not None:
                open_admin_session(admin_id)
                return redirect(url_for("admin.index"))
            error, status = gettext("Wrong name or password."), 401
    return render_template("admin/login.html", error=error), status


@bp.post("/logout")
def logout():
    """Log out: this browser's session ends, and so do the sockets opened with it."""
    close_admin_session()
    revocation.sweep()
    return redirect(url_for("admin.login"))


# the words of each status, in the list's filter and on each event
STATUS_LABELS = {
    "upcoming": lazy_pgettext("event status", "Upcoming"),
    "live": lazy_pgettext("event status", "Live"),
    "ended": lazy_pgettext("event status", "Ended"),
    "archived": lazy_pgettext("event status", "Archived"),
}
FILTERS = ("", "upcoming", "live", "ended", "archived", "all")


def when(event: Event) -> str:
    """The event's date as a person reads it, in the page's language: "Thu 12 Jan 2017,
    15:30–17:00" (the venue's wall-clock times, never shifted to another zone)."""
    if event.starts_at is None:
        return ""
    text = format_datetime(event.starts_at, "EEE d MMM y, HH:mm", rebase=False)
    if event.ends_at is None:
        return text
    same_day = event.ends_at.date() == event.starts_at.date()
    end_format = "HH:mm" if same_day else "EEE d MMM y, HH:mm"
    return f"{text}–{format_datetime(event.ends_at, end_format, rebase=False)}"


def local_input(moment: datetime | None) -> str:
    """A stored wall-clock time as a datetime-local field's value."""
    return moment.strftime("%Y-%m-%dT%H:%M") if moment else ""


@bp.get("/")
def index():
    """The organiser's list of events: date, venue, status and numbers; search and filter."""
    admin = current_admin()
    if admin is None:
        return redirect(url_for("admin.login"))
    search = request.args.get("q", "")
    wanted = request.args.get("status", "")
    wanted = wanted if wanted in FILTERS else ""
    events = programme.find_events(search, wanted)
    return render_template(
        "admin/index.html",
        admin=admin,
        events=events,
        numbers=programme.numbers([event.id for event in events]),
        status=programme.status,
        labels=STATUS_LABELS,
        filters=FILTERS,
        search=search,
        wanted=wanted,
        when=when,
        deleted=request.args.get("deleted", "")[:6],
    )


@bp.get("/events/<code>")
def event_page(code: str):
    """One event for the organiser: links, seats, settings, blocklist, its programme to edit,
    archive and delete."""
    admin = current_admin()
    if admin is None:
        return redirect(url_for("admin.login"))
    event = find_event(code)
    query = select(ModeratorSeat).filter_by(event_id=event.id, revoked_at=None)
    seats = list(db.session.scalars(query.order_by(ModeratorSeat.id)))
    return render_template(
        "admin/event.html",
        admin=admin,
        event=event,
        links=event_links(event.code),
        seats=seats,
        numbers=programme.numbers([event.id])[event.id],
        status=programme.status(event),
        labels=STATUS_LABELS,
        when=when,
        local_input=local_input,
    )


# what the event log calls each action (the names the domain records; any other shows as is), in
# a context of their own: "Approved" in the log is a person's act, on the console a question's state
ACTIONS = {
    "moderate": lazy_pgettext("event log", "Changed a question"),
    "approve": lazy_pgettext("event log", "Approved"),
    "reopen": lazy_pgettext("event log", "Back to live"),
    "hold": lazy_pgettext("event log", "Sent back to pending"),
    "dismiss": lazy_pgettext("event log", "Dismissed"),
    "answered": lazy_pgettext("event log", "Marked answered"),
    "edit": lazy_pgettext("event log", "Edited"),
    "move": lazy_pgettext("event log", "Moved to another issue"),
    "addressee": lazy_pgettext("event log", "Changed the addressee"),
    "merge": lazy_pgettext("event log", "Merged"),
    "show": lazy_pgettext("event log", "On screen"),
    "ban": lazy_pgettext("event log", "Banned the asker"),
    "unban": lazy_pgettext("event log", "Lifted a ban"),
    "undo": lazy_pgettext("event log", "Undid an action"),
    "settings": lazy_pgettext("event log", "Changed the settings"),
    "set_issue": lazy_pgettext("event log", "Changed the current issue"),
    "set_blocklist": lazy_pgettext("event log", "Changed the blocklist"),
    "screen_mode": lazy_pgettext("event log", "Switched the join slide"),
    "clock": lazy_pgettext("event log", "Changed the clock"),
    "seat_create": lazy_pgettext("event log", "Added a moderator"),
    "seat_rotate": lazy_pgettext("event log", "Gave a moderator a new link"),
    "seat_revoke": lazy_pgettext("event log", "Revoked a moderator"),
    "edit_programme": lazy_pgettext("event log", "Edited the programme"),
    "archive": lazy_pgettext("event log", "Archived the event"),
    "unarchive": lazy_pgettext("event log", "Brought the event back from the archive"),
    "report_share": lazy_pgettext("event log", "Changed the report's share link"),
}


@bp.get("/events/<code>/log")
def event_log(code: str):
    """The organiser's page of an event's audit log: who did what, newest first."""
    admin = current_admin()
    if admin is None:
        return redirect(url_for("admin.login"))
    event = find_event(code)
    actions = domain.actions(Actor("admin", event.id, admin_id=admin.id))
    ids = {a["question_id"] for a in actions if a["question_id"] is not None}
    texts = dict(
        db.session.execute(select(Question.id, Question.text).where(Question.id.in_(ids))).all()
    )
    return render_template(
        "admin/log.html", admin=admin, event=event, actions=actions, texts=texts, labels=ACTIONS
    )
