"""The phone's "already asked" hint: typing a question like a live one offers its upvote instead."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, Api, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]


# the phone's outbox has sent everything (the vote has reached the server)
OUTBOX_EMPTY = (
    "() => !Object.keys(localStorage)"
    ".some((k) => k.startsWith('qa:outbox:') && localStorage.getItem(k) !== '[]')"
)


def scene(events, server, text: str) -> tuple[dict, Api, int]:
    """An event where another participant already asked text (live at once)."""
    event = events.create()
    api = Api(server, event)
    issue = api.state()["issues"][0]["id"]
    asked = api.ask(api.participant(), issue, text)
    assert asked["status"] == "live"
    return event, api, asked["id"]


def votes_of(api: Api, question_id: int) -> int:
    return next(q["votes"] for q in api.state()["questions"] if q["id"] == question_id)


def test_typing_a_question_already_asked_offers_its_upvote(events, new_context, server):
    event, api, asked = scene(events, server, "How will AI affect jobs in Russian clusters?")
    page = new_context(**PHONE).new_page()
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_text("Live")
    hint = page.locator("#similar")
    box = page.get_by_label("Your question")
    box.press_sequentially("how will ai", delay=20)  # two content words: too few to ask
    page.wait_for_timeout(600)
    expect(hint).to_be_hidden()
    box.press_sequentially(" affect the jobs in russian", delay=20)
    expect(hint).to_be_visible()
    expect(hint.get_by_role("heading")).to_have_text("Already asked — upvote instead?")
    offered = hint.locator("li", has_text="How will AI affect jobs in Russian clusters?")
    expect(offered).to_have_count(1)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()  # never blocks sending
    screenshot(page, "audience-similar-hint-390x844")
    offered.get_by_role("button", name=re.compile("Upvote")).click()
    expect(offered.locator(".vote")).to_have_attribute("aria-pressed", "true")
    expect(offered.locator(".count")).to_have_text("1")
    expect(page.locator("#questions li").first.locator(".count")).to_have_text("1")
    page.wait_for_function(OUTBOX_EMPTY)
    assert votes_of(api, asked) == 1
    box.fill("")
    expect(hint).to_be_hidden()
    assert len(api.state()["questions"]) == 1  # nothing was asked twice


def test_a_russian_paraphrase_finds_the_russian_question(events, new_context, server):
    event, api, asked = scene(events, server, "Как ИИ повлияет на рабочие места в кластерах?")
    page = new_context(**PHONE, locale="ru-RU").new_page()
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_text("В эфире")
    box = page.get_by_label("Ваш вопрос")
    box.press_sequentially("как повлияет ИИ на рабочие места в кластере", delay=10)
    hint = page.locator("#similar")
    expect(hint.get_by_role("heading")).to_have_text(
        "Такой вопрос уже задан — может, проголосовать за него?"
    )
    offered = hint.locator("li", has_text="Как ИИ повлияет на рабочие места в кластерах?")
    offered.get_by_role("button", name=re.compile("Поддержать")).click()
    expect(offered.locator(".count")).to_have_text("1")
    page.wait_for_function(OUTBOX_EMPTY)
    box.press_sequentially(" в Европе и в Азии?", delay=10)  # now another question: no hint
    expect(hint).to_be_hidden()
    page.get_by_role("button", name="Отправить").click()
    expect(hint).to_be_hidden()
    expect(page.locator("#questions li")).to_have_count(2)
    assert votes_of(api, asked) == 1
