"""Every page works under its Content-Security-Policy: no violation, no console error.

Each page is opened at its target size and used (a question asked and voted for, one approved
and put on screen, the keys help opened, an event created from the organiser's form, a key
rotated), with a listener for `securitypolicyviolation` installed before any of its scripts.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import LAPTOP, PHONE, PROJECTOR, Api

pytestmark = [pytest.mark.browser, pytest.mark.live]

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  + ` (${e.sample})`));
"""


class Watched:
    """A page whose CSP violations, console errors and uncaught exceptions are recorded."""

    def __init__(self, context) -> None:
        context.add_init_script(WATCH)
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self.on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"exception: {exc}"))

    def on_console(self, message) -> None:
        """Record an error, except the status of the document itself (the join page's 404)."""
        document = message.location.get("url") == self.page.url
        if message.type == "error" and not (document and "status of 404" in message.text):
            self.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def open(self, url: str) -> None:
        """Go to url and check that the document came with a strict policy."""
        response = self.page.goto(url)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
        assert "frame-ancestors 'none'" in policy, policy

    def problems(self) -> list[str]:
        """Everything that went wrong on the page so far."""
        return self.page.evaluate("window.__violations") + self.errors


@pytest.fixture(scope="module")
def scene(events):
    """An event under pre-moderation with a live question and a pending one; an organiser."""
    created = events.create(settings={"pre_moderation": True})
    api = Api(events.server, created)
    issue = api.state()["issues"][0]["id"]
    token = api.participant()
    live = api.ask(token, issue, "Which clusters are ready to go international?")
    api.moderate(live["id"], status="live")
    api.ask(token, issue, "What should the state stop doing?")
    events.server.cli("create-admin", "organiser", "--password", "correct horse")
    return created, api, live


def test_join_page(server, new_context):
    join = Watched(new_context(**PHONE))
    join.open(server.url + "/")
    join.page.get_by_label("Event code").fill("ZZZZZZ")
    join.page.get_by_role("button", name="Join").click()
    expect(join.page.locator("#join-error")).to_be_visible()
    assert join.problems() == []


def test_audience_page_on_a_phone(scene, new_context):
    created, _api, live = scene
    phone = Watched(new_context(**PHONE))
    phone.open(created["urls"]["audience"])
    page = phone.page
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    page.get_by_label("Your question").fill("Can the state fund cluster exports directly?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#ask-msg")).to_contain_text("after review")
    vote = page.locator("li", has_text=live["text"]).get_by_role(
        "button", name=re.compile("Upvote")
    )
    vote.click()
    expect(vote).to_have_attribute("aria-pressed", "true")
    page.evaluate("navigator.serviceWorker.ready")  # the worker is installed under the policy
    assert phone.problems() == []


def test_screen_and_moderator(scene, new_context):
    created, api, live = scene
    screen = Watched(new_context(**PROJECTOR))
    screen.open(created["urls"]["screen"])
    expect(screen.page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(screen.page.locator("svg.qr")).to_be_visible()

    console = Watched(new_context(**LAPTOP))
    console.open(created["urls"]["moderator"])
    page = console.page
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    pending = page.locator("li", has_text="What should the state stop doing?")
    pending.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name=re.compile(r"^Live")).click()
    page.locator("li", has_text=live["text"]).get_by_role("button", name="On screen").click()
    expect(screen.page.locator("#quote")).to_have_text(live["text"])
    page.keyboard.press("?")
    expect(page.locator("#keys")).to_be_visible()
    assert console.problems() == [] and screen.problems() == []


def test_organiser_pages(scene, server, new_context):
    organiser = Watched(new_context(**LAPTOP))
    page = organiser.page
    organiser.open(server.url + "/admin/login")
    page.locator("#name").fill("organiser")
    page.locator("#password").fill("correct horse")
    page.locator("button[type=submit]").click()
    expect(page.locator(".event-item").first).to_be_visible()
    page.wait_for_load_state()  # the page's module has run: its tabs answer clicks
    assert page.evaluate("document.contentType") == "text/html"

    page.get_by_role("tab", name="Fill in a form").click()
    page.locator("#f-title").fill("Cluster policy after the panel")
    page.locator("#f-issues").fill("Exports?\nTalent?")
    page.locator("#pane-form").get_by_role("button", name="Create this event").click()
    expect(page.locator("#created .link")).to_have_count(3)
    page.locator("#created a.manage").click()  # the new event's own page
    expect(page.locator(".event-row")).to_be_visible()
    page.wait_for_load_state()
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("[data-rotate]").first.click()
    expect(page.locator(".moderator-link").first).to_be_visible()
    assert organiser.problems() == []
