"""The report (docs/report.md): every number on a seeded session with known answers, who may
read it (organiser, moderator cookie, share link on/off/renewed, revoked seat, nobody else), and
its JSON and CSV exports (spreadsheet-safe).

The session, built with the domain functions (times then set to known minutes of the
programme, 15:30–17:30 at +03:00):

| q | issue | asked by | to | what happens | votes at the end |
| --- | --- | --- | --- | --- | --- |
| q1 | 1 | p1 | Andrey | live | p2 p3 p4 + p5 from q3 = 4 |
| q2 | 1 | p2 | all | answered | p1 p3 p6 = 3 |
| q3 | 1 | p3 | Andrey | merged into q1 | (moved) |
| q4 | 1 | p1 | Artem | dismissed (after p2 voted) | 1, not counted |
| q5 | 2 | p4 | Artem | answered | p1 = 1 |
| q6 | 2 | p5 (anonymous) | all | live | 0 |
| q7 | 2 | p2 | all | withdrawn while pending | — |
| q8 | 2 | p4 | Andrey | pending (never reviewed) | — |
| q9 | 3 | p1 | Andrey | answered | 0 |

p7 joins and does nothing. Issue 2 becomes current at 16:00 and issue 3 at 16:35; q1 goes on
screen at 15:50; q5 goes on screen and is undone at once (a slip: not marked); the screen is
cleared (not marked either).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import event as sql_event
from sqlalchemy import update

from qa_app import domain, storage
from qa_app.admin import set_admin_password
from qa_app.auth import Actor
from qa_app.domain import programme
from qa_app.domain.report import report
from qa_app.domain.seats import active_seats
from qa_app.extensions import db
from qa_app.models import Event, ModerationAction, Question, Vote
from qa_app.schemas import (
    AskIn,
    MergeIn,
    ModerateIn,
    SetIssueIn,
    SettingsIn,
    ShowIn,
    UndoIn,
    VoteIn,
    WithdrawIn,
)
from tests.conftest import make_event, make_participant, moderator
from tests.test_seats import organiser  # a browser logged in at /admin, and its CSRF headers

PASSWORD = "correct horse battery"


def at(hhmm: str) -> datetime:
    """A venue time of the programme's day (+03:00) as the stored UTC time."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2017, 1, 12, hours - 3, minutes)


def seed() -> dict:
    """The session of the module docstring; returns its code and ids."""
    event, key = make_event()
    with storage.writing():
        db.session.get(Event, event.id).time_zone = "+03:00"
    issues = [issue.id for issue in event.issues]
    andrey, artem = (s.id for s in event.speakers if s.role == "panelist")
    mod = moderator(event)
    p = {n: make_participant(event, f"P{n}")[0] for n in range(1, 8)}

    def ask(n, issue, text, to=None, name="named"):
        author = None if name is None else f"Asker {n}"
        data = AskIn(issue_id=issues[issue - 1], text=text, addressed_to=to, author_name=author,
                     client_id=f"c{abs(hash(text))}")  # fmt: skip
        return domain.ask(p[n], data).id

    def vote(n, question):
        domain.vote(p[n], VoteIn(question_id=question, up=True))

    def status(question, value):
        domain.moderate(mod, ModerateIn(question_id=question, status=value))

    q = {}
    q[1] = ask(1, 1, "How do clusters grow global champions?", andrey)
    q[2] = ask(2, 1, '=HYPERLINK("http://x") what is a champion?')
    q[3] = ask(3, 1, "How can a cluster grow a champion?", andrey)
    q[4] = ask(1, 1, "Off-topic rant", artem)
    q[5] = ask(4, 2, "Which clusters are ready to go abroad?", artem)
    q[6] = ask(5, 2, "Who pays for going international?", name=None)
    q[9] = ask(1, 3, "How to keep the best staff?", andrey)
    for voter in (2, 3, 4):
        vote(voter, q[1])
    for voter in (1, 3, 6):
        vote(voter, q[2])
    for voter in (4, 5):
        vote(voter, q[3])
    vote(2, q[4])
    vote(1, q[5])
    domain.merge(mod, MergeIn(question_id=q[3], into=q[1]))
    status(q[4], "dismissed")
    status(q[2], "answered")
    status(q[5], "answered")
    status(q[9], "answered")
    domain.update_settings(mod, SettingsIn(pre_moderation=True))
    q[7] = ask(2, 2, "A question I take back")
    q[8] = ask(4, 2, "Is anyone reviewing these?", andrey)
    domain.withdraw(p[2], WithdrawIn(question_id=q[7]))
    domain.update_settings(mod, SettingsIn(pre_moderation=False))
    domain.show(mod, ShowIn(question_id=q[1]))
    slip = domain.show(mod, ShowIn(question_id=q[5]))
    domain.undo(mod, UndoIn(action_id=slip.action_id))
    domain.show(mod, ShowIn(question_id=None))
    domain.set_issue(mod, SetIssueIn(issue_id=issues[1]))
    domain.set_issue(mod, SetIssueIn(issue_id=issues[2]))
    domain.set_issue(mod, SetIssueIn(issue_id=issues[2]))  # already current: no change
    _set_times(event.id, q)
    return {"event_id": event.id, "code": event.code, "key": key, "q": q, "issues": issues,
            "andrey": andrey, "artem": artem, "seat": active_seats(event.id)[0].id}  # fmt: skip


def _set_times(event_id: int, q: dict) -> None:
    """Move the rows to known minutes of the programme (the domain stamps them with now)."""
    asked = {1: "15:31", 2: "15:31", 3: "15:35", 4: "15:40", 5: "16:05", 6: "16:06", 7: "16:10",
             8: "16:12", 9: "16:40"}  # fmt: skip
    voted = {q[1]: "15:45", q[2]: "15:50", q[4]: "15:52", q[5]: "16:30"}
    with storage.writing():
        for n, hhmm in asked.items():
            db.session.execute(
                update(Question).where(Question.id == q[n]).values(created_at=at(hhmm))
            )
        for question, hhmm in voted.items():  # a few seconds apart, within the minute
            voters = db.session.scalars(
                db.select(Vote.participant_id).filter_by(question_id=question)
            )
            for second, voter in enumerate(sorted(voters)):
                moment = at(hhmm) + timedelta(seconds=7 * second)
                db.session.execute(
                    update(Vote)
                    .filter_by(question_id=question, participant_id=voter)
                    .values(created_at=moment)
                )
        actions = db.session.scalars(
            db.select(ModerationAction)
            .where(ModerationAction.event_id == event_id)
            .order_by(ModerationAction.id)
        ).all()
        moments = {
            "show": iter(["15:50", "16:20", "16:21"]),
            "set_issue": iter(["16:00", "16:35", "16:50"]),
        }
        for action in actions:
            if action.action in moments:
                action.at = at(next(moments[action.action]))
            else:
                action.at = at("15:30")


@pytest.fixture
def seeded(app):
    """The seeded session and an organiser account."""
    with app.app_context():
        world = seed()
        set_admin_password("organiser", PASSWORD)
        db.session.remove()
    return world


BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def built(app, world) -> dict:
    with app.app_context():
        return report(db.session.get(Event, world["event_id"]), now=at("18:00"))


# -- every number ---------------------------------------------------------------------------------


@BOTH
def test_the_headline_numbers(app, seeded):
    data = built(app, seeded)
    assert data["headline"] == {
        "participants": 7,  # p1..p7: devices that joined
        "askers": 5,  # p1..p5 (p2's withdrawn question counts: p2 asked)
        "voters": 6,  # p1..p6 with a vote standing on a published question
        "questions": 7,  # q1 q2 q3 (merged) q5 q6 q8 (pending) q9; not q4 (dismissed), q7
        "published": 5,  # q1 q2 q5 q6 q9
        "answered": 3,  # q2 q5 q9
        "unanswered": 2,  # q1 q6
        "answered_share": 0.6,
        "votes": 8,  # q1 4 + q2 3 + q5 1; q4's vote (dismissed) does not count
        "pending": 1,
        "merged": 1,
        "dismissed": 1,
        "withdrawn": 1,
    }
    assert data["event"]["starts_at"] == "2017-01-12T15:30"
    assert data["generated_at"] == "2017-01-12T18:00"  # the venue's time (+03:00)


def numbers(row: dict) -> tuple:
    keys = ("questions", "published", "answered", "answered_share", "votes", "pending",
            "merged", "dismissed", "withdrawn")  # fmt: skip
    return tuple(row[k] for k in keys)


@BOTH
def test_per_issue(app, seeded):
    q = seeded["q"]
    issues = built(app, seeded)["issues"]
    assert [i["position"] for i in issues] == [1, 2, 3, 4, 5]
    assert numbers(issues[0]) == (3, 2, 1, 0.5, 7, 0, 1, 1, 0)
    assert numbers(issues[1]) == (3, 2, 1, 0.5, 1, 1, 0, 0, 1)
    assert numbers(issues[2]) == (1, 1, 1, 1.0, 0, 0, 0, 0, 0)
    assert numbers(issues[3]) == (0, 0, 0, None, 0, 0, 0, 0, 0)  # no share without questions
    top = issues[0]["top"]
    assert [(t["id"], t["votes"], t["status"]) for t in top] == [
        (q[1], 4, "live"),
        (q[2], 3, "answered"),
    ]
    assert top[0]["addressed_to"] == "Andrey Antonov" and top[0]["asked_at"] == "2017-01-12T15:31"
    assert [t["id"] for t in issues[1]["top"]] == [q[5], q[6]]  # pending, withdrawn: never listed


@BOTH
def test_per_panelist_and_to_all(app, seeded):
    q = seeded["q"]
    people = built(app, seeded)["panelists"]
    assert [p["name"] for p in people] == ["Andrey Antonov", "Artem Zdunov", None]
    andrey, artem, everyone = people
    assert numbers(andrey) == (4, 2, 1, 0.5, 4, 1, 1, 0, 0)  # q1 q3 (merged) q8 (pending) q9
    assert [t["id"] for t in andrey["top"]] == [q[1], q[9]]
    assert numbers(artem) == (1, 1, 1, 1.0, 1, 0, 0, 1, 0)  # q5; q4 dismissed
    assert numbers(everyone) == (2, 2, 1, 0.5, 3, 0, 0, 0, 1)  # q2 q6; q7 withdrawn
    assert sum(p["questions"] for p in people) == 7


@BOTH
def test_over_time(app, seeded):
    timeline = built(app, seeded)["timeline"]
    assert (timeline["start"], timeline["end"], timeline["bucket_minutes"]) == (
        "2017-01-12T15:30", "2017-01-12T17:30", 1)  # fmt: skip
    assert len(timeline["buckets"]) == 121
    busy = {
        b["at"][11:]: (b["questions"], b["votes"])
        for b in timeline["buckets"]
        if b["questions"] or b["votes"]
    }
    assert busy == {
        "15:31": (2, 0),  # q1 q2
        "15:35": (1, 0),  # q3 (merged: counted as asked)
        "15:45": (0, 4),  # q1's votes, p5's moved from q3 with its own time
        "15:50": (0, 3),  # q2
        "16:05": (1, 0),
        "16:06": (1, 0),
        "16:12": (1, 0),  # q8 pending; q4 dismissed (15:40) and q7 withdrawn (16:10) not
        "16:30": (0, 1),
        "16:40": (1, 0),
    }
    assert timeline["issue_changes"] == [
        {"at": "2017-01-12T16:00", "issue_id": seeded["issues"][1], "position": 2,
         "title": "Going international?"},
        {"at": "2017-01-12T16:35", "issue_id": seeded["issues"][2], "position": 3,
         "title": "Talent?"},
    ]  # fmt: skip
    assert timeline["on_screen"] == [
        {"at": "2017-01-12T15:50", "question_id": seeded["q"][1],
         "text": "How do clusters grow global champions?"}
    ]  # fmt: skip


@BOTH
def test_what_the_panel_still_owes(app, seeded):
    owed = built(app, seeded)["owed"]
    assert [(o["id"], o["votes"]) for o in owed] == [(seeded["q"][1], 4), (seeded["q"][6], 0)]
    assert owed[1]["author_name"] is None and owed[1]["issue_position"] == 2


# -- the /admin list counts as the report does ----------------------------------------------------


def shown_numbers(html: str, marker: str) -> dict[str, int]:
    """The numbers an /admin page shows in the card marked so: {participants, questions, votes}."""
    start = html.index(marker)
    card = html[start : html.index("</dl>", start)]
    return {name: int(n) for name, n in re.findall(r'data-n="(\w+)">(\d+)<', card)}


@BOTH
def test_the_admin_list_counts_as_the_report_does(app, seeded):
    """The list's (and the event page's) numbers are the headline's: the merged and the pending
    question count, the dismissed and the withdrawn one do not, nor the dismissed one's vote."""
    headline = built(app, seeded)["headline"]
    wanted = {key: headline[key] for key in ("participants", "questions", "votes")}
    assert wanted == {"participants": 7, "questions": 7, "votes": 8}
    admin, _ = organiser(app)
    code = seeded["code"]
    listed = admin.get("/admin/?status=all").text
    assert shown_numbers(listed, f'data-event="{code}"') == wanted
    assert shown_numbers(admin.get(f"/admin/events/{code}").text, f'data-code="{code}"') == wanted
    # still grouped for the whole list: as many queries for five events as for one
    with app.app_context():
        others = [make_event(title=f"Panel {n}")[0].id for n in range(4)]
        statements: list[str] = []

        def note(_conn, _cursor, statement, *_rest):
            statements.append(statement)

        sql_event.listen(db.engine, "before_cursor_execute", note)
        try:
            one = programme.numbers([seeded["event_id"]])
            counted_one, statements[:] = len(statements), []
            five = programme.numbers([seeded["event_id"], *others])
            counted_five = len(statements)
        finally:
            sql_event.remove(db.engine, "before_cursor_execute", note)
    assert counted_one == counted_five <= 2
    assert one[seeded["event_id"]] == five[seeded["event_id"]]
    assert all(five[other] == type(five[other])(0, 0, 0) for other in others)


def test_a_session_without_anything_has_an_empty_report(app):
    with app.app_context():
        event, _ = make_event(starts_at=None, ends_at=None)
        data = report(event)
    assert data["headline"]["questions"] == 0 and data["headline"]["answered_share"] is None
    assert data["timeline"]["buckets"] == [] and data["owed"] == []


@BOTH
def test_a_long_timeline_gets_wider_bars(app):
    """Activity over ten hours: 5-minute bars (at most 180), every question still counted."""
    with app.app_context():
        event, _ = make_event(starts_at=None, ends_at=None)
        asker, _ = make_participant(event)
        ids = [
            domain.ask(
                asker, AskIn(issue_id=event.issues[0].id, text=f"Q{i}?", client_id=f"c{i}")
            ).id
            for i in range(3)
        ]
        with storage.writing():
            for question_id, moment in zip(ids, ("09:00", "09:03", "19:00"), strict=True):
                values = {"created_at": at(moment)}
                db.session.execute(
                    update(Question).where(Question.id == question_id).values(values)
                )
        timeline = report(db.session.get(Event, event.id))["timeline"]
    assert timeline["bucket_minutes"] == 5 and len(timeline["buckets"]) == 121
    assert timeline["buckets"][0]["questions"] == 2 and timeline["buckets"][-1]["questions"] == 1


# -- who may read it ------------------------------------------------------------------------------


def moderator_session(app, world) -> str:
    answer = app.test_client().post(
        f"/api/v1/events/{world['code']}/moderator-session",
        headers={"Authorization": f"Bearer {world['key']}"},
    )
    return answer.json["token"]


def test_nobody_else_reads_it(app, seeded, client):
    code = seeded["code"]
    page = client.get(f"/e/{code}/report")
    assert page.status_code == 401
    assert "This report is private" in page.text and "share link" in page.text
    assert "How do clusters" not in page.text
    for fmt in ("json", "csv"):
        answer = client.get(f"/e/{code}/report.{fmt}")
        assert answer.status_code == 401 and answer.json["error"]["code"] == "unauthorized"
    # a forged report cookie opens nothing
    client.set_cookie(
        "qa_report", moderator_session(app, seeded)[:-2] + "xx", path=f"/e/{code}/report"
    )
    assert client.get(f"/e/{code}/report").status_code == 403


def test_the_organiser_reads_it_in_english_and_russian(app, seeded):
    browser, _ = organiser(app)
    page = browser.get(f"/e/{seeded['code']}/report?lang=en")
    assert page.status_code == 200, page.text
    assert page.headers["Cache-Control"] == "private, no-cache"
    text = re.sub(r"\s+", " ", page.text)
    assert "How do clusters grow global champions?" in text
    assert "7 participants" not in text  # the number and its word are in separate spans
    assert 'class="n">7</span> <span class="what">participants' in text
    assert "<svg" in text and "<title" in text and "<desc" in text
    assert "Off-topic rant" not in text  # dismissed: never listed
    assert "Is anyone reviewing these?" not in text  # never reviewed: never listed
    ru = re.sub(r"\s+", " ", browser.get(f"/e/{seeded['code']}/report?lang=ru").text)
    assert "Отчёт" in ru and 'class="n">7</span> <span class="what">участников' in ru
    assert "8 голосов" in ru or 'class="n">8</span> <span class="what">голосов' in ru


class Scripts(HTMLParser):
    """Whatever in a page would run or fetch a script: <script> elements (of any type), links to
    a .js/.mjs file (src, href, preloads), inline event handlers, javascript: addresses."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "script":
            self.found.append(f"<script {attrs}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            address = value.split("?", 1)[0].split("#", 1)[0]
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if address.endswith((".js", ".mjs")) or value.startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")
            if name == "rel" and value in ("modulepreload", "serviceworker"):
                self.found.append(f"<{tag} rel={value}>")


def scripts_in(html: str) -> list[str]:
    parser = Scripts()
    parser.feed(html)
    return parser.found


def test_the_report_ships_no_script(app, seeded, client):
    """The issue: charts drawn on the server, "no chart framework shipped to the browser". The
    page, in both languages, for the organiser and through the share link, holds no <script>
    element (not even the JSON strings block the other pages carry) and loads no JS file."""
    assert scripts_in('<script type="application/json"></script><a href="/x.js?v=1">') != []
    admin, headers = organiser(app)
    code = seeded["code"]
    link = admin.put(f"/api/v1/events/{code}/report-share", headers=headers).json["url"]
    pages = [admin.get(f"/e/{code}/report?lang={lang}") for lang in ("en", "ru")]
    pages.append(client.get(link.removeprefix("http://localhost")))
    for page in pages:
        assert page.status_code == 200 and "<svg" in page.text
        assert scripts_in(page.text) == [], page.request.url
        assert not re.search(r"\.m?js\b", page.text)  # no script's address anywhere in it


def test_a_moderator_gets_the_cookie_from_the_console_and_loses_it_with_the_seat(app, seeded):
    code = seeded["code"]
    browser = app.test_client()
    token = moderator_session(app, seeded)
    handed = browser.post(f"/e/{code}/report/access", data={"token": token})
    assert handed.status_code == 303 and handed.headers["Location"].endswith(f"/e/{code}/report")
    cookies = handed.headers.getlist("Set-Cookie")
    assert len(cookies) == 3 and all("HttpOnly" in c and "SameSite=Lax" in c for c in cookies)
    assert {re.search(r"Path=([^;]+)", c).group(1) for c in cookies} == {
        f"/e/{code}/report", f"/e/{code}/report.json", f"/e/{code}/report.csv"}  # fmt: skip
    assert browser.get(f"/e/{code}/report").status_code == 200
    assert browser.get(f"/e/{code}/report.json").json["headline"]["questions"] == 7
    assert browser.get(f"/e/{code}/report.csv").status_code == 200
    # the cookie is for this report only: not sent to the audience page, useless for the API
    assert browser.get_cookie("qa_report", path=f"/e/{code}") is None
    # another site cannot post a token into the browser
    foreign = browser.post(f"/e/{code}/report/access", data={"token": token},
                           headers={"Origin": "https://evil.example"})  # fmt: skip
    assert foreign.status_code == 403 and not foreign.headers.getlist("Set-Cookie")
    # the organiser revokes the seat: the cookie opens nothing any more, and is dropped
    with app.app_context():
        set_admin_password("organiser", PASSWORD)
        domain.revoke_seat(Actor("admin", seeded["event_id"], admin_id=1), seeded["seat"])
    assert browser.get(f"/e/{code}/report.json").json["error"]["details"] == {"reason": "seat"}
    refused = browser.get(f"/e/{code}/report")
    assert refused.status_code == 403 and "no longer opens this report" in refused.text
    assert "How do clusters" not in refused.text
    assert browser.get_cookie("qa_report", path=f"/e/{code}/report") is None  # dropped
    # a revoked seat's session cannot get a new cookie either
    again = app.test_client().post(f"/e/{code}/report/access", data={"token": token})
    assert again.status_code == 403
    assert not any(c.startswith("qa_report=ms.") for c in again.headers.getlist("Set-Cookie"))


def test_the_share_link_works_while_sharing_is_on(app, seeded, client):
    code = seeded["code"]
    admin, headers = organiser(app)
    share_api = f"/api/v1/events/{code}/report-share"
    assert client.put(share_api).status_code == 401  # not logged in
    assert admin.put(share_api).status_code == 403  # no CSRF token
    with app.app_context():
        key = moderator_session(app, seeded)
    assert client.put(share_api, headers={"Authorization": f"Bearer {key}"}).status_code == 403
    url = admin.put(share_api, headers=headers).json["url"]
    assert re.fullmatch(rf"http://localhost/e/{code}/report\?share=[\w-]{{32}}", url)
    with app.app_context():
        stored = db.session.get(Event, seeded["event_id"]).report_share_hash
    assert stored and url.split("share=")[1] not in stored  # the database does not hold the link
    path = url.removeprefix("http://localhost")
    page = client.get(path)
    assert page.status_code == 200 and "How do clusters grow global champions?" in page.text
    assert f"report.csv?share={url.split('share=')[1]}" in page.text  # the data keeps the access
    assert client.get(path.replace("report?", "report.json?")).json["headline"]["votes"] == 8
    assert admin.get(share_api).json == {"shared": True, "url": url}  # shown again, the same
    # a new link: the old one stops working
    newer = admin.put(share_api, headers=headers).json["url"]
    assert newer != url
    refused = client.get(path)
    assert refused.status_code == 403 and "no longer works" in refused.text
    assert "How do clusters" not in refused.text
    assert client.get(newer.removeprefix("http://localhost")).status_code == 200
    # off: no link works
    assert admin.delete(share_api, headers=headers).json == {"shared": False, "url": None}
    assert client.get(newer.removeprefix("http://localhost")).status_code == 403
    with app.app_context():
        logged = db.session.scalars(
            db.select(ModerationAction.detail).filter_by(action="report_share")
        ).all()
    assert logged == [{"on": True}, {"on": True}, {"on": False}]


# -- the exports -----------------------------------------------------------------------------------


def test_the_json_is_the_report(app, seeded):
    admin, _ = organiser(app)
    data = admin.get(f"/e/{seeded['code']}/report.json").json
    assert data["headline"]["questions"] == 7 and data["issues"][0]["votes"] == 7
    assert data["issues"][0]["top"][1]["text"].startswith("=HYPERLINK")  # as stored


def test_the_csv_is_flat_and_spreadsheet_safe(app, seeded):
    admin, _ = organiser(app)
    answer = admin.get(f"/e/{seeded['code']}/report.csv")
    assert answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
    headline = {r["metric"]: r["value"] for r in rows if r["section"] == "headline"}
    assert headline["questions"] == "7" and headline["answered_share"] == "0.6"
    issue1 = {
        r["metric"]: r["value"]
        for r in rows
        if r["section"] == "issue" and r["issue_position"] == "1"
    }
    assert (issue1["questions"], issue1["votes"], issue1["merged"]) == ("3", "7", "1")
    andrey = {
        r["metric"]: r["value"]
        for r in rows
        if r["section"] == "panelist" and r["panelist"] == "Andrey Antonov"
    }
    assert andrey["questions"] == "4"
    tops = [r for r in rows if r["section"] == "issue_top" and r["issue_position"] == "1"]
    assert [(r["rank"], r["value"]) for r in tops] == [("1", "4"), ("2", "3")]
    assert tops[1]["text"] == '\'=HYPERLINK("http://x") what is a champion?'  # not a formula
    minutes = [r for r in rows if r["section"] == "timeline" and r["metric"] == "votes_per_1_min"]
    assert sum(int(r["value"]) for r in minutes) == 8
    assert [r["at"] for r in rows if r["section"] == "issue_change"] == [
        "2017-01-12T16:00",
        "2017-01-12T16:35",
    ]
    owed = [r for r in rows if r["section"] == "unanswered"]
    assert [(r["rank"], r["value"], r["issue_position"]) for r in owed] == [
        ("1", "4", "1"),
        ("2", "0", "2"),
    ]
    assert not any(
        cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values() if cell
    )


def test_the_organisers_switch_shows_the_link_while_sharing_is_on(app, seeded):
    """templates/admin/_report_share.html, as the organiser's event page includes it."""
    from flask import render_template

    with app.test_request_context("/admin/"):
        event = db.session.get(Event, seeded["event_id"])
        off = render_template("admin/_report_share.html", event=event)
        assert "data-share-switch>" in off and 'value=""' in off
        assert "data-share-link hidden" in off
        domain.share_report(Actor("admin", event.id, admin_id=1))
        on = render_template("admin/_report_share.html", event=db.session.get(Event, event.id))
    assert "data-share-switch checked>" in on and "data-share-link hidden" not in on
    assert re.search(rf'value="http://localhost/e/{seeded["code"]}/report\?share=[\w-]{{32}}"', on)
    assert "js/report-share.js" in on


def test_the_organisers_console_opens_the_report_without_a_token(app, seeded):
    admin, _ = organiser(app)
    code = seeded["code"]
    handed = admin.post(f"/e/{code}/report/access", data={"token": ""})
    assert handed.status_code == 303 and not handed.headers.getlist("Set-Cookie")
    assert app.test_client().post(f"/e/{code}/report/access").status_code == 401  # nobody
    moved = admin.get(f"/e/{code.lower()}/report?lang=ru")  # the code as typed
    assert moved.status_code == 302 and moved.headers["Location"] == f"/e/{code}/report?lang=ru"
    data = admin.get(f"/e/{code.lower()}/report.json")  # the data's address too
    assert data.status_code == 302 and data.headers["Location"] == f"/e/{code}/report.json"
    assert admin.get(f"/e/{code}/report.xml").status_code == 404
