"""The room live: two phones, the moderator and the screen, in four browser contexts at once."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from .conftest import EVENT, LAPTOP, PHONE, PROJECTOR, Api, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

NO_SCROLL = (
    "document.documentElement.scrollHeight <= innerHeight"
    " && document.documentElement.scrollWidth <= innerWidth"
)
QUESTION = "How do clusters attract talent from abroad when salaries at home are lower?"


def card(page, text: str):
    """The question card (phone, console or screen list item) that shows text."""
    return page.locator("li", has_text=text)


def test_four_screens_follow_one_question(events, new_context):
    """Ask under pre-moderation, approve, vote, put on screen, change issue: every page follows."""
    event = events.create(settings={"pre_moderation": True})
    urls = event["urls"]
    moderator = new_context(**LAPTOP).new_page()
    moderator.goto(urls["moderator"])
    screen = new_context(**PROJECTOR).new_page()
    screen.goto(urls["screen"])
    asker = new_context(**PHONE).new_page()
    asker.goto(urls["audience"])
    voter = new_context(**PHONE).new_page()
    voter.goto(urls["audience"])
    for page in (moderator, screen, asker, voter):
        expect(page.locator("#conn")).to_have_text("Live")
    expect(moderator).not_to_have_url(re.compile("key="))
    expect(asker.get_by_role("tab", selected=True)).to_contain_text("Now")
    expect(asker.locator("#issue-title")).to_contain_text(EVENT["issues"][0])

    asker.get_by_label("Your question").fill(QUESTION)
    expect(asker.locator("#counter")).to_have_text(f"{len(QUESTION)} / 300")
    asker.get_by_label("Your name").fill("Maria")
    asker.get_by_label("Addressed to").select_option(label="Artem Zdunov")
    asker.get_by_role("button", name="Send").click()
    mine = card(asker, QUESTION)
    expect(mine).to_contain_text("Yours")
    expect(mine).to_contain_text("Awaiting review")
    expect(asker.locator("#ask-msg")).to_have_text(
        "Your question was sent; it will appear after review."
    )
    expect(card(voter, QUESTION)).to_have_count(0)

    row = card(moderator, QUESTION)
    expect(row).to_contain_text("Maria")
    expect(row).to_contain_text("Artem Zdunov")
    expect(moderator.get_by_role("button", name=re.compile(r"^Pending \(1\)"))).to_be_visible()
    screenshot(moderator, "moderator-1440x900")
    row.get_by_role("button", name="Approve").click()

    seen = card(voter, QUESTION)
    expect(seen).to_contain_text("Maria")
    expect(seen).not_to_contain_text("Yours")
    expect(mine).not_to_contain_text("Awaiting review")
    seen.get_by_role("button", name=re.compile("Upvote")).click()
    expect(seen.get_by_role("button", name=re.compile("Upvote"))).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(seen.locator(".count")).to_have_text("1")
    expect(mine.locator(".count")).to_have_text("1")
    expect(card(screen, QUESTION).locator(".n")).to_contain_text("1")
    moderator.get_by_role("button", name=re.compile(r"^Live")).click()
    expect(card(moderator, QUESTION).locator(".votes")).to_contain_text("1")

    card(moderator, QUESTION).get_by_role("button", name="On screen").click()
    expect(screen.locator("#quote")).to_have_text(QUESTION)
    expect(screen.locator("#by")).to_contain_text("Maria")
    expect(screen.locator("#by")).to_contain_text("Artem Zdunov")
    expect(seen).to_contain_text("On screen")
    expect(moderator.locator("#onscreen")).to_have_text(QUESTION)
    screenshot(voter, "audience-390x844")
    screenshot(screen, "screen-1920x1080")
    assert screen.evaluate(NO_SCROLL)
    screen.set_viewport_size({"width": 1280, "height": 720})
    expect(screen.locator("#quote")).to_have_text(QUESTION)
    screenshot(screen, "screen-1280x720")
    assert screen.evaluate(NO_SCROLL)

    moderator.locator(".issue-item", has_text=EVENT["issues"][2]).get_by_role(
        "button", name="Make current"
    ).click()
    for phone in (asker, voter):
        expect(phone.locator("#issue-title")).to_contain_text(EVENT["issues"][2])
        expect(phone.get_by_role("tab", selected=True)).to_contain_text("3")
        expect(phone.get_by_role("tab", selected=True)).to_contain_text("Now")
    expect(screen.locator("#issue")).to_contain_text(EVENT["issues"][2])
    expect(moderator.locator(".issue-item.current")).to_contain_text(EVENT["issues"][2])


def test_a_long_question_scales_down_to_fit_the_screen(events, new_context, server):
    """A question at the length limit shrinks to fit the stage at 1280x720; nothing scrolls."""
    event = events.create()
    api = Api(server, event)
    text = ("Could the panel explain, with one concrete example from each region, " * 5)[:300]
    question = api.ask(api.participant(), api.state()["issues"][0]["id"], text)
    requests.put(
        f"{api.base}/events/{api.code}/screen",
        json={"question_id": question["id"]},
        headers={"Authorization": f"Bearer {api.key}"},
        timeout=10,
    ).raise_for_status()
    screen = new_context(viewport={"width": 1280, "height": 720}).new_page()
    screen.goto(event["urls"]["screen"])
    expect(screen.locator("#quote")).to_have_text(text.strip())
    assert screen.evaluate(NO_SCROLL)
    assert screen.evaluate(
        "(() => { const q = document.getElementById('quote');"
        " const s = document.getElementById('stage').getBoundingClientRect();"
        " const b = document.getElementById('by').getBoundingClientRect();"
        " return q.scrollHeight <= q.clientHeight + 1 && b.bottom <= s.bottom; })()"
    )
    screenshot(screen, "screen-long-question-1280x720")
