"""The pages people open: join, audience, screen, moderator; the service worker; OpenAPI."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import (
    Blueprint,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from . import __version__, assets, openapi
from .auth import current_admin, find_event, normalise_code
from .errors import NotFound
from .links import event_links
from .qr import qr_svg

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    """Join an event by its code."""
    code = request.args.get("code")
    if code:
        try:
            event = find_event(code)
        except NotFound:
            error = gettext("No event has the code %(code)s.", code=normalise_code(code))
            return render_template("join.html", error=error, code=code), 404
        return redirect(url_for("pages.audience", code=event.code))
    return render_template("join.html", error=None, code="")


def canonical(event, endpoint: str, code: str, **values):
    """Redirect a lower-case or padded code to the canonical URL, the route's other `values`
    kept (keeping the query string, as a query string: url_for would read ?_method=, ?_scheme=
    or ?_anchor= as its options). The pages and the report use it (the report cookie's path is
    case-sensitive)."""
    if event.code == code:
        return None
    url = url_for(endpoint, code=event.code, **values)
    query = urlencode(list(request.args.items(multi=True)))
    return redirect(f"{url}?{query}" if query else url)


@bp.get("/e/<code>")
def audience(code: str):
    """The audience page, on a phone."""
    event = find_event(code)
    return canonical(event, "pages.audience", code) or render_template("audience.html", event=event)


@bp.get("/e/<code>/screen")
def screen(code: str):
    """The projector's page, with the join link and its QR code."""
    event = find_event(code)
    join_url = event_links(event.code)["audience"]
    return canonical(event, "pages.screen", code) or render_template(
        "screen.html",
        event=event,
        join_url=join_url,
        join_label=join_url.split("://", 1)[-1],
        qr=qr_svg(join_url, gettext("QR code of the join link")),
    )


@bp.get("/e/<code>/moderate")
def moderate(code: str):
    """The moderator's console (a seat's key comes in the URL fragment; a logged-in organiser
    needs none: the socket is theirs through the login cookie)."""
    event = find_event(code)
    admin = current_admin()
    return canonical(event, "pages.moderate", code) or render_template(
        "moderate.html", event=event, organiser=admin.name if admin is not None else None
    )


@bp.get("/sw.js")
def service_worker():
    """The service worker that keeps the audience page usable offline (scope: the site)."""
    return assets.service_worker()


@bp.get("/api/openapi.json")
def openapi_document():
    """The OpenAPI 3 document of the JSON API."""
    return jsonify(openapi.build(__version__))
