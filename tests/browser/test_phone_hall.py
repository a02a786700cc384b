"""The phone in a real hall (issue 10): a draft stays on its issue, choices reset, orientation
(tabs with live counts, the pinned on-screen card, the question just sent, my questions), touch
targets, a Russian title that wraps, and withdrawing a pending question; at 360x740 and 390x844."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PHONE, Api, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

VIEWPORTS = [{"width": 360, "height": 740}, {"width": 390, "height": 844}]
SIZES = pytest.mark.parametrize("size", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")

# the phone's outbox has sent everything
OUTBOX_EMPTY = (
    "() => !Object.keys(localStorage)"
    ".some((k) => k.startsWith('qa:outbox:') && localStorage.getItem(k) !== '[]')"
)
RUSSIAN_TITLE = "Лучшие практики управления инновационными кластерами: опыт регионов России"


def phone(new_context, size, **extra):
    """A phone page at size (touch, 2x)."""
    return new_context(**{**PHONE, "viewport": size, **extra}).new_page()


def open_event(page, event, live="Live"):
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_text(live)


def scene(events, server, **changes):
    event = events.create(**changes)
    api = Api(server, event)
    return event, api, [i["id"] for i in api.state()["issues"]]


def set_issue(api, issue_id):
    api.call("PUT", f"/events/{api.code}/current-issue", body={"issue_id": issue_id})


def question_by_text(api, text):
    return next(q for q in api.state()["questions"] if q["text"] == text)


@SIZES
def test_a_draft_stays_on_its_issue_when_the_moderator_moves_on(events, server, new_context, size):
    event, api, issues = scene(events, server)
    page = phone(new_context, size)
    open_event(page, event)
    expect(page.get_by_role("tab", selected=True)).to_contain_text("Now")
    box = page.get_by_label("Your question")
    box.fill("Will the clusters get tax breaks in 2018?")
    set_issue(api, issues[1])  # the moderator moves on while this person types
    banner = page.locator("#now-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Now discussing: issue 2 — Which Russian clusters")
    expect(page.get_by_role("tab", selected=True)).to_contain_text("1")  # not moved
    expect(box).to_have_value("Will the clusters get tax breaks in 2018?")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("tab", selected=True)).to_contain_text("Now")
    expect(banner).to_be_hidden()
    expect(page.locator("#draft-for")).to_contain_text("Your question will go to issue 1")
    page.get_by_role("button", name="Send").click()
    page.wait_for_function(OUTBOX_EMPTY)
    asked = question_by_text(api, "Will the clusters get tax breaks in 2018?")
    assert asked["issue_id"] == issues[0]  # filed where it was written, as the moderator sees
    expect(page.locator("#questions .q", has_text="tax breaks")).to_be_visible()


@SIZES
def test_a_draft_keeps_its_issue_across_a_reconnect(events, server, new_context, size):
    event, api, issues = scene(events, server)
    context = new_context(**{**PHONE, "viewport": size})
    page = context.new_page()
    open_event(page, event)
    box = page.get_by_label("Your question")
    box.fill("Who trains the cluster managers?")
    context.set_offline(True)
    expect(page.locator("#conn")).to_have_text("Offline")
    set_issue(api, issues[1])  # the moderator moves on while this phone is away
    expect(page.locator("#now-banner")).to_be_hidden()  # not heard yet
    context.set_offline(False)
    expect(page.locator("#conn")).to_have_text("Live")
    banner = page.locator("#now-banner")
    expect(banner).to_contain_text("Now discussing: issue 2 — Which Russian clusters")
    expect(page.get_by_role("tab", selected=True)).to_contain_text("1")  # kept on its issue
    expect(box).to_have_value("Who trains the cluster managers?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_function(OUTBOX_EMPTY)
    asked = question_by_text(api, "Who trains the cluster managers?")
    assert asked["issue_id"] == issues[0]  # filed under the issue it was written for
    expect(page.locator("#questions .q", has_text="cluster managers")).to_be_visible()


@SIZES
def test_a_draft_survives_a_reload_with_its_issue_and_addressee(events, server, new_context, size):
    event, api, issues = scene(events, server)
    page = phone(new_context, size)
    open_event(page, event)
    page.get_by_label("Your question").fill("What is the budget for the cluster programme?")
    page.get_by_label("Addressed to").select_option(label="Artem Zdunov")
    page.get_by_label("Your name").fill("Ivan")
    set_issue(api, issues[2])
    expect(page.locator("#now-banner")).to_be_visible()
    page.reload()
    expect(page.locator("#conn")).to_have_text("Live")
    expect(page.get_by_label("Your question")).to_have_value(
        "What is the budget for the cluster programme?"
    )
    expect(page.get_by_role("tab", selected=True)).to_contain_text("1")
    expect(page.locator("#now-banner")).to_contain_text("issue 3")
    expect(page.get_by_label("Addressed to")).to_have_value(
        str(next(s["id"] for s in api.state()["speakers"] if s["name"] == "Artem Zdunov"))
    )
    expect(page.get_by_label("Your name")).to_have_value("Ivan")
    page.get_by_role("button", name="Send").click()
    page.wait_for_function(OUTBOX_EMPTY)
    asked = question_by_text(api, "What is the budget for the cluster programme?")
    assert asked["issue_id"] == issues[0] and asked["author_name"] == "Ivan"
    # the addressee resets after a send (the name is kept)
    expect(page.get_by_label("Addressed to")).to_have_value("")
    expect(page.get_by_label("Your name")).to_have_value("Ivan")
    page.reload()
    expect(page.locator("#conn")).to_have_text("Live")
    expect(page.get_by_label("Your question")).to_have_value("")
    expect(page.get_by_label("Addressed to")).to_have_value("")


@SIZES
def test_the_name_is_required_before_send_when_anonymous_questions_are_off(
    events, server, new_context, size
):
    event, api, _ = scene(events, server)
    page = phone(new_context, size)
    open_event(page, event)
    name = page.get_by_label("Your name")
    api.settings(anonymous_allowed=False)
    expect(name).to_be_visible()  # shown before anything is typed
    expect(page.locator("label[for=ask-name]")).to_contain_text("(required)")
    expect(name).to_have_attribute("aria-required", "true")
    assert name.evaluate("(el) => el.required")
    page.get_by_label("Your question").fill("Who pays for the pilots?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#ask-msg")).to_have_text(
        "This event does not accept anonymous questions: give your name."
    )
    expect(name).to_be_focused()
    assert api.state()["questions"] == []  # explained at once, nothing sent
    name.fill("Olga")
    page.get_by_role("button", name="Send").click()
    page.wait_for_function(OUTBOX_EMPTY)
    assert question_by_text(api, "Who pays for the pilots?")["author_name"] == "Olga"
    api.settings(anonymous_allowed=True)
    expect(page.locator("label[for=ask-name]")).to_contain_text("(optional)")
    expect(name).not_to_have_attribute("aria-required", "true")


@SIZES
def test_tabs_show_titles_and_live_counts_and_scroll_sideways(events, server, new_context, size):
    event, api, issues = scene(events, server)
    token = api.participant()
    for n in range(3):
        api.ask(token, issues[3], f"Live question {n} about staff?")
    set_issue(api, issues[4])
    page = phone(new_context, size)
    open_event(page, event)
    tabs = page.locator("#issues [role=tab]")
    expect(tabs).to_have_count(5)
    expect(tabs.nth(3)).to_contain_text("How to involve")
    expect(tabs.nth(3).locator(".live-count")).to_have_text("3")
    expect(tabs.nth(3)).to_contain_text("3 live questions")  # said to a screen reader
    expect(tabs.nth(0).locator(".live-count")).to_have_text("0")
    row = page.locator("#issues")
    assert row.evaluate("(el) => el.scrollWidth > el.clientWidth")  # scrolls sideways
    current = tabs.nth(4)
    expect(current).to_have_attribute("aria-selected", "true")
    box, frame = current.bounding_box(), row.bounding_box()
    assert box["x"] >= frame["x"] - 1 and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= size["width"]
    api.ask(token, issues[4], "Another one for the state?")
    expect(current.locator(".live-count")).to_have_text("1")


@SIZES
def test_the_pinned_card_says_what_is_on_screen(events, server, new_context, size):
    event, api, issues = scene(events, server)
    token = api.participant()
    shown = api.ask(token, issues[0], "How many champions can one region grow?")
    for n in range(6):
        api.ask(token, issues[0], f"Filler question number {n} to make the page long?")
    page = phone(new_context, size)
    open_event(page, event)
    pin = page.locator("#onscreen")
    expect(pin).to_be_hidden()
    api.call("PUT", f"/events/{api.code}/screen", body={"question_id": shown["id"]})
    expect(pin).to_be_visible()
    expect(pin).to_contain_text("On screen now")
    expect(pin).to_contain_text("How many champions can one region grow?")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("() => window.scrollY") > 0
    top = pin.bounding_box()["y"]
    assert 0 <= top < 5  # pinned at the top while the page scrolls
    api.call("PUT", f"/events/{api.code}/screen", body={"question_id": None})
    expect(pin).to_be_hidden()


@SIZES
def test_the_question_just_sent_is_scrolled_into_view_and_highlighted(
    events, server, new_context, size
):
    event, api, issues = scene(events, server)
    token = api.participant()
    for n in range(8):
        api.ask(token, issues[0], f"An earlier popular question {n}?")
        api.call("PUT", f"/questions/{api.state()['questions'][-1]['id']}/vote", token)
    page = phone(new_context, size)
    open_event(page, event)
    page.get_by_label("Your question").fill("My brand new question at the bottom?")
    page.get_by_role("button", name="Send").click()
    mine = page.locator("#questions .q", has_text="My brand new question at the bottom?")
    expect(mine).to_have_class(re.compile("just-sent"))
    expect(mine).to_be_in_viewport()
    expect(mine).not_to_have_class(re.compile("just-sent"), timeout=5000)  # briefly


@SIZES
def test_my_questions_lists_every_status_in_words(events, server, new_context, size):
    event, api, issues = scene(events, server, settings={"pre_moderation": True})
    page = phone(new_context, size)
    open_event(page, event)
    texts = ["Pending one?", "Live one?", "Answered one?", "Dismissed one?", "Merged one?"]
    for text in [*texts, "Withdrawn one?"]:
        page.get_by_label("Your question").fill(text)
        page.get_by_role("button", name="Send").click()
        page.wait_for_function(OUTBOX_EMPTY)
    ids = {q["text"]: q["id"] for q in api.state()["questions"]}
    api.moderate(ids["Live one?"], status="live")
    api.moderate(ids["Answered one?"], status="answered")
    api.moderate(ids["Dismissed one?"], status="dismissed")
    api.call("POST", f"/questions/{ids['Merged one?']}/merge", body={"into": ids["Live one?"]})
    page.get_by_role("button", name=re.compile("My questions")).click()
    mine = page.locator("#mine")
    expect(mine).to_be_visible()
    row = mine.locator(".q", has_text="Withdrawn one?")
    row.get_by_role("button", name="Withdraw").click()
    expected = {
        "Pending one?": "Awaiting review",
        "Live one?": "Published",
        "Answered one?": "Answered",
        "Dismissed one?": "Not published by the moderator",
        "Merged one?": "Merged into: Live one?",
        "Withdrawn one?": "Withdrawn",
    }
    for text, words in expected.items():
        row = mine.locator(".q").filter(
            has=page.locator(".q-text", has_text=re.compile(f"^{re.escape(text)}$"))
        )
        expect(row.locator(".status")).to_have_text(words)
    expect(page.locator("#mine-count")).to_have_text("6")
    screenshot(page, f"phone-my-questions-{size['width']}x{size['height']}")


@SIZES
def test_withdraw_while_pending_takes_it_out_of_the_moderators_pending(
    events, server, new_context, size
):
    event, api, issues = scene(events, server, settings={"pre_moderation": True})
    page = phone(new_context, size)
    open_event(page, event)
    page.get_by_label("Your question").fill("Second thoughts about this one?")
    page.get_by_role("button", name="Send").click()
    card = page.locator("#questions .q", has_text="Second thoughts")
    expect(card).to_contain_text("Awaiting review")
    assert [q["status"] for q in api.state()["questions"]] == ["pending"]
    card.get_by_role("button", name="Withdraw").click()
    expect(card).to_have_count(0)
    expect(page.locator("#ask-msg")).to_have_text("Your question was withdrawn.")
    assert [q["status"] for q in api.state()["questions"]] == ["withdrawn"]  # not pending


@SIZES
def test_every_control_is_at_least_44_by_44(events, server, new_context, size):
    event, api, issues = scene(events, server)
    token = api.participant()
    api.ask(token, issues[0], "A live question with an upvote button?")
    page = phone(new_context, size)
    open_event(page, event)
    page.get_by_label("Your question").fill("Something to open the form")
    set_issue(api, issues[1])  # the banner and its Switch button
    expect(page.locator("#now-banner")).to_be_visible()
    page.get_by_role("button", name="Switch").click()
    page.get_by_role("button", name=re.compile("My questions")).click()
    small = page.evaluate(
        """() => [...document.querySelectorAll(
            'button, a[href], input, select, textarea, [role=tab]')]
          .filter((el) => el.getClientRects().length
                          && getComputedStyle(el).visibility !== 'hidden')
          .map((el) => ({el: el.id || el.className || el.tagName, text: el.textContent.trim(),
                         w: el.getBoundingClientRect().width,
                         h: el.getBoundingClientRect().height}))
          .filter((b) => b.w < 44 || b.h < 44)"""
    )
    assert small == []


@SIZES
def test_a_long_russian_title_wraps_and_is_never_cut(events, server, new_context, size):
    event, _api, _ = scene(events, server, title=RUSSIAN_TITLE)
    page = phone(new_context, size, locale="ru-RU")
    open_event(page, event, live="В эфире")
    title = page.locator(".topbar .event-title")
    expect(title).to_have_text(RUSSIAN_TITLE)
    whole = page.locator(".topbar .event-name")
    fits = whole.evaluate(
        """(el) => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1
                   && getComputedStyle(el).textOverflow !== 'ellipsis'"""
    )
    assert fits
    assert title.bounding_box()["height"] > 30  # wrapped over lines, not cut to one
    assert page.evaluate("() => document.documentElement.scrollWidth") <= size["width"]


def test_screenshots_of_the_phone_in_english_and_russian(events, server, new_context):
    event, api, issues = scene(events, server, title=RUSSIAN_TITLE)
    token = api.participant()
    shown = api.ask(token, issues[0], "Как вырастить несколько глобальных чемпионов?")
    api.ask(token, issues[0], "Какие кластеры готовы выйти на международный рынок?")
    api.call("PUT", f"/events/{api.code}/screen", body={"question_id": shown["id"]})
    for lang, live in (("en", "Live"), ("ru", "В эфире")):
        page = phone(new_context, VIEWPORTS[1], locale=f"{lang}-{lang.upper()}")
        page.goto(event["urls"]["audience"] + f"?lang={lang}")
        expect(page.locator("#conn")).to_have_text(live)
        expect(page.locator("#onscreen")).to_be_visible()
        screenshot(page, f"phone-{lang}-390x844")
