"""Phones on bad Wi-Fi: what is asked and voted offline waits on the device and is sent once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

THEIRS = "Will the ministry fund cluster brands abroad?"
OFFLINE = "Asked in the basement without Wi-Fi: who pays for the export office?"


def test_outbox_survives_a_reload_and_sends_once(events, new_context):
    """Offline: ask and vote, reload (the page comes from the service worker); online: sent once."""
    event, api, theirs = events.with_a_question(THEIRS)

    context = new_context(**PHONE)
    page = context.new_page()
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_text("Live")
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "true")
    expect(page.locator("li", has_text=THEIRS)).to_be_visible()

    context.set_offline(True)
    expect(page.locator("#conn")).to_have_text("Offline")
    page.get_by_label("Your question").fill(OFFLINE)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#ask-msg")).to_have_text(
        "You are offline: your question will be sent when the connection returns."
    )
    queued = page.locator("li", has_text=OFFLINE)
    expect(queued).to_contain_text("Waiting to send")
    vote = page.locator("li", has_text=THEIRS).get_by_role("button", name=re.compile("Upvote"))
    vote.click()
    expect(vote).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#outbox")).to_have_text("2 messages waiting to send")

    page.reload()  # still offline: the service worker serves the page from its cache
    expect(page.locator("#conn")).to_have_text("Offline")
    expect(page.locator("#outbox")).to_have_text("2 messages waiting to send")
    expect(page.locator("li", has_text=OFFLINE)).to_contain_text("Waiting to send")
    expect(vote).to_have_attribute("aria-pressed", "true")
    screenshot(page, "audience-offline-390x844")

    context.set_offline(False)
    expect(page.locator("#conn")).to_have_text("Live")
    expect(page.locator("#outbox")).to_be_hidden()
    sent = page.locator("li", has_text=OFFLINE)
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("Yours")
    expect(sent).not_to_contain_text("Waiting to send")
    expect(page.locator("li", has_text=THEIRS).locator(".count")).to_have_text("1")

    page.reload()  # a second resend (or a stale outbox) must not duplicate anything
    expect(page.locator("#conn")).to_have_text("Live")
    expect(page.locator("li", has_text=OFFLINE)).to_have_count(1)
    questions = api.state()["questions"]
    assert [q["text"] for q in questions].count(OFFLINE) == 1
    assert next(q for q in questions if q["id"] == theirs["id"])["votes"] == 1
