"""Errors mapped in one place: JSON under /api, a plain page elsewhere; 500 rolls back."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from .errors import DomainError, as_busy
from .extensions import db

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "rate_limited",
    503: "busy",
}


def wants_json() -> bool:
    """API callers get JSON errors."""
    return request.path.startswith("/api/")


def render_error(status: int, code: str, message: str, details=None):
    """One error, as JSON for the API or as a page for people."""
    db.session.rollback()
    if wants_json():
        body = {"code": code, "message": message}
        if details is not None:
            body["details"] = details
        return jsonify({"error": body}), status
    if code == "not_found" and isinstance(details, dict) and details.get("what") == "event":
        # a wrong event code in a page's link (/e/<code>, its screen or its console): say so
        # in the page's language, with the join form to type the right one
        wrong = details.get("code", "")
        error = gettext("No event has the code %(code)s.", code=wrong)
        return render_template("join.html", error=error, code=wrong[:6]), status
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return render_error(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = HTTP_CODES.get(exc.code or 500, "error")
        return render_error(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        busy = as_busy(exc)
        if busy is not None:
            log.warning("database %s: %s %s: %s", busy.code, request.method, request.path, exc)
            return render_error(busy.status, busy.code, busy.message)
        log.exception("request failed: %s %s", request.method, request.path)
        return render_error(500, "internal", "Something went wrong on the server; try again.")
