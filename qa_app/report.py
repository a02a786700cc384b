"""The report of an event: the page (/e/<code>/report), its data as JSON and CSV, and who may
read them (docs/report.md).

Who may read a report:
- the organiser, logged in at /admin (the login cookie);
- a moderator of the event: the console's "Report" button posts its moderator session to
  /e/<code>/report/access, which sets an HttpOnly cookie (`qa_report`, scoped to this event's
  three report paths) holding that signed seat session; each request checks it against the
  seat, so a rotated or revoked seat reads no more;
- anyone with the share link (?share=<token>) while the organiser shares it (domain/sharing.py).
Anyone else gets a page (or, for the data, a JSON error) saying how to get access, and no data.
"""

from __future__ import annotations

import io
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from babel.dates import format_date, format_time
from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, format_percent, get_locale, gettext, ngettext

from . import charts, exports
from .auth import (
    MODERATOR_SESSION_PREFIX,
    active_seat,
    actor_for,
    current_admin,
    find_event,
    moderator_session_token,
)
from .domain.report import report as build_report
from .domain.sharing import share_token, shared_with
from .errors import DomainError
from .extensions import csrf
from .links import base_url
from .models import Event
from .pages import canonical

bp = Blueprint("report", __name__)
COOKIE = "qa_report"
COOKIE_DAYS = 7
PRIVATE = "private, no-cache"  # a report is nobody's shared cache's business


class Denied(Exception):
    """No access to this report: 401 (no credentials) or 403 (credentials that do not work),
    with the reason the page explains: "none", "share" (a link no longer shared) or "seat"
    (a moderator whose seat was rotated or revoked)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def share_url(event: Event) -> str | None:
    """The report's share link, while the organiser shares it."""
    token = share_token(event)
    return f"{base_url()}/e/{event.code}/report?share={token}" if token else None


@bp.app_context_processor
def report_helpers() -> dict:
    """For the organiser's page (templates/admin/_report_share.html): an event's share link."""
    return {"report_share_url": share_url}


def report_paths(code: str) -> list[str]:
    """The paths the report cookie is sent to (a cookie's path does not cover `report.json`)."""
    return [f"/e/{code}/report", f"/e/{code}/report.json", f"/e/{code}/report.csv"]


def _moderator_seat(event: Event, token: str | None):
    """The active seat a moderator key or session token stands for, or None."""
    if not token:
        return None
    try:
        actor = actor_for(event, token)
    except DomainError:
        return None
    if actor.role != "moderator":
        return None
    return active_seat(event.id, id=actor.seat_id)


def access(event: Event) -> str:
    """Who reads this report ("organiser", "share", "moderator"), or Denied."""
    if current_admin() is not None:
        return "organiser"
    if "share" in request.args:
        if shared_with(event, request.args["share"]):
            return "share"
        raise Denied(403, "share")
    cookie = request.cookies.get(COOKIE)
    if cookie:
        if cookie.startswith(MODERATOR_SESSION_PREFIX) and _moderator_seat(event, cookie):
            return "moderator"
        raise Denied(403, "seat")
    raise Denied(401, "none")


def _private(response: Response) -> Response:
    """Keep the report out of shared caches and search engines."""
    response.headers["Cache-Control"] = PRIVATE
    response.headers["X-Robots-Tag"] = "noindex"
    return response


DENIED_MESSAGES = {
    "none": "This report is private. Open it from /admin (organiser), from the console's Report "
    "button (moderator), or with the share link the organiser sends.",
    "share": "This share link no longer works: the organiser turned sharing off or made a new "
    "link. Ask the organiser for the current link.",
    "seat": "Your moderator link was replaced or revoked, so this report no longer opens "
    "with it. Ask the organiser for a new link.",
}


def _denied_data(denied: Denied):
    """A refusal of the JSON or CSV data: the JSON error shape, no data."""
    code = "unauthorized" if denied.status == 401 else "forbidden"
    body = {"code": code, "message": DENIED_MESSAGES[denied.reason]}
    return _private(
        jsonify({"error": body | {"details": {"reason": denied.reason}}})
    ), denied.status


def _denied_page(event: Event, denied: Denied):
    """A refusal of the page: what happened and how to get access, no data."""
    response = Response(
        render_template("report_denied.html", event=event, reason=denied.reason),
        status=denied.status,
        mimetype="text/html",
    )
    if denied.reason == "seat":  # the cookie is dead: forget it
        _forget(response, event.code)
    return _private(response)


# -- the page --------------------------------------------------------------------------------------


def _number(n: int | None) -> str:
    """A count in the page's language."""
    return format_decimal(n or 0)


def _count(singular: str, plural: str, n: int) -> str:
    """A counted string ("%(n)s question") in the page's language, n in its place."""
    return ngettext(singular, plural, n, n=_number(n))


def _percent(value: float | None) -> str:
    """A share as a percentage in the page's language ("—" when there is none)."""
    return format_percent(value, "#,##0%") if value is not None else "—"


def _when(data: dict) -> str:
    """The programme's date and times as people read them, in the page's language."""
    event = data["event"]
    if not event["starts_at"]:
        return ""
    start = datetime.fromisoformat(event["starts_at"])
    text = format_date(start.date(), "long", locale=get_locale())
    text += " · " + format_time(start.time(), "short", locale=get_locale())
    if event["ends_at"]:
        end = datetime.fromisoformat(event["ends_at"])
        text += "–" + format_time(end.time(), "short", locale=get_locale())
    return text


def _timeline_words(timeline: dict) -> dict:
    """The timeline chart's words, its description summing up the numbers."""
    buckets = timeline["buckets"]
    per = (
        gettext("per minute")
        if timeline["bucket_minutes"] == 1
        else _count("per %(n)s minute", "per %(n)s minutes", timeline["bucket_minutes"])
    )
    questions = sum(b["questions"] for b in buckets)
    votes = sum(b["votes"] for b in buckets)
    desc = gettext(
        "From %(start)s to %(end)s: %(questions)s and %(votes)s; the current issue changed "
        "%(changes)s, and questions went on screen %(shown)s.",
        start=(timeline["start"] or "")[11:],
        end=(timeline["end"] or "")[11:],
        questions=_count("%(n)s question", "%(n)s questions", questions),
        votes=_count("%(n)s vote", "%(n)s votes", votes),
        changes=_count("%(n)s time", "%(n)s times", len(timeline["issue_changes"])),
        shown=_count("%(n)s time", "%(n)s times", len(timeline["on_screen"])),
    )
    return {
        "title": gettext("Questions and votes %(per)s", per=per),
        "desc": desc,
        "questions": gettext("Questions %(per)s", per=per),
        "votes": gettext("Votes %(per)s", per=per),
        "issue": gettext("Issue %(n)s"),
        "on_screen": gettext("On screen"),
    }


def _bars(rows: list[dict], title: str) -> object:
    """A bar chart of questions per issue or per panelist, described in words."""
    parts = [
        gettext(
            "%(label)s: %(questions)s, %(answered)s answered",
            label=row["label"],
            questions=_count("%(n)s question", "%(n)s questions", row["questions"]),
            answered=_number(row["answered"]),
        )
        for row in rows
    ]
    return charts.bars_chart(rows, {"title": title, "desc": "; ".join(parts) + "."})


def _charts(data: dict) -> dict:
    """The report's SVG charts."""
    issue_rows = [
        {"label": f"{issue['position']}. {issue['title']}"} | issue for issue in data["issues"]
    ]
    panel_rows = [
        {"label": person["name"] or gettext("All panelists")} | person
        for person in data["panelists"]
    ]
    return {
        "timeline": charts.timeline_chart(data["timeline"], _timeline_words(data["timeline"])),
        "issues": _bars(issue_rows, gettext("Questions per issue")),
        "panelists": _bars(panel_rows, gettext("Questions per panelist")),
    }


def _links(event: Event, who: str) -> dict:
    """The page's links that keep the reader's access: the data and the language switch."""
    share = {"share": request.args["share"]} if who == "share" else {}
    return {
        "json": url_for("report.data", code=event.code, fmt="json", **share),
        "csv": url_for("report.data", code=event.code, fmt="csv", **share),
        "lang": {lang: "?" + urlencode(share | {"lang": lang}) for lang in ("en", "ru")},
    }


@bp.get("/e/<code>/report")
def page(code: str):
    """The report, for people (and for print: A4)."""
    event = find_event(code)
    moved = canonical(event, "report.page", code)
    if moved:
        return moved
    try:
        who = access(event)
    except Denied as denied:
        return _denied_page(event, denied)
    data = build_report(event)
    html = render_template(
        "report.html",
        event=event,
        report=data,
        who=who,
        when=_when(data),
        charts=_charts(data),
        links=_links(event, who),
        number=_number,
        percent=_percent,
    )
    return _private(Response(html, mimetype="text/html"))


# -- the data --------------------------------------------------------------------------------------


@bp.get("/e/<code>/report.<fmt>")
def data(code: str, fmt: str):
    """The report's data: JSON (as built), or CSV (flat, spreadsheet-safe: docs/report.md)."""
    event = find_event(code)
    if fmt not in ("json", "csv"):
        return _private(
            jsonify({"error": {"code": "not_found", "message": "Ask for .json or .csv."}})
        ), 404
    moved = canonical(event, "report.data", code, fmt=fmt)
    if moved:
        return moved
    try:
        access(event)
    except Denied as denied:
        return _denied_data(denied)
    built = build_report(event)
    if fmt == "json":
        return _private(jsonify(built))
    buffer = io.StringIO()
    exports.write_report_csv(buffer, built)
    return _private(
        Response(
            "\ufeff" + buffer.getvalue(),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=report-{event.code}.csv"},
        )
    )


# -- the moderator's hand-off ----------------------------------------------------------------------


def _forget(response: Response, code: str) -> None:
    """Delete the report cookie on every path it was set for."""
    for path in report_paths(code):
        response.delete_cookie(COOKIE, path=path)


def _same_origin() -> bool:
    """Whether a form post came from this site (a browser names where it came from)."""
    if request.headers.get("Sec-Fetch-Site") not in (None, "same-origin"):
        return False
    origin = request.headers.get("Origin")  # its host: a TLS proxy may hide the scheme
    return origin in (None, "null") or urlsplit(origin).netloc == request.host


@bp.post("/e/<code>/report/access")
@csrf.exempt  # the credential is the posted token itself, and the origin is checked
def hand_off(code: str):
    """The console's Report button: trade the moderator's session (form field `token`) for
    the report cookie, then open the report. A logged-in organiser needs no token."""
    event = find_event(code)
    report_url = url_for("report.page", code=event.code)
    if not _same_origin():
        return _denied_page(event, Denied(403, "none"))
    if current_admin() is not None and not request.form.get("token"):
        return redirect(report_url, code=303)
    token = request.form.get("token")
    seat = _moderator_seat(event, token)
    if seat is None:
        return _denied_page(event, Denied(403, "seat") if token else Denied(401, "none"))
    response = redirect(report_url, code=303)
    for path in report_paths(event.code):
        response.set_cookie(
            COOKIE,
            moderator_session_token(seat),
            max_age=COOKIE_DAYS * 24 * 3600,
            path=path,
            httponly=True,
            samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
    return response
