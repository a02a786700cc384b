"""Withdraw: the asker takes back an own question while it waits for review, and only then."""

from __future__ import annotations

import pytest

from qa_app import domain
from qa_app.auth import Actor
from qa_app.errors import Conflict, Forbidden, NotFound
from qa_app.extensions import db, socketio
from qa_app.models import Question
from qa_app.schemas import AskIn, ModerateIn, SettingsIn, ShowIn, WithdrawIn
from tests.conftest import make_event, make_participant, moderator


def ask(actor, event, text="Will the rules change next year?", client_id="c1"):
    """Ask under the event's first issue."""
    data = {"issue_id": event.issues[0].id, "text": text, "client_id": client_id}
    return domain.ask(actor, AskIn.model_validate(data))


def held_event():
    """An event that holds every question for review, with one participant."""
    event, _key = make_event()
    domain.update_settings(moderator(event), SettingsIn(pre_moderation=True))
    alice, _token = make_participant(event)
    return event, alice


def withdraw(actor, question_id):
    return domain.withdraw(actor, WithdrawIn(question_id=question_id))


def ids(state) -> dict[int, str]:
    return {q["id"]: q.get("status", "removed") for q in state["questions"]}


def test_the_asker_withdraws_a_pending_question_and_only_moderators_and_the_asker_see_it(ctx):
    event, alice = held_event()
    bob, _ = make_participant(event)
    question = ask(alice, event)
    assert question.status == "pending"
    withdrawn = withdraw(alice, question.id)
    assert withdrawn.status == "withdrawn"
    assert db.session.get(Question, question.id).status == "withdrawn"
    assert ids(domain.sync(moderator(event)))[question.id] == "withdrawn"
    mine = domain.sync(alice)["questions"]
    assert [(q["status"], q["mine"]) for q in mine] == [("withdrawn", True)]
    assert question.id not in ids(domain.sync(bob))
    assert question.id not in ids(domain.sync(Actor("screen", event.id)))


def test_a_live_or_answered_question_cannot_be_withdrawn(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    question = ask(alice, event)
    assert question.status == "live"
    with pytest.raises(Conflict, match="waiting for review.*live"):
        withdraw(alice, question.id)
    domain.moderate(moderator(event), ModerateIn(question_id=question.id, status="answered"))
    with pytest.raises(Conflict, match="answered"):
        withdraw(alice, question.id)
    assert db.session.get(Question, question.id).status == "answered"


def test_someone_elses_question_is_refused(ctx):
    event, alice = held_event()
    bob, _ = make_participant(event)
    pending = ask(alice, event)
    with pytest.raises(NotFound):  # a pending question of someone else does not exist for bob
        withdraw(bob, pending.id)
    domain.moderate(moderator(event), ModerateIn(question_id=pending.id, status="live"))
    with pytest.raises(Forbidden, match="Only the person who asked"):
        withdraw(bob, pending.id)
    assert db.session.get(Question, pending.id).status == "live"


def test_the_screen_and_moderators_cannot_withdraw(ctx):
    event, alice = held_event()
    question = ask(alice, event)
    for actor in (moderator(event), Actor("screen", event.id)):
        with pytest.raises(Forbidden):
            withdraw(actor, question.id)
    assert db.session.get(Question, question.id).status == "pending"


def test_an_unknown_question_or_one_of_another_event_is_not_found(ctx):
    event, alice = held_event()
    other, _ = make_event(title="Another")
    carol, _ = make_participant(other)
    theirs = ask(carol, other)
    for question_id in (999_999, theirs.id):
        with pytest.raises(NotFound):
            withdraw(alice, question_id)


def test_withdrawing_twice_is_a_conflict_and_moderators_cannot_act_on_it(ctx):
    event, alice = held_event()
    question = ask(alice, event)
    withdraw(alice, question.id)
    with pytest.raises(Conflict, match="already withdrew"):
        withdraw(alice, question.id)
    mod = moderator(event)
    with pytest.raises(Conflict, match="withdrew"):
        domain.moderate(mod, ModerateIn(question_id=question.id, status="live"))
    with pytest.raises(Conflict, match="withdrawn"):
        domain.show(mod, ShowIn(question_id=question.id))
    assert db.session.get(Question, question.id).status == "withdrawn"


def test_withdraw_over_rest_and_the_socket(app, client):
    with app.app_context():
        event, alice = held_event()
        _, token = make_participant(event)
        code, issue = event.code, event.issues[0].id
        first = ask(alice, event, client_id="c1").id
        second = ask(alice, event, text="And the budget for it?", client_id="c2").id
        db.session.remove()
    phone = socketio.test_client(app, auth={"event": code, "token": token})
    mine = phone.emit(
        "ask",
        {"issue_id": issue, "text": "Is it on video?", "client_id": "s1"},
        callback=True,
    )
    assert mine["ok"] and mine["question"]["status"] == "pending"
    ack = phone.emit("withdraw", {"question_id": mine["question"]["id"]}, callback=True)
    assert ack["ok"] is True and ack["question"]["status"] == "withdrawn"
    assert ack["question"]["mine"] is True
    again = phone.emit("withdraw", {"question_id": mine["question"]["id"]}, callback=True)
    assert again["ok"] is False and again["error"]["code"] == "conflict"
    bad = phone.emit("withdraw", {"question_id": "1"}, callback=True)
    assert bad["ok"] is False and bad["error"]["code"] == "invalid"
    auth = {"Authorization": f"Bearer {token}", "Host": "localhost"}
    answer = client.post(f"/api/v1/questions/{first}/withdraw", headers=auth)
    assert answer.status_code == 404  # alice's question, not this phone's
    rest = client.post(
        f"/api/v1/events/{code}/questions",
        json={"issue_id": issue, "text": "Any slides?", "client_id": "r1"},
        headers=auth,
    ).json["question"]
    answer = client.post(f"/api/v1/questions/{rest['id']}/withdraw", headers=auth)
    assert answer.status_code == 200 and answer.json["question"]["status"] == "withdrawn"
    answer = client.post(f"/api/v1/questions/{rest['id']}/withdraw", headers=auth)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "conflict"
    assert "already withdrew" in answer.json["error"]["message"]
    assert client.post("/api/v1/questions/99999/withdraw", headers=auth).status_code == 404
    with app.app_context():
        assert db.session.get(Question, second).status == "pending"
    phone.disconnect()
