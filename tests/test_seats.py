"""Several moderators: named seats (add, list, rotate, revoke by role), a revoked seat's console
cut off while the others go on, the audit log naming the seat, who is moderating now, the
`editing` soft lock, and the log in the export."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from qa_app.admin import set_admin_password
from qa_app.extensions import db, socketio
from qa_app.models import ModerationAction, ModeratorSeat
from qa_app.presence import PresenceStore
from qa_app.schemas import AskIn
from tests.conftest import csrf_token, make_event, make_participant

PASSWORD = "correct horse battery"


@pytest.fixture
def room(app):
    """An event (its first seat "Moderator"), one question, another event, and an organiser."""
    from qa_app import domain

    with app.app_context():
        event, key = make_event()
        other, _other_key = make_event(title="Another session")
        alice, alice_token = make_participant(event)
        question = domain.ask(alice, AskIn(issue_id=event.issues[0].id, text="Q?", client_id="a"))
        bob, _ = make_participant(other)
        elsewhere = domain.ask(bob, AskIn(issue_id=other.issues[0].id, text="X?", client_id="b"))
        set_admin_password("organiser", PASSWORD)
        seat = db.session.scalars(select(ModeratorSeat).filter_by(event_id=event.id)).one()
        world = {
            "code": event.code,
            "event_id": event.id,
            "key": key,
            "seat": seat.id,
            "alice": alice_token,
            "q": question.id,
            "elsewhere": elsewhere.id,
        }
        db.session.remove()
    return world


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def organiser(app):
    """A browser logged in at /admin: its test client and CSRF headers."""
    browser = app.test_client()
    page = browser.get("/admin/login")
    answer = browser.post(
        "/admin/login",
        data={"name": "organiser", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert answer.status_code == 302
    return browser, {"X-CSRFToken": csrf_token(browser.get("/admin/").text)}


def add_seat(app, room, name: str) -> dict:
    browser, headers = organiser(app)
    answer = browser.post(
        f"/api/v1/events/{room['code']}/seats", json={"name": name}, headers=headers
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def connect(app, code: str, token: str | None = None, browser=None):
    auth = {"event": code} | ({"token": token} if token else {})
    return socketio.test_client(app, auth=auth, flask_test_client=browser)


def received(sock, name: str) -> list:
    return [m["args"][0] for m in sock.get_received() if m["name"] == name]


def seats_of(app, code: str, token: str) -> list[dict]:
    answer = app.test_client().get(f"/api/v1/events/{code}/seats", headers=bearer(token))
    assert answer.status_code == 200, answer.json
    return answer.json["seats"]


# -- the seats ---------------------------------------------------------------------------------


def test_the_organiser_adds_a_named_seat_whose_link_works_and_is_shown_once(app, room):
    created = add_seat(app, room, "  Anna  ")
    assert created["seat"]["name"] == "Anna" and created["seat"]["active"] is True
    assert created["key"].startswith("mk.")
    assert created["link"] == created["urls"]["moderator"]
    assert created["urls"]["moderator"].endswith(f"/e/{room['code']}/moderate#key={created['key']}")
    seats = seats_of(app, room["code"], created["key"])  # the new key is a moderator's
    assert [(s["name"], s["active"]) for s in seats] == [("Moderator", True), ("Anna", True)]
    assert all(set(s) == {"id", "name", "created_at", "active"} for s in seats)  # no keys
    assert seats_of(app, room["code"], room["key"]) == seats  # any moderator of the event lists


@pytest.mark.parametrize(
    "body, status",
    [
        ({"name": ""}, 400),
        ({"name": "   "}, 400),
        ({"name": "x" * 81}, 400),
        ({"name": "Ann\x00a"}, 400),
        ({"name": "Bell\x07"}, 400),
        ({"name": 5}, 400),
        ({}, 400),
        ({"name": "Anna", "key": "mk.mine"}, 400),
        ({"name": "moderator"}, 409),  # the first seat's name, in another case
    ],
)
def test_a_bad_or_taken_name_is_refused_and_nothing_is_written(app, room, body, status):
    browser, headers = organiser(app)
    answer = browser.post(f"/api/v1/events/{room['code']}/seats", json=body, headers=headers)
    assert answer.status_code == status, answer.json
    assert answer.json["error"]["code"] == {400: "invalid", 409: "conflict"}[status]
    with app.app_context():
        assert db.session.query(ModeratorSeat).filter_by(event_id=room["event_id"]).count() == 1
        assert db.session.query(ModerationAction).count() == 0


def test_a_name_of_80_characters_is_fine_and_a_revoked_seats_name_is_free_again(app, room):
    add_seat(app, room, "y" * 80)
    browser, headers = organiser(app)
    browser.delete(f"/api/v1/seats/{room['seat']}", headers=headers)
    assert add_seat(app, room, "Moderator")["seat"]["name"] == "Moderator"


def test_only_the_organiser_adds_and_revokes_and_a_moderator_rotates_only_its_own(app, room):
    anna = add_seat(app, room, "Anna")
    client = app.test_client()
    code, anna_id = room["code"], anna["seat"]["id"]
    # a moderator may not add a seat (a way round its own revocation), nor revoke one
    assert (
        client.post(
            f"/api/v1/events/{code}/seats", json={"name": "Mine"}, headers=bearer(room["key"])
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/seats/{anna_id}", headers=bearer(room["key"])).status_code == 403
    # nor rotate another seat's key; its own it may
    assert (
        client.post(f"/api/v1/seats/{anna_id}/key", headers=bearer(room["key"])).status_code == 403
    )
    rotated = client.post(f"/api/v1/seats/{anna_id}/key", headers=bearer(anna["key"]))
    assert rotated.status_code == 201
    assert rotated.json["seat"]["name"] == "Anna" and rotated.json["seat"]["id"] != anna_id
    assert client.get(f"/api/v1/events/{code}", headers=bearer(anna["key"])).status_code == 401
    assert client.get(f"/api/v1/events/{code}", headers=bearer(room["key"])).status_code == 200
    assert (
        client.post(f"/api/v1/seats/{anna_id}/key", headers=bearer(rotated.json["key"])).status_code
        == 403
    )
    # the participant, the screen and nobody at all are refused every seat route
    for headers in (bearer(room["alice"]), {}):
        assert client.get(f"/api/v1/events/{code}/seats", headers=headers).status_code == 403
        assert client.delete(f"/api/v1/seats/{room['seat']}", headers=headers).status_code in (
            401,
            403,
        )
    seats = seats_of(app, code, room["key"])
    assert [(s["name"], s["active"]) for s in seats] == [
        ("Moderator", True),
        ("Anna", True),
        ("Anna", False),
    ]


def test_the_organiser_rotates_and_revokes_any_seat_even_the_last(app, room):
    browser, headers = organiser(app)
    code = room["code"]
    rotated = browser.post(f"/api/v1/seats/{room['seat']}/key", headers=headers)
    assert rotated.status_code == 201
    new_id = rotated.json["seat"]["id"]
    assert browser.post(f"/api/v1/seats/{room['seat']}/key", headers=headers).status_code == 409
    revoked = browser.delete(f"/api/v1/seats/{new_id}", headers=headers)
    assert revoked.status_code == 200 and revoked.json["seat"]["active"] is False
    assert browser.delete(f"/api/v1/seats/{new_id}", headers=headers).status_code == 409
    assert browser.delete("/api/v1/seats/999999", headers=headers).status_code == 404
    # no seat left: the organiser still moderates, through the cookie
    assert (
        browser.get(f"/api/v1/events/{code}/seats", headers=headers).json["seats"][0]["active"]
        is False
    )
    answer = browser.patch(
        f"/api/v1/questions/{room['q']}", json={"status": "answered"}, headers=headers
    )
    assert answer.status_code == 200
    organiser_socket = connect(app, code, browser=browser)
    assert organiser_socket.emit("sync", {"since": 0}, callback=True)["ok"]
    organiser_socket.disconnect()


def test_a_seat_of_another_event_is_not_the_organisers_to_touch_through_this_one(app, room):
    # seat ids are global: rotating another event's seat goes through that event (the organiser
    # is the organiser of every event), and a moderator of one event has no say in another's
    with app.app_context():
        _event, other_key = make_event(title="Third")
    client = app.test_client()
    assert (
        client.delete(f"/api/v1/seats/{room['seat']}", headers=bearer(other_key)).status_code == 401
    )
    assert (
        client.post(f"/api/v1/seats/{room['seat']}/key", headers=bearer(other_key)).status_code
        == 401
    )


# -- revocation, presence, editing ---------------------------------------------------------------


def test_revoking_a_seat_cuts_off_its_console_at_once_and_the_other_goes_on(app, room):
    anna = add_seat(app, room, "Anna")
    code = room["code"]
    first, second = connect(app, code, room["key"]), connect(app, code, anna["key"])
    assert first.is_connected() and second.is_connected()
    browser, headers = organiser(app)
    started = time.monotonic()
    assert browser.delete(f"/api/v1/seats/{anna['seat']['id']}", headers=headers).status_code == 200
    deadline = started + 1.0
    while second.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    delay = time.monotonic() - started
    assert not second.is_connected(), "the revoked seat's socket is still connected after 1 s"
    print(f"\nrevoked seat's socket cut off {delay * 1000:.0f} ms after the DELETE")
    assert first.is_connected()
    ack = first.emit("moderate", {"question_id": room["q"], "status": "answered"}, callback=True)
    assert ack["ok"], ack
    assert not connect(app, code, anna["key"]).is_connected()
    # the log names who did what
    log = browser.get(f"/api/v1/events/{code}/log", headers=headers).json["actions"]
    revoke = next(a for a in log if a["action"] == "seat_revoke")
    assert revoke["who"] == "organiser" and revoke["detail"]["name"] == "Anna"
    assert [a["action"] for a in log][-2:] == ["seat_revoke", "seat_create"]
    first.disconnect()


def test_presence_lists_who_is_moderating_once_per_seat(app, room):
    anna = add_seat(app, room, "Anna")
    code = room["code"]
    first = connect(app, code, room["key"])
    tabs = [connect(app, code, anna["key"]) for _ in range(2)]  # Anna has two tabs open
    browser, _headers = organiser(app)
    admin = connect(app, code, browser=browser)
    phone = connect(app, code, room["alice"])
    last = received(first, "presence")[-1]
    assert last["moderating"] == [
        {"seat_id": anna["seat"]["id"], "name": "Anna"},
        {"seat_id": room["seat"], "name": "Moderator"},
        {"seat_id": None, "name": "organiser"},
    ]
    assert last["moderators"] == 4 and last["audience"] == 1
    assert "moderating" not in str(received(phone, "presence"))  # the audience never hears it
    for sock in (*tabs, admin):
        sock.disconnect()
    last = received(first, "presence")[-1]
    assert last["moderating"] == [{"seat_id": room["seat"], "name": "Moderator"}]
    first.disconnect()
    phone.disconnect()


def test_editing_reaches_the_other_moderators_and_clears_when_the_editor_leaves(app, room):
    anna = add_seat(app, room, "Anna")
    code = room["code"]
    first, second = connect(app, code, room["key"]), connect(app, code, anna["key"])
    phone = connect(app, code, room["alice"])
    for sock in (first, second, phone):
        sock.get_received()
    ack = second.emit("editing", {"question_id": room["q"]}, callback=True)
    assert ack == {"ok": True}
    mark = {"seat_id": anna["seat"]["id"], "name": "Anna", "question_id": room["q"]}
    assert received(first, "editing") == [mark]
    assert received(second, "editing") == []  # not echoed to the editor
    assert received(phone, "editing") == []  # moderators only
    assert second.emit("editing", {"question_id": None}, callback=True) == {"ok": True}
    assert received(first, "editing") == [mark | {"question_id": None}]
    second.emit("editing", {"question_id": room["q"]}, callback=True)
    first.get_received()
    second.disconnect()
    assert received(first, "editing") == [mark | {"question_id": None}]
    first.disconnect()
    phone.disconnect()


@pytest.mark.parametrize(
    "payload, code",
    [
        ({}, "invalid"),
        ({"question_id": "1"}, "invalid"),
        ({"question_id": 0}, "invalid"),
        ({"question_id": 2**31}, "invalid"),
        ({"question_id": None, "x": 1}, "invalid"),
        ([1], "invalid"),
        ({"question_id": 999999}, "not_found"),
        ({"question_id": "elsewhere"}, "not_found"),  # a question of another event
    ],
)
def test_a_bad_editing_mark_is_refused_and_told_to_nobody(app, room, payload, code):
    if isinstance(payload, dict) and payload.get("question_id") == "elsewhere":
        payload = {"question_id": room["elsewhere"]}
    first, second = connect(app, room["code"], room["key"]), connect(app, room["code"], room["key"])
    first.get_received()
    ack = second.emit("editing", payload, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == code, ack
    assert received(first, "editing") == []
    for sock in (first, second):
        sock.disconnect()


def test_the_audience_may_not_send_editing_nor_read_the_log(app, room):
    phone, screen = connect(app, room["code"], room["alice"]), connect(app, room["code"])
    for sock in (phone, screen):
        for name, payload in (("editing", {"question_id": room["q"]}), ("log", {})):
            ack = sock.emit(name, payload, callback=True)
            assert ack["ok"] is False and ack["error"]["code"] == "forbidden", ack
        sock.disconnect()


# -- the log ------------------------------------------------------------------------------------


def test_the_log_and_the_export_name_the_seat_newest_first(app, room):
    anna = add_seat(app, room, "Anna")
    code = room["code"]
    browser, headers = organiser(app)
    browser.post(f"/api/v1/seats/{anna['seat']['id']}/key", headers=headers)
    sock = connect(app, code, room["key"])
    ack = sock.emit("log", {"limit": 1}, callback=True)
    assert ack["ok"] and len(ack["actions"]) == 1
    latest = ack["actions"][0]
    assert latest["action"] == "seat_rotate" and latest["who"] == "organiser"
    assert set(latest) == {"id", "at", "who", "action", "question_id", "detail", "undone_at"}
    assert latest["at"].endswith("Z") and latest["undone_at"] is None
    for bad in ({"limit": 0}, {"limit": 1001}, {"limit": "5"}, {"since": 1}):
        assert sock.emit("log", bad, callback=True)["error"]["code"] == "invalid"
    rest = app.test_client().get(f"/api/v1/events/{code}/log?limit=5", headers=bearer(room["key"]))
    assert [a["action"] for a in rest.json["actions"]] == ["seat_rotate", "seat_create"]
    for bad in ("0", "x", "-1", "1001", "99999999999999999999"):
        answer = app.test_client().get(
            f"/api/v1/events/{code}/log?limit={bad}", headers=bearer(room["key"])
        )
        assert answer.status_code == 400, bad
    exported = (
        app.test_client()
        .get(f"/api/v1/events/{code}/export.json", headers=bearer(room["key"]))
        .json
    )
    assert exported["actions"] == rest.json["actions"]
    assert len(exported["questions"]) == 1
    sock.disconnect()


def test_a_seat_rotating_its_own_key_is_logged_under_its_name(app, room):
    client = app.test_client()
    answer = client.post(
        f"/api/v1/events/{room['code']}/moderator-key", headers=bearer(room["key"])
    )
    assert answer.status_code == 201
    log = client.get(
        f"/api/v1/events/{room['code']}/log", headers=bearer(answer.json["moderator_key"])
    ).json["actions"]
    assert [(a["action"], a["who"]) for a in log] == [("seat_rotate", "Moderator")]


# -- presence over several processes -----------------------------------------------------------


@pytest.mark.redis
def test_the_presence_store_sums_who_is_moderating_over_processes(redis_server):
    one, two = PresenceStore(redis_server.url), PresenceStore(redis_server.url)
    anna, boris = {"seat_id": 2, "name": "Anna"}, {"seat_id": 3, "name": "Boris"}
    one.update(7, {"audience": 3, "moderators": 2, "moderating": [anna]})
    total = two.update(7, {"audience": 1, "moderators": 2, "moderating": [anna, boris]})
    assert total == {"audience": 4, "moderators": 4, "moderating": [anna, boris]}
    # a process of the previous version writes no names: its counts still count
    one.redis.hset("qa:presence:7", "old", f"5:0:{time.time():.0f}")
    total = one.update(7, {"audience": 0, "moderators": 0, "moderating": []})
    assert total == {"audience": 6, "moderators": 2, "moderating": [anna, boris]}


# -- the organiser's pages --------------------------------------------------------------------


def test_admin_lists_each_events_seats_and_opens_the_console_without_a_key(app, room):
    add_seat(app, room, "Anna <b>")
    browser, _headers = organiser(app)
    assert f'href="/admin/events/{room["code"]}"' in browser.get("/admin/").text  # the list
    page = browser.get(f"/admin/events/{room['code']}").text  # the event's own page
    assert 'class="seat-name">Moderator<' in page and "Anna &lt;b&gt;" in page
    assert f'href="http://localhost/e/{room["code"]}/moderate"' in page  # no key in it
    assert "mk." not in page
    console = browser.get(f"/e/{room['code']}/moderate").text
    assert 'data-organiser="organiser"' in console
    assert 'data-organiser=""' in app.test_client().get(f"/e/{room['code']}/moderate").text


def test_the_event_log_page_is_the_organisers_in_english_and_russian(app, room):
    from qa_app import domain
    from qa_app.schemas import ModerateIn
    from tests.conftest import moderator

    anna = add_seat(app, room, "Anna")
    browser, headers = organiser(app)
    browser.delete(f"/api/v1/seats/{anna['seat']['id']}", headers=headers)
    with app.app_context():
        from qa_app.domain import audit
        from qa_app.domain.core import change
        from qa_app.models import Event

        actor = moderator(db.session.get(Event, room["event_id"]))
        domain.moderate(actor, ModerateIn(question_id=room["q"], status="live"))
        with change(room["event_id"]) as current:  # as the moderation helpers record it
            audit.record(
                current, actor, "moderate", question_id=room["q"], detail={"status": "live"}
            )
    assert app.test_client().get(f"/admin/events/{room['code']}/log").status_code == 302
    page = browser.get(f"/admin/events/{room['code']}/log?lang=en").text
    rows = page.split("<tbody>")[1]
    assert rows.index("Changed a question") < rows.index("Revoked a moderator: Anna")
    assert rows.index("Revoked a moderator") < rows.index("Added a moderator: Anna")
    assert "Q?" in rows and ">Moderator<" in rows and ">organiser<" in rows
    russian = browser.get(f"/admin/events/{room['code']}/log?lang=ru").text
    assert "Журнал мероприятия" in russian and "Отозвал доступ модератора: Anna" in russian
    assert browser.get("/admin/events/NOPE99/log").status_code == 404
