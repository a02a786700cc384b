"""The organiser's events in real browsers: the /admin list (date, status, numbers, search,
filter), an issue renamed while a phone is open (the phone shows it at once), archive (the phone
says it is read-only), delete with the code typed as confirmation, the event page's download of
the event file that `qa-app create-event` imports, and the pasted programme's preview: readable
dates, corrected before Create, a warning before creating it twice (and an uploaded file's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from .conftest import EVENT, LAPTOP, PHONE, Api

pytestmark = [pytest.mark.browser, pytest.mark.live]

PROGRAMME = Path(__file__).parents[1] / "data" / "programmes" / "seed_en.txt"
ARCHIVED = "This event is archived: it is read-only. Asking and voting are closed for good."


@pytest.fixture(scope="module")
def organiser(server):
    """The organiser's account on the module's server."""
    server.cli("create-admin", "organiser", "--password", "correct horse")


def log_in(page, server, code: str | None = None) -> None:
    """Log in at /admin (in English); open an event's own page from the list when code is given."""
    page.goto(server.url + "/admin/login?lang=en")
    page.locator("#name").fill("organiser")
    page.locator("#password").fill("correct horse")
    page.locator("button[type=submit]").click()
    expect(page.locator(".event-list")).to_be_visible()
    if code:
        page.locator(f'.event-item[data-event="{code}"] h2 a').click()
        expect(page.locator(f'.event-row[data-code="{code}"]')).to_be_visible()
    page.wait_for_load_state()  # admin.js (a module: run before DOMContentLoaded) is listening


def test_the_list_shows_date_status_numbers_and_searches(organiser, events, server, new_context):
    panel = events.create()
    evening = events.create(title="Evening round", venue="Hall B", starts_at=None, ends_at=None)
    api = Api(server, panel)
    token = api.participant()
    issue = api.state()["issues"][0]["id"]
    question = api.ask(token, issue, "Who pays for the cluster?")
    api.call("PUT", f"/questions/{question['id']}/vote", token)

    page = new_context(**LAPTOP).new_page()
    log_in(page, server)
    item = page.locator(f'.event-item[data-event="{panel["code"]}"]')
    expect(item.locator(".when")).to_have_text("Thu 12 Jan 2017, 15:30–17:30")
    expect(item.locator(".status")).to_have_text("Ended")
    expect(item.locator("[data-n]")).to_have_text(["1", "1", "1"])
    other = page.locator(f'.event-item[data-event="{evening["code"]}"]')
    expect(other.locator(".status")).to_have_text("Live")  # no times: live until archived
    expect(other.locator("[data-n]")).to_have_text(["0", "0", "0"])

    page.get_by_placeholder("Search by title, venue or code").fill("hall b")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".event-item")).to_have_count(1)
    expect(page.locator(".event-item h2 a")).to_have_text("Evening round")
    page.goto(f"{server.url}/admin/?status=ended")  # the filter lives in the link
    expect(page.locator(f'.event-item[data-event="{panel["code"]}"]')).to_be_visible()
    expect(page.locator(f'.event-item[data-event="{evening["code"]}"]')).to_have_count(0)


def test_a_renamed_issue_reaches_the_open_phone_then_archive_closes_it(
    organiser, events, server, new_context
):
    event = events.create()
    phone = new_context(**PHONE).new_page()
    phone.goto(event["urls"]["audience"] + "?lang=en")
    expect(phone.locator("#conn")).to_have_text("Live")
    expect(phone.locator("#issue-title")).to_contain_text("global champions")

    admin = new_context(**LAPTOP).new_page()
    log_in(admin, server, event["code"])
    form = admin.locator("[data-programme]")
    form.get_by_label("Issue 1").fill("Who will be our global champions?")
    form.get_by_role("button", name="Save the programme").click()
    expect(form.locator(".row .msg")).to_have_text("Saved")
    expect(phone.locator("#issue-title")).to_contain_text("Who will be our global champions?")

    admin.get_by_role("button", name="Archive this event").click()
    expect(admin.locator(".event-row .status")).to_have_text("Archived")
    expect(phone.locator("#ask-msg")).to_have_text(ARCHIVED)
    expect(phone.locator("#ask-text")).to_be_disabled()
    newcomer = new_context(**PHONE).new_page()
    newcomer.goto(event["urls"]["audience"] + "?lang=en")
    expect(newcomer.locator(".archived-note")).to_contain_text("archived")
    expect(newcomer.locator("#ask-msg")).to_have_text(ARCHIVED)
    expect(newcomer.locator("#issue-title")).to_contain_text("Who will be our global champions?")


def test_delete_needs_the_code_typed(organiser, events, server, new_context):
    event = events.create(title="A panel to forget")
    page = new_context(**LAPTOP).new_page()
    log_in(page, server, event["code"])
    zone = page.locator("[data-delete]")
    zone.get_by_label(f"Type the event code {event['code']} to confirm").fill("NOPE")
    zone.get_by_role("button", name="Delete this event").click()
    expect(zone.locator(".msg")).to_have_text("Type the event's code exactly to delete it.")
    zone.get_by_label(f"Type the event code {event['code']} to confirm").fill(event["code"])
    zone.get_by_role("button", name="Delete this event").click()
    expect(page.locator("#deleted")).to_have_text(f"The event {event['code']} was deleted.")
    expect(page.locator(f'.event-item[data-event="{event["code"]}"]')).to_have_count(0)
    gone = requests.get(f"{server.url}/api/v1/events/{event['code']}", timeout=10)
    assert gone.status_code == 404


def test_the_event_page_downloads_the_event_file_for_another_server(
    organiser, events, server, new_context, tmp_path
):
    """Its link, labelled apart from the questions' export, downloads the full event file, and
    `qa-app create-event` makes a new event of it, with its question and vote."""
    event = events.create(title="A panel to move")
    code, api = event["code"], Api(server, event)
    token = api.participant()
    question = api.ask(token, api.state()["issues"][0]["id"], "Will the questions move too?")
    api.call("PUT", f"/questions/{question['id']}/vote", token)

    page = new_context(**LAPTOP).new_page()
    log_in(page, server, code)
    link = page.get_by_role("link", name="Download event file (for another server)")
    expect(link).to_have_attribute("href", f"/api/v1/events/{code}/export/event.json")
    questions_only = page.get_by_role("link", name="Export questions and log (JSON)")
    expect(questions_only).to_have_attribute("href", f"/api/v1/events/{code}/export.json")
    with page.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename == f"qa-{code}-event.json"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    made = json.loads(server.cli("create-event", str(path), "--json"))
    assert made["code"] != code
    assert (made["imported"]["questions"], made["imported"]["votes"]) == (1, 1)
    copy = requests.get(f"{server.url}/api/v1/events/{made['code']}", timeout=10).json()
    assert copy["event"]["title"] == "A panel to move"
    assert [q["text"] for q in copy["questions"]] == ["Will the questions move too?"]

    page.goto(f"{server.url}/admin/events/{code}?lang=ru")  # and in Russian
    expect(
        page.get_by_role("link", name="Скачать файл мероприятия (для другого сервера)")
    ).to_have_attribute("href", f"/api/v1/events/{code}/export/event.json")


def test_the_preview_reads_dates_is_corrected_and_warns_of_the_same_programme(
    organiser, events, server, new_context
):
    events.create()  # the reference panel: the pasted programme's title and start
    page = new_context(**LAPTOP).new_page()
    log_in(page, server)
    page.locator("#programme").fill(PROGRAMME.read_text(encoding="utf-8"))
    page.locator("#preview").click()
    expect(page.locator("#u-when")).to_have_text("Thu 12 Jan 2017, 15:30–17:30")
    expect(page.locator("#create-error")).to_contain_text("already exists")

    form = page.locator("#understood-form")
    form.get_by_label("Title", exact=True).fill(
        "Cluster management, day two"
    )  # corrected: no longer the same
    form.get_by_label("Ends").fill("2017-01-12T18:00")
    expect(page.locator("#u-when")).to_have_text("Thu 12 Jan 2017, 15:30–18:00")
    page.locator("#create-text").click()
    expect(page.locator("#created")).to_contain_text("Cluster management, day two")
    code = page.locator("#created input").first.input_value().rsplit("/", 1)[-1]
    event = requests.get(f"{server.url}/api/v1/events/{code}", timeout=10).json()["event"]
    assert event["ends_at"] == "2017-01-12T18:00:00"

    page.locator("#preview").click()  # the same programme again, as pasted
    title = "Best Innovation Cluster Management Practices"
    expect(form.get_by_label("Title", exact=True)).to_have_value(title)  # the preview is back
    expect(page.locator("#u-when")).to_have_text("Thu 12 Jan 2017, 15:30–17:30")
    page.locator("#create-text").click()
    expect(page.locator("#create-error")).to_contain_text("create another anyway?")
    expect(page.locator("#created")).to_contain_text("day two")  # nothing new yet
    page.locator("#create-text").click()
    expect(page.locator("#created")).to_contain_text(title)


def test_an_uploaded_file_warns_of_the_same_programme_before_creating(
    organiser, events, server, new_context, tmp_path
):
    """Upload JSON warns as the pasted programme does: an event file with the title (in another
    case and spacing) and start of an existing event creates nothing on the first click; the
    second creates it; the same file once more warns again."""
    existing = events.create(title="Cluster evening")
    upload = tmp_path / "again.json"
    upload.write_text(json.dumps(EVENT | {"title": "  cluster   EVENING "}), encoding="utf-8")

    def twins() -> list[str]:
        """The codes of the events with the reference panel's title and start."""
        query = {"title": "Cluster evening", "starts_at": EVENT["starts_at"]}
        answer = page.request.get(f"{server.url}/api/v1/events/duplicates", params=query)
        return [found["code"] for found in answer.json()["duplicates"]]

    page = new_context(**LAPTOP).new_page()
    log_in(page, server)
    page.locator("#tab-json").click()
    page.locator("#json-file").set_input_files(str(upload))
    page.locator("#create-json").click()
    expect(page.locator("#create-error")).to_contain_text("already exists")
    expect(page.locator("#create-error")).to_contain_text(existing["code"])
    expect(page.locator("#create-error")).to_contain_text("create another anyway?")
    expect(page.locator("#created")).to_be_hidden()
    assert twins() == [existing["code"]]  # nothing created yet

    page.locator("#create-json").click()  # the organiser means it
    expect(page.locator("#created")).to_contain_text("cluster EVENING")
    expect(page.locator("#create-error")).to_be_empty()
    made = page.locator("#created input").first.input_value().rsplit("/", 1)[-1]
    assert twins() == [existing["code"], made]

    page.locator("#create-json").click()  # the same file once more: warned again
    expect(page.locator("#create-error")).to_contain_text(made)
    assert len(twins()) == 2
