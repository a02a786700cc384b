"""The moderator's actions (issue 9): settings, addressee, merge of several, the screen, the
audit log, undo and the list of bans; in the domain, on the socket and over REST."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from qa_app import domain, storage
from qa_app.auth import Actor
from qa_app.errors import Conflict, Forbidden, Invalid, NotFound
from qa_app.extensions import db, socketio
from qa_app.models import Event, ModerationAction, Participant, Question, Vote, utcnow
from qa_app.schemas import (
    AskIn,
    BanIn,
    MergeIn,
    ModerateIn,
    SetIssueIn,
    SettingsIn,
    ShowIn,
    UndoIn,
    VoteIn,
)
from tests.conftest import make_event, make_participant, moderator

# the domain tests run on both databases; the socket and REST ones on SQLite
BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def ask(actor, event, text="What are the ingredients of success?", **extra) -> Question:
    """Ask under the event's first issue (a fresh client_id each time)."""
    data = {"issue_id": event.issues[0].id, "text": text, "client_id": f"c{time.monotonic_ns()}"}
    return domain.ask(actor, AskIn.model_validate(data | extra))


def vote(actor, question) -> None:
    domain.vote(actor, VoteIn(question_id=question.id, up=True))


def fresh(question_id: int) -> Question:
    return db.session.get(Question, question_id, populate_existing=True)


def screen(event) -> int | None:
    return db.session.get(Event, event.id, populate_existing=True).on_screen_question_id


def voters(question_id: int) -> set[int]:
    return set(db.session.scalars(select(Vote.participant_id).filter_by(question_id=question_id)))


def undo(actor, action_id: int):
    return domain.undo(actor, UndoIn(action_id=action_id))


def snapshot_of(question: Question) -> dict:
    """What a moderator action may change, and what undo must restore exactly."""
    return {
        "status": question.status,
        "text": question.text,
        "issue_id": question.issue_id,
        "addressed_to": question.addressed_to,
        "merged_into": question.merged_into,
        "answered_at": question.answered_at,
        "votes": question.vote_count,
        "voters": voters(question.id),
    }


@pytest.fixture
def room(ctx):
    """An event, four participants and a live question by the first."""
    event, _key = make_event()
    people = [make_participant(event, f"P{n}")[0] for n in range(4)]
    return event, people, moderator(event)


# -- settings ------------------------------------------------------------------------------------


@BOTH
def test_settings_are_logged_and_refused_for_the_audience(room):
    event, people, mod = room
    changed = domain.update_settings(mod, SettingsIn(questions_open=False, voting_open=False))
    assert changed.settings["questions_open"] is False
    entry = db.session.scalars(select(ModerationAction).filter_by(action="settings")).one()
    assert entry.detail["changed"] == {"questions_open": False, "voting_open": False}
    assert entry.undo is None and entry.who == "Moderator"
    with pytest.raises(Forbidden):
        domain.update_settings(people[0], SettingsIn(questions_open=True))
    with pytest.raises(Forbidden):
        domain.update_settings(Actor("screen", event.id), SettingsIn(questions_open=True))


# -- addressee -----------------------------------------------------------------------------------


@BOTH
def test_addressed_to_null_is_all_panelists_and_absent_is_unchanged(room):
    event, people, mod = room
    panelist, other_panelist = event.speakers[1].id, event.speakers[2].id
    question = ask(people[0], event, addressed_to=panelist)
    domain.moderate(mod, ModerateIn(question_id=question.id, text="Edited, same addressee?"))
    assert fresh(question.id).addressed_to == panelist
    readdressed = domain.moderate(mod, ModerateIn(question_id=question.id, addressed_to=None))
    assert readdressed.question.addressed_to is None
    entry = db.session.get(ModerationAction, readdressed.action_id)
    assert entry.action == "addressee" and entry.detail["was"] == {"addressed_to": panelist}
    domain.moderate(mod, ModerateIn(question_id=question.id, addressed_to=other_panelist))
    assert fresh(question.id).addressed_to == other_panelist
    other, _ = make_event(title="Another session")
    with pytest.raises(NotFound):
        domain.moderate(mod, ModerateIn(question_id=question.id, addressed_to=other.speakers[1].id))
    assert fresh(question.id).addressed_to == other_panelist


def test_rest_patch_tells_null_from_absent(app, client):
    with app.app_context():
        event, key = make_event()
        alice, _ = make_participant(event)
        question_id = ask(alice, event, addressed_to=event.speakers[1].id).id
    headers = {"Authorization": f"Bearer {key}"}
    path = f"/api/v1/questions/{question_id}"
    kept = client.patch(path, json={"text": "Still to Antonov?"}, headers=headers)
    assert kept.status_code == 200 and kept.json["question"]["addressed_to"] is not None
    assert kept.json["action_id"] >= 1
    cleared = client.patch(path, json={"addressed_to": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json["question"]["addressed_to"] is None


# -- merge ---------------------------------------------------------------------------------------


@BOTH
def test_merge_of_three_keeps_one_vote_per_participant_and_undo_restores_each(room):
    event, people, mod = room
    target, first, second = (ask(people[n], event, text=f"Same question {n}?") for n in range(3))
    for voter, question in [
        (people[1], target),
        (people[2], target),
        (people[2], first),  # voted for the target and a duplicate: counts once
        (people[3], first),
        (people[3], second),  # voted for two duplicates: counts once
        (people[0], second),
    ]:
        vote(voter, question)
    before = {q.id: snapshot_of(fresh(q.id)) for q in (target, first, second)}
    domain.show(mod, ShowIn(question_id=first.id))
    shown = db.session.scalars(select(ModerationAction).filter_by(action="show")).one()
    merged = domain.merge(mod, MergeIn(question_ids=[first.id, second.id], into=target.id))
    assert merged.merged == [first.id, second.id]
    assert merged.question.vote_count == 4  # people 0, 1, 2, 3
    assert voters(target.id) == {p.participant_id for p in people}
    for source in (first, second):
        row = fresh(source.id)
        assert (row.status, row.merged_into, row.vote_count) == ("merged", target.id, 0)
    assert screen(event) == target.id  # the screen follows

    undo(mod, merged.action_id)
    for question_id, was in before.items():
        assert snapshot_of(fresh(question_id)) == was
    assert screen(event) == first.id
    entry = db.session.get(ModerationAction, merged.action_id)
    assert entry.undone_at is not None and entry.undone_by > shown.id


@BOTH
def test_votes_cast_meanwhile_do_not_block_undoing_a_merge_and_stay_on_the_target(room):
    event, people, mod = room
    target, duplicate = ask(people[0], event), ask(people[1], event, text="Duplicate?")
    vote(people[2], duplicate)
    merged = domain.merge(mod, MergeIn(question_id=duplicate.id, into=target.id))
    vote(people[3], target)  # after the merge
    undo(mod, merged.action_id)
    assert voters(target.id) == {people[3].participant_id}
    assert fresh(target.id).vote_count == 1
    assert voters(duplicate.id) == {people[2].participant_id}
    assert fresh(duplicate.id).vote_count == 1


@BOTH
def test_merge_refusals_write_nothing(room):
    event, people, mod = room
    target, source = ask(people[0], event), ask(people[1], event, text="Again?")
    dismissed = ask(people[2], event, text="Gone?")
    domain.moderate(mod, ModerateIn(question_id=dismissed.id, status="dismissed"))
    version = db.session.get(Event, event.id, populate_existing=True).version
    refusals = [
        (Invalid, MergeIn(question_ids=[source.id, source.id], into=target.id)),
        (Invalid, MergeIn(question_ids=[source.id, target.id], into=target.id)),
        (Invalid, MergeIn(question_id=target.id, into=target.id)),
        (NotFound, MergeIn(question_ids=[source.id, 2_000_000], into=target.id)),
        (NotFound, MergeIn(question_ids=[source.id], into=2_000_000)),
        (Conflict, MergeIn(question_ids=[source.id], into=dismissed.id)),
    ]
    for error, data in refusals:
        with pytest.raises(error):
            domain.merge(mod, data)
    with pytest.raises(Forbidden):
        domain.merge(people[0], MergeIn(question_ids=[source.id], into=target.id))
    other, _ = make_event(title="Another session")
    with pytest.raises(NotFound):
        domain.merge(moderator(other), MergeIn(question_ids=[source.id], into=target.id))
    assert db.session.get(Event, event.id, populate_existing=True).version == version
    domain.merge(mod, MergeIn(question_ids=[source.id], into=target.id))
    with pytest.raises(Conflict):  # already merged
        domain.merge(mod, MergeIn(question_ids=[source.id], into=dismissed.id))
    with pytest.raises(Conflict):  # into a merged question
        domain.merge(mod, MergeIn(question_ids=[dismissed.id], into=source.id))


def test_merge_payload_names_its_sources_one_way():
    with pytest.raises(Exception, match="not both or neither"):
        MergeIn.model_validate({"question_id": 1, "question_ids": [2], "into": 3})
    with pytest.raises(Exception, match="not both or neither"):
        MergeIn.model_validate({"into": 3})
    with pytest.raises(Exception, match="at most 50"):
        MergeIn.model_validate({"question_ids": list(range(1, 52)), "into": 60})


# -- the screen ----------------------------------------------------------------------------------


@BOTH
def test_answered_takes_the_question_off_screen_and_undo_puts_it_back(room):
    event, people, mod = room
    question = ask(people[0], event)
    domain.show(mod, ShowIn(question_id=question.id))
    version = domain.sync(people[1])["version"]
    answered = domain.moderate(mod, ModerateIn(question_id=question.id, status="answered"))
    assert screen(event) is None
    changed = domain.sync(people[1], version)
    assert changed["event"]["on_screen_question_id"] is None
    assert changed["event"]["rev"] > version  # the event was touched: phones and screens hear it
    undo(mod, answered.action_id)
    assert screen(event) == question.id
    assert (fresh(question.id).status, fresh(question.id).answered_at) == ("live", None)


@BOTH
def test_undo_of_show_puts_back_the_screen_and_the_pending_question(ctx):
    event, _ = make_event(settings={"pre_moderation": True})
    alice, _ = make_participant(event)
    bob, _ = make_participant(event)
    mod = moderator(event)
    shown_first = ask(alice, event, text="First?")
    domain.moderate(mod, ModerateIn(question_id=shown_first.id, status="live"))
    domain.show(mod, ShowIn(question_id=shown_first.id))
    pending = ask(alice, event, text="Pending?")
    version = domain.sync(bob)["version"]
    shown = domain.show(mod, ShowIn(question_id=pending.id))  # approves it
    assert fresh(pending.id).status == "live"
    undo(mod, shown.action_id)
    assert fresh(pending.id).status == "pending"
    assert screen(event) == shown_first.id
    removed = [q for q in domain.sync(bob, version)["questions"] if q["id"] == pending.id]
    assert removed and removed[0]["removed"] is True  # the audience is told to drop it


# -- undo of every other undoable action ---------------------------------------------------------


@BOTH
@pytest.mark.parametrize(
    "change",
    [
        {"status": "dismissed"},
        {"status": "answered"},
        {"status": "pending"},
        {"text": "An edited text?"},
        {"issue_id": "second"},
        {"addressed_to": None},
    ],
    ids=["dismiss", "answered", "hold", "edit", "move", "addressee"],
)
def test_undo_of_moderate_restores_the_question_exactly(room, change):
    event, people, mod = room
    question = ask(people[0], event, addressed_to=event.speakers[1].id)
    vote(people[1], question)
    before = snapshot_of(fresh(question.id))
    if change.get("issue_id") == "second":
        change = {"issue_id": event.issues[1].id}
    done = domain.moderate(mod, ModerateIn(question_id=question.id, **change))
    assert snapshot_of(fresh(question.id)) != before
    undone = undo(mod, done.action_id)
    assert undone.action_id == done.action_id
    assert snapshot_of(fresh(question.id)) == before
    log = db.session.get(ModerationAction, undone.undo_id)
    assert log.action == "undo" and log.detail["undid"] == done.action_id


@BOTH
def test_undo_of_approve(ctx):
    event, _ = make_event(settings={"pre_moderation": True})
    alice, _ = make_participant(event)
    question = ask(alice, event)
    done = domain.moderate(moderator(event), ModerateIn(question_id=question.id, status="live"))
    assert db.session.get(ModerationAction, done.action_id).action == "approve"
    undo(moderator(event), done.action_id)
    assert fresh(question.id).status == "pending"


@BOTH
def test_undo_of_ban_lifts_it_and_puts_back_the_pending_questions(ctx):
    event, _ = make_event(settings={"pre_moderation": True})
    spammer, _ = make_participant(event, "Spammer")
    mod = moderator(event)
    live = ask(spammer, event, text="Buy now?")
    domain.moderate(mod, ModerateIn(question_id=live.id, status="live"))
    pending = [ask(spammer, event, text=f"Buy {n}?") for n in range(2)]
    banned = domain.ban(mod, BanIn(question_id=live.id))
    assert sorted(banned.dismissed) == sorted(q.id for q in pending)
    participant = db.session.get(Participant, spammer.participant_id, populate_existing=True)
    assert participant.banned and participant.banned_at is not None
    undo(mod, banned.action_id)
    participant = db.session.get(Participant, spammer.participant_id, populate_existing=True)
    assert not participant.banned and participant.banned_at is None
    assert [fresh(q.id).status for q in pending] == ["pending", "pending"]
    assert fresh(live.id).status == "live"


# -- undo refused ----------------------------------------------------------------------------------


@BOTH
def test_undo_is_refused_twice_after_a_later_change_and_for_other_roles(room):
    event, people, mod = room
    question = ask(people[0], event)
    dismissed = domain.moderate(mod, ModerateIn(question_id=question.id, status="dismissed"))
    with pytest.raises(Forbidden):
        undo(people[0], dismissed.action_id)
    with pytest.raises(Forbidden):
        undo(Actor("screen", event.id), dismissed.action_id)
    other, _ = make_event(title="Another session")
    with pytest.raises(NotFound):
        undo(moderator(other), dismissed.action_id)
    reopened = domain.moderate(mod, ModerateIn(question_id=question.id, status="live"))
    with pytest.raises(Conflict, match="later action"):
        undo(mod, dismissed.action_id)
    undo(mod, reopened.action_id)  # the later one first ...
    assert fresh(question.id).status == "dismissed"
    undo(mod, dismissed.action_id)  # ... then the earlier one
    assert fresh(question.id).status == "live"
    with pytest.raises(Conflict, match="already undone"):
        undo(mod, dismissed.action_id)
    issue = domain.set_issue(mod, SetIssueIn(issue_id=event.issues[1].id))
    assert issue.current_issue_id == event.issues[1].id
    entry = db.session.scalars(select(ModerationAction).filter_by(action="set_issue")).one()
    with pytest.raises(Conflict, match="cannot be undone"):
        undo(mod, entry.id)


@BOTH
def test_undo_after_the_window_is_refused(make_app):
    app = make_app(QA_UNDO_SECONDS=0.5)
    with app.app_context():
        event, _ = make_event()
        alice, _ = make_participant(event)
        question = ask(alice, event)
        done = domain.moderate(moderator(event), ModerateIn(question_id=question.id, text="X?"))
        time.sleep(0.7)
        with pytest.raises(Conflict, match="Too late to undo: an action can be undone for 0.5"):
            undo(moderator(event), done.action_id)
        assert fresh(question.id).text == "X?"
        db.session.remove()


@BOTH
def test_by_default_an_action_can_be_undone_for_10_seconds(make_app, monkeypatch):
    """The default window (no QA_UNDO_SECONDS in the environment) is 10 s: an action of 9 s
    ago is undone, one of 11 s ago is refused (the actions' times are set back, no waiting)."""
    monkeypatch.delenv("QA_UNDO_SECONDS", raising=False)
    app = make_app()
    assert app.config["QA_UNDO_SECONDS"] == 10
    with app.app_context():
        event, _ = make_event()
        alice, _ = make_participant(event)
        mod = moderator(event)
        recent, old = ask(alice, event, text="Recent?"), ask(alice, event, text="Old?")
        done = {
            question.id: domain.moderate(
                mod, ModerateIn(question_id=question.id, status="dismissed")
            ).action_id
            for question in (recent, old)
        }
        for question, seconds in ((recent, 9), (old, 11)):
            action = db.session.get(ModerationAction, done[question.id])
            action.at = utcnow() - timedelta(seconds=seconds)
        db.session.commit()
        undo(mod, done[recent.id])
        assert fresh(recent.id).status == "live"
        with pytest.raises(Conflict, match="Too late to undo: an action can be undone for 10 s"):
            undo(mod, done[old.id])
        assert fresh(old.id).status == "dismissed"
        db.session.remove()


# -- the audit log: seats ------------------------------------------------------------------------


@BOTH
def test_the_log_names_the_seat_that_acted_and_any_seat_may_undo(room):
    from qa_app.domain.seats import open_seat

    event, people, mod = room
    with storage.writing():
        seat, _key = open_seat(event.id, "Anna at the back")
    anna = Actor("moderator", event.id, seat_id=seat.id)
    question = ask(people[0], event)
    dismissed = domain.moderate(anna, ModerateIn(question_id=question.id, status="dismissed"))
    undone = undo(mod, dismissed.action_id)
    rows = {row.id: row for row in db.session.scalars(select(ModerationAction))}
    assert (rows[dismissed.action_id].who, rows[dismissed.action_id].seat_id) == (
        "Anna at the back",
        seat.id,
    )
    assert rows[undone.undo_id].who == "Moderator"
    assert rows[dismissed.action_id].undone_by == undone.undo_id


# -- bans ----------------------------------------------------------------------------------------


@BOTH
def test_the_list_of_bans_newest_first_and_unban_from_it(room):
    from qa_app.domain.views import asker_handle

    event, people, mod = room
    first = ask(people[0], event, text="Spam one?")
    last_of_first = ask(people[0], event, text="Spam two?", author_name="Signed")
    second = ask(people[1], event, text="Other spam?", author_name="Someone")
    domain.ban(mod, BanIn(question_id=first.id))
    domain.ban(mod, BanIn(question_id=second.id))
    listed = domain.banned(mod)
    assert [row["question_id"] for row in listed] == [second.id, last_of_first.id]
    assert listed[1] == {
        "asker": asker_handle(people[0].participant_id),
        "name": "P0",  # the device's own name first
        "question_id": last_of_first.id,
        "text": "Spam two?",
        "banned_at": listed[1]["banned_at"],
    }
    assert listed[1]["banned_at"].endswith("Z")
    with pytest.raises(Forbidden):
        domain.banned(people[2])
    domain.unban(mod, BanIn(question_id=listed[0]["question_id"]))
    assert [row["question_id"] for row in domain.banned(mod)] == [last_of_first.id]
    unbanned = db.session.get(Participant, people[1].participant_id, populate_existing=True)
    assert unbanned.banned_at is None
    unban = db.session.scalars(select(ModerationAction).filter_by(action="unban")).one()
    assert unban.undo is None


# -- the socket ----------------------------------------------------------------------------------


@pytest.fixture
def sockets(app):
    """An event with two live questions voted by one phone; two moderator sockets, a phone
    and a screen connected."""
    with app.app_context():
        event, key = make_event()
        alice, token = make_participant(event)
        bob, bob_token = make_participant(event)
        target, duplicate = ask(alice, event, text="Target?"), ask(alice, event, text="Dup?")
        vote(bob, target)
        vote(bob, duplicate)
        world = {"code": event.code, "target": target.id, "duplicate": duplicate.id, "key": key}
        db.session.remove()

    def connect(token=None):
        auth = {"event": world["code"]} | ({"token": token} if token else {})
        sock = socketio.test_client(app, auth=auth)
        assert sock.is_connected()
        sock.get_received()
        return sock

    world |= {
        "mod": connect(key),
        "mod2": connect(key),
        "phone": connect(bob_token),
        "screen": connect(),
    }
    yield world
    for name in ("mod", "mod2", "phone", "screen"):
        world[name].disconnect()


def rows_for(sock, question_id: int) -> list[dict]:
    """The rows of one question the socket received in updates."""
    return [
        row
        for message in sock.get_received()
        if message["name"] == "update"
        for row in message["args"][0]["questions"]
        if row["id"] == question_id
    ]


def test_socket_settings_reach_every_phone(sockets):
    ack = sockets["mod"].emit("settings", {"questions_open": False}, callback=True)
    assert ack["ok"] and ack["event"]["settings"]["questions_open"] is False
    updates = [m for m in sockets["phone"].get_received() if m["name"] == "update"]
    assert updates[-1]["args"][0]["event"]["settings"]["questions_open"] is False
    for who in ("phone", "screen"):
        refused = sockets[who].emit("settings", {"questions_open": True}, callback=True)
        assert refused["error"]["code"] == "forbidden"
    bad = sockets["mod"].emit("settings", {"questions_open": "no"}, callback=True)
    assert bad["error"]["code"] == "invalid"


def test_socket_merge_and_undo_reach_the_other_moderator_and_the_phone(sockets):
    merged = sockets["mod"].emit(
        "merge", {"question_ids": [sockets["duplicate"]], "into": sockets["target"]}, callback=True
    )
    assert merged["ok"] and merged["merged"] == [sockets["duplicate"]]
    assert merged["question"]["votes"] == 1  # bob voted for both: one vote
    assert rows_for(sockets["phone"], sockets["duplicate"])[-1]["removed"] is True
    sockets["mod2"].get_received()
    for who in ("phone", "screen"):
        refused = sockets[who].emit("undo", {"action_id": merged["action_id"]}, callback=True)
        assert refused["error"]["code"] == "forbidden"
    undone = sockets["mod2"].emit("undo", {"action_id": merged["action_id"]}, callback=True)
    assert undone == {"ok": True, "action_id": merged["action_id"], "undo_id": undone["undo_id"]}
    back = rows_for(sockets["phone"], sockets["duplicate"])[-1]
    assert (back["status"], back["votes"], back["merged_into"]) == ("live", 1, None)
    seen_by_mod = rows_for(sockets["mod"], sockets["duplicate"])[-1]
    assert (seen_by_mod["status"], seen_by_mod["merged_into"]) == ("live", None)
    again = sockets["mod"].emit("undo", {"action_id": merged["action_id"]}, callback=True)
    assert again["error"]["code"] == "conflict"


def test_socket_moderator_acks_carry_action_ids_and_bans_lists(sockets):
    mod = sockets["mod"]
    shown = mod.emit("show", {"question_id": sockets["target"]}, callback=True)
    moderated = mod.emit(
        "moderate", {"question_id": sockets["target"], "addressed_to": None}, callback=True
    )
    banned = mod.emit("ban", {"question_id": sockets["duplicate"]}, callback=True)
    ids = [shown["action_id"], moderated["action_id"], banned["action_id"]]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 3
    listed = mod.emit("bans", {}, callback=True)
    assert [row["question_id"] for row in listed["banned"]] == [sockets["duplicate"]]
    assert set(listed["banned"][0]) == {"asker", "name", "question_id", "text", "banned_at"}
    assert sockets["screen"].emit("bans", {}, callback=True)["error"]["code"] == "forbidden"
    unbanned = mod.emit("unban", {"question_id": sockets["duplicate"]}, callback=True)
    assert unbanned["ok"] and "action_id" not in unbanned
    assert mod.emit("bans", {}, callback=True)["banned"] == []


def test_rest_merge_of_several_undo_and_bans(app, client, sockets):
    headers = {"Authorization": f"Bearer {sockets['key']}"}
    code = sockets["code"]
    merged = client.post(
        f"/api/v1/events/{code}/merge",
        json={"question_ids": [sockets["duplicate"]], "into": sockets["target"]},
        headers=headers,
    )
    assert merged.status_code == 200 and merged.json["merged"] == [sockets["duplicate"]]
    undone = client.post(f"/api/v1/actions/{merged.json['action_id']}/undo", headers=headers)
    assert undone.status_code == 200 and undone.json["action_id"] == merged.json["action_id"]
    again = client.post(f"/api/v1/actions/{merged.json['action_id']}/undo", headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"
    missing = client.post("/api/v1/actions/999999/undo", headers=headers)
    assert missing.status_code == 404
    assert client.get(f"/api/v1/events/{code}/bans", headers=headers).json == {"banned": []}
