"""The moderator's power in the console: density, merge, undo, header switches, bans, held
questions, duplicate suggestions and the projector's protection. One event and one console
page for the module; each test works in its own issue (Shift+N shows issue N)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import EVENT, LAPTOP, PHONE, PROJECTOR, Api, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

ROWS = [
    "How one can grow several cluster global champions within five years?",
    "Which regional clusters are ready to export their services to Asia next year?",
    "What did the Tomsk cluster change to attract foreign investors?",
    "How do you keep talented engineers from moving to Moscow?",
    "Which state programmes actually helped your cluster, and which did not?",
    "How do clusters measure the success of their management company?",
    "Is there a place for small companies in a cluster dominated by one giant?",
    "How many stakeholders is too many for a cluster's board?",
    "What should universities change to work better with clusters?",
    "How do you share intellectual property between cluster members?",
    "Which international cluster would you take as a model, and why?",
    "How long did it take before your cluster paid for itself?",
    "What is the biggest mistake a new cluster manager makes?",
    "How do you get competitors to cooperate inside one cluster?",
    "Does the cluster help members with export certification?",
    "What role should regional governments play after the first five years?",
    "How do you decide which company leads a joint project in the cluster?",
    "What does a cluster membership cost a start-up, and what does it get for it?",
    "How do you report results to the regional ministry without drowning in paperwork?",
    "Which digital tools do your members share, and who pays for them?",
    "Can a cluster survive when its anchor company leaves the region?",
]


@pytest.fixture(scope="module")
def event(events):
    """The reference panel with three more issues, so that each test has one of its own."""
    more = [
        "Who pays for the clusters' offices abroad?",
        "How do clusters share their equipment?",
        "What should panelists ask the ministry for?",
    ]
    return events.create(issues=EVENT["issues"] + more)


@pytest.fixture(scope="module")
def api(events, event):
    return Api(events.server, event)


@pytest.fixture(scope="module")
def issues(api):
    return api.state()["issues"]


@pytest.fixture(scope="module")
def console(browser, event):
    """One moderator console, at 1440x900, for the whole module."""
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    page.goto(event["urls"]["moderator"])
    expect(page.locator("#conn")).to_have_text("Live")
    yield page
    context.close()


@pytest.fixture(autouse=True)
def no_dialog_left_open(console):
    """A test that failed half-way must not leave a dialog over the next test's console."""
    console.evaluate("() => document.querySelectorAll('dialog[open]').forEach((d) => d.close())")


def phone(new_context, event):
    page = new_context(**PHONE).new_page()
    page.goto(event["urls"]["audience"])
    expect(page.locator("#conn")).to_have_text("Live")
    return page


def show_issue(console, n: int, view: str = "live") -> None:
    """Show only issue n, in a status view (pressing keys, as a moderator would)."""
    console.locator("#queue").focus()
    console.keyboard.press(f"Shift+Digit{n}")
    console.locator(f"[data-view={view}]").click()
    expect(console.locator("#view-issue")).to_contain_text(f"{n}")


def row(page, text: str):
    return page.locator("#queue li", has_text=text)


def vote(api, token: str, question_id: int) -> None:
    api.call("PUT", f"/questions/{question_id}/vote", token)


def test_at_least_12_rows_fit_at_1440x900(console, api, issues):
    for i, text in enumerate(ROWS):
        if i % 4 == 0:
            token = api.participant()  # at most 5 questions a minute each
        api.ask(token, issues[0]["id"], text)
    # the default view is the current issue (issue 1), live questions
    expect(console.locator("#queue li")).to_have_count(len(ROWS))
    assert console.viewport_size == {"width": 1440, "height": 900}
    visible = console.evaluate(
        """() => {
          const top = document.querySelector('.mod-sticky').getBoundingClientRect().bottom;
          return [...document.querySelectorAll('#queue li')].filter((li) => {
            const r = li.getBoundingClientRect();
            return r.top >= top - 1 && r.bottom <= window.innerHeight;
          }).length;
        }"""
    )
    print(f"rows visible at 1440x900: {visible} of {len(ROWS)}")
    screenshot(console, "console-1440x900")
    assert visible >= 12
    # actions only on the selected row
    shown = console.locator("#queue li .actions:visible")
    expect(shown).to_have_count(1)
    # the 'On screen' panel stays pinned while the list scrolls
    console.locator("#mod-main").evaluate("(el) => { el.scrollTop = el.scrollHeight; }")
    box = console.locator(".onscreen-box").bounding_box()
    assert box and 0 <= box["y"] < 120


def test_merge_by_keyboard_keeps_voters_and_tells_the_asker(
    console, api, issues, event, new_context
):
    target_text = "How do clusters keep their young engineers?"
    dup_text = "How can clusters keep young engineers from leaving?"
    asker = phone(new_context, event)
    asker.locator("#issues [role=tab]").nth(1).click()
    asker.locator("#ask-text").fill(dup_text)
    asker.locator("#ask button[type=submit]").click()
    expect(asker.locator("li", has_text=dup_text)).to_be_visible()
    tokens = [api.participant() for _ in range(4)]
    target = api.ask(tokens[0], issues[1]["id"], target_text)
    dup = next(q for q in api.state()["questions"] if q["text"] == dup_text)
    for token in tokens[1:]:
        vote(api, token, target["id"])  # 3 votes
    vote(api, tokens[1], dup["id"])  # a voter of both
    vote(api, tokens[0], dup["id"])  # 2 votes; the union is 4 voters

    show_issue(console, 2)
    expect(row(console, target_text).locator(".votes")).to_contain_text("3")
    console.keyboard.press("Shift+Digit2")  # from the top again, now that the votes are in
    selected = console.locator("#queue li[aria-current=true]")
    expect(selected).to_contain_text(target_text)
    console.keyboard.press("j")
    expect(selected).to_contain_text(dup_text)
    console.keyboard.press("Space")
    expect(console.locator("#marked-n")).to_have_text("1 question selected")
    console.keyboard.press("k")
    console.keyboard.press("m")
    expect(console.locator("#merge-dialog")).to_be_visible()
    expect(console.locator("#merge-target")).to_have_value(str(target["id"]))
    console.keyboard.press("Enter")
    expect(console.locator("#queue li")).to_have_count(1)
    expect(row(console, target_text).locator(".votes")).to_contain_text("4")
    expect(console.locator("#toast-text")).to_have_text("Merged 1 question · Undo (z)")
    expect(asker.locator("li", has_text=dup_text)).to_contain_text(f"Merged into: {target_text}")
    assert {q["id"]: q["votes"] for q in api.state()["questions"]}[target["id"]] == 4


def test_undo_of_dismiss_and_of_merge(console, api, issues):
    first, second = "Who funds the cluster managers?", "Who pays the cluster managers' salaries?"
    tokens = [api.participant() for _ in range(3)]
    a = api.ask(tokens[0], issues[2]["id"], first)
    b = api.ask(tokens[1], issues[2]["id"], second)
    vote(api, tokens[2], a["id"])
    vote(api, tokens[1], a["id"])
    vote(api, tokens[2], b["id"])
    show_issue(console, 3)
    expect(console.locator("#queue li")).to_have_count(2)
    selected = console.locator("#queue li[aria-current=true]")
    expect(selected).to_contain_text(first)

    console.keyboard.press("d")
    expect(console.locator("#queue li")).to_have_count(1)
    expect(console.locator("#toast-text")).to_have_text("Dismissed · Undo (z)")
    console.keyboard.press("z")
    expect(console.locator("#queue li")).to_have_count(2)
    expect(row(console, first).locator(".votes")).to_contain_text("2")

    console.keyboard.press("j")
    console.keyboard.press("Space")
    console.keyboard.press("k")
    console.keyboard.press("m")
    console.keyboard.press("Enter")
    expect(console.locator("#queue li")).to_have_count(1)
    expect(row(console, first).locator(".votes")).to_contain_text("2")  # tokens[2] voted both
    console.locator("#toast-undo").click()
    expect(console.locator("#toast-text")).to_have_text("Undone")
    expect(console.locator("#queue li")).to_have_count(2)
    expect(row(console, first).locator(".votes")).to_contain_text("2")
    expect(row(console, second).locator(".votes")).to_contain_text("1")
    statuses = {q["id"]: q["status"] for q in api.state()["questions"]}
    assert statuses[a["id"]] == statuses[b["id"]] == "live"


def test_closing_questions_from_the_header_closes_the_phone(console, event, new_context):
    page = phone(new_context, event)
    expect(page.locator("#ask-text")).to_be_enabled()
    switch = console.get_by_role("switch", name="Questions open")
    expect(switch).to_be_checked()
    switch.click()
    expect(page.locator("#ask-msg")).to_have_text("Questions are closed for this event.")
    expect(page.locator("#ask-text")).to_be_disabled()
    expect(switch).not_to_be_checked()
    switch.click()
    expect(page.locator("#ask-text")).to_be_enabled()


def test_a_pending_question_needs_two_presses_to_go_on_screen(console, api, issues):
    text = "Will the ministry publish the cluster ranking?"
    question = api.ask(api.participant(), issues[3]["id"], text)
    api.moderate(question["id"], status="pending")
    show_issue(console, 4, "pending")
    expect(console.locator("#queue li[aria-current=true]")).to_contain_text(text)
    console.keyboard.press("s")
    expect(console.locator("#toast-text")).to_have_text("Press again to show a pending question")
    expect(console.locator("#onscreen")).to_have_text("Nothing on screen")
    console.keyboard.press("s")
    expect(console.locator("#onscreen")).to_have_text(text)
    assert api.state()["event"]["on_screen_question_id"] == question["id"]
    console.locator("#clear-screen").click()
    expect(console.locator("#onscreen")).to_have_text("Nothing on screen")


def test_banning_from_the_console_cuts_the_phone_off(console, api, event, new_context):
    spam = "Buy cheap followers at example.com"
    page = phone(new_context, event)
    page.locator("#issues [role=tab]").nth(4).click()
    page.locator("#ask-text").fill(spam)
    page.locator("#ask button[type=submit]").click()
    expect(page.locator("li", has_text=spam)).to_be_visible()
    show_issue(console, 5)
    expect(console.locator("#queue li[aria-current=true]")).to_contain_text(spam)
    expect(console.locator("#queue li[aria-current=true] .details")).to_contain_text(
        "This asker: 1 question"
    )
    console.keyboard.press("b")
    expect(console.locator("#confirm-dialog")).to_be_visible()
    console.keyboard.press("Enter")
    expect(page.locator("#ask-msg")).to_have_text(
        "The moderator has blocked this device from asking and voting in this event."
    )
    expect(page.locator("#ask-text")).to_be_disabled()

    console.locator("#open-bans").click()
    expect(console.locator("#bans-list li")).to_have_count(1)
    expect(console.locator("#bans-list")).to_contain_text(spam)
    console.locator("#bans-list").get_by_role("button", name="Unban").click()
    expect(console.locator("#bans-list li")).to_have_count(0)
    console.keyboard.press("Escape")


def test_a_blocklisted_question_is_held_and_never_reaches_the_screen(
    console, event, new_context, browser
):
    held = "Is the cluster fund a scamola for insiders?"
    console.locator("#open-blocklist").click()
    console.locator("#blocklist-phrases").fill("scamola")
    console.locator("#blocklist-dialog").get_by_role("button", name="Save").click()
    expect(console.locator("#toast-text")).to_have_text("Saved")
    screen = browser.new_context(**PROJECTOR).new_page()
    try:
        screen.goto(event["urls"]["screen"])
        page = phone(new_context, event)
        page.locator("#issues [role=tab]").nth(4).click()
        page.locator("#ask-text").fill(held)
        page.locator("#ask button[type=submit]").click()
        expect(page.locator("li", has_text=held)).to_contain_text("Awaiting review")
        show_issue(console, 5, "pending")
        expect(row(console, held)).to_contain_text(re.compile(r"Held: .*scamola", re.I))
        console.keyboard.press("s")  # one press: not on screen
        expect(console.locator("#onscreen")).to_have_text("Nothing on screen")
        expect(screen.locator("body")).not_to_contain_text(held)
    finally:
        screen.context.close()


def test_a_russian_paraphrase_is_suggested_as_a_duplicate(console, api, issues):
    original = api.ask(
        api.participant(), issues[0]["id"], "Как удержать молодых инженеров в кластере?"
    )
    api.ask(api.participant(), issues[0]["id"], "Как кластеру удержать молодых инженеров?")
    show_issue(console, 1)
    suggestion = row(console, "Как кластеру удержать").locator(".badge.dup")
    expect(suggestion).to_contain_text(f"Possible duplicate of #{original['id']}")


def test_one_key_merges_into_the_suggested_duplicate(console, api, issues):
    """Shift+M on a row with a "possible duplicate of" suggestion merges it into that question:
    one row fewer, and the target has the union of both questions' voters."""
    original = "Who will pay for the cluster's new export office?"
    again = "Who pays for the new export office of the cluster?"
    tokens = [api.participant() for _ in range(5)]
    target = api.ask(tokens[0], issues[5]["id"], original)
    dup = api.ask(tokens[1], issues[5]["id"], again)
    for token in tokens[2:4]:
        vote(api, token, target["id"])  # 2 votes
    for token in (tokens[2], tokens[4]):
        vote(api, token, dup["id"])  # 2 votes, one of them by a voter of both: the union is 3
    show_issue(console, 6)
    expect(console.locator("#queue li")).to_have_count(2)
    suggestion = row(console, again).locator(".badge.dup")
    expect(suggestion).to_have_text(f"Possible duplicate of #{target['id']}: {original}")
    row(console, again).locator(".q-text").click()
    expect(row(console, again)).to_have_attribute("aria-current", "true")

    console.keyboard.press("Shift+M")
    expect(console.locator("#queue li")).to_have_count(1)
    expect(row(console, original).locator(".votes")).to_contain_text("3")
    expect(console.locator("#toast-text")).to_have_text("Merged 1 question · Undo (z)")
    state = {q["id"]: q for q in api.state()["questions"]}
    assert state[target["id"]]["votes"] == 3
    assert state[dup["id"]]["status"] == "merged"


def test_merging_with_the_pointer_checkboxes_and_shift_click(console, api, issues):
    """Pick questions with a row's checkbox and with Shift+click, then "Merge into…" and the
    dialog's own button: the picked rows go, the target keeps one vote per voter."""
    keep = "Which cluster equipment can members book, and how?"
    picked = ["Can a start-up use the cluster's lab at night?", "Who pays when shared kit breaks?"]
    tokens = [api.participant() for _ in range(5)]
    target = api.ask(tokens[0], issues[6]["id"], keep)
    others = [api.ask(tokens[1 + i], issues[6]["id"], text) for i, text in enumerate(picked)]
    for token in tokens[:3]:
        vote(api, token, target["id"])  # 3 votes
    vote(api, tokens[0], others[0]["id"])  # a voter of the target too
    vote(api, tokens[3], others[0]["id"])
    vote(api, tokens[4], others[1]["id"])  # the union: tokens 0-4, 5 voters
    show_issue(console, 7)
    expect(console.locator("#queue li")).to_have_count(3)
    expect(console.locator("#marked")).to_be_hidden()

    row(console, picked[0]).get_by_role("checkbox", name="Select for merging").check()
    expect(console.locator("#marked-n")).to_have_text("1 question selected")
    row(console, picked[1]).locator(".q-text").click(modifiers=["Shift"])
    expect(console.locator("#marked-n")).to_have_text("2 questions selected")
    expect(row(console, picked[1]).get_by_role("checkbox")).to_be_checked()
    console.locator("#marked").get_by_role("button", name="Merge into…").click()
    dialog = console.locator("#merge-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#merge-what")).to_contain_text("2 questions will be merged")
    dialog.get_by_label("Keep this question").select_option(str(target["id"]))
    dialog.get_by_role("button", name="Merge", exact=True).click()

    expect(dialog).to_be_hidden()
    expect(console.locator("#queue li")).to_have_count(1)
    expect(row(console, keep).locator(".votes")).to_contain_text("5")
    expect(console.locator("#toast-text")).to_have_text("Merged 2 questions · Undo (z)")
    expect(console.locator("#marked")).to_be_hidden()
    state = {q["id"]: q for q in api.state()["questions"]}
    assert state[target["id"]]["votes"] == 5
    assert [state[q["id"]]["status"] for q in others] == ["merged", "merged"]


def test_changing_the_addressee_shows_on_the_phone_and_the_screen(
    console, api, issues, event, new_context
):
    text = "What should the ministry change first in the cluster programme?"
    speakers = {s["name"]: s["id"] for s in api.state()["speakers"]}
    question = api.ask(
        api.participant(), issues[7]["id"], text, addressed_to=speakers["Andrey Antonov"]
    )
    page = phone(new_context, event)
    page.locator("#issues [role=tab]").nth(7).click()
    card = page.locator("#questions li", has_text=text)
    expect(card.locator(".to")).to_have_text("→ Andrey Antonov")
    screen = new_context(**PROJECTOR).new_page()
    screen.goto(event["urls"]["screen"])
    show_issue(console, 8)
    expect(console.locator("#queue li[aria-current=true]")).to_contain_text(text)
    console.keyboard.press("s")
    expect(screen.locator("#quote")).to_have_text(text)
    expect(screen.locator("#by .to")).to_have_text("to Andrey Antonov")

    addressee = row(console, text).get_by_label("Addressed to")
    addressee.select_option(label="Artem Zdunov")
    expect(console.locator("#toast-text")).to_have_text("Addressee changed · Undo (z)")
    expect(row(console, text).locator(".q-meta .to")).to_have_text("→ Artem Zdunov")
    expect(card.locator(".to")).to_have_text("→ Artem Zdunov")
    expect(screen.locator("#by .to")).to_have_text("to Artem Zdunov")
    assert (
        next(q for q in api.state()["questions"] if q["id"] == question["id"])["addressed_to"]
        == speakers["Artem Zdunov"]
    )

    addressee.select_option(label="All panelists")  # to nobody in particular
    expect(card.locator(".to")).to_have_count(0)
    expect(screen.locator("#by .to")).to_have_count(0)
    expect(screen.locator("#quote")).to_have_text(text)
    console.locator("#clear-screen").click()
    expect(console.locator("#onscreen")).to_have_text("Nothing on screen")


def test_by_default_the_toast_offers_undo_for_10_seconds(api, issues, event, new_context):
    """QA_UNDO_SECONDS is 10 by default: the toast offers undo for 10 seconds, and the keys'
    help says so. The page's clock is Playwright's, moved on by hand (no waiting 10 s); its time
    flows too while the test works, so the first check leaves the machine 3 s of it."""
    text = "Is ten seconds enough to change one's mind?"
    api.ask(api.participant(), issues[7]["id"], text)
    page = new_context(**LAPTOP).new_page()
    page.clock.install()
    page.goto(event["urls"]["moderator"])
    expect(page.locator("#conn")).to_have_text("Live")
    show_issue(page, 8)
    row(page, text).locator(".q-text").click()
    expect(row(page, text)).to_have_attribute("aria-current", "true")
    page.keyboard.press("d")
    expect(row(page, text)).to_have_count(0)
    undo = page.locator("#toast").get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    page.clock.run_for(7_000)
    assert undo.is_visible()
    page.clock.run_for(3_100)
    assert page.locator("#toast").is_hidden()
    page.keyboard.press("?")
    expect(page.locator("#keys")).to_contain_text("Undo the last action (for 10 seconds)")
