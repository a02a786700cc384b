"""Cut off by the server: the moderator whose key was rotated and the banned phone are told why."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.live import wait_for

from .conftest import LAPTOP, PHONE, Api

pytestmark = [pytest.mark.browser, pytest.mark.live]

BANNED = {
    "en": "The moderator has blocked this device from asking and voting in this event.",
    "ru": "Модератор запретил этому устройству задавать вопросы и голосовать на этом мероприятии.",
}
QUESTIONS = {"en": "Who pays for the clusters?", "ru": "Кто платит за кластеры?"}
LIVE = {"en": "Live", "ru": "В эфире"}


def test_a_banned_phone_says_so_in_its_language(events, new_context):
    event = events.create()
    api = Api(server=events.server, event=event)
    phones = {}
    for lang in ("en", "ru"):
        page = new_context(**PHONE, locale=lang).new_page()
        page.goto(event["urls"]["audience"])
        expect(page.locator("#conn")).to_have_text(LIVE[lang])
        page.locator("#ask-text").fill(QUESTIONS[lang])
        page.locator("#ask button[type=submit]").click()
        expect(page.locator("li", has_text=QUESTIONS[lang])).to_be_visible()
        phones[lang] = page
    asked: dict[str, int] = {}

    def both_stored() -> bool:  # a phone lists its question while it is still being sent
        asked.update({q["text"]: q["id"] for q in api.state()["questions"]})
        return all(text in asked for text in QUESTIONS.values())

    wait_for(both_stored, what="both questions stored")

    for lang, page in phones.items():
        api.call("PUT", f"/questions/{asked[QUESTIONS[lang]]}/ban")
        expect(page.locator("#ask-msg")).to_have_text(BANNED[lang])
        expect(page.locator("#ask-text")).to_be_disabled()
        expect(page.locator(".vote").first).to_be_disabled()
    page = phones["en"]
    page.reload()  # still blocked after a reload, without joining afresh
    expect(page.locator("#ask-msg")).to_have_text(BANNED["en"])
    token = page.evaluate(f"localStorage.getItem('qa:token:{event['code']}')")
    assert token and token.startswith("p.")


def test_a_moderator_whose_key_was_rotated_is_told_the_link_is_no_longer_valid(events, new_context):
    event = events.create()
    api = Api(server=events.server, event=event)
    console = new_context(**LAPTOP).new_page()
    console.goto(event["urls"]["moderator"])
    expect(console.locator("#conn")).to_have_text("Live")
    api.call("POST", f"/events/{event['code']}/moderator-key")
    expect(console.locator("#bad-link [role=alert]")).to_have_text(
        "This moderator link is no longer valid: it was replaced or revoked, or it was copied "
        "wrong. Ask the organiser for a new link."
    )
    expect(console.locator("#conn")).to_have_count(0)  # no "Offline" badge over an empty console
