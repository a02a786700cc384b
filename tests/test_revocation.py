"""Revocation: a rotated key, a log-out, a password change or a ban cuts off every socket and
session that used the old credential within a second, and its next privileged event is refused.

The first tests drive the real socket handlers in-process (Flask-SocketIO's test client) on SQLite
and PostgreSQL; the live ones start the real server (gevent, eventlet) and, for two processes,
share PostgreSQL and a Redis of the test's own.
"""

from __future__ import annotations

import time

import pytest
import requests
import socketio as socketio_client
import sqlalchemy as sa
from sqlalchemy import select

from qa_app import create_app
from qa_app.admin import set_admin_password
from qa_app.extensions import db, socketio
from qa_app.models import AdminSession, Event, Participant, Question
from qa_app.schemas import AskIn
from tests.conftest import (
    SEED_EVENT,
    csrf_token,
    make_event,
    make_participant,
)
from tests.conftest import test_config as config_for
from tests.live import running_server, two_servers, wait_for
from tests.timing import bound

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
PASSWORD = "correct horse battery"
CUT_OFF_WITHIN_S = 1.0  # the promise; asserted as bound(CUT_OFF_WITHIN_S) (tests/timing.py)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def room(app):
    """A pre-moderated event: Alice's live question, her pending one, Bob's live one; an admin."""
    with app.app_context():
        event, key = make_event(settings={"pre_moderation": True})
        alice, alice_token = make_participant(event)
        bob, bob_token = make_participant(event)
        issue = event.issues[0].id
        asked = {}
        for name, actor in (("alice_live", alice), ("alice_pending", alice), ("bob_live", bob)):
            asked[name] = ask_as(actor, issue, name)
        from qa_app import domain
        from qa_app.schemas import ModerateIn
        from tests.conftest import moderator

        for name in ("alice_live", "bob_live"):
            domain.moderate(moderator(event), ModerateIn(question_id=asked[name], status="live"))
        set_admin_password("organiser", PASSWORD)
        code, event_id = event.code, event.id
        db.session.remove()
    # no app context stays open: each request and socket event has its own, as in production
    return {
        "code": code,
        "event_id": event_id,
        "key": key,
        "alice": alice_token,
        "bob": bob_token,
        "alice_id": alice.participant_id,
        **asked,
    }


def ask_as(actor, issue: int, text: str) -> int:
    """Ask a question through the domain; its id."""
    from qa_app import domain

    return domain.ask(actor, AskIn(issue_id=issue, text=f"{text}?", client_id=text)).id


def connect(app, code: str, token: str | None = None, browser=None):
    """A socket of the test client (with a browser's cookies when one is given)."""
    auth = {"event": code} | ({"token": token} if token else {})
    return socketio.test_client(app, auth=auth, flask_test_client=browser)


def accepted(app, code: str, token: str | None = None) -> bool:
    """Whether a new connection with token is accepted (the test client hides the refusal's
    data: tests against the real server check it)."""
    sock = connect(app, code, token)
    if sock.is_connected():
        sock.disconnect()
        return True
    return False


def cut_off_after(sockets, started: float) -> float:
    """Wait until every socket is disconnected; the seconds since started (fails after 5 s)."""
    wait_for(lambda: not any(s.is_connected() for s in sockets), 5, "the sockets to be cut off")
    return time.monotonic() - started


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def log_in(app) -> tuple:
    """A browser logged in as the admin: its test client and the page's CSRF token."""
    browser = app.test_client()
    page = browser.get("/admin/login")
    answer = browser.post(
        "/admin/login",
        data={"name": "organiser", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert answer.status_code == 302, answer.text
    return browser, csrf_token(browser.get("/admin/").text)


# -- the moderator key --------------------------------------------------------------------------


@BOTH
def test_rotating_the_key_cuts_off_its_moderator_sockets_at_once(app, room):
    browser = app.test_client()
    code, key = room["code"], room["key"]
    session_token = browser.post(
        f"/api/v1/events/{code}/moderator-session", headers=bearer(key)
    ).json["token"]
    by_key, by_session = connect(app, code, key), connect(app, code, session_token)
    screen = connect(app, code)
    assert by_key.is_connected() and by_session.is_connected() and screen.is_connected()

    started = time.monotonic()
    rotated = browser.post(f"/api/v1/events/{code}/moderator-key", headers=bearer(key))
    assert rotated.status_code == 201
    delay = cut_off_after([by_key, by_session], started)
    assert delay < bound(CUT_OFF_WITHIN_S), f"cut off after {delay:.3f} s"
    assert screen.is_connected()  # a screen has no credential to lose
    for old in (key, session_token):
        assert not accepted(app, code, old)
        assert browser.get(f"/api/v1/events/{code}", headers=bearer(old)).status_code == 401
        answer = browser.patch(
            f"/api/v1/questions/{room['alice_pending']}",
            json={"status": "live"},
            headers=bearer(old),
        )
        assert answer.status_code == 401
    new = connect(app, code, rotated.json["moderator_key"])
    assert new.emit("sync", {"since": 0}, callback=True)["ok"]
    new.disconnect()
    screen.disconnect()


def test_a_socket_cannot_send_connect_or_disconnect_to_escape_the_watch(app, room):
    code, key = room["code"], room["key"]
    moderator, other = connect(app, code, key), connect(app, code, key)
    for name in ("disconnect", "connect"):
        for args in ((), ({},), ({"event": code, "token": key},), ("x", {"event": code})):
            answer = moderator.emit(name, *args, callback=True)
            assert answer["ok"] is False and answer["error"]["code"] == "invalid", (name, args)
    assert moderator.is_connected()
    moderator.get_received()
    assert moderator.emit("sync", {"since": 0}, callback=True)["ok"]

    started = time.monotonic()  # the socket is still watched: the rotation cuts it off
    browser = app.test_client()
    rotated = browser.post(f"/api/v1/events/{code}/moderator-key", headers=bearer(key))
    assert rotated.status_code == 201
    delay = cut_off_after([moderator, other], started)
    assert delay < bound(CUT_OFF_WITHIN_S), f"cut off after {delay:.3f} s"


@BOTH
def test_a_socket_whose_key_another_process_rotated_is_refused_before_it_is_cut_off(
    make_app, backend
):
    # the watcher is made slow here, so that only the check on each event stands between the
    # revoked socket and the event's pending questions
    app = make_app(QA_REVOCATION_CHECK_MS=600_000)
    with app.app_context():
        event, key = make_event(settings={"pre_moderation": True})
        alice, _ = make_participant(event)
        pending = ask_as(alice, event.issues[0].id, "pending")
        live = ask_as(alice, event.issues[0].id, "other")
        code, event_id, issue = event.code, event.id, event.issues[1].id
        url = db.engine.url
        db.session.remove()
    mod = connect(app, code, key)
    assert mod.emit("sync", {"since": 0}, callback=True)["ok"]
    other_process = sa.create_engine(url)  # rotates the key as another server process would
    with other_process.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE moderator_seats SET revoked_at = CURRENT_TIMESTAMP WHERE event_id = :id"
            ),
            {"id": event_id},
        )
    other_process.dispose()
    attempts = {
        "sync": {"since": 0},
        "moderate": {"question_id": pending, "status": "live"},
        "merge": {"question_id": pending, "into": live},
        "show": {"question_id": pending},
        "set_issue": {"issue_id": issue},
        "ban": {"question_id": pending},
    }
    for name, payload in attempts.items():
        answer = mod.emit(name, payload, callback=True)
        assert answer["ok"] is False and answer["error"]["code"] == "unauthorized", (name, answer)
    with app.app_context():
        assert db.session.get(Question, pending).status == "pending"
        assert db.session.get(Event, event_id).on_screen_question_id is None
        assert not db.session.get(Participant, alice.participant_id).banned
    mod.disconnect()


@BOTH
def test_a_stopped_watcher_lets_go_of_the_database(app, room):
    # an app being closed (a test's, or a server shutting down) stops its watcher first: it must
    # end its sweep under way and take no connection after that, while sockets stay open
    moderator = connect(app, room["code"], room["key"])
    phone = connect(app, room["code"], room["alice"])
    watcher = app.extensions["qa_revocation"]
    assert watcher.running
    watcher.stop()
    wait_for(lambda: not watcher.running, 2, "the watcher to end")
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
    assert moderator.is_connected() and phone.is_connected()
    moderator.disconnect()
    phone.disconnect()


# -- the admin's sessions -----------------------------------------------------------------------


@BOTH
def test_logging_out_cuts_off_the_admins_sockets_and_kills_the_cookie(app, room):
    browser, csrf = log_in(app)
    laptop, _ = log_in(app)  # the same organiser on another computer stays logged in
    cookie = browser.get_cookie("session").value
    admin_socket = connect(app, room["code"], browser=browser)
    laptop_socket = connect(app, room["code"], browser=laptop)
    assert admin_socket.is_connected() and laptop_socket.is_connected()
    synced = admin_socket.emit("sync", {"since": 0}, callback=True)
    assert room["alice_pending"] in [q["id"] for q in synced["questions"]]  # sees pending ones

    started = time.monotonic()
    assert browser.post("/admin/logout", data={"csrf_token": csrf}).status_code == 302
    delay = cut_off_after([admin_socket], started)
    assert delay < bound(CUT_OFF_WITHIN_S), f"cut off after {delay:.3f} s"

    replay = app.test_client()  # someone who copied the cookie before the log-out
    replay.set_cookie("session", cookie)
    assert replay.get("/admin/").status_code == 302
    created = replay.post(
        "/api/v1/events", json={"title": "Stolen", "issues": ["x"]}, headers={"X-CSRFToken": csrf}
    )
    assert created.status_code == 401 and created.json["error"]["code"] == "unauthorized"
    snapshot = replay.get(f"/api/v1/events/{room['code']}").json
    assert room["alice_pending"] not in [q["id"] for q in snapshot["questions"]]
    with app.app_context():
        assert db.session.scalar(select(sa.func.count()).select_from(AdminSession)) == 1
    assert laptop.get("/admin/").status_code == 200
    assert laptop_socket.emit("sync", {"since": 0}, callback=True)["ok"]
    laptop_socket.disconnect()


@BOTH
def test_changing_the_password_ends_every_session_of_the_admin(app, room):
    first, _ = log_in(app)
    second, csrf = log_in(app)
    sockets = [connect(app, room["code"], browser=b) for b in (first, second)]
    assert all(s.is_connected() for s in sockets)
    with app.app_context():
        set_admin_password("organiser", "a brand new password")  # what `create-admin` runs
    started = time.monotonic()  # committed: the time hashing the password took is not counted
    delay = cut_off_after(sockets, started)
    assert delay < bound(CUT_OFF_WITHIN_S), f"cut off after {delay:.3f} s"
    for browser in (first, second):
        assert browser.get("/admin/").status_code == 302
        answer = browser.post(
            "/api/v1/events", json={"title": "x", "issues": ["x"]}, headers={"X-CSRFToken": csrf}
        )
        assert answer.status_code == 401


def test_an_admin_session_ends_after_its_lifetime(make_app):
    app = make_app(QA_ADMIN_SESSION_HOURS=1)
    with app.app_context():
        set_admin_password("organiser", PASSWORD)
        event, _ = make_event()
        code = event.code
    browser, _ = log_in(app)
    admin_socket = connect(app, code, browser=browser)
    assert browser.get("/admin/").status_code == 200 and admin_socket.is_connected()
    with app.app_context():  # the session's hour is over
        for row in db.session.scalars(select(AdminSession)):
            row.expires_at = row.created_at
        db.session.commit()
    assert browser.get("/admin/").status_code == 302
    cut_off_after([admin_socket], time.monotonic())


# -- bans ----------------------------------------------------------------------------------------


@BOTH
def test_banning_the_asker_cuts_off_their_sockets_and_refuses_their_votes(app, room):
    code = room["code"]
    alice_phone, alice_tablet = connect(app, code, room["alice"]), connect(app, code, room["alice"])
    bob_phone = connect(app, code, room["bob"])
    mod = connect(app, code, room["key"])
    assert all(s.is_connected() for s in (alice_phone, alice_tablet, bob_phone, mod))

    started = time.monotonic()
    banned = mod.emit("ban", {"question_id": room["alice_live"]}, callback=True)
    assert banned == {
        "ok": True,
        "question_id": room["alice_live"],
        "banned": True,
        "dismissed": [room["alice_pending"]],
        "action_id": banned["action_id"],  # the log's entry, for undo
    }
    delay = cut_off_after([alice_phone, alice_tablet], started)
    assert delay < bound(CUT_OFF_WITHIN_S), f"cut off after {delay:.3f} s"
    assert bob_phone.is_connected() and mod.is_connected()

    browser = app.test_client()
    vote = browser.put(f"/api/v1/questions/{room['bob_live']}/vote", headers=bearer(room["alice"]))
    assert vote.status_code == 403 and vote.json["error"]["code"] == "banned"
    assert "blocked this device" in vote.json["error"]["message"]
    assert not accepted(app, code, room["alice"])
    refused = browser.get(f"/api/v1/events/{code}", headers=bearer(room["alice"]))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "banned"
    bob_voted = bob_phone.emit("vote", {"question_id": room["bob_live"], "up": True}, callback=True)
    assert bob_voted["ok"], bob_voted
    with app.app_context():
        assert db.session.get(Participant, room["alice_id"]).banned
        assert db.session.get(Question, room["alice_pending"]).status == "dismissed"
        assert db.session.get(Question, room["alice_live"]).status == "live"
        assert db.session.get(Question, room["bob_live"]).vote_count == 1

    lifted = mod.emit("unban", {"question_id": room["alice_live"]}, callback=True)
    assert lifted == {
        "ok": True,
        "question_id": room["alice_live"],
        "banned": False,
        "dismissed": [],
    }
    back = connect(app, code, room["alice"])
    assert (
        back.emit("vote", {"question_id": room["bob_live"], "up": True}, callback=True)["votes"]
        == 2
    )
    for sock in (back, bob_phone, mod):
        sock.disconnect()


def test_only_a_moderator_bans_and_only_an_asker(app, room):
    browser = app.test_client()
    url = f"/api/v1/questions/{room['bob_live']}/ban"
    assert browser.put(url, headers=bearer(room["alice"])).status_code == 403
    assert browser.put(url).status_code == 403  # a screen
    assert (
        browser.put("/api/v1/questions/999999/ban", headers=bearer(room["key"])).status_code == 404
    )
    answer = browser.put(url, headers=bearer(room["key"]))
    assert answer.status_code == 200 and answer.json["banned"] is True
    assert browser.put(url, headers=bearer(room["key"])).json["banned"] is True  # idempotent
    lifted = browser.delete(url, headers=bearer(room["key"]))
    assert lifted.status_code == 200 and lifted.json == {
        "question_id": room["bob_live"],
        "banned": False,
        "dismissed": [],
    }


# -- the real server ---------------------------------------------------------------------------


class Watched:
    """A real Socket.IO client that records when the server cut it off."""

    def __init__(self, url: str, code: str, token: str | None = None, cookie: str | None = None):
        self.sio = socketio_client.Client(reconnection=False)
        self.cut_at: float | None = None
        self.sio.on("disconnect", self.on_disconnect)
        auth = {"event": code} | ({"token": token} if token else {})
        headers = {"Cookie": cookie} if cookie else {}
        self.sio.connect(url, auth=auth, headers=headers, transports=["websocket"], wait_timeout=10)

    def on_disconnect(self, reason=None) -> None:
        self.cut_at = time.monotonic()

    def cut_off_within(self, started: float, limit: float = CUT_OFF_WITHIN_S) -> float:
        limit = bound(limit)
        wait_for(lambda: self.cut_at is not None, 5, "the server to cut the socket off")
        delay = self.cut_at - started
        assert delay < limit, f"cut off after {delay:.3f} s"
        return delay


def refused(url: str, code: str, token: str) -> dict:
    """The refusal of a connection with token: its connect_error data, {code, message} (fails
    if the connection is accepted)."""
    client = socketio_client.Client(reconnection=False)
    errors: list = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        client.connect(
            url, auth={"event": code, "token": token}, transports=["websocket"], wait_timeout=10
        )
    assert errors and errors[0]["message"] == errors[0]["data"]["message"], errors
    return errors[0]["data"]


def add_admin(server, password: str = PASSWORD) -> None:
    """Create the admin in a live server's database from here (quicker than `create-admin`)."""
    application = create_app(config_for(server.env["DATABASE_URL"]))
    with application.app_context():
        set_admin_password("organiser", password)
        db.session.remove()
        db.engine.dispose()


def log_in_live(server, password: str = PASSWORD) -> tuple[requests.Session, str]:
    """A browser logged in to a live server as the admin, and its CSRF token."""
    browser = requests.Session()
    page = browser.get(f"{server.url}/admin/login", timeout=10)
    answer = browser.post(
        f"{server.url}/admin/login",
        data={"name": "organiser", "password": password, "csrf_token": csrf_token(page.text)},
        timeout=30,
    )
    assert answer.url.endswith("/admin/"), answer.text
    return browser, csrf_token(answer.text)


def create_event_live(server, browser: requests.Session, csrf: str, **changes) -> dict:
    """An event created by the logged-in admin: its code and moderator key."""
    answer = browser.post(
        f"{server.url}/api/v1/events",
        json={**SEED_EVENT, **changes},
        headers={"X-CSRFToken": csrf},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return {"code": answer.json()["code"], "moderator_key": answer.json()["moderator_key"]}


@pytest.mark.live
@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_the_real_server_cuts_off_a_rotated_moderator_within_a_second(tmp_path, mode):
    with running_server(tmp_path, QA_ASYNC_MODE=mode, QA_TICK_MS="100") as server:
        event = server.create_seed_event()
        code, key = event["code"], event["moderator_key"]
        mod = Watched(server.url, code, key)
        started = time.monotonic()
        rotated = requests.post(
            f"{server.url}/api/v1/events/{code}/moderator-key", headers=bearer(key), timeout=10
        )
        assert rotated.status_code == 201
        delay = mod.cut_off_within(started)
        print(f"\n{mode}: moderator socket cut off {delay * 1000:.0f} ms after the rotation")
        assert refused(server.url, code, key).get("code") == "unauthorized"


@pytest.mark.live
def test_a_password_changed_on_the_command_line_cuts_off_the_admins_socket(tmp_path):
    with running_server(tmp_path, QA_TICK_MS="100") as server:
        add_admin(server)
        browser, csrf = log_in_live(server)
        event = create_event_live(server, browser, csrf)
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
        admin_socket = Watched(server.url, event["code"], cookie=cookie)
        server.cli("create-admin", "organiser", "--password", "another long password")
        done = time.monotonic()  # the new password was committed before the command returned
        delay = admin_socket.cut_off_within(done)
        # negative: the socket was cut off before the command's process had exited
        print(f"\nadmin socket cut off {delay * 1000:.0f} ms after `create-admin` returned")
        assert browser.get(f"{server.url}/admin/", timeout=10).url.endswith("/admin/login")


# -- two processes ----------------------------------------------------------------------------


@pytest.mark.live
@pytest.mark.redis
@pytest.mark.postgres
def test_revocation_reaches_the_other_process_within_a_second(tmp_path, postgres_url, redis_server):
    with two_servers(tmp_path, postgres_url, redis_server.url) as (a, b):
        event = a.create_seed_event(settings={"pre_moderation": True})
        code, key = event["code"], event["moderator_key"]
        alice = requests.post(f"{a.url}/api/v1/events/{code}/participants", json={}, timeout=10)
        alice_token = alice.json()["token"]
        issue = requests.get(f"{a.url}/api/v1/events/{code}", timeout=10).json()["issues"][0]["id"]
        asked = requests.post(
            f"{a.url}/api/v1/events/{code}/questions",
            json={"issue_id": issue, "text": "Pending?", "client_id": "p1"},
            headers=bearer(alice_token),
            timeout=10,
        ).json()["question"]["id"]
        mod_on_b = Watched(b.url, code, key)
        phone_on_b = Watched(b.url, code, alice_token)
        assert mod_on_b.sio.call("sync", {"since": 0}, timeout=10)["ok"]

        # the key is rotated through process A; the moderator's socket is on process B
        started = time.monotonic()
        rotated = requests.post(
            f"{a.url}/api/v1/events/{code}/moderator-key", headers=bearer(key), timeout=10
        )
        assert rotated.status_code == 201
        try:
            answer = mod_on_b.sio.call("sync", {"since": 0}, timeout=5)
        except (
            socketio_client.exceptions.TimeoutError,
            socketio_client.exceptions.BadNamespaceError,
        ):
            answer = None  # already cut off
        if answer is not None:
            assert answer["ok"] is False and answer["error"]["code"] == "unauthorized", answer
        delay = mod_on_b.cut_off_within(started)
        print(f"\nmoderator socket on process B cut off {delay * 1000:.0f} ms after the rotation")
        assert refused(b.url, code, key).get("code") == "unauthorized"

        # with the message queue down, a ban through process A still reaches B's socket
        redis_server.stop()
        new_key = rotated.json()["moderator_key"]
        started = time.monotonic()
        banned = requests.put(
            f"{a.url}/api/v1/questions/{asked}/ban", headers=bearer(new_key), timeout=10
        )
        assert banned.status_code == 200, banned.text
        delay = phone_on_b.cut_off_within(started)
        print(f"banned phone on process B cut off {delay * 1000:.0f} ms after the ban (no Redis)")
        assert refused(b.url, code, alice_token).get("code") == "banned"
