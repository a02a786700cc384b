"""The organiser's events: status at its boundaries, the numbers of the list, programme edits
(every rule, refusals writing nothing, the live `update`), archive (read-only) and delete (every
row gone, sockets cut off), the list's search and filter, and the duplicate warning."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_app import domain
from qa_app.admin import set_admin_password
from qa_app.auth import Actor
from qa_app.domain.programme import numbers, status
from qa_app.errors import Conflict, Forbidden, Invalid, NotFound
from qa_app.extensions import db, socketio
from qa_app.models import (
    Admin,
    Event,
    Issue,
    ModerationAction,
    ModeratorSeat,
    Participant,
    Question,
    Speaker,
    Vote,
)
from qa_app.schemas import (
    ArchiveIn,
    AskIn,
    DeleteEventIn,
    MergeIn,
    ModerateIn,
    ProgrammeIn,
    VoteIn,
    parse,
)
from tests.conftest import csrf_token, make_event, make_participant, moderator

PASSWORD = "correct horse battery"
DATA = Path(__file__).parent / "data" / "programmes"


def organiser(event: Event) -> Actor:
    """The organiser's actor in event (the account is made on first use)."""
    admin_id = db.session.scalar(select(Admin.id).filter_by(name="organiser"))
    if admin_id is None:
        db.session.add(Admin(name="organiser", password_hash="-"))
        db.session.commit()
        admin_id = db.session.scalar(select(Admin.id).filter_by(name="organiser"))
    return Actor("admin", event.id, admin_id=admin_id)


def edit(event: Event, **data) -> Event:
    return domain.edit_programme(organiser(event), parse(ProgrammeIn, data))


def issues_of(event_id: int) -> list[tuple[int, str]]:
    query = select(Issue.id, Issue.title).filter_by(event_id=event_id).order_by(Issue.position)
    return [tuple(row) for row in db.session.execute(query)]


def version(event_id: int) -> int:
    return db.session.scalar(select(Event.version).filter_by(id=event_id))


def logged(event_id: int) -> list[str]:
    return list(db.session.scalars(select(ModerationAction.action).filter_by(event_id=event_id)))


# -- status ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2017-01-12T15:29:59", "upcoming"),
        ("2017-01-12T15:30:00", "live"),
        ("2017-01-12T17:30:00", "live"),
        ("2017-01-12T17:30:01", "ended"),
    ],
)
def test_status_by_the_venue_clock_at_its_boundaries(ctx, now, expected):
    event, _ = make_event()
    assert status(event, datetime.fromisoformat(now)) == expected


def test_status_reads_an_aware_now_in_the_venue_zone_and_archived_wins(ctx):
    event, _ = make_event()
    event.time_zone = "+03:00"
    assert status(event, datetime(2017, 1, 12, 12, 30, tzinfo=UTC)) == "live"  # 15:30 there
    assert status(event, datetime(2017, 1, 12, 12, 29, tzinfo=UTC)) == "upcoming"
    event.archived_at = datetime(2017, 1, 13)
    assert status(event, datetime(2017, 1, 12, 16, 0)) == "archived"


def test_an_event_without_times_is_live_until_archived(ctx):
    event, _ = make_event(starts_at=None, ends_at=None)
    assert status(event, datetime(2000, 1, 1)) == "live"
    assert status(event) == "live"


# -- numbers --------------------------------------------------------------------------------------


def test_numbers_count_participants_questions_and_votes_per_event(ctx):
    event, _ = make_event()
    quiet, _ = make_event(title="Quiet")
    alice, _ = make_participant(event)
    bob, _ = make_participant(event)
    issue = event.issues[0].id
    one = domain.ask(alice, AskIn(issue_id=issue, text="One?", client_id="1"))
    two = domain.ask(bob, AskIn(issue_id=issue, text="Two?", client_id="2"))
    domain.vote(alice, VoteIn(question_id=two.id, up=True))
    domain.vote(bob, VoteIn(question_id=one.id, up=True))
    domain.merge(moderator(event), MergeIn(question_id=one.id, into=two.id))  # bob's vote moves
    counted = numbers([event.id, quiet.id])
    assert counted[event.id].participants == 2
    assert counted[event.id].questions == 2  # the merged one was asked too
    assert counted[event.id].votes == 2  # alice's and bob's, on the question standing
    assert counted[quiet.id] == type(counted[quiet.id])(0, 0, 0)


# -- editing the programme ------------------------------------------------------------------------


def test_edit_title_times_zone_venue_description_bumps_version_and_logs(ctx):
    event, _ = make_event()
    before = version(event.id)
    edit(
        event,
        title="Clusters, revisited",
        starts_at="2017-01-12T16:00:00+03:00",
        ends_at="2017-01-12T18:00",
        time_zone="Europe/Moscow",
        venue=None,
        description="New words",
    )
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert (event.title, event.venue, event.description) == (
        "Clusters, revisited",
        None,
        "New words",
    )
    assert event.starts_at == datetime(2017, 1, 12, 16, 0)  # +03:00 is Moscow's own time
    assert event.ends_at == datetime(2017, 1, 12, 18, 0)
    assert event.time_zone == "Europe/Moscow"
    assert version(event.id) == before + 1
    entry = db.session.scalars(select(ModerationAction).filter_by(action="edit_programme")).one()
    assert entry.detail["changed"]["title"] == "Clusters, revisited"
    assert entry.detail["was"]["venue"] == "Building 5, 5th Floor, Executive Conference Room"


def test_issues_are_added_renamed_reordered_and_removed_when_empty(ctx):
    event, _ = make_event()
    ids = [issue.id for issue in event.issues]
    edit(
        event,
        issues=[
            {"id": ids[1], "title": "Going global?"},
            {"id": ids[0], "title": "Global champions?"},
            {"title": "Money?"},
        ],
    )
    db.session.expire_all()
    titles = issues_of(event.id)
    assert [t for _, t in titles] == ["Going global?", "Global champions?", "Money?"]
    assert [i for i, _ in titles][:2] == [ids[1], ids[0]]
    assert db.session.get(Event, event.id).current_issue_id == ids[0]  # still there, still current
    detail = db.session.scalars(select(ModerationAction.detail)).one()["issues"]
    assert detail["added"] == ["Money?"] and detail["reordered"] is True
    assert detail["removed"] == ["Talent?", "Stakeholders?", "The state?"]


def test_removing_the_current_issue_makes_the_first_current(ctx):
    event, _ = make_event()
    ids = [issue.id for issue in event.issues]
    edit(event, issues=[{"id": ids[2], "title": "Talent?"}, {"id": ids[3], "title": "S?"}])
    db.session.expire_all()
    assert db.session.get(Event, event.id).current_issue_id == ids[2]


def test_an_issue_with_questions_is_not_removed_and_nothing_is_written(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    domain.ask(alice, AskIn(issue_id=event.issues[1].id, text="Abroad?", client_id="a"))
    ids, before = [issue.id for issue in event.issues], version(event.id)
    with pytest.raises(Conflict) as refused:
        edit(event, title="Renamed", issues=[{"id": ids[0], "title": "Only this"}])
    assert refused.value.details == {"reason": "issue_has_questions", "issue_id": ids[1]}
    db.session.expire_all()
    assert len(issues_of(event.id)) == 5 and issues_of(event.id)[0][1] == "Global champions?"
    assert db.session.get(Event, event.id).title != "Renamed"
    assert version(event.id) == before and "edit_programme" not in logged(event.id)


def test_speakers_are_added_edited_reordered_and_refused_while_addressed(ctx):
    event, _ = make_event()
    mod, andrey, artem = (s.id for s in event.speakers)
    alice, _ = make_participant(event)
    domain.ask(
        alice, AskIn(issue_id=event.issues[0].id, text="Tomsk?", client_id="t", addressed_to=andrey)
    )
    with pytest.raises(Conflict) as refused:
        edit(event, speakers=[{"id": mod, "name": "Oleg Fomichev", "role": "moderator"}])
    assert refused.value.details == {"reason": "speaker_has_questions", "speaker_id": andrey}
    edit(
        event,
        speakers=[
            {"id": andrey, "name": "Andrey Antonov", "affiliation": "Tomsk"},
            {"id": mod, "name": "Oleg Fomichev", "role": "moderator"},
            {"name": "Nina Petrova", "affiliation": "Kazan"},
        ],
    )
    db.session.expire_all()
    rows = db.session.execute(
        select(Speaker.id, Speaker.name, Speaker.role, Speaker.affiliation)
        .filter_by(event_id=event.id)
        .order_by(Speaker.position)
    ).all()
    assert [r.name for r in rows] == ["Andrey Antonov", "Oleg Fomichev", "Nina Petrova"]
    assert rows[0].affiliation == "Tomsk" and rows[1].role == "moderator"
    assert artem not in {r.id for r in rows}


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        ({}, Invalid),
        ({"title": None}, Invalid),
        ({"title": "  "}, Invalid),
        ({"issues": []}, Invalid),
        ({"time_zone": "Mars/Olympus"}, Invalid),
        ({"starts_at": "2017-01-12T18:00", "ends_at": "2017-01-12T17:00"}, Invalid),
        ({"issues": [{"id": 1, "title": "A"}, {"id": 1, "title": "B"}]}, Invalid),
        ({"issues": [{"id": 999999, "title": "Not ours"}]}, NotFound),
        ({"speakers": [{"id": 999999, "name": "Not ours"}]}, NotFound),
        ({"colour": "red"}, Invalid),
    ],
)
def test_bad_edits_are_refused_with_nothing_written(ctx, data, refusal):
    event, _ = make_event()
    before = version(event.id)
    with pytest.raises(refusal):
        edit(event, **data)
    assert version(event.id) == before and logged(event.id) == []


def test_only_the_organiser_edits_archives_and_deletes(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    for actor in (moderator(event), alice):
        with pytest.raises(Forbidden):
            domain.edit_programme(actor, ProgrammeIn(title="Mine"))
        with pytest.raises(Forbidden):
            domain.archive(actor, ArchiveIn(archived=True))
        with pytest.raises(Forbidden):
            domain.delete_event(actor, DeleteEventIn(confirm=event.code))


# -- archive --------------------------------------------------------------------------------------


def test_an_archived_event_is_read_only_until_brought_back(ctx):
    event, _ = make_event()
    alice, _ = make_participant(event)
    question = domain.ask(alice, AskIn(issue_id=event.issues[0].id, text="Before?", client_id="b"))
    domain.archive(organiser(event), ArchiveIn(archived=True))
    before = version(event.id)
    attempts = [
        lambda: domain.ask(alice, AskIn(issue_id=event.issues[0].id, text="After?", client_id="c")),
        lambda: domain.vote(alice, VoteIn(question_id=question.id, up=True)),
        lambda: domain.moderate(
            moderator(event), ModerateIn(question_id=question.id, status="answered")
        ),
        lambda: edit(event, title="Changed"),
        lambda: domain.join(db.session.get(Event, event.id), None, "test"),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.details == {"reason": "archived"}
        assert str(refused.value) == "This event is archived: it is read-only."
    assert version(event.id) == before
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 1
    assert domain.snapshot(alice)["event"]["archived"] is True  # reading still works
    domain.archive(organiser(event), ArchiveIn(archived=False))
    domain.vote(alice, VoteIn(question_id=question.id, up=True))
    assert logged(event.id)[-2:] == ["unarchive", "vote"] or "unarchive" in logged(event.id)


# -- delete ---------------------------------------------------------------------------------------


def test_delete_needs_the_typed_code_then_removes_every_row(ctx):
    event, _ = make_event()
    other, _ = make_event(title="Another")
    alice, _ = make_participant(event)
    bob, _ = make_participant(other)
    first = domain.ask(alice, AskIn(issue_id=event.issues[0].id, text="One?", client_id="1"))
    second = domain.ask(
        alice,
        AskIn(
            issue_id=event.issues[1].id,
            text="Two?",
            client_id="2",
            addressed_to=event.speakers[1].id,
        ),
    )
    domain.vote(alice, VoteIn(question_id=first.id, up=True))
    domain.merge(moderator(event), MergeIn(question_id=second.id, into=first.id))
    domain.ask(bob, AskIn(issue_id=other.issues[0].id, text="Kept?", client_id="k"))
    with pytest.raises(Invalid):
        domain.delete_event(organiser(event), DeleteEventIn(confirm="WRONG"))
    assert db.session.get(Event, event.id) is not None
    event_id = event.id
    domain.delete_event(organiser(event), DeleteEventIn(confirm=event.code.lower()))
    for model in (Issue, Speaker, ModeratorSeat, Participant, Question, ModerationAction):
        left = db.session.scalar(
            select(func.count()).select_from(model).filter_by(event_id=event_id)
        )
        assert left == 0, model.__name__
    assert db.session.get(Event, event_id) is None
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0
    assert db.session.scalar(select(func.count()).select_from(Question)) == 1  # the other's


# -- REST, the live update, the admin pages -------------------------------------------------------


@pytest.fixture
def hall(app):
    """An event with a phone connected, and a logged-in organiser's browser."""
    with app.app_context():
        event, _ = make_event()
        _alice, token = make_participant(event)
        set_admin_password("organiser", PASSWORD)
        world = {"code": event.code, "issues": [i.id for i in event.issues], "token": token}
        db.session.remove()
    browser = app.test_client()
    page = browser.get("/admin/login")
    browser.post(
        "/admin/login",
        data={"name": "organiser", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    world["browser"] = browser
    world["headers"] = {"X-CSRFToken": csrf_token(browser.get("/admin/").text)}
    return world


def test_the_rest_edit_reaches_the_phone_with_the_new_issues(app, hall):
    phone = socketio.test_client(app, auth={"event": hall["code"], "token": hall["token"]})
    phone.get_received()
    first, *rest = hall["issues"]
    issues = [{"id": first, "title": "Renamed live"}] + [{"id": i, "title": "x"} for i in rest]
    answer = hall["browser"].patch(
        f"/api/v1/events/{hall['code']}/programme", json={"issues": issues}, headers=hall["headers"]
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["issues"][0]["title"] == "Renamed live"
    updates = [m["args"][0] for m in phone.get_received() if m["name"] == "update"]
    assert updates and updates[-1]["issues"][0]["title"] == "Renamed live"
    assert "speakers" in updates[-1]
    # other event changes do not carry the programme
    answer = hall["browser"].patch(
        f"/api/v1/events/{hall['code']}/settings",
        json={"voting_open": False},
        headers=hall["headers"],
    )
    updates = [m["args"][0] for m in phone.get_received() if m["name"] == "update"]
    assert updates and "issues" not in updates[-1]
    phone.disconnect()


def test_rest_refusals_by_role_and_typed_confirmation(app, hall):
    code = hall["code"]
    anonymous = app.test_client()
    assert (
        anonymous.patch(f"/api/v1/events/{code}/programme", json={"title": "X"}).status_code == 403
    )
    no_csrf = hall["browser"].put(f"/api/v1/events/{code}/archive", json={"archived": True})
    assert no_csrf.status_code == 403
    wrong = hall["browser"].delete(
        f"/api/v1/events/{code}", json={"confirm": "nope"}, headers=hall["headers"]
    )
    assert wrong.status_code == 400 and wrong.json["error"]["details"][0]["type"] == "confirm"
    archived = hall["browser"].put(
        f"/api/v1/events/{code}/archive", json={"archived": True}, headers=hall["headers"]
    )
    assert archived.json["event"]["archived"] is True
    joined = anonymous.post(f"/api/v1/events/{code}/participants", json={})
    assert joined.status_code == 409 and joined.json["error"]["details"] == {"reason": "archived"}
    assert "archived" in anonymous.get(f"/e/{code}").text
    gone = hall["browser"].delete(
        f"/api/v1/events/{code}", json={"confirm": code}, headers=hall["headers"]
    )
    assert gone.json == {"deleted": code}
    assert hall["browser"].get(f"/api/v1/events/{code}").status_code == 404


def test_deleting_cuts_off_the_events_sockets(app, hall):
    phone = socketio.test_client(app, auth={"event": hall["code"], "token": hall["token"]})
    screen = socketio.test_client(app, auth={"event": hall["code"]})
    assert phone.is_connected() and screen.is_connected()
    hall["browser"].delete(
        f"/api/v1/events/{hall['code']}", json={"confirm": hall["code"]}, headers=hall["headers"]
    )
    assert not phone.is_connected() and not screen.is_connected()


def test_a_deletion_by_another_process_ends_the_phones_grant_at_the_next_check(app, hall):
    from qa_app import revocation, storage
    from qa_app.domain.programme import _delete_rows

    phone = socketio.test_client(app, auth={"event": hall["code"], "token": hall["token"]})
    assert phone.is_connected()
    with app.app_context():
        event_id = db.session.scalar(select(Event.id).filter_by(code=hall["code"]))
        with storage.writing():  # the rows go as another process's delete takes them: no cut-off
            _delete_rows(event_id)
        assert phone.is_connected()
        revocation.sweep()  # this process's watcher, as every QA_REVOCATION_CHECK_MS
    assert not phone.is_connected()


def test_the_admin_list_searches_filters_and_hides_archived(app, hall):
    browser, headers = hall["browser"], hall["headers"]
    with app.app_context():
        archived, _ = make_event(title="Old panel", venue="Hall B")
        code = archived.code
        russian = make_event(title="Круглый стол", venue=None)[0].code
        db.session.remove()
    browser.put(f"/api/v1/events/{code}/archive", json={"archived": True}, headers=headers)
    listed = browser.get("/admin/?lang=en").text
    assert hall["code"] in listed and code not in listed
    assert "Thu 12 Jan 2017, 15:30–17:30" in listed
    assert code in browser.get("/admin/?status=archived").text
    assert code in browser.get("/admin/?status=all&q=hall%20b").text
    assert hall["code"] not in browser.get("/admin/?status=all&q=hall%20b").text
    assert hall["code"] not in browser.get("/admin/?status=upcoming").text  # 2017: ended
    assert hall["code"] in browser.get("/admin/?status=ended").text
    found = browser.get("/admin/?q=КРУГЛЫЙ").text  # any case, in any alphabet
    assert russian in found and hall["code"] not in found
    assert "чт 12 янв. 2017" in browser.get("/admin/?lang=ru").text.lower()
    page = browser.get(f"/admin/events/{hall['code']}")
    assert page.status_code == 200 and f"/e/{hall['code']}/report" in page.text


def test_the_dry_run_and_the_check_warn_of_the_same_programme(app, hall):
    browser, headers = hall["browser"], hall["headers"]
    text = (
        (DATA / "seed_en.txt")
        .read_text(encoding="utf-8")
        .replace(
            "Best Innovation Cluster Management Practices",
            "best innovation   CLUSTER management practices",
            1,
        )
    )
    dry = browser.post(
        "/api/v1/events/import?dry_run=1",
        data=text,
        headers=headers | {"Content-Type": "text/plain"},
    )
    assert dry.status_code == 200, dry.json
    assert [d["code"] for d in dry.json["duplicates"]] == [hall["code"]]
    found = browser.get(
        "/api/v1/events/duplicates",
        query_string={
            "title": "Best Innovation Cluster Management  practices",
            "starts_at": "2017-01-12T15:30",
        },
    )
    assert found.status_code == 200, found.json
    assert [d["code"] for d in found.json["duplicates"]] == [hall["code"]]
    other = browser.get(
        "/api/v1/events/duplicates", query_string={"title": "Best", "starts_at": "2017-01-12T15:30"}
    )
    assert other.json["duplicates"] == []
