"""The phone's outbox sends again by itself what the server could not take yet, and gives up on
what will never succeed, telling the person."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.test_sqlite_lock import hold_write_lock

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.live]

THEIRS = "Which clusters already export?"
MINE = "Asked while the database was locked: who pays?"


def test_a_vote_and_a_question_made_during_a_lock_arrive_once_it_is_released(
    events, new_context, server
):
    """The server answers `busy` while another process holds SQLite's lock; the phone keeps both
    in its outbox and sends them again by itself until they are saved."""
    event, api, theirs = events.with_a_question(THEIRS)
    page = new_context(**PHONE).new_page()
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_text("Live")
    vote = page.locator("li", has_text=THEIRS).get_by_role("button", name=re.compile("Upvote"))

    holder = hold_write_lock(server.env["DATABASE_URL"].removeprefix("sqlite:///"), 12)
    vote.click()
    page.get_by_label("Your question").fill(MINE)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#outbox")).to_have_text("2 messages waiting to send")
    expect(vote).to_have_attribute("aria-pressed", "true")
    holder.wait(timeout=30)

    # nobody touches the phone: its outbox empties by itself
    expect(page.locator("#outbox")).to_be_hidden(timeout=30_000)
    expect(page.locator("li", has_text=MINE)).to_contain_text("Yours")
    expect(page.locator("li", has_text=THEIRS).locator(".count")).to_have_text("1")
    questions = api.state()["questions"]
    assert [q["text"] for q in questions].count(MINE) == 1
    assert next(q for q in questions if q["id"] == theirs["id"])["votes"] == 1


def answer_votes_with_internal(page) -> list[str]:
    """Let the page talk to the real server, but answer each `vote` with `internal` as a bug
    would; return the votes the page sent."""
    sent: list[str] = []

    def route(ws):
        server = ws.connect_to_server()

        def from_page(message):
            vote = re.match(r'42(\d+)\["vote",', message) if isinstance(message, str) else None
            if vote is None:
                server.send(message)
                return
            sent.append(message)
            error = {"code": "internal", "message": "Something went wrong on the server."}
            ws.send(f"43{vote.group(1)}" + json.dumps([{"ok": False, "error": error}]))

        ws.on_message(from_page)

    page.route_web_socket(re.compile(r"/socket\.io/"), route)
    return sent


@pytest.mark.parametrize(
    ("locale", "told"),
    [
        ("en-GB", "The server could not save this; try again later."),
        ("ru-RU", "Сервер не смог это сохранить; попробуйте позже."),
    ],
)
def test_a_vote_that_keeps_failing_is_given_up_and_the_person_told(
    events, new_context, locale, told
):
    event, api, _ = events.with_a_question(THEIRS)
    page = new_context(**PHONE, locale=locale).new_page()
    sent = answer_votes_with_internal(page)
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    vote = page.locator("li", has_text=THEIRS).locator("button.vote")
    expect(vote).to_be_visible()
    vote.click()

    expect(page.locator("#ask-msg")).to_have_text(told, timeout=20_000)
    expect(vote).to_have_attribute("aria-pressed", "false")  # the vote is taken back on screen
    expect(page.locator("#outbox")).to_be_hidden()
    page.wait_for_timeout(3_000)  # and it is not sent again
    assert len(sent) == 3
    assert api.state()["questions"][0]["votes"] == 0


def count_votes_sent(page) -> list[str]:
    """Record every `vote` the page sends on its sockets (nothing is changed on the way)."""
    sent: list[str] = []

    def watch(ws):
        def frame(payload):
            if isinstance(payload, str) and re.match(r'42\d*\["vote",', payload):
                sent.append(payload)

        ws.on("framesent", frame)

    page.on("websocket", watch)
    return sent


@pytest.mark.parametrize(
    ("refusal", "told"),
    [
        ("closed", "Voting is closed for this event."),
        ("not_found", "This question no longer exists."),
    ],
)
def test_a_vote_that_can_never_succeed_is_given_up_at_once(events, new_context, refusal, told):
    """A vote made offline reaches the server after voting was closed (`closed`) or after the
    question was taken away (`not_found`: dismissed, gone from every phone): the phone sends it
    once, drops it from the outbox at once, says why, and never sends it again."""
    event, api, theirs = events.with_a_question(THEIRS)
    context = new_context(**PHONE)
    page = context.new_page()
    sent = count_votes_sent(page)
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_text("Live")
    card = page.locator("li", has_text=THEIRS)
    vote = card.get_by_role("button", name=re.compile("Upvote"))

    context.set_offline(True)
    expect(page.locator("#conn")).to_have_text("Offline")
    vote.click()
    expect(page.locator("#outbox")).to_have_text("1 message waiting to send")
    if refusal == "closed":
        api.settings(voting_open=False)
    else:
        api.moderate(theirs["id"], status="dismissed")
    assert sent == []

    context.set_offline(False)
    expect(page.locator("#ask-msg")).to_have_text(told)
    expect(page.locator("#ask-msg")).to_have_class(re.compile(r"\berror\b"))
    expect(page.locator("#outbox")).to_be_hidden()
    if refusal == "closed":  # the vote is taken back on screen
        expect(vote).to_have_attribute("aria-pressed", "false")
        expect(card.locator(".count")).to_have_text("0")
    else:  # the question is gone from the phone
        expect(card).to_have_count(0)
    page.wait_for_timeout(3_000)  # a retry would come within 1.5 s
    assert len(sent) == 1
    assert page.evaluate(f"() => localStorage.getItem('qa:outbox:{event['code']}')") == "[]"
    question = next(q for q in api.state()["questions"] if q["id"] == theirs["id"])
    assert question["votes"] == 0
