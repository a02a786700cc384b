"""The organiser's pages: log in, list events, create them (form, JSON, programme text).

Logging out and changing a password end server-side sessions (auth.py), and revocation.py cuts
off the sockets opened with them.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from . import revocation
from .auth import close_admin_session, close_sessions_of, current_admin, open_admin_session
from .extensions import db
from .links import event_links
from .models import Admin, Event

bp = Blueprint("admin", __name__, url_prefix="/admin")


def set_admin_password(name: str, password: str) -> bool:
    """Create the admin or change its password (ending all its sessions); True when created."""
    admin = db.session.scalar(select(Admin).filter_by(name=name))
    created = admin is None
    if created:
        admin = Admin(name=name, password_hash="")
        db.session.add(admin)
    else:
        close_sessions_of(admin.id)
    admin.password_hash = generate_password_hash(password)
    db.session.commit()
    revocation.sweep()
    return created


def check_login(name: str, password: str) -> Admin | None:
    """The admin with this name and password, or None."""
    admin = db.session.scalar(select(Admin).filter_by(name=name))
    if admin is None or not check_password_hash(admin.password_hash, password):
        return None
    return admin


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form."""
    error = None
    if request.method == "POST":
        admin = check_login(request.form.get("name", ""), request.form.get("password", ""))
        if admin is not None:
            open_admin_session(admin.id)
            return redirect(url_for("admin.index"))
        error = gettext("Wrong name or password.")
    return render_template("admin/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    """Log out: this browser's session ends, and so do the sockets opened with it."""
    close_admin_session()
    revocation.sweep()
    return redirect(url_for("admin.login"))


@bp.get("/")
def index():
    """The organiser's list of events."""
    admin = current_admin()
    if admin is None:
        return redirect(url_for("admin.login"))
    events = db.session.scalars(select(Event).order_by(Event.id.desc())).all()
    links = {event.code: event_links(event.code) for event in events}
    return render_template("admin/index.html", admin=admin, events=events, links=links)
