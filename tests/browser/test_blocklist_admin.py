"""The blocklist in the browser: the organiser edits it in /admin, a phone asks a question that
matches (written with look-alike letters) and the screen never shows it; a clean one it does."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import LAPTOP, PHONE, PROJECTOR, Api

pytestmark = [pytest.mark.browser, pytest.mark.live]

BLOCKED = "Ну и хуйня эта ваша стратегия"  # typed below with a Latin "X" and "y"
DISGUISED = BLOCKED.replace("хуйня", "Xyйня")
CLEAN = "What does the strategy cost the regions?"


def test_a_blocklisted_question_is_held_and_never_reaches_the_screen(events, server, new_context):
    event = events.create()
    events.server.cli("create-admin", "organiser", "--password", "correct horse")
    organiser = new_context(**LAPTOP).new_page()
    organiser.goto(server.url + "/admin/login")
    organiser.locator("#name").fill("organiser")
    organiser.locator("#password").fill("correct horse")
    organiser.locator("button[type=submit]").click()
    expect(organiser.locator(f'.event-item[data-event="{event["code"]}"]')).to_be_visible()
    organiser.goto(f"{server.url}/admin/events/{event['code']}")  # the event's own page
    row = organiser.locator(f'.event-row[data-code="{event["code"]}"]')
    expect(row).to_be_visible()
    organiser.wait_for_load_state()  # the page's module has run: its forms are wired
    editor = row.locator("form[data-blocklist]")
    editor.get_by_label("Blocklist").fill("  buy now \ncrypto*\nbuy now")
    editor.get_by_label("Built-in Russian list").check()
    editor.get_by_role("button", name="Save blocklist").click()
    expect(editor.locator(".msg")).to_have_text("Saved")
    expect(editor.get_by_label("Blocklist")).to_have_value("buy now\ncrypto*")  # as stored

    screen = new_context(**PROJECTOR).new_page()
    screen.goto(event["urls"]["screen"])
    phone = new_context(**PHONE).new_page()
    phone.goto(event["urls"]["audience"])
    for page in (screen, phone):
        expect(page.locator("#conn")).to_have_text("Live")

    for text in (DISGUISED, CLEAN):
        phone.get_by_label("Your question").fill(text)
        phone.get_by_role("button", name="Send").click()
        expect(phone.locator("li", has_text=text)).to_contain_text("Yours")
    expect(phone.locator("li", has_text=DISGUISED)).to_contain_text("Awaiting review")
    expect(screen.locator("li", has_text=CLEAN)).to_be_visible()
    expect(screen.locator("body")).not_to_contain_text(DISGUISED)

    held = [q for q in Api(server, event).state()["questions"] if q["text"] == DISGUISED]
    assert [(q["status"], q["held_reason"]) for q in held] == [("pending", 'Blocklist: "хуй*"')]
