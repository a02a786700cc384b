"""The projector at 1920x1080, read from the back row of a 20 m hall: the measured letter heights
of the question on screen, the top questions and the join code, the QR code's size, the join link
kept whole, the join slide switched from the console, the answered state and the issue clock.

The rule (README, "The projector"): 1 inch of letter height per 10 feet of distance; a 4 m wide
image for 1920 px is 2.08 mm a pixel, so the back row (20 m) needs capitals of 80 px, the middle
of the hall (10 m) 40 px; a QR code scans from about 10 times its side. The top questions keep
the back-row size: fewer, each clamped to two lines with an ellipsis. The question on screen is
never cut: at the back-row size when it fits, else it takes the column and shrinks, not below the
middle of the hall's size, else it shows a screenful at a time ("1/3"). The sizes measured are
written to test-artifacts/projector.json."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import EVENT, LAPTOP, PROJECTOR, ROOT, Api, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

HEIGHT = PROJECTOR["viewport"]["height"]
MM_PER_PX = 4000 / 1920
BACK_ROW_PX = 80  # 20 m = 65.6 ft -> 6.56 in = 167 mm -> 80 px
MIDDLE_PX = 40  # 10 m -> 83 mm -> 40 px
ON_SCREEN = "Which clusters are ready to go international this year?"
HUNDRED = (  # about 100 characters: whole at the back-row size once the top list gives way
    "How will the regional clusters keep their best engineers when the capital pays them twice "
    "as much?"
)
TOP = [
    "How do we keep engineers from moving to the capital?",
    "What should the state stop doing first?",
    "Which region has the best cluster manager?",
]
LONG_RU = (
    "Как региональным кластерам удержать квалифицированных инженеров и молодых исследователей, "
    "если зарплаты в столице в полтора-два раза выше, а жильё и инфраструктура в регионах "
    "развиваются медленнее, и какие меры поддержки, по мнению панели, реально работают?"
)  # just under the default limit of 300 characters
LONG_EN = [  # top questions of two lines and more at the back-row size
    "How should a regional cluster share its laboratories with the companies of other regions?",
    "What did the panel's clusters learn from their first year of export support programmes?",
    "Is a cluster manager a civil servant, a consultant or an entrepreneur, in your experience?",
    "Short one?",
]
LONG_1500 = " ".join(  # a long question, up to the limit an organiser may set (2000)
    [
        "Our cluster has grown from twelve to forty companies in five years, and most of the "
        "growth came from small engineering firms that started around the university.",
        "They now compete for the same people as the large plants, and the large plants pay more, "
        "so the small firms train engineers who then leave within two years.",
        "We tried a shared training centre, paid for by the regional budget and by the members, "
        "but the large plants send most of the students and keep most of the graduates.",
        "We also tried housing for young specialists, which helped for a while, until the rents "
        "in the city caught up with the salaries and the waiting list grew longer than the queue.",
        "The federal programmes we know of support either research or exports, and neither of "
        "them pays for the people a small firm needs to keep before it can do either of those.",
        "So my question to the panel has three parts.",
        "First, which measures have actually kept engineers in your regions for more than five "
        "years, and how did you measure that, if you did?",
        "Second, should a cluster share its people between its members, for example through a "
        "common pool of specialists who work for several firms, or does that only help the "
        "largest members again?",
        "Third, what would you ask the state to stop doing, or to do differently, so that a small "
        "firm in a region can keep an engineer it has trained, instead of training one for the "
        "capital every two years?",
        "Thank you, and sorry for the long question: our members raise it at every meeting.",
    ]
)
FIGURES: dict = {}

# The height of a capital H in the element's own font, by the canvas's text metrics.
CAP = """(el) => {
  const style = getComputedStyle(el);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const box = el.getBoundingClientRect();
  return { cap: ctx.measureText("H").actualBoundingBoxAscent, font: parseFloat(style.fontSize),
           top: box.top, bottom: box.bottom, width: box.width, height: box.height };
}"""


def measure(locator) -> dict:
    """Cap height and font size (px) and box of an element's text."""
    return {k: round(v, 1) for k, v in locator.evaluate(CAP).items()}


# How the element's text is set: its lines, and whether some is cut off (by its line clamp, which
# draws the ellipsis).
LINES = """(el) => {
  const style = getComputedStyle(el);
  return { lines: Math.round(el.clientHeight / parseFloat(style.lineHeight)),
           clamp: style.webkitLineClamp, cut: el.scrollHeight > el.clientHeight + 1 };
}"""


def set_as(locator) -> dict:
    """{lines, clamp, cut} of an element's text."""
    return locator.evaluate(LINES)


def clamped(locator) -> bool:
    """The text is cut off with an ellipsis: clamped to its lines, and there is more."""
    text = set_as(locator)
    return text["cut"] and text["clamp"] not in ("none", "", "0")


# Which words of the question on screen a person sees: a word is shown when nine tenths of it are
# inside the room the stage gives it (its window, the stage, the screen), hidden when nine tenths
# are outside it, otherwise cut.
SEEN = """() => {
  const quote = document.getElementById("quote");
  const clip = ["quote-window", "stage"]
    .map((id) => document.getElementById(id).getBoundingClientRect())
    .reduce((a, b) => ({ top: Math.max(a.top, b.top), bottom: Math.min(a.bottom, b.bottom),
                         left: Math.max(a.left, b.left), right: Math.min(a.right, b.right) }),
            { top: 0, bottom: innerHeight, left: 0, right: innerWidth });
  const text = quote.firstChild;
  const shown = [], cut = [];
  let words = 0;
  for (const match of text.textContent.matchAll(/\\S+/g)) {
    const range = document.createRange();
    range.setStart(text, match.index);
    range.setEnd(text, match.index + match[0].length);
    let area = 0, inside = 0;
    for (const box of range.getClientRects()) {
      const w = Math.max(0, Math.min(box.right, clip.right) - Math.max(box.left, clip.left));
      const h = Math.max(0, Math.min(box.bottom, clip.bottom) - Math.max(box.top, clip.top));
      area += box.width * box.height;
      inside += w * h;
    }
    const share = area ? inside / area : 0;
    if (share >= 0.9) shown.push(words);
    else if (share > 0.1) cut.push(words);
    words += 1;
  }
  const pages = document.getElementById("pages");
  return { words, shown, cut, pages: pages.hidden ? null : pages.textContent };
}"""


def seen(page) -> dict:
    """{words, shown: [word index], cut: [word index], pages: "1/3" or None} of the question."""
    return page.evaluate(SEEN)


def whole(page) -> bool:
    """The question on screen is shown whole, on one screen: every word, none cut, no pages."""
    words = seen(page)
    return words["pages"] is None and not words["cut"] and len(words["shown"]) == words["words"]


def settled(page) -> None:
    """No fade or slide under way."""
    page.wait_for_function("() => document.getAnimations().length === 0")


def on_screen(events, new_context, text: str, language="en", clock=False, **settings):
    """A new event with that question on screen and a short one in the top list; its screen, at
    rest (clock: the page's timers run on Playwright's clock, to move it on)."""
    created = events.create(language=language)
    api = Api(events.server, created)
    if settings:
        api.settings(**settings)
    short = "Короткий вопрос о кластерах?" if language == "ru" else "A short one?"
    asked = ask_all(api, [text, short], [3, 1])
    api.call("PUT", f"/events/{created['code']}/screen", body={"question_id": asked[0]["id"]})
    page = new_context(**PROJECTOR).new_page()
    if clock:
        page.clock.install()
    page.goto(created["urls"]["screen"] + f"?lang={language}")
    expect(page.locator("#quote")).to_have_text(text)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    settled(page)
    return page


def record(name: str, figures: dict) -> None:
    """Add figures to test-artifacts/projector.json."""
    FIGURES[name] = figures
    path = ROOT / "test-artifacts" / "projector.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(FIGURES, indent=2, ensure_ascii=False) + "\n")


def fits(page) -> bool:
    """Nothing on the screen overflows it or its stage."""
    return page.evaluate(
        """() => {
          const s = document.querySelector("#stage");
          const card = document.querySelector("#join-card").getBoundingClientRect();
          const inside = [...document.querySelectorAll("#join-card *")].every((el) => {
            const box = el.getBoundingClientRect();
            return box.width === 0 || (box.right <= Math.min(card.right, innerWidth) + 1
              && box.bottom <= Math.min(card.bottom, innerHeight) + 1);
          });
          return inside && document.documentElement.scrollHeight <= innerHeight
            && document.documentElement.scrollWidth <= innerWidth
            && s.scrollHeight <= s.clientHeight + 1
            && s.getBoundingClientRect().bottom <= innerHeight;
        }"""
    )


def ask_all(api: Api, texts: list[str], votes: list[int]) -> list[dict]:
    """Ask the questions (live), with that many votes each."""
    issue = api.state()["issues"][0]["id"]
    asker = api.participant()
    asked = [api.ask(asker, issue, text, author_name="Maria") for text in texts]
    for question, n in zip(asked, votes, strict=True):
        for _ in range(n):
            api.call("PUT", f"/questions/{question['id']}/vote", api.participant())
    return asked


@pytest.fixture(scope="module")
def hall(events):
    """An event with a question on screen and three more below it; its clock runs now."""
    now = datetime.now().replace(microsecond=0)
    created = events.create(
        starts_at=(now - timedelta(minutes=5)).isoformat(),
        ends_at=(now + timedelta(minutes=55)).isoformat(),
    )  # five issues of 12 minutes: about 7 minutes left of the first one
    api = Api(events.server, created)
    asked = ask_all(api, [ON_SCREEN, *TOP], [9, 7, 4, 2])
    api.call("PUT", f"/events/{created['code']}/screen", body={"question_id": asked[0]["id"]})
    return created | {"api": api, "asked": asked, "ends_first_issue": now + timedelta(minutes=7)}


@pytest.fixture
def screen(hall, new_context):
    api = hall["api"]  # the questions, whatever a test before left on
    api.call("PUT", f"/events/{hall['code']}/screen-mode", body={"mode": "questions"})
    page = new_context(**PROJECTOR).new_page()
    page.goto(hall["urls"]["screen"])
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    return page


def test_the_question_the_top_list_and_the_code_read_from_the_back_row(screen):
    expect(screen.locator("#quote")).to_have_text(ON_SCREEN)
    screen.wait_for_function("() => document.getAnimations().length === 0")
    # the question keeps the back-row size, whole; the top questions below it too, or none
    quote = measure(screen.locator("#quote"))
    tops = [measure(li) for li in screen.locator("#top li:visible .text").all()]
    code = measure(screen.locator("#join-code"))
    url = measure(screen.locator("#join-url"))
    qr = screen.locator("svg.qr").bounding_box()
    assert quote["cap"] >= BACK_ROW_PX and whole(screen), (quote, seen(screen))
    assert all(t["cap"] >= BACK_ROW_PX for t in tops), tops
    assert code["cap"] > quote["cap"], (code, quote)
    # the QR code: 46% of the screen's height, about 1 m on a 4 m wide image: ~10 m away
    assert qr["width"] == qr["height"] >= 0.44 * HEIGHT, qr
    assert all(t["bottom"] <= HEIGHT for t in tops) and fits(screen)
    # the link is whole: the host and the code each on one line; the invitation once
    for part in screen.locator("#join-url .seg").all() + [screen.locator("#join-code")]:
        assert part.evaluate("(el) => el.getClientRects().length") == 1
    assert screen.locator("body").inner_text().count("Ask your questions at") == 1
    screenshot(screen, "projector-question-1920x1080")
    record(
        "question",
        {
            "rule": "1 inch of letter height per 10 feet; 4 m wide image, 2.08 mm per px",
            "question_cap_px": quote["cap"],
            "question_font_px": quote["font"],
            "top_questions_shown_under_it": len(tops),
            "join_code_cap_px": code["cap"],
            "join_code_font_px": code["font"],
            "join_link_cap_px": url["cap"],
            "qr_side_px": round(qr["width"]),
            "qr_share_of_height": round(qr["width"] / HEIGHT, 3),
            "qr_side_m": round(qr["width"] * MM_PER_PX / 1000, 2),
            "qr_scans_from_m": round(qr["width"] * MM_PER_PX / 100, 1),
            "readable_from_m": {
                name: round(figure * MM_PER_PX / 25.4 * 10 * 0.3048, 1)
                for name, figure in [("question", quote["cap"]), ("join_code", code["cap"])]
            },
        },
    )


def test_a_question_of_a_hundred_characters_shows_whole_at_the_back_row_size(events, new_context):
    page = on_screen(events, new_context, HUNDRED)
    quote = measure(page.locator("#quote"))
    assert quote["cap"] >= BACK_ROW_PX and whole(page) and fits(page), (quote, seen(page))
    # it took the column: the top list gave way
    expect(page.locator("#top-box")).to_be_hidden()
    screenshot(page, "projector-100-characters-1920x1080")
    record("question_of_100_characters", {"characters": len(HUNDRED), "cap_px": quote["cap"]})


def test_a_long_russian_question_shows_whole(events, new_context):
    page = on_screen(events, new_context, LONG_RU, language="ru")
    assert fits(page)
    # the top list gives way, then the question shrinks, not below the middle of the hall's size
    expect(page.locator("#top-box")).to_be_hidden()
    quote = measure(page.locator("#quote"))
    assert MIDDLE_PX <= quote["cap"] < BACK_ROW_PX, quote
    assert whole(page), seen(page)  # every word, none cut off, on one screen
    assert page.locator("body").inner_text().count("Задавайте вопросы на") == 1
    screenshot(page, "projector-long-russian-1920x1080")
    record(
        "long_russian_question",
        {
            "characters": len(LONG_RU),
            "cap_px": quote["cap"],
            "font_px": quote["font"],
            "readable_from_m": round(quote["cap"] * MM_PER_PX / 25.4 * 3.048, 1),
        },
    )


def test_a_long_question_fits_when_the_join_slide_goes_off(events, new_context):
    created = events.create(language="ru")
    api = Api(events.server, created)
    asked = ask_all(api, [LONG_RU], [1])
    api.call("PUT", f"/events/{created['code']}/screen", body={"question_id": asked[0]["id"]})
    api.call("PUT", f"/events/{created['code']}/screen-mode", body={"mode": "join"})
    page = new_context(**PROJECTOR).new_page()
    page.goto(created["urls"]["screen"] + "?lang=ru")  # opened under the join slide
    expect(page.locator("#app")).to_have_class(re.compile(r"\bmode-join\b"))
    api.call("PUT", f"/events/{created['code']}/screen-mode", body={"mode": "questions"})
    expect(page.locator("#quote")).to_be_visible()
    settled(page)
    assert whole(page) and fits(page), seen(page)
    assert measure(page.locator("#quote"))["cap"] >= MIDDLE_PX


def test_a_question_too_long_for_one_screen_shows_a_screenful_at_a_time(events, new_context):
    page = on_screen(events, new_context, LONG_1500, clock=True, max_question_length=2000)
    assert fits(page)
    quote = measure(page.locator("#quote"))
    assert quote["cap"] >= MIDDLE_PX, quote  # the smallest size, no smaller
    first = seen(page)
    count = int(first["pages"].split("/")[1])
    assert first["pages"] == f"1/{count}" and count >= 2, first
    screenshot(page, "projector-long-question-page-1-1920x1080")
    # page by page, the whole question: no word cut off, each shown on some page; each page
    # stays 8 s at least (long enough to read it out), then the next one, then the first again
    shown, words_a_page, seconds_a_page = set(), [], []
    for n in [*range(1, count + 1), 1]:
        expect(page.locator("#pages")).to_have_text(f"{n}/{count}")
        expect(page.locator("#pages")).to_be_visible()
        settled(page)
        words = seen(page)
        assert not words["cut"], (n, words)
        shown |= set(words["shown"])
        words_a_page.append(len(words["shown"]))
        seconds = 0
        while page.locator("#pages").text_content() == f"{n}/{count}" and seconds < 120:
            page.clock.run_for(1000)
            seconds += 1
        seconds_a_page.append(seconds)
    assert shown == set(range(first["words"])), sorted(set(range(first["words"])) - shown)
    assert all(8 <= seconds < 120 for seconds in seconds_a_page), seconds_a_page
    record(
        "question_of_1500_characters",
        {
            "characters": len(LONG_1500),
            "cap_px": quote["cap"],
            "font_px": quote["font"],
            "pages": count,
            "words_a_page": words_a_page[:-1],
            "seconds_a_page": seconds_a_page[:-1],
        },
    )


def test_the_top_questions_read_from_the_back_row_fewer_and_clamped(events, new_context):
    created = events.create()
    api = Api(events.server, created)
    ask_all(api, LONG_EN, [6, 5, 4, 3])  # nothing on screen: the top list has the column
    page = new_context(**PROJECTOR).new_page()
    page.goto(created["urls"]["screen"])
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    shown = page.locator("#top li:visible")
    expect(shown.first).to_have_text(re.compile(re.escape(LONG_EN[0][:40])))
    assert 1 <= shown.count() <= 3 and fits(page), shown.count()  # the fourth is left out
    texts = shown.locator(".text").all()
    tops = [measure(text) for text in texts]
    assert all(t["cap"] >= BACK_ROW_PX and t["bottom"] <= HEIGHT for t in tops), tops
    # each in at most two lines; a longer one ends in an ellipsis
    assert all(set_as(text)["lines"] <= 2 and clamped(text) for text in texts)
    screenshot(page, "projector-top-questions-1920x1080")
    record(
        "top_questions",
        {
            "cap_px": min(t["cap"] for t in tops),
            "font_px": tops[0]["font"],
            "shown": len(tops),
            "lines_each_at_most": 2,
            "readable_from_m": round(min(t["cap"] for t in tops) * MM_PER_PX / 25.4 * 3.048, 1),
        },
    )


def test_the_join_slide_goes_on_and_off_from_the_console(hall, screen, new_context):
    console = new_context(**LAPTOP).new_page()
    console.goto(hall["urls"]["moderator"])
    switch = console.get_by_role("switch", name="Join slide")
    expect(switch).to_be_enabled()
    switch.check()
    expect(screen.locator("#app")).to_have_class(re.compile(r"\bmode-join\b"))
    expect(screen.locator("#stage")).to_be_hidden()
    qr = screen.locator("svg.qr").bounding_box()
    code = measure(screen.locator("#join-code"))
    url = measure(screen.locator("#join-url"))
    assert qr["height"] >= 0.8 * HEIGHT and code["cap"] >= 1.5 * BACK_ROW_PX, (qr, code)
    assert url["cap"] >= MIDDLE_PX and fits(screen), url
    for part in screen.locator("#join-url .seg").all() + [screen.locator("#join-code")]:
        assert part.evaluate("(el) => el.getClientRects().length") == 1
    assert screen.locator("body").inner_text().count("Ask your questions at") == 1
    screenshot(screen, "projector-join-slide-1920x1080")
    record(
        "join_slide",
        {
            "qr_side_px": round(qr["width"]),
            "qr_share_of_height": round(qr["width"] / HEIGHT, 3),
            "qr_scans_from_m": round(qr["width"] * MM_PER_PX / 100, 1),
            "join_code_cap_px": code["cap"],
            "join_link_cap_px": url["cap"],
        },
    )
    switch.uncheck()
    expect(screen.locator("#app")).to_have_class(re.compile(r"\bmode-questions\b"))
    expect(screen.locator("#quote")).to_have_text(ON_SCREEN)
    log = hall["api"].call("GET", f"/events/{hall['code']}/log")["actions"]
    assert [a["detail"]["mode"] for a in log if a["action"] == "screen_mode"][:2] == [
        "questions",
        "join",
    ]


def remaining(hall) -> float:
    """Seconds left of the hall's first issue now."""
    return (hall["ends_first_issue"] - datetime.now()).total_seconds()


def minutes_of(left: float) -> str:
    """A regex alternative of the minutes a clock may show with about left seconds to go (a
    minute of slack for the steps in between)."""
    return "|".join(str(m) for m in sorted({int(left - 60) // 60, int(left) // 60}))


def left_seconds(text: str) -> int:
    minutes, seconds = text.split(":")[-2:]
    return int(minutes) * 60 + int(seconds)


def test_the_clock_counts_down_the_issue_and_follows_the_moderator(hall, screen, new_context):
    console = new_context(**LAPTOP).new_page()
    console.goto(hall["urls"]["moderator"])
    expect(screen.locator("#clock")).to_be_hidden()
    console.get_by_role("switch", name="Clock").check()
    clock = screen.locator("#clock-time")
    expect(clock).to_be_visible()
    expect(screen.locator("#clock-label")).to_have_text("Time left for this issue")
    # what is left of the first issue by now (the module's earlier tests took some of it), just
    # before and just after the clock is read; the screen shows whole seconds, rounded up, by its
    # estimate of the server's clock, so it may be up to two seconds ahead of the first figure
    before = remaining(hall)
    first = left_seconds(clock.inner_text())
    left = remaining(hall)
    assert left - 60 < first <= before + 2, (first, before)
    expect(console.locator("#clock-left")).to_contain_text(
        re.compile(rf"^({minutes_of(left)}):\d\d left$")
    )
    digits = measure(clock)
    assert screen.locator("#clock").bounding_box()["y"] + screen.locator("#clock").bounding_box()[
        "height"
    ] <= HEIGHT and fits(screen)
    console.get_by_role("button", name="+5 min for this issue").click()
    left = remaining(hall) + 5 * 60
    expect(clock).to_have_text(re.compile(rf"^({minutes_of(left)}):\d\d$"))
    assert left - 60 < left_seconds(clock.inner_text()) <= left + 2
    console.get_by_role("button", name="−5 min for this issue").click()
    expect(clock).to_have_text(re.compile(rf"^({minutes_of(remaining(hall))}):\d\d$"))
    screenshot(screen, "projector-clock-1920x1080")
    console.get_by_role("switch", name="Clock").uncheck()
    expect(screen.locator("#clock")).to_be_hidden()
    record("clock", {"digits_cap_px": digits["cap"], "left_s_at_start": first})


def test_without_programme_times_the_console_says_there_is_no_clock(events, new_context):
    created = events.create(starts_at=None, ends_at=None)
    console = new_context(**LAPTOP).new_page()
    console.goto(created["urls"]["moderator"])
    expect(console.locator("#clock-none")).to_have_text(
        "No clock: the programme has no start and end times"
    )
    expect(console.get_by_role("switch", name="Clock")).to_be_disabled()
    expect(console.get_by_role("button", name="+5 min for this issue")).to_be_hidden()


def test_an_answered_question_leaves_the_screen_marked_answered(hall, screen):
    shown = hall["asked"][0]
    expect(screen.locator("#quote")).to_have_text(ON_SCREEN)
    hall["api"].moderate(shown["id"], status="answered")
    expect(screen.locator("#answered-mark")).to_be_visible()
    expect(screen.locator("#answered-mark")).to_have_text("✓ Answered")
    expect(screen.locator("#quote")).to_have_text(ON_SCREEN)
    screenshot(screen, "projector-answered-1920x1080")
    # then the stage gives its room to the top list, where the answered one is not
    expect(screen.locator("#stage")).to_be_hidden(timeout=10_000)
    expect(screen.locator("#top li", has_text=ON_SCREEN)).to_have_count(0)
    expect(screen.locator("#top li:visible")).to_have_count(len(TOP))
    assert EVENT["issues"][0] in screen.locator("#issue").inner_text()
