"""The report in a real browser: a moderator opens it from the console, a panelist reads it
with the share link on a phone (360×740) in English and in Russian (the counts in the language's
plural forms; no script loaded), and it prints to an A4 PDF with Chromium. Screenshots and the
PDF go to test-artifacts/screenshots/ (report-en-phone.png, report-ru-phone.png,
report-en-print.png, report-ru-print.png, report-en.pdf, report-ru.pdf)."""

from __future__ import annotations

import re
import sqlite3
import zlib
from datetime import UTC, datetime, timedelta

import pytest
import requests
from babel import Locale
from playwright.sync_api import expect

from .conftest import LAPTOP, SCREENSHOTS, Api
from .test_quality import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.live]

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
PASSWORD = "correct horse"
START = datetime(2017, 1, 12, 15, 30)  # the programme's start (conftest.EVENT), venue time
TOPICS = [
    "How do we grow global champions from regional clusters?",
    "Which cluster is ready to export first, and why that one?",
    "What keeps engineers in a cluster town after five years?",
    "Who pays when a cluster project fails?",
    "Should the state fund clusters or the firms in them?",
    "How do universities share labs with the cluster's firms?",
    "What does a cluster manager measure every month?",
    "How to bring banks into the cluster's board?",
    "Can small firms afford the cluster's membership fee?",
    "Which support measure worked best in Tatarstan?",
    "How long until a cluster pays for itself?",
    "How do you stop the biggest firm from running the cluster?",
]


def utc(minutes: float) -> str:
    """The stored (naive UTC) text of START + minutes, START being the server's local time."""
    moment = (START + timedelta(minutes=minutes)).astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ")


def spread_over_the_session(database: str) -> None:
    """The API did everything within seconds; move it over the two hours of the programme, as
    a real session would have it (the report reads the database, so it sees these times)."""
    with sqlite3.connect(database, timeout=10) as db:
        ids = [row[0] for row in db.execute("SELECT id FROM questions ORDER BY id")]
        for index, question in enumerate(ids):
            asked = 3 + index * 9.5
            db.execute("UPDATE questions SET created_at = ? WHERE id = ?", (utc(asked), question))
            votes = db.execute(
                "SELECT participant_id FROM votes WHERE question_id = ? ORDER BY participant_id",
                (question,),
            ).fetchall()
            for step, (voter,) in enumerate(votes):
                db.execute(
                    "UPDATE votes SET created_at = ? WHERE question_id = ? AND participant_id = ?",
                    (utc(asked + 1 + step * 0.4), question, voter),
                )
        moments = {"set_issue": iter([24, 48, 72, 96]), "show": iter([16, 40, 61, 88])}
        for action_id, action in db.execute(
            "SELECT id, action FROM moderation_actions ORDER BY id"
        ).fetchall():
            minute = next(moments[action], None) if action in moments else 0
            db.execute(
                "UPDATE moderation_actions SET at = ? WHERE id = ?", (utc(minute or 0), action_id)
            )


@pytest.fixture(scope="module")
def session(events, server):
    """A session that happened: 8 phones, 12 questions over the five issues, votes, answers,
    a merge, a dismissal, four issue changes and four questions on screen."""
    event = events.create()
    api = Api(server, event)
    state = api.state()
    issues = [issue["id"] for issue in state["issues"]]
    panelists = [s["id"] for s in state["speakers"] if s["role"] == "panelist"]
    phones = [api.participant() for _ in range(8)]
    asked = []
    for index, text in enumerate(TOPICS):
        to = panelists[index % 4] if index % 4 < len(panelists) else None
        body = {"addressed_to": to} if to else {}
        asked.append(
            api.ask(phones[index % 8], issues[index * 5 // len(TOPICS)], text, **body)["id"]
        )
    for index, question in enumerate(asked):
        for voter, token in enumerate(phones):
            if (voter + index) % 3 and (voter * index) % 5 != 1:
                api.call("PUT", f"/questions/{question}/vote", token)
    for question in asked[1::3]:
        api.moderate(question, status="answered")
    api.moderate(asked[3], status="dismissed")
    api.call("POST", f"/questions/{asked[5]}/merge", body={"into": asked[4]})
    shown = [asked[0], asked[2], asked[6], asked[9]]
    for number, issue in enumerate(issues[1:]):
        api.call("PUT", f"/events/{event['code']}/screen", body={"question_id": shown[number]})
        api.call("PUT", f"/events/{event['code']}/current-issue", body={"issue_id": issue})
    spread_over_the_session(server.env["DATABASE_URL"].removeprefix("sqlite:///"))
    # the organiser shares the report with the panelists
    server.cli("create-admin", "organiser", "--password", PASSWORD)
    organiser = requests.Session()
    form = organiser.get(f"{server.url}/admin/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    login = {"name": "organiser", "password": PASSWORD, "csrf_token": token}
    organiser.post(f"{server.url}/admin/login", data=login, timeout=10)
    csrf = re.search(r'data-csrf="([^"]+)"', organiser.get(f"{server.url}/admin/", timeout=10).text)
    shared = organiser.put(f"{server.url}/api/v1/events/{event['code']}/report-share", timeout=10,
                           headers={"X-CSRFToken": csrf.group(1)})  # fmt: skip
    assert shared.status_code == 200, shared.text
    numbers = organiser.get(f"{server.url}/e/{event['code']}/report.json", timeout=10).json()
    return {"event": event, "share": shared.json()["url"], "numbers": numbers}


def watch(page) -> list[str]:
    """Collect the page's console errors (a CSP refusal shows there)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return errors


def test_the_console_s_report_button_opens_the_report(session, new_context):
    """A moderator presses Report in the console: the report opens in a new tab."""
    context = new_context(**LAPTOP)
    console = context.new_page()
    console.goto(session["event"]["urls"]["moderator"])
    expect(console.locator("#conn")).to_have_text(re.compile("Live|В эфире"))
    with context.expect_page() as opened:
        console.locator("#report-form button").click()
    report = opened.value
    report.wait_for_load_state()
    expect(report).to_have_url(re.compile(rf"/e/{session['event']['code']}/report$"))
    expect(report.locator("h1")).to_have_text(session["numbers"]["event"]["title"])
    cookies = {c["path"]: c for c in context.cookies() if c["name"] == "qa_report"}
    assert set(cookies) == {
        f"/e/{session['event']['code']}/report{end}" for end in ("", ".json", ".csv")
    }
    assert all(c["httpOnly"] for c in cookies.values())


def count_word(lang: str, n: int, words: dict[str, str]) -> str:
    """The word the language's plural rules (CLDR, as Babel has them) give n."""
    return words[Locale(lang).plural_form(n)]


PARTICIPANTS = {
    "en": {"one": "participant", "other": "participants"},
    "ru": {"one": "участник", "few": "участника", "many": "участников", "other": "участника"},
}
QUESTIONS = {
    "en": {"one": "question", "other": "questions"},
    "ru": {"one": "вопрос", "few": "вопроса", "many": "вопросов", "other": "вопроса"},
}
VOTES = {
    "en": {"one": "vote", "other": "votes"},
    "ru": {"one": "голос", "few": "голоса", "many": "голосов", "other": "голоса"},
}
HEADINGS = {
    "en": ["At a glance", "Over time", "By issue", "By panelist", "Still unanswered"],
    "ru": ["Главное", "По времени", "По темам", "По спикерам", "Остались без ответа"],
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_panelist_reads_it_on_a_phone(session, new_context, lang):
    page = new_context(**PHONE).new_page()
    errors = watch(page)
    fetched = []
    page.on("request", lambda request: fetched.append(request))
    page.goto(f"{session['share']}&lang={lang}")
    head = session["numbers"]["headline"]
    expect(page.locator("main h2")).to_have_text(HEADINGS[lang] + [re.compile(".")])
    page.wait_for_load_state("networkidle")
    # no chart framework, no script at all: the charts are SVG drawn on the server
    assert [r.url for r in fetched if r.resource_type == "script"] == []
    assert page.locator("script").count() == 0
    cards = page.locator(".numbers .number")
    for index, (n, words) in enumerate(
        [
            (head["participants"], PARTICIPANTS),
            (head["questions"], QUESTIONS),
            (head["votes"], VOTES),
        ]
    ):
        card = cards.nth([0, 2, 3][index])
        expect(card.locator(".n")).to_have_text(str(n))
        expect(card.locator(".what")).to_have_text(count_word(lang, n, words[lang]))
    first_top = session["numbers"]["issues"][0]["top"][0]
    expect(page.locator(".by-issue .rq-text").first).to_have_text(first_top["text"])
    # readable on a 360 px phone: nothing wider than the screen, the charts scaled down to it
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide on a 360 px phone"
    for chart in page.locator("svg.chart").all():
        box = chart.bounding_box()
        assert box and 300 <= box["width"] <= 360
    # the charts say what they show, in words
    expect(page.locator(".over-time svg title").first).to_have_text(
        re.compile(
            "Questions and votes per minute" if lang == "en" else "Вопросы и голоса в минуту"
        )
    )
    screenshot_full(page, f"report-{lang}-phone")
    assert not errors, errors
    assert not serious_violations(page)  # axe-core: nothing serious or critical


def screenshot_full(page, name: str) -> None:
    """The whole report, top to bottom."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function("() => document.getAnimations().length === 0")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def pdf_pages(data: bytes) -> int:
    """The number of pages of a PDF (its page objects), with no PDF library."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def pdf_texts(data: bytes) -> str:
    """The text strings of a PDF's outline and document info (the bookmarks Chromium makes of the
    headings), decoded; compressed object streams are opened too."""
    chunks = [data]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            chunks.append(zlib.decompress(stream))
        except zlib.error:
            continue
    found = []
    for chunk in chunks:
        for hexa in re.findall(rb"<FEFF([0-9A-Fa-f]+)>", chunk):
            found.append(bytes.fromhex(hexa.decode()).decode("utf-16-be", "replace"))
        for literal in re.findall(rb"/Title\s*\((.*?)\)", chunk, re.S):
            found.append(literal.decode("latin-1"))
    return "\n".join(found)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_it_prints_to_a_clean_a4_pdf(session, new_context, lang):
    page = new_context(viewport={"width": 794, "height": 1123}).new_page()
    page.goto(f"{session['share']}&lang={lang}")
    page.emulate_media(media="print")
    expect(page.locator(".report-bar")).to_be_hidden()  # no navigation on paper
    screenshot_full(page, f"report-{lang}-print")
    pdf = page.pdf(format="A4", print_background=True, outline=True, tagged=True)
    (SCREENSHOTS / f"report-{lang}.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-")
    pages = pdf_pages(pdf)
    assert 2 <= pages <= 8, f"{pages} pages"
    size = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert size and abs(float(size.group(1)) - 595.9) < 2 and abs(float(size.group(2)) - 842) < 2
    text = pdf_texts(pdf)
    for heading in HEADINGS[lang] + [session["numbers"]["event"]["title"]]:
        assert heading in text, f"{heading!r} not among the PDF's headings: {text[:500]!r}"


def test_the_organiser_turns_sharing_on_and_off_in_admin(session, server, new_context):
    """The switch on the event's page in /admin."""
    page = new_context(**LAPTOP).new_page()
    page.goto(f"{server.url}/admin/login?lang=en")
    page.locator("#name").fill("organiser")
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{server.url}/admin/events/{session['event']['code']}")
    page.wait_for_load_state()
    box = page.locator(f'[data-report-share="{session["event"]["code"]}"]')
    switch = box.get_by_role("switch", name="Share the report with panelists")
    link = box.locator(".link input")
    expect(switch).to_be_checked()  # the session's fixture shared it
    expect(link).to_have_value(session["share"])
    box.get_by_role("button", name="New link").click()
    expect(link).not_to_have_value(session["share"])
    newer = link.input_value()
    assert requests.get(session["share"], timeout=10).status_code == 403
    assert requests.get(newer, timeout=10).status_code == 200
    switch.click()
    expect(switch).not_to_be_checked()
    expect(link).to_be_hidden()
    assert requests.get(newer, timeout=10).status_code == 403
    switch.click()  # on again, for the other tests: a new link
    expect(link).to_be_visible()
    session["share"] = link.input_value()
