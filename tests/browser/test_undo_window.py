"""The console offers undo for as long as the server allows it: QA_UNDO_SECONDS, not a number of
its own. A server with a 30-second window; the page's clock is Playwright's, moved on by hand, so
the test does not wait for the window to pass. The page's time flows too while the test works (the
socket's writes need its timers, so it is not paused): each check leaves the machine 5 s of it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.live import running_server

from .conftest import LAPTOP, Api

pytestmark = [pytest.mark.browser, pytest.mark.live]

FIRST, SECOND = "Who owns the data the cluster collects?", "Which cluster has the best dashboard?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real server, with undo allowed for 30 seconds."""
    with running_server(tmp_path_factory.mktemp("server"), QA_UNDO_SECONDS="30") as live:
        yield live


@pytest.fixture(scope="module")
def scene(events, server):
    """An event with two live questions under its first issue."""
    event = events.create()
    api = Api(server, event)
    issue = api.state()["issues"][0]["id"]
    for text in (FIRST, SECOND):
        api.ask(api.participant(), issue, text)
    return event, api


def console_with_clock(new_context, url: str, lang: str = "en"):
    """A console whose timers run on a clock the test moves on."""
    page = new_context(**LAPTOP, locale=lang).new_page()
    page.clock.install()
    page.goto(url)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    return page


def status_of(api: Api, text: str) -> str:
    return next(q["status"] for q in api.state()["questions"] if q["text"] == text)


def test_the_toast_offers_undo_for_qa_undo_seconds(scene, new_context):
    event, api = scene
    console = console_with_clock(new_context, event["urls"]["moderator"])
    rows, toast = console.locator("#queue li"), console.locator("#toast")
    expect(rows).to_have_count(2)
    expect(console.locator("#queue li[aria-current=true]")).to_contain_text(FIRST)

    console.keyboard.press("d")
    expect(rows).to_have_count(1)
    expect(toast.get_by_role("button", name="Undo")).to_be_visible()
    console.clock.run_for(25_000)  # within the 30 seconds: still offered, and it works
    assert toast.get_by_role("button", name="Undo").is_visible()
    console.keyboard.press("z")
    expect(console.locator("#toast-text")).to_have_text("Undone")
    expect(rows).to_have_count(2)
    assert status_of(api, FIRST) == "live"

    first = console.locator("#queue li", has_text=FIRST)
    first.locator(".q-text").click()
    expect(first).to_have_attribute("aria-current", "true")
    console.keyboard.press("d")
    expect(console.locator("#toast-text")).to_have_text("Dismissed · Undo (z)")
    console.clock.run_for(30_100)  # past the window: no longer offered
    assert toast.is_hidden()
    console.keyboard.press("z")  # nothing to undo any more: nothing is sent
    console.wait_for_timeout(1_000)
    expect(rows).to_have_count(1)
    expect(toast).to_be_hidden()
    assert status_of(api, FIRST) == "dismissed"


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("en", "Undo the last action (for 30 seconds)"),
        ("ru", "Отменить последнее действие (в течение 30 секунд)"),
    ],
)
def test_the_keys_help_names_the_window(scene, new_context, lang, says):
    event, _api = scene
    page = new_context(**LAPTOP).new_page()
    page.goto(event["urls"]["moderator"].replace("/moderate#", f"/moderate?lang={lang}#"))
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    page.keyboard.press("?")
    expect(page.locator("#keys")).to_contain_text(says)
