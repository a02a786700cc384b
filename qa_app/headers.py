"""Browser hardening headers: a strict Content-Security-Policy, framing, nosniff, referrer, HSTS.

Every response — Flask's, Engine.IO's long-polling and the host guard's refusals — gets
`X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` (the CSRF check of the
admin's forms reads the Referer over HTTPS; no other site is sent one). What Flask serves also
gets its page policy:

- `Content-Security-Policy`: scripts, styles, the service worker and connections from this
  origin only (no inline script or style; the JSON strings block in each page is data, not a
  script), the WebSocket to this host named as well (`'self'` covers `ws:`/`wss:` only since
  Safari 16), images from here or `data:` (the empty favicon), no plugins, no `<base>`, forms
  posted here only, and `frame-ancestors 'none'`;
- `X-Frame-Options: DENY` for browsers without frame-ancestors;
- `Strict-Transport-Security` when the request came over HTTPS, directly or through a proxy
  trusted by QA_TRUSTED_PROXIES (a client's own `X-Forwarded-Proto` does not count).

QA_FRAME_ANCESTORS lets the sites an organiser names frame the audience and screen pages (the
moderator's and the organiser's pages never): `frame-ancestors` lists them, and X-Frame-Options,
which cannot, is left out there.

The headers are built with `secure`: typed builders that refuse a malformed value (a stray `;`
in QA_FRAME_ANCESTORS stops the start instead of adding a directive) and a WSGI middleware
that reaches Engine.IO's responses. flask-talisman (last release 1.1.0, August 2023) was
weighed and left: by default it redirects to HTTPS and marks the session cookie Secure, both
wrong for `make run` on plain HTTP in a hall; it sends HSTS whenever a client claims
`X-Forwarded-Proto: https`, trusted proxy or not; and it sees only Flask's responses.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, request
from secure import (
    ContentSecurityPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)
from secure.middleware import SecureWSGIMiddleware

EMBEDDABLE = {"pages.audience", "pages.screen"}  # the pages QA_FRAME_ANCESTORS applies to
NOBODY = ("'none'",)
HSTS = StrictTransportSecurity().max_age(365 * 24 * 3600)
DENY = XFrameOptions().deny()
EVERY_RESPONSE = Secure(
    xcto=XContentTypeOptions().nosniff(), referrer=ReferrerPolicy().same_origin()
).validate_and_normalize_headers(on_invalid="raise")


@lru_cache(maxsize=256)
def content_security_policy(host: str, frame_ancestors: tuple[str, ...]) -> str:
    """The Content-Security-Policy of a response served on host (a trusted name)."""
    return (
        ContentSecurityPolicy()
        .default_src("'self'")
        .script_src("'self'")
        .style_src("'self'")
        .img_src("'self'", "data:")
        .connect_src("'self'", f"ws://{host}", f"wss://{host}")
        .object_src("'none'")
        .base_uri("'none'")
        .form_action("'self'")
        .frame_ancestors(*frame_ancestors)
        .header_value
    )


def init_app(app: Flask) -> None:
    """Add the page policy to Flask's responses and the common headers to every response
    (call after socketio.init_app and hosts.init_app, so that their responses get them too)."""
    embedders = tuple(app.config["QA_FRAME_ANCESTORS"]) or NOBODY
    try:
        content_security_policy("localhost", embedders)
    except ValueError as exc:
        raise ValueError(f"QA_FRAME_ANCESTORS: {exc}") from None

    @app.after_request
    def page_policy(response):
        ancestors = embedders if request.endpoint in EMBEDDABLE else NOBODY
        response.headers["Content-Security-Policy"] = content_security_policy(
            request.host, ancestors
        )
        if ancestors == NOBODY:
            response.headers[DENY.header_name] = DENY.header_value
        if request.is_secure:
            response.headers[HSTS.header_name] = HSTS.header_value
        return response

    app.wsgi_app = SecureWSGIMiddleware(app.wsgi_app, secure=EVERY_RESPONSE)
