"""The audience flow in Russian: chosen from the browser's language, switchable on the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import EVENT, PHONE, Api, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

OTHERS = "Какие кластеры уже вышли на мировой рынок?"
MINE = "Как удержать молодых инженеров в регионах?"


def test_audience_in_russian(events, new_context, server):
    """Ask, see the refusals and the review state, vote, and switch to English: all in Russian."""
    event = events.create(settings={"pre_moderation": True, "max_question_length": 60})
    api = Api(server, event)
    issues = api.state()["issues"]
    other = api.ask(api.participant(), issues[0]["id"], OTHERS)
    api.moderate(other["id"], status="live")

    context = new_context(**PHONE, locale="ru-RU")
    page = context.new_page()
    page.goto(server.url + "/?code=" + event["code"].lower())
    expect(page).to_have_url(re.compile(f"/e/{event['code']}$"))
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("#conn")).to_have_text("В эфире")
    expect(page.get_by_role("tab", selected=True)).to_contain_text("Сейчас")
    expect(page.locator("#issue-title")).to_contain_text(EVENT["issues"][0])  # as written
    expect(page.get_by_role("button", name="Популярные")).to_have_attribute("aria-pressed", "true")

    page.get_by_label("Ваш вопрос").fill("Очень длинный вопрос " * 4)
    expect(page.locator("#counter")).to_have_text("83 / 60")
    page.get_by_role("button", name="Отправить").click()
    expect(page.locator("#ask-msg")).to_have_text("Вопрос слишком длинный: не больше 60 символов.")

    page.get_by_label("Ваш вопрос").fill(MINE)
    page.get_by_role("button", name="Отправить").click()
    mine = page.locator("li", has_text=MINE)
    expect(mine).to_contain_text("На проверке")
    expect(mine).to_contain_text("Ваш")
    expect(mine).to_contain_text("Аноним")
    expect(page.locator("#ask-msg")).to_have_text(
        "Ваш вопрос отправлен; он появится после проверки модератором."
    )
    theirs = page.locator("li", has_text=OTHERS)
    theirs.get_by_role("button", name=re.compile("Поддержать")).click()
    expect(theirs.locator(".count")).to_have_text("1")
    mine_id = next(q["id"] for q in api.state()["questions"] if q["text"] == MINE)
    api.moderate(mine_id, status="live")
    expect(mine).not_to_contain_text("На проверке")
    screenshot(page, "audience-ru-390x844")

    api.settings(questions_open=False)
    expect(page.locator("#ask-msg")).to_have_text("Приём вопросов закрыт.")
    expect(page.get_by_role("button", name="Отправить")).to_be_disabled()

    page.get_by_role("link", name=re.compile("^EN")).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#conn")).to_have_text("Live")
    page.goto(event["urls"]["audience"])  # the choice is remembered over Accept-Language
    expect(page.get_by_role("button", name="Popular")).to_be_visible()


def test_join_page_in_russian(new_context, server):
    """The join page and its refusal speak Russian."""
    page = new_context(**PHONE, locale="ru-RU").new_page()
    page.goto(server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Вопросы спикерам")
    page.get_by_label("Код мероприятия").fill("ZZZZZZ")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_have_text("Мероприятия с кодом ZZZZZZ нет.")
