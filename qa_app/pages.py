"""The pages people open: join, audience, screen, moderator; the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from . import __version__, openapi
from .auth import find_event, normalise_code
from .errors import NotFound

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    """Join an event by its code."""
    code = request.args.get("code")
    if code:
        try:
            event = find_event(code)
        except NotFound:
            return render_template(
                "join.html", error=f"No event has the code {normalise_code(code)}."
            ), 404
        return redirect(url_for("pages.audience", code=event.code))
    return render_template("join.html", error=None)


@bp.get("/e/<code>")
def audience(code: str):
    """The audience page, on a phone."""
    event = find_event(code)
    if event.code != code:
        return redirect(url_for("pages.audience", code=event.code))
    return render_template("audience.html", event=event)


@bp.get("/e/<code>/screen")
def screen(code: str):
    """The projector's page."""
    return render_template("screen.html", event=find_event(code))


@bp.get("/e/<code>/moderate")
def moderate(code: str):
    """The moderator's console (the key comes in the URL fragment)."""
    return render_template("moderate.html", event=find_event(code))


@bp.get("/api/openapi.json")
def openapi_document():
    """The OpenAPI 3 document of the JSON API."""
    return jsonify(openapi.build(__version__))
