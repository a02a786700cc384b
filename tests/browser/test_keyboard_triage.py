"""The moderator triages questions with the keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import EVENT, LAPTOP, Api

pytestmark = [pytest.mark.browser, pytest.mark.live]

FIRST = "What made the Tomsk cluster succeed abroad?"
SECOND = "Buy my product at example.com"
THIRD = "How do clustrs keep young engineers?"
FIXED = "How do clusters keep young engineers?"


def test_whole_triage_without_the_mouse(events, new_context):
    """j/k move, a approves, d dismisses, e edits, 2 moves, s twice shows, v views, x answers."""
    event = events.create(settings={"pre_moderation": True})
    api = Api(events.server, event)
    issues = api.state()["issues"]
    token = api.participant()
    for text in (FIRST, SECOND, THIRD):
        api.ask(token, issues[0]["id"], text)

    page = new_context(**LAPTOP).new_page()
    page.goto(event["urls"]["moderator"])
    selected = page.locator("#queue li[aria-current=true]")
    expect(page.locator("#queue li")).to_have_count(3)
    expect(selected).to_contain_text(FIRST)
    page.keyboard.press("j")
    expect(selected).to_contain_text(SECOND)
    page.keyboard.press("k")
    expect(selected).to_contain_text(FIRST)
    expect(selected).to_be_focused()

    page.keyboard.press("a")
    expect(page.locator("#queue li")).to_have_count(2)
    expect(selected).to_contain_text(SECOND)
    page.keyboard.press("d")
    expect(page.locator("#queue li")).to_have_count(1)
    expect(selected).to_contain_text(THIRD)

    page.keyboard.press("e")
    editor = selected.get_by_role("textbox")
    expect(editor).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type(FIXED)
    page.keyboard.press("Enter")
    expect(selected).to_contain_text(FIXED)
    page.keyboard.press("2")
    expect(page.locator("#toast-text")).to_have_text("Moved to issue 2 · Undo (z)")
    expect(page.locator("#queue li")).to_have_count(0)  # the view is the current issue, 1
    page.keyboard.press("Shift+Digit2")
    expect(selected).to_contain_text(FIXED)
    page.keyboard.press("s")  # a pending question goes on screen at the second press
    expect(page.locator("#toast-text")).to_have_text("Press again to show a pending question")
    page.keyboard.press("s")
    expect(page.locator("#onscreen")).to_have_text(FIXED)

    page.keyboard.press("Shift+Digit0")  # all issues
    page.keyboard.press("v")
    expect(page.get_by_role("button", name=re.compile(r"^Live"))).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#queue li")).to_have_count(2)
    expect(page.locator("#queue li", has_text=FIXED)).to_contain_text("Issue 2")
    page.keyboard.press("k")
    expect(selected).to_contain_text(FIRST)
    page.keyboard.press("x")
    expect(page.locator("#queue li")).to_have_count(1)

    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_contain_text("Keyboard shortcuts")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()

    state = {q["text"]: q for q in api.state()["questions"]}
    assert state[FIRST]["status"] == "answered"
    assert state[SECOND]["status"] == "dismissed"
    assert state[FIXED]["status"] == "live"
    assert state[FIXED]["issue_id"] == issues[1]["id"]
    assert api.state()["event"]["on_screen_question_id"] == state[FIXED]["id"]
    assert EVENT["issues"][1] == issues[1]["title"]
