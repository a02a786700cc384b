"""Rate limits on asking, voting, joining and failed log-ins, through the `limits` library."""

from __future__ import annotations

from flask import current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ..errors import RateLimited

MESSAGES = {
    "ask": "You are asking too fast: wait a moment before the next question.",
    "vote": "You are voting too fast: wait a moment.",
    "join": "Too many devices joined from this address: wait a minute.",
    "login": "Too many failed log-ins from this address: wait a minute and try again.",
    "login_account": "Too many failed log-ins for this account: wait a while and try again.",
}


def init_app(app) -> None:
    """Create the limiter: in memory for one process, in Redis when a message queue is set."""
    url = (
        app.config.get("QA_RATELIMIT_STORAGE") or app.config.get("QA_MESSAGE_QUEUE") or "memory://"
    )
    app.extensions["qa_limiter"] = MovingWindowRateLimiter(storage_from_string(url))


def hit(action: str, who: object) -> None:
    """Count one action by who; raise RateLimited past the configured limit."""
    if not current_app.config["QA_RATE_LIMITS"]:
        return
    limit = parse(current_app.config[f"QA_{action.upper()}_LIMIT"])
    limiter: MovingWindowRateLimiter = current_app.extensions["qa_limiter"]
    if not limiter.hit(limit, "qa", action, str(who)):
        raise RateLimited(MESSAGES[action])


def check(action: str, who: object) -> None:
    """Raise RateLimited if who has no action left in the window, without counting one."""
    if not current_app.config["QA_RATE_LIMITS"]:
        return
    limit = parse(current_app.config[f"QA_{action.upper()}_LIMIT"])
    limiter: MovingWindowRateLimiter = current_app.extensions["qa_limiter"]
    if not limiter.test(limit, "qa", action, str(who)):
        raise RateLimited(MESSAGES[action])
