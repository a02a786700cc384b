"""Several moderators in real browsers: the organiser adds a second seat in /admin, two consoles
see each other and each other's actions live, the organiser revokes one seat (its console is
cut off, the other goes on) and opens the console from /admin without a key."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import LAPTOP, Api

pytestmark = [pytest.mark.browser, pytest.mark.live]

LOST = (
    "This moderator link is no longer valid: it was replaced or revoked, or it was copied wrong. "
    "Ask the organiser for a new link."
)
FIRST, SECOND = "Which clusters are ready to go international?", "Who pays for the clusters?"


@pytest.fixture(scope="module")
def scene(events):
    """A pre-moderated event (first seat: "Moderator"), two pending questions; an organiser."""
    event = events.create(settings={"pre_moderation": True})
    api = Api(events.server, event)
    issue = api.state()["issues"][0]["id"]
    token = api.participant()
    for text in (FIRST, SECOND):
        api.ask(token, issue, text)
    events.server.cli("create-admin", "organiser", "--password", "correct horse")
    return event, api


def log_in(page, server, code: str) -> None:
    """Log in at /admin, then open the event's own page from the list."""
    page.goto(server.url + "/admin/login")
    page.locator("#name").fill("organiser")
    page.locator("#password").fill("correct horse")
    page.locator("button[type=submit]").click()
    page.locator(f'.event-item[data-event="{code}"] h2 a').click()
    expect(page.locator(".event-row").first).to_be_visible()
    page.wait_for_load_state()  # admin.js (a module: run before DOMContentLoaded) is listening


def approve(console, text: str) -> None:
    row = console.locator("#queue li", has_text=text)
    row.locator(".q-text").click()  # select the row (not one of its buttons), then the key
    expect(row).to_have_attribute("aria-current", "true")
    console.keyboard.press("a")


def test_two_seats_work_side_by_side_and_one_is_revoked(scene, server, new_context):
    event, _api = scene
    admin = new_context(**LAPTOP).new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    log_in(admin, server, event["code"])
    card = admin.locator(f'[data-code="{event["code"]}"]')
    expect(card.locator(".seat-name")).to_have_text(["Moderator"])
    card.get_by_label("Add a moderator").fill("Anna")
    card.get_by_role("button", name="Add", exact=True).click()
    expect(card.locator(".seat-name")).to_have_text(["Moderator", "Anna"])
    shown = card.locator(".moderator-link input")
    expect(shown).to_have_value(re.compile(r"/moderate#key=mk\."))
    anna_link = shown.input_value()

    one, two = (new_context(**LAPTOP).new_page() for _ in range(2))
    one.goto(event["urls"]["moderator"])
    two.goto(anna_link)
    for console in (one, two):
        expect(console.locator("#conn")).to_have_text("Live")
    # the console shows who else is moderating
    expect(one.locator("#team")).to_contain_text("Anna")
    expect(two.locator("#team")).to_contain_text("Moderator")
    two.locator("#queue li", has_text=SECOND).click()
    two.keyboard.press("e")  # Anna edits: the first console sees it on the row
    expect(one.locator("#queue li", has_text=SECOND)).to_contain_text("Anna is editing")
    two.keyboard.press("Escape")
    expect(one.locator("#queue li", has_text=SECOND)).not_to_contain_text("is editing")

    # an approval in one console shows in the other at once
    expect(two.locator("#queue li", has_text=FIRST)).to_be_visible()
    approve(one, FIRST)
    expect(two.locator("#queue li", has_text=FIRST)).to_have_count(0)
    expect(two.locator('[data-view="live"] .n')).to_have_text(re.compile(r"^\(?1\)?$"))

    # the organiser revokes Anna: her console loses access, the first keeps working
    card.locator("[data-seat]", has_text="Anna").get_by_role("button", name="Revoke").click()
    expect(card.locator(".seat-name")).to_have_text(["Moderator"])
    expect(two.locator("#bad-link [role=alert]")).to_have_text(LOST)  # the whole page says so
    expect(two.locator("#queue")).to_have_count(0)
    approve(one, SECOND)
    expect(one.locator('[data-view="live"] .n')).to_have_text(re.compile(r"^\(?2\)?$"))
    expect(one.locator("#conn")).to_have_text("Live")

    # the event log names who did what
    admin.goto(f"{server.url}/admin/events/{event['code']}/log?lang=en")
    expect(admin.locator("tbody tr", has_text="Revoked a moderator: Anna")).to_contain_text(
        "organiser"
    )


def test_the_organiser_opens_the_console_from_admin_without_a_key(scene, server, new_context):
    event, _api = scene
    page = new_context(**LAPTOP).new_page()
    log_in(page, server, event["code"])
    card = page.locator(f'[data-code="{event["code"]}"]')
    card.get_by_role("link", name="Open the console").click()
    expect(page).to_have_url(re.compile(f"/e/{event['code']}/moderate$"))
    expect(page.locator("#conn")).to_have_text("Live")
    expect(page.locator("#bad-link")).to_have_count(0)


def test_the_organisers_refusals_read_in_the_pages_language(scene, events, server, new_context):
    """A refused action on the organiser's Russian page reads in Russian, worded from the
    refusal's code and details: a seat name taken (a conflict with a reason), and a seat revoked
    on another page first (a conflict with none), never the server's English message."""
    event = events.create()  # its one seat: "Moderator"
    context = new_context(**LAPTOP, locale="ru-RU")
    admin, stale = context.new_page(), context.new_page()
    alerts: list[str] = []
    for page in (admin, stale):
        page.on(
            "dialog",
            lambda d: (alerts.append(d.message) if d.type == "alert" else None, d.accept()),
        )
    log_in(admin, server, event["code"])
    expect(admin.locator("html")).to_have_attribute("lang", "ru")
    card = admin.locator(f'[data-code="{event["code"]}"]')
    add = card.locator("[data-add-seat]")
    add.locator("input[name=name]").fill("moderator")  # taken: case does not count
    add.locator("button").click()
    expect(add.locator(".msg")).to_have_text(
        "У другого модератора этого мероприятия уже есть такое имя; выберите другое."
    )
    expect(card.locator(".seat-name")).to_have_text(["Moderator"])

    stale.goto(admin.url)  # a second tab, opened before the seat is revoked in the first
    stale.wait_for_load_state()
    card.locator("[data-seat]", has_text="Moderator").locator("[data-revoke]").click()
    expect(card.locator(".seat-name")).to_have_count(0)
    stale.locator(f'[data-code="{event["code"]}"] [data-revoke]').click()
    for _ in range(50):  # the refused call's alert
        if alerts:
            break
        stale.wait_for_timeout(100)
    assert alerts == ["Тем временем всё изменилось; посмотрите ещё раз и повторите."]
