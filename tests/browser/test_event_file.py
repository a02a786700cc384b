"""The organiser's "Upload JSON": the documented example file (docs/example-event.json) makes the
event, read on the server as `qa-app create-event` reads it; a file that is not JSON is refused
on the page, naming the problem."""

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect

from tests.test_docs import EXAMPLE

from .conftest import LAPTOP

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_the_example_event_file_uploads_from_admin(server, new_context, tmp_path):
    server.cli("create-admin", "organiser", "--password", "correct horse")
    page = new_context(**LAPTOP).new_page()
    page.goto(server.url + "/admin/login")
    page.locator("#name").fill("organiser")
    page.locator("#password").fill("correct horse")
    page.locator("button[type=submit]").click()
    expect(page.locator("#tab-json")).to_be_visible()
    page.wait_for_load_state()  # admin.js (a module: run before DOMContentLoaded) is listening
    page.locator("#tab-json").click()
    broken = tmp_path / "broken.json"
    broken.write_text('{"title": "T",')
    page.locator("#json-file").set_input_files(str(broken))
    page.locator("#create-json").click()
    expect(page.locator("#create-error")).not_to_be_empty()
    expect(page.locator("#created")).to_be_hidden()

    # the one schema (docs/event-format.md): an issue as an object, a time with an offset
    # become an event; a misspelt field is refused, named
    loose = tmp_path / "loose.json"
    loose.write_text(
        '{"title": "Round table", "issues": [{"title": "Why?"}], "notes": "draft",'
        ' "starts_at": "2017-01-12T15:30:00+03:00"}'
    )
    page.locator("#json-file").set_input_files(str(loose))
    page.locator("#create-json").click()
    expect(page.locator("#create-error")).to_contain_text(
        "The event was not accepted; correct this and try again: notes: is not a field"
    )
    loose.write_text(loose.read_text().replace(' "notes": "draft",', ""))
    page.locator("#json-file").set_input_files(str(loose))
    page.locator("#create-json").click()
    expect(page.locator("#created")).to_contain_text("Round table")

    page.locator("#json-file").set_input_files(str(EXAMPLE))
    page.locator("#create-json").click()
    title = json.loads(EXAMPLE.read_text("utf-8"))["title"]
    expect(page.locator("#created")).to_contain_text(title)
    expect(page.locator("#create-error")).to_be_empty()
    code = page.locator("#created input").first.input_value().rsplit("/", 1)[-1]
    event = requests.get(f"{server.url}/api/v1/events/{code}", timeout=10).json()["event"]
    assert event["title"] == title and event["settings"]["pre_moderation"] is True
