"""The three links of an event: audience, screen, moderator (key in the URL fragment)."""

from __future__ import annotations

from flask import current_app, request


def base_url() -> str:
    """The public base URL: QA_PUBLIC_URL, else the request's host (a trusted one: the host
    guard of qa_app.hosts refuses any other before a view runs), else localhost."""
    configured = current_app.config.get("QA_PUBLIC_URL")
    if configured:
        return configured
    if request:
        return request.host_url.rstrip("/")
    return "http://localhost:5000"


def event_links(code: str, moderator_key: str | None = None, base: str | None = None) -> dict:
    """Audience, screen and moderator links of an event."""
    root = (base or base_url()).rstrip("/")
    moderator = f"{root}/e/{code}/moderate"
    if moderator_key:
        moderator += f"#key={moderator_key}"
    return {
        "audience": f"{root}/e/{code}",
        "screen": f"{root}/e/{code}/screen",
        "moderator": moderator,
    }
