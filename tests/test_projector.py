"""The projector's moments, below the pages: the join slide (`screen_mode`) and the issue clock
(`clock`): who may switch them, what the event object says, the log, and refusals."""

from __future__ import annotations

import pytest

from qa_app import domain
from qa_app.auth import Actor
from qa_app.domain.views import event_view
from qa_app.errors import Conflict, Forbidden, Invalid
from qa_app.extensions import db, socketio
from qa_app.models import Event
from qa_app.schemas import ClockIn, ScreenModeIn, SetIssueIn, UndoIn
from tests.conftest import make_event, make_participant, moderator

# SEED_EVENT runs 15:30 to 17:30 over five issues: 24 minutes each


def test_the_join_slide_is_stored_on_the_event_and_logged(ctx):
    event, _key = make_event()
    assert event_view(event)["screen_mode"] == "questions"
    domain.set_screen_mode(moderator(event), ScreenModeIn(mode="join"))
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event_view(event)["screen_mode"] == "join"
    domain.set_screen_mode(moderator(event), ScreenModeIn(mode="questions"))
    log = domain.actions(moderator(event))
    assert [(a["action"], a["detail"]) for a in log[:2]] == [
        ("screen_mode", {"mode": "questions", "was": "join"}),
        ("screen_mode", {"mode": "join", "was": "questions"}),
    ]
    with pytest.raises(Conflict, match="cannot be undone"):
        domain.undo(moderator(event), UndoIn(action_id=log[0]["id"]))


def test_the_clock_splits_the_programme_over_the_issues(ctx):
    event, _key = make_event()
    clock = event_view(event)["clock"]
    assert clock == {
        "on": False,
        "available": True,
        "issue_id": event.issues[0].id,
        "starts_at": "2017-01-12T15:30:00",
        "ends_at": "2017-01-12T15:54:00",
        "extra_minutes": 0,
    }
    actor = moderator(event)
    domain.set_clock(actor, ClockIn(on=True, add_minutes=5))
    domain.set_issue(actor, SetIssueIn(issue_id=event.issues[2].id))
    clock = event_view(db.session.get(Event, event.id))["clock"]
    # issue 1 got 29 minutes, so issue 3 starts 5 minutes late and keeps its 24
    assert (clock["on"], clock["starts_at"], clock["ends_at"]) == (
        True,
        "2017-01-12T16:23:00",
        "2017-01-12T16:47:00",
    )
    event = domain.set_clock(actor, ClockIn(add_minutes=-10))
    assert event_view(event)["clock"]["ends_at"] == "2017-01-12T16:37:00"
    assert event_view(event)["clock"]["extra_minutes"] == -10
    event = domain.set_clock(actor, ClockIn(on=False))
    assert event_view(event)["clock"]["on"] is False
    details = [a["detail"] for a in domain.actions(actor) if a["action"] == "clock"]
    assert details == [
        {"on": False, "was": True},
        {"issue_id": event.issues[2].id, "add_minutes": -10},
        {"on": True, "was": False, "issue_id": event.issues[0].id, "add_minutes": 5},
    ]


def test_the_clock_refuses_what_cannot_be(ctx):
    event, _key = make_event()
    actor = moderator(event)
    version = event.version
    with pytest.raises(Conflict, match="less than a minute"):
        domain.set_clock(actor, ClockIn(add_minutes=-24))
    with pytest.raises(Invalid):
        domain.set_clock(actor, ClockIn())
    with pytest.raises(Invalid):
        domain.set_clock(actor, ClockIn(add_minutes=0))
    db.session.expire_all()
    assert db.session.get(Event, event.id).version == version  # nothing written

    bare, _key = make_event(title="No times", starts_at=None, ends_at=None)
    assert event_view(bare)["clock"] == {
        "on": False,
        "available": False,
        "issue_id": None,
        "starts_at": None,
        "ends_at": None,
        "extra_minutes": 0,
    }
    for change in (ClockIn(on=True), ClockIn(add_minutes=5)):
        with pytest.raises(Conflict, match="start and end times"):
            domain.set_clock(moderator(bare), change)
    domain.set_clock(moderator(bare), ClockIn(on=False))  # switching it off is always fine


@pytest.mark.parametrize("role", ["participant", "screen"])
def test_the_audience_and_the_screen_may_not_switch_them(ctx, role):
    event, _key = make_event()
    actor = make_participant(event)[0] if role == "participant" else Actor("screen", event.id)
    with pytest.raises(Forbidden):
        domain.set_screen_mode(actor, ScreenModeIn(mode="join"))
    with pytest.raises(Forbidden):
        domain.set_clock(actor, ClockIn(on=True))


def test_every_screen_hears_of_the_join_slide_and_the_clock(app):
    with app.app_context():
        event, key = make_event()
        _alice, token = make_participant(event)
        code = event.code
    console = socketio.test_client(app, auth={"event": code, "token": key})
    phone = socketio.test_client(app, auth={"event": code, "token": token})
    screen = socketio.test_client(app, auth={"event": code})
    for client in (console, phone, screen):
        snapshot = client.get_received()[0]["args"][0]
        assert snapshot["event"]["screen_mode"] == "questions"
        assert snapshot["event"]["clock"]["available"] is True

    ack = console.emit("screen_mode", {"mode": "join"}, callback=True)
    assert ack["ok"] and ack["event"]["screen_mode"] == "join"
    ack = console.emit("clock", {"on": True, "add_minutes": 5}, callback=True)
    assert ack["ok"] and ack["event"]["clock"]["ends_at"] == "2017-01-12T15:59:00"
    socketio.sleep(0.3)
    told = [m["args"][0] for m in screen.get_received() if m["name"] == "update"]
    last = [u["event"] for u in told if "event" in u][-1]
    assert last["screen_mode"] == "join" and last["clock"]["on"] is True

    bad = [
        ("screen_mode", {"mode": "slides"}),
        ("screen_mode", {"mode": "join", "extra": 1}),
        ("screen_mode", "join"),
        ("clock", {}),
        ("clock", {"add_minutes": 121}),
        ("clock", {"add_minutes": 1.5}),
        ("clock", {"on": 1}),
    ]
    for name, payload in bad:
        answer = console.emit(name, payload, callback=True)
        assert answer["error"]["code"] == "invalid", (name, payload, answer)
    for client in (phone, screen):
        for name, payload in [("screen_mode", {"mode": "join"}), ("clock", {"on": False})]:
            assert client.emit(name, payload, callback=True)["error"]["code"] == "forbidden"
    with app.app_context():
        assert db.session.scalars(db.select(Event).filter_by(code=code)).one().clock_on is True
    for client in (console, phone, screen):
        client.disconnect()
