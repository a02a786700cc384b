"""Browser hardening headers on every response: CSP without inline script, no framing, nosniff,
Referrer-Policy, and HSTS only over HTTPS (a client's own X-Forwarded-Proto does not count)."""

from __future__ import annotations

import pytest

from qa_app.extensions import db
from tests.conftest import csrf_token, make_event

PAGES = {
    "join": "/",
    "join, unknown code": "/?code=ZZZZZZ",
    "audience": "/e/{code}",
    "screen": "/e/{code}/screen",
    "moderator": "/e/{code}/moderate",
    "admin login": "/admin/login",
    "admin list": "/admin/",
    "not found": "/nowhere",
}
OTHER = {
    "service worker": "/sw.js",
    "stylesheet": "/static/css/app.css",
    "module": "/static/js/live.js",
    "openapi": "/api/openapi.json",
    "event": "/api/v1/events/{code}",
    "export csv": "/api/v1/events/{code}/export.csv",
    "export json": "/api/v1/events/{code}/export.json",
    "api not found": "/api/v1/events/ZZZZZZ",
    "socket.io handshake": "/socket.io/?EIO=4&transport=polling",
}


@pytest.fixture
def make_app(make_app):
    """conftest's factory of apps on one database, with an event in it."""
    made = []

    def make(**settings):
        app = make_app(**settings)
        if not made:
            with app.app_context():
                make_event()
        made.append(app)
        return app

    return make


def signed_in(app):
    """A test client logged in as an organiser; and the code and key of an event."""
    from qa_app.admin import set_admin_password
    from qa_app.models import Event

    with app.app_context():
        set_admin_password("organiser", "correct horse")
        event, key = make_event()
        code = db.session.get(Event, event.id).code
    client = app.test_client()
    form = client.get("/admin/login").text
    answer = client.post(
        "/admin/login",
        data={"name": "organiser", "password": "correct horse", "csrf_token": csrf_token(form)},
    )
    assert answer.status_code == 302
    return client, code, key


def fetch_all(client, code: str, key: str, paths: dict, **extra) -> dict:
    """Each named path's response (API paths with the moderator key)."""
    answers = {}
    for name, path in paths.items():
        headers = {"Authorization": f"Bearer {key}"} if "/api/v1/" in path else {}
        answers[name] = client.get(path.format(code=code), headers=headers, **extra)
        answers[name].get_data()
        answers[name].close()  # a static file's handle
        assert answers[name].status_code < 500, name
    return answers


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def test_every_page_has_a_strict_content_security_policy(make_app):
    client, code, key = signed_in(make_app())
    for name, answer in fetch_all(client, code, key, PAGES | OTHER).items():
        if name == "socket.io handshake":
            continue  # Engine.IO's answer is no document
        csp = directives(answer.headers.get("Content-Security-Policy", "none-at-all"))
        assert csp.get("default-src") == ["'self'"], name
        assert csp["script-src"] == ["'self'"], name  # no 'unsafe-inline', no 'unsafe-eval'
        assert csp["style-src"] == ["'self'"], name
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"], name
        assert csp["form-action"] == ["'self'"], name
        assert csp["connect-src"] == ["'self'", "ws://localhost", "wss://localhost"], name
        assert csp["frame-ancestors"] == ["'none'"], name
        assert answer.headers["X-Frame-Options"] == "DENY", name
    assert PAGES["admin list"] and "Events" in client.get("/admin/").text  # signed in indeed


def test_nosniff_and_referrer_policy_on_every_response(make_app):
    client, code, key = signed_in(make_app())
    for name, answer in fetch_all(client, code, key, PAGES | OTHER).items():
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", name
        assert answer.headers.get("Referrer-Policy") == "same-origin", name
    refused = client.get("/socket.io/?EIO=4&transport=polling", headers={"Host": "evil.example"})
    assert refused.status_code == 400 and refused.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_over_https(make_app):
    app = make_app()
    client, code, key = signed_in(app)
    for name, answer in fetch_all(client, code, key, PAGES | OTHER).items():
        assert "Strict-Transport-Security" not in answer.headers, name
    claimed = client.get("/", headers={"X-Forwarded-Proto": "https"})  # no proxy is trusted
    assert "Strict-Transport-Security" not in claimed.headers

    https, code, key = signed_in(app)
    secure = {"base_url": "https://localhost"}
    for name, answer in fetch_all(https, code, key, PAGES, **secure).items():
        assert answer.headers["Strict-Transport-Security"] == "max-age=31536000", name
        csp = directives(answer.headers["Content-Security-Policy"])
        assert csp["connect-src"] == ["'self'", "ws://localhost", "wss://localhost"], name

    proxied = make_app(QA_TRUSTED_PROXIES=1).test_client()
    behind = proxied.get("/", headers={"X-Forwarded-Proto": "https"})
    assert behind.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in proxied.get("/").headers


def test_the_socket_is_allowed_on_the_host_of_the_page(make_app):
    client = make_app().test_client()
    for host in ("127.0.0.1:5000", "localhost:8000"):
        csp = directives(client.get("/", headers={"Host": host}).headers["Content-Security-Policy"])
        assert csp["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"]


def test_frame_ancestors_setting_lets_named_sites_embed_the_public_pages_only(make_app):
    app = make_app(QA_FRAME_ANCESTORS=["https://stream.example.org", "'self'"])
    client, code, key = signed_in(app)
    answers = fetch_all(client, code, key, PAGES)
    for name, answer in answers.items():
        csp = directives(answer.headers["Content-Security-Policy"])
        if name in ("audience", "screen"):
            assert csp["frame-ancestors"] == ["https://stream.example.org", "'self'"], name
            assert "X-Frame-Options" not in answer.headers, name
        else:
            assert csp["frame-ancestors"] == ["'none'"], name
            assert answer.headers["X-Frame-Options"] == "DENY", name


def test_a_malformed_frame_ancestors_setting_stops_the_start(make_app):
    with pytest.raises(ValueError, match="QA_FRAME_ANCESTORS"):
        make_app(QA_FRAME_ANCESTORS=["https://a.example;script-src", "*"])


def test_frame_ancestors_setting_is_read_from_the_environment(monkeypatch):
    from qa_app.config import Config

    monkeypatch.setenv("QA_FRAME_ANCESTORS", "https://a.example, 'self'  https://b.example")
    assert Config().QA_FRAME_ANCESTORS == ["https://a.example", "'self'", "https://b.example"]
    monkeypatch.delenv("QA_FRAME_ANCESTORS")
    assert Config().QA_FRAME_ANCESTORS == []
