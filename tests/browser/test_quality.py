"""Accessibility (axe-core) of every page, and the first-load weight of the audience page."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .conftest import LAPTOP, PHONE, PROJECTOR, ROOT, Api, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BUDGET = 150 * 1024
ARTIFACTS = ROOT / "test-artifacts"
CONSOLE_HEADING = {"en": "Moderate: ", "ru": "Модерация: "}  # the console's h1 (screen readers)


@pytest.fixture(scope="module")
def event(events):
    """An event with a few questions, so the pages show what they show in the hall."""
    created = events.create(settings={"pre_moderation": True})
    api = Api(events.server, created)
    issue = api.state()["issues"][0]["id"]
    token = api.participant()
    for n, text in enumerate(
        [
            "Which clusters are ready to go international?",
            "How do we keep engineers from moving to the capital?",
            "What should the state stop doing?",
        ]
    ):
        question = api.ask(token, issue, text, author_name="Ivan" if n else None)
        if n < 2:
            api.moderate(question["id"], status="live")
    return created


@pytest.fixture(scope="module")
def admin(events):
    """An organiser account on the module's server."""
    events.server.cli("create-admin", "organiser", "--password", "correct horse")
    return ("organiser", "correct horse")


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page."""
    page.wait_for_function("() => document.getAnimations().length === 0")  # no half-faded text
    page.evaluate(AXE.read_text())  # not a <script> tag: the page's CSP allows none inline
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def in_language(url: str, lang: str) -> str:
    """The link opened in that language: ?lang= before the fragment (the moderator's #key=)."""
    address, hash_, fragment = url.partition("#")
    return f"{address}?lang={lang}{hash_}{fragment}"


def log_in(page, url: str, admin) -> None:
    """Log in as the organiser (the form's labels in either language)."""
    page.goto(url)
    page.locator("#name").fill(admin[0])
    page.locator("#password").fill(admin[1])
    page.locator("button[type=submit]").click()
    expect(page.locator(".event-item").first).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_no_serious_accessibility_violations(event, admin, new_context, server, lang):
    """The join, audience, moderator, screen and organiser pages pass axe (serious, critical)."""
    urls = event["urls"]
    pages = {
        "join": (PHONE, server.url + "/"),
        "audience": (PHONE, urls["audience"]),
        "moderator": (LAPTOP, urls["moderator"]),
        "screen": (PROJECTOR, urls["screen"]),
    }
    found = {}
    for name, (options, url) in pages.items():
        page = new_context(**options).new_page()  # fresh: no language cookie from another page
        page.goto(in_language(url, lang))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        if name != "join":
            expect(page.locator("#conn")).to_have_attribute("data-state", "live")
            expect(page.locator("li").first).to_be_visible()
        if name == "moderator":
            expect(page.locator("h1")).to_contain_text(CONSOLE_HEADING[lang])
        found[name] = serious_violations(page)
    page = new_context(**LAPTOP).new_page()
    log_in(page, server.url + f"/admin/login?lang={lang}", admin)
    screenshot(page, "admin-1440x900" + ("" if lang == "en" else f"-{lang}"))
    found["admin"] = serious_violations(page)
    page.goto(server.url + f"/admin/events/{event['code']}?lang={lang}")  # one event's own page
    expect(page.locator(".event-row")).to_be_visible()
    screenshot(page, "admin-event-1440x900" + ("" if lang == "en" else f"-{lang}"))
    found["admin-event"] = serious_violations(page)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{lang}.json").write_text(json.dumps(found, indent=2))
    assert found == {name: [] for name in found}


def test_first_load_of_the_audience_page_is_within_budget(event, new_context):
    """HTML, CSS, JS and the socket client of a first visit weigh at most 150 KB on the wire.

    A fresh context has an empty cache; what the page then stores for offline use comes from
    the HTTP cache and counts only for what crosses the wire again.
    """
    context = new_context(**PHONE)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_text("Live")
    expect(page.locator("li", has_text="Which clusters")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "true")
    page.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    report = {
        "total_bytes": total,
        "budget_bytes": BUDGET,
        "requests": [[urls.get(k, k), v] for k, v in sizes.items()],
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "audience-weight.json").write_text(json.dumps(report, indent=2))
    print(f"audience first load: {total} bytes over {len(sizes)} requests")
    assert total <= BUDGET, report
