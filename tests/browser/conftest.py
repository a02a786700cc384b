"""Browser fixtures: the real server per module, one Chromium, phones, a moderator, a screen."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright

from tests.live import ROOT, running_server

CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}

EVENT = {
    "title": "Best Innovation Cluster Management Practices",
    "starts_at": "2017-01-12T15:30:00",
    "ends_at": "2017-01-12T17:30:00",
    "venue": "Building 5, 5th Floor, Executive Conference Room",
    "issues": [
        "How one can grow several cluster global champions for the next 3-5 years?",
        "Which Russian clusters are better ready to move internationally?",
        "How to attract to clusters the most qualified and highly motivated staff?",
        "How to involve the maximum number of stakeholders in the development of clusters?",
        "How can the state effectively support cluster development?",
    ],
    "speakers": [
        {"name": "Oleg Fomichev", "role": "moderator", "affiliation": "Deputy Minister"},
        {"name": "Andrey Antonov", "role": "panelist", "affiliation": "Tomsk Region"},
        {"name": "Artem Zdunov", "role": "panelist", "affiliation": "Tatarstan"},
        {"name": "Ekaterina Dmitrieva", "role": "panelist", "affiliation": "Moscow"},
    ],
}

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser() -> Browser:
    """One headless Chromium for the whole run."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real server (gevent), with its own database, for this module's tests."""
    with running_server(tmp_path_factory.mktemp("server")) as live:
        yield live


class Events:
    """Creates events on a running server through `qa-app create-event`."""

    def __init__(self, server, folder: Path) -> None:
        self.server, self.folder, self.count = server, folder, 0

    def create(self, **changes) -> dict:
        """A new event (the reference panel, with changes); returns code, key and urls."""
        self.count += 1
        path = self.folder / f"event{self.count}.json"
        path.write_text(json.dumps({**EVENT, **changes}))
        return self.server.create_event(path)

    def with_a_question(self, text: str) -> tuple[dict, Api, dict]:
        """A new event, an Api for it, and another participant's live question (text) under its
        first issue: what a phone sees when it opens the audience page."""
        event = self.create()
        api = Api(self.server, event)
        issue = api.state()["issues"][0]["id"]
        return event, api, api.ask(api.participant(), issue, text)


@pytest.fixture(scope="module")
def events(server, tmp_path_factory) -> Events:
    """Make events on the module's server."""
    return Events(server, tmp_path_factory.mktemp("events"))


@pytest.fixture
def new_context(browser):
    """Open browser contexts for one test; all closed at its end."""
    opened: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        context = browser.new_context(**options)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot under test-artifacts/screenshots/ for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # not mid-fade; a function, since Playwright polls an expression with eval(), which the
    # pages' Content-Security-Policy refuses
    page.wait_for_function("() => document.getAnimations().length === 0")
    page.screenshot(path=str(path))
    return path


class Api:
    """Act through the JSON API as a participant or the moderator (to set a scene quickly)."""

    def __init__(self, server, event: dict) -> None:
        self.base, self.code, self.key = (
            server.url + "/api/v1",
            event["code"],
            event["moderator_key"],
        )

    def call(self, method: str, path: str, token: str | None = None, body=None) -> dict:
        """One API request (as the moderator unless a token is given); its JSON answer."""
        res = requests.request(
            method,
            f"{self.base}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token or self.key}"},
            timeout=10,
        )
        res.raise_for_status()
        return res.json()

    def participant(self) -> str:
        res = requests.post(f"{self.base}/events/{self.code}/participants", json={}, timeout=10)
        res.raise_for_status()
        return res.json()["token"]

    def ask(self, token: str, issue_id: int, text: str, **extra) -> dict:
        body = {"issue_id": issue_id, "text": text, "client_id": f"api-{abs(hash(text))}", **extra}
        return self.call("POST", f"/events/{self.code}/questions", token, body)["question"]

    def state(self) -> dict:
        return self.call("GET", f"/events/{self.code}")

    def moderate(self, question_id: int, **change) -> dict:
        return self.call("PATCH", f"/questions/{question_id}", body=change)["question"]

    def settings(self, **values) -> dict:
        return self.call("PATCH", f"/events/{self.code}/settings", body=values)["settings"]
