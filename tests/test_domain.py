"""Domain functions on a real database: SQLite, and the same suite on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from qa_app import domain
from qa_app.auth import Actor
from qa_app.errors import Closed, Conflict, Forbidden, Invalid, NotFound
from qa_app.extensions import db
from qa_app.models import Event, ModeratorSeat, Question, Vote
from qa_app.schemas import (
    AskIn,
    EventIn,
    MergeIn,
    ModerateIn,
    SetIssueIn,
    SettingsIn,
    ShowIn,
    VoteIn,
    parse_event,
)
from tests.conftest import make_event, make_participant, moderator

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def ask(actor, event, text="What are the ingredients of success?", client_id="c1", **extra):
    """Ask under the event's first issue."""
    data = {"issue_id": event.issues[0].id, "text": text, "client_id": client_id, **extra}
    return domain.ask(actor, AskIn.model_validate(data))


def count(model) -> int:
    """Rows of a table."""
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_event_keeps_issues_in_order_and_speakers(ctx):
    event, key = make_event()
    assert event.code.isalnum() and len(event.code) == 6
    assert [i.title for i in event.issues][:2] == ["Global champions?", "Going international?"]
    assert event.current_issue_id == event.issues[0].id
    assert [s.role for s in event.speakers] == ["moderator", "panelist", "panelist"]
    assert key.startswith("mk.") and len(key) >= 3 + 32
    seats = db.session.scalars(select(ModeratorSeat).filter_by(event_id=event.id)).all()
    assert [seat.name for seat in seats] == ["Moderator"] and key not in seats[0].key_hash


def test_create_event_refuses_end_before_start(ctx):
    data = {"title": "T", "issues": ["a"], "starts_at": "2017-01-12T17:30"}
    with pytest.raises(Invalid, match="ends_at: the end time .* is before the start time"):
        domain.create_event(parse_event(data | {"ends_at": "2017-01-12T15:30"}, EventIn))
    assert count(Event) == 0


def test_ask_makes_a_live_question_and_bumps_versions(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    before = event.version
    question = ask(alice, event)
    assert question.status == "live" and question.vote_count == 0
    assert question.rev == before + 1
    assert db.session.get(Event, event.id).version == before + 1


def test_same_client_id_returns_the_same_question(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    first = ask(alice, event, client_id="same")
    again = ask(alice, event, text="different text", client_id="same")
    assert again.id == first.id and again.text == first.text
    assert count(Question) == 1


def test_pre_moderation_keeps_question_from_audience(ctx):
    event, _ = make_event(settings={"pre_moderation": True})
    alice, _ = make_participant(event)
    bob, _ = make_participant(event)
    question = ask(alice, event)
    assert question.status == "pending"
    screen = Actor("screen", event.id)
    assert [q["id"] for q in domain.sync(bob)["questions"]] == []
    assert [q["id"] for q in domain.sync(screen)["questions"]] == []
    mine = domain.sync(alice)["questions"]
    assert [(q["id"], q["status"], q["mine"]) for q in mine] == [(question.id, "pending", True)]
    assert [q["status"] for q in domain.sync(moderator(event))["questions"]] == ["pending"]
    domain.moderate(moderator(event), ModerateIn(question_id=question.id, status="live"))
    assert [q["id"] for q in domain.sync(bob)["questions"]] == [question.id]


def test_refusals_write_nothing(ctx):
    event, _ = make_event(settings={"max_question_length": 20, "anonymous_allowed": False})
    alice, _ = make_participant(event)
    version = db.session.get(Event, event.id).version
    with pytest.raises(Invalid, match="limit is 20"):
        ask(alice, event, text="x" * 21, author_name="Alice")
    with pytest.raises(Invalid, match="anonymous"):
        ask(alice, event, text="short")
    with pytest.raises(NotFound, match="issue"):
        domain.ask(alice, AskIn(issue_id=99999, text="hi", client_id="z", author_name="A"))
    with pytest.raises(NotFound, match="speaker"):
        ask(alice, event, text="hi", author_name="A", addressed_to=99999)
    with pytest.raises(Forbidden):
        ask(moderator(event), event)
    domain.update_settings(moderator(event), SettingsIn(questions_open=False))
    with pytest.raises(Closed, match="closed"):
        ask(alice, event, text="hi", author_name="A")
    assert count(Question) == 0
    assert db.session.get(Event, event.id).version == version + 1  # only the settings change


def test_vote_is_idempotent_and_can_be_taken_back(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    bob, _ = make_participant(event)
    question = ask(alice, event)
    results, versions = [], []
    for _ in range(3):
        results.append(domain.vote(bob, VoteIn(question_id=question.id, up=True)))
        versions.append(db.session.get(Event, event.id, populate_existing=True).version)
    assert [(r.votes, r.voted) for r in results] == [(1, True)] * 3
    assert results[1].rev == results[0].rev  # a repeated vote changes nothing:
    assert versions[1] == versions[2] == versions[0]  # not even the event's version
    again = domain.vote(bob, VoteIn(question_id=question.id, up=False))
    assert domain.vote(bob, VoteIn(question_id=question.id, up=False)).rev == again.rev
    assert db.session.get(Event, event.id, populate_existing=True).version == versions[0] + 1
    results.append(domain.vote(bob, VoteIn(question_id=question.id, up=True)))
    assert db.session.get(Question, question.id).vote_count == 1
    second = domain.vote(alice, VoteIn(question_id=question.id, up=True))
    assert second.votes == 2 and second.rev > results[-1].rev
    assert db.session.get(Question, question.id).vote_count == 2
    taken_back = domain.vote(bob, VoteIn(question_id=question.id, up=False))
    assert (taken_back.votes, taken_back.voted) == (1, False)
    assert db.session.get(Question, question.id).vote_count == 1
    assert db.session.get(Question, question.id).rev == taken_back.rev
    assert domain.sync(alice)["questions"][0]["voted"] is True
    assert domain.sync(bob)["questions"][0]["voted"] is False


def test_voting_closed_and_pending_questions_refuse_votes(ctx):
    event, _ = make_event(settings={"pre_moderation": True})
    alice, _ = make_participant(event)
    bob, _ = make_participant(event)
    pending = ask(alice, event)
    with pytest.raises(NotFound):  # bob cannot see alice's pending question: it is not there
        domain.vote(bob, VoteIn(question_id=pending.id, up=True))
    with pytest.raises(Conflict) as own:  # alice sees hers: it is not live yet
        domain.vote(alice, VoteIn(question_id=pending.id, up=True))
    assert own.value.details == {"reason": "not_live"}
    domain.moderate(moderator(event), ModerateIn(question_id=pending.id, status="live"))
    domain.update_settings(moderator(event), SettingsIn(voting_open=False))
    with pytest.raises(Closed):
        domain.vote(bob, VoteIn(question_id=pending.id, up=True))
    assert count(Vote) == 0


def test_moderate_answered_edit_and_move(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    question = ask(alice, event, text="Teh question")
    mod = moderator(event)
    second = event.issues[1].id
    edited = domain.moderate(
        mod, ModerateIn(question_id=question.id, text="The question", issue_id=second)
    ).question
    assert (edited.text, edited.issue_id) == ("The question", second)
    answered = domain.moderate(mod, ModerateIn(question_id=question.id, status="answered")).question
    assert answered.status == "answered" and answered.answered_at is not None
    with pytest.raises(Forbidden):
        domain.moderate(alice, ModerateIn(question_id=question.id, status="dismissed"))
    other, _ = make_event(title="Another session")
    with pytest.raises(NotFound):
        domain.moderate(moderator(other), ModerateIn(question_id=question.id, status="dismissed"))
    with pytest.raises(Invalid):
        domain.moderate(mod, ModerateIn(question_id=question.id))


def test_dismissed_question_leaves_the_screen_and_is_removed_for_the_audience(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    bob, _ = make_participant(event)
    question = ask(alice, event)
    mod = moderator(event)
    seen = domain.sync(bob)["version"]
    domain.show(mod, ShowIn(question_id=question.id))
    assert db.session.get(Event, event.id).on_screen_question_id == question.id
    domain.moderate(mod, ModerateIn(question_id=question.id, status="dismissed"))
    assert db.session.get(Event, event.id).on_screen_question_id is None
    changed = domain.sync(bob, seen)
    assert changed["questions"] == [
        {
            "id": question.id,
            "issue_id": question.issue_id,
            "rev": changed["version"],
            "removed": True,
        }
    ]
    assert domain.sync(bob)["questions"] == []  # a fresh client never hears of it
    assert domain.sync(alice)["questions"][0]["status"] == "dismissed"  # the asker still sees it


def test_merge_unions_voters_and_moves_the_screen(ctx):
    event, _ = make_event()
    people = [make_participant(event)[0] for _ in range(4)]
    original = ask(people[0], event, client_id="a")
    duplicate = ask(people[1], event, text="Same, in other words", client_id="b")
    for voter in people[1:3]:
        domain.vote(voter, VoteIn(question_id=original.id, up=True))
    for voter in people[2:4]:
        domain.vote(voter, VoteIn(question_id=duplicate.id, up=True))
    mod = moderator(event)
    domain.show(mod, ShowIn(question_id=duplicate.id))
    target = domain.merge(mod, MergeIn(question_id=duplicate.id, into=original.id)).question
    assert target.id == original.id and target.vote_count == 3  # people 1, 2, 3
    merged = db.session.get(Question, duplicate.id)
    assert (merged.status, merged.merged_into, merged.vote_count) == ("merged", original.id, 0)
    assert db.session.get(Event, event.id).on_screen_question_id == original.id
    with pytest.raises(Conflict):
        domain.merge(mod, MergeIn(question_id=duplicate.id, into=original.id))
    with pytest.raises(Invalid):
        domain.merge(mod, MergeIn(question_id=original.id, into=original.id))


def test_show_and_set_issue(ctx):
    event, _ = make_event(settings={"pre_moderation": True})
    alice, _ = make_participant(event)
    question = ask(alice, event)
    mod = moderator(event)
    domain.show(
        mod, ShowIn(question_id=question.id)
    )  # putting a pending question on screen approves it
    assert db.session.get(Question, question.id).status == "live"
    domain.show(mod, ShowIn(question_id=None))
    assert db.session.get(Event, event.id).on_screen_question_id is None
    domain.set_issue(mod, SetIssueIn(issue_id=event.issues[2].id))
    assert domain.sync(alice)["event"]["current_issue_id"] == event.issues[2].id
    other, _ = make_event(title="Other")
    with pytest.raises(NotFound):
        domain.set_issue(mod, SetIssueIn(issue_id=other.issues[0].id))
    with pytest.raises(Forbidden):
        domain.set_issue(alice, SetIssueIn(issue_id=event.issues[1].id))


def test_sync_since_returns_only_newer_rows(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    first = ask(alice, event, client_id="1")
    since = domain.sync(alice)["version"]
    second = ask(alice, event, client_id="2", text="Another one")
    changed = domain.sync(alice, since)
    assert [q["id"] for q in changed["questions"]] == [second.id]
    assert first.id not in [q["id"] for q in changed["questions"]]
    assert len(changed["issues"]) == 5 and changed["event"]["code"] == event.code


def test_rotating_the_key_stops_the_old_one(ctx, app):
    from qa_app.auth import actor_for, moderator_session_token
    from qa_app.errors import Unauthorized

    event, key = make_event()
    with app.test_request_context():
        seat = db.session.scalars(select(ModeratorSeat).filter_by(event_id=event.id)).one()
        session_token = moderator_session_token(seat)
        assert actor_for(event, key).role == "moderator"
        assert actor_for(event, session_token).role == "moderator"
        new_key = domain.rotate_moderator_key(moderator(event))
        event = db.session.get(Event, event.id, populate_existing=True)
        assert actor_for(event, new_key).role == "moderator"
        for old in (key, session_token):
            with pytest.raises(Unauthorized):
                actor_for(event, old)


def test_export_lists_every_question(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    speaker = event.speakers[1]
    ask(alice, event, author_name="Alice", addressed_to=speaker.id)
    rows = domain.export_rows(moderator(event))
    assert rows[0]["author_name"] == "Alice" and rows[0]["addressed_to"] == speaker.name
    assert rows[0]["issue"] == "Global champions?" and rows[0]["status"] == "live"
    with pytest.raises(Forbidden):
        domain.export_rows(alice)


def test_a_phone_s_lookups_find_its_event_and_token_and_refuse_the_rest(ctx):
    """What a phone's join and connection read as raw rows (storage.fetch_one): the same
    answers on SQLite and PostgreSQL, a ban and an archive included."""
    from qa_app.auth import EventRef, actor_for, find_event_ref
    from qa_app.errors import Banned, Unauthorized
    from qa_app.models import utcnow
    from qa_app.schemas import BanIn

    event, _ = make_event()
    alice, token = make_participant(event)
    ref = find_event_ref(f" {event.code.lower()} ")
    assert ref == EventRef(event.id, event.code, False)
    assert actor_for(ref, token) == alice
    with pytest.raises(Unauthorized):
        actor_for(ref, token[:-1])
    other, _ = make_event()
    with pytest.raises(Unauthorized):  # a token of another event's phone
        actor_for(find_event_ref(other.code), token)
    question = ask(alice, event)
    domain.ban(moderator(event), BanIn(question_id=question.id))
    with pytest.raises(Banned):
        actor_for(ref, token)
    db.session.get(Event, event.id).archived_at = utcnow()
    db.session.commit()
    assert find_event_ref(event.code).archived is True
    for junk in ("ZZZZZZ", "", "AB\x00CD"):
        with pytest.raises(NotFound):
            find_event_ref(junk)


def test_a_connecting_phone_s_snapshot_is_the_full_read_with_its_own_questions_and_votes(ctx):
    from qa_app.domain.views import event_view, questions_for

    event, _ = make_event(settings={"pre_moderation": True})
    alice, _ = make_participant(event)
    bob, _ = make_participant(event)
    screen = Actor("screen", event.id)
    live = ask(alice, event, text="Live one?", client_id="a1")
    domain.moderate(moderator(event), ModerateIn(question_id=live.id, status="live"))
    other = ask(bob, event, text="Bob's live one?", client_id="b1")
    domain.moderate(moderator(event), ModerateIn(question_id=other.id, status="live"))
    ask(alice, event, text="Still pending?", client_id="a2")  # alice's own, not public
    gone = ask(bob, event, text="Dismissed one?", client_id="b2")
    domain.moderate(moderator(event), ModerateIn(question_id=gone.id, status="dismissed"))
    domain.vote(alice, VoteIn(question_id=other.id, up=True))
    carol, _ = make_participant(event)  # has asked and voted nothing: the hall's shared list
    dave, _ = make_participant(event)  # has only voted
    domain.vote(dave, VoteIn(question_id=live.id, up=True))
    for _round in range(2):  # built, then from the cache
        for actor in (alice, bob, carol, dave, screen):
            state = domain.sync(actor, 0)
            assert state["questions"] == questions_for(actor, 0)
            assert state["event"] == event_view(db.session.get(Event, event.id))
            assert state["version"] == db.session.get(Event, event.id).version
    assert [q["mine"] for q in domain.sync(alice, 0)["questions"]] == [True, False, True]
    assert [q["voted"] for q in domain.sync(alice, 0)["questions"]] == [False, True, False]
    assert [(q["mine"], q["voted"]) for q in domain.sync(carol, 0)["questions"]] == [
        (False,) * 2
    ] * 2
    assert [q["voted"] for q in domain.sync(dave, 0)["questions"]] == [True, False]
    # a change makes a new version: the next snapshot shows it
    domain.moderate(moderator(event), ModerateIn(question_id=other.id, status="answered"))
    assert domain.sync(screen, 0)["questions"][1]["status"] == "answered"
