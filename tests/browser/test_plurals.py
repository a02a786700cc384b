"""Counted nouns in Russian on the phone, the console and the screen; errors a person
understands: a refusal in the page's language, a moderator link that no longer works, a wrong
event code in a page's link, a moderator action made offline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import LAPTOP, PHONE, PROJECTOR, Api
from .test_quality import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.live]

TEXTS = ["Кто платит за кластеры?", "Как удержать инженеров?", "Что делать государству?"]
BAD_LINK = {
    "en": "This moderator link is no longer valid: it was replaced or revoked, or it was copied "
    "wrong. Ask the organiser for a new link.",
    "ru": "Эта ссылка модератора больше не действует: её заменили или отозвали, или она "
    "скопирована с ошибкой. Попросите у организатора новую ссылку.",
}
OFFLINE = "You are offline: this was not done. Try again when the connection is back."


@pytest.fixture(scope="module")
def scene(events):
    """Three live questions with 1, 2 and 5 votes (from seven phones)."""
    event = events.create()
    api = Api(events.server, event)
    issue = api.state()["issues"][0]["id"]
    voters = [api.participant() for _ in range(5)]
    ids = []
    for text, votes in zip(TEXTS, (1, 2, 5), strict=True):
        question = api.ask(voters[0], issue, text)
        for token in voters[:votes]:
            api.call("PUT", f"/questions/{question['id']}/vote", token)
        ids.append(question["id"])
    return event, api, ids


def vote_counts(locator) -> list[str]:
    """The vote counts as a person reads them ("5 голосов"), whatever the markup between."""
    return [
        re.sub(r"\s+", " ", re.sub(r"(\d)(\D)", r"\1 \2", text)).strip()
        for text in locator.all_text_contents()
    ]


def test_counted_nouns_in_russian_on_the_phone_the_console_and_the_screen(scene, new_context):
    event, _api, _ids = scene
    wanted = ["5 голосов", "2 голоса", "1 голос"]

    phone = new_context(**PHONE, locale="ru-RU")
    page = phone.new_page()
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_text("В эфире")
    for text, count in zip(reversed(TEXTS), wanted, strict=True):
        card = page.locator("#questions li", has_text=text)
        number, noun = count.split()
        expect(card.locator(".vote .count")).to_have_text(number)
        expect(card.locator(".vote .noun")).to_have_text(noun)
    phone.set_offline(True)  # votes wait in the outbox: "2 сообщения ждут отправки"
    for text in TEXTS[:2]:
        page.locator("#questions li", has_text=text).locator(".vote").click()
    expect(page.locator("#outbox")).to_have_text("2 сообщения ждут отправки")
    phone.set_offline(False)
    expect(page.locator("#outbox")).to_be_hidden()

    console = new_context(**LAPTOP, locale="ru-RU").new_page()
    console.goto(event["urls"]["moderator"])
    expect(console.locator("#conn")).to_have_text("В эфире")
    console.locator('[data-view="live"]').click()
    votes = console.locator("#queue li .votes")
    expect(votes).to_have_count(3)
    expect(votes.first).to_contain_text("голос")
    expect(console.locator("#presence")).to_have_text("1 устройство подключено")

    screen = new_context(**PROJECTOR, locale="ru-RU").new_page()
    screen.goto(event["urls"]["screen"])
    expect(screen.locator("ol li .n").first).to_contain_text("голос")
    # the phone's two votes went out when it came back: 1 -> 2 and 2 -> 3 (and 5 stays)
    expect(screen.locator("ol li .n")).to_have_count(3)
    for where in (votes, screen.locator("ol li .n")):
        expect(where.first).to_contain_text("5")
        assert sorted(vote_counts(where)) == ["2 голоса", "3 голоса", "5 голосов"]


def test_a_refusal_is_shown_in_the_pages_language(scene, new_context):
    """Voting closed while a vote waited in the outbox: the phone says so in Russian."""
    event, api, ids = scene
    phone = new_context(**PHONE, locale="ru-RU")
    page = phone.new_page()
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_text("В эфире")
    phone.set_offline(True)
    page.locator("#questions li", has_text=TEXTS[0]).locator(".vote").click()
    api.settings(voting_open=False)
    try:
        phone.set_offline(False)
        expect(page.locator("#ask-msg")).to_have_text("Голосование закрыто.")
    finally:
        api.settings(voting_open=True)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_console_with_a_rotated_key_says_the_link_no_longer_works(events, new_context, lang):
    event = events.create()
    api = Api(events.server, event)
    api.call("POST", f"/events/{event['code']}/moderator-key")  # the old link stops working
    page = new_context(**LAPTOP, locale=lang).new_page()
    page.goto(event["urls"]["moderator"])
    expect(page.locator("#bad-link [role=alert]")).to_have_text(BAD_LINK[lang])
    expect(page.locator("#bad-link a[href='/admin/login']")).to_be_visible()
    expect(page.locator("#queue")).to_have_count(0)  # no empty console,
    expect(page.locator("#conn")).to_have_count(0)  # no "Offline" badge
    assert serious_violations(page) == []


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_screen_or_console_link_with_a_wrong_code_offers_the_join_form(server, new_context, lang):
    page = new_context(**PROJECTOR, locale=lang).new_page()
    wanted = {"en": "No event has the code ZZZZZ9.", "ru": "Мероприятия с кодом ZZZZZ9 нет."}
    for path in ("/e/ZZZZZ9/screen", "/e/zzzzz9/moderate"):
        answer = page.goto(server.url + path)
        assert answer.status == 404
        expect(page.get_by_role("alert")).to_have_text(wanted[lang])
        expect(page.locator("form.join input[name=code]")).to_have_value("ZZZZZ9")
    assert serious_violations(page) == []


def test_a_moderator_action_made_offline_is_refused_clearly(events, new_context):
    event = events.create(settings={"pre_moderation": True})
    api = Api(events.server, event)
    issue = api.state()["issues"][0]["id"]
    question = api.ask(api.participant(), issue, "Who pays for the clusters?")
    context = new_context(**LAPTOP, locale="en")
    page = context.new_page()
    page.goto(event["urls"]["moderator"])
    expect(page.locator("#conn")).to_have_text("Live")
    row = page.locator("#queue li", has_text="Who pays")
    row.click()

    context.set_offline(True)
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#toast-text")).to_have_text(OFFLINE)
    expect(page.locator("#toast")).to_have_class(re.compile(r"\bbad\b"))
    assert (
        next(q for q in api.state()["questions"] if q["id"] == question["id"])["status"]
        == "pending"
    )

    context.set_offline(False)  # back: the same press works
    expect(page.locator("#conn")).to_have_text("Live")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#toast-text")).to_contain_text("Approved")
