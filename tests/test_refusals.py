"""Refusals the pages put in words by code and details (live.js REFUSALS), never by the English
message: each refusal a person can meet carries the detail the page keys on, and each key has
words of its own, in both languages, documented in docs/protocol.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from qa_app import domain
from qa_app.auth import Actor
from qa_app.errors import DomainError
from qa_app.i18n import JS_STRINGS, TRANSLATIONS, Plural
from qa_app.openapi import error_codes
from qa_app.schemas import (
    AskIn,
    MergeIn,
    ModerateIn,
    SeatIn,
    SettingsIn,
    ShowIn,
    UndoIn,
    VoteIn,
)
from tests.conftest import make_event, make_participant, moderator

ROOT = Path(__file__).resolve().parent.parent
LIVE_JS = (ROOT / "static" / "js" / "live.js").read_text()
BLOCK = re.search(r"export const REFUSALS = \{(.*?)\n\};", LIVE_JS, re.S).group(1)
REFUSALS = dict(re.findall(r'^\s*"([a-z_/]+)": "([a-z_]+)",', BLOCK, re.M))


def refusal_key(error: dict) -> str:
    """live.js's refusalKey: the code with the most specific detail REFUSALS knows."""
    code, details = error["code"], error.get("details")
    if isinstance(details, list):
        subs = [f"{d.get('field')}/{d.get(k)}" for d in details for k in ("problem", "type")]
    elif isinstance(details, dict):
        subs = [details.get("what"), details.get("reason")]
    else:
        subs = []
    return next((f"{code}/{s}" for s in subs if s and f"{code}/{s}" in REFUSALS), code)


def test_each_refusal_key_has_words_of_its_own_in_both_languages():
    assert len(REFUSALS) > 20, "live.js's REFUSALS table was not found"
    keys = list(REFUSALS.values())
    assert len(keys) == len(set(keys)), "two refusals would read the same"
    with (TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        russian = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_po(po)}
    for key in keys:
        assert key in JS_STRINGS, key
        entry = JS_STRINGS[key]
        english = entry.singular if isinstance(entry, Plural) else entry._args[0]
        assert russian.get(english), f"{key} has no Russian"


def test_the_codes_are_the_servers_and_documented():
    codes = set(error_codes()) | {"offline"}  # offline: the page's own (the link is down)
    protocol = (ROOT / "docs" / "protocol.md").read_text()
    table = protocol[protocol.index("## Error codes") :]
    for entry in REFUSALS:
        code, _, detail = entry.partition("/")
        assert code in codes, entry
        assert f"`{code}`" in table, entry
        for part in filter(None, detail.split("/")):
            assert f'"{part}"' in table, f"{entry}: {part!r} is not in protocol.md's error table"
    assert not re.search(r"\.test\(error\.message", LIVE_JS)  # never the English words


def refused(call) -> dict:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.to_dict()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_servers_refusals_carry_the_details_the_pages_key_on(ctx):
    event, _ = make_event(settings={"max_question_length": 20, "anonymous_allowed": False})
    alice, _ = make_participant(event)
    mod = moderator(event)
    issue = event.issues[0].id

    def ask(**data):
        body = {"issue_id": issue, "text": "Who pays?", "client_id": "c", "author_name": "A"}
        return domain.ask(alice, AskIn.model_validate(body | data))

    seen = {
        "invalid/text/too_long": refused(lambda: ask(text="x" * 21)),
        "invalid/author_name/required": refused(lambda: ask(author_name=None)),
        "not_found/issue": refused(lambda: ask(issue_id=99999)),
        "not_found/speaker": refused(lambda: ask(addressed_to=99999)),
        "not_found/question": refused(
            lambda: domain.vote(alice, VoteIn(question_id=99999, up=True))
        ),
    }
    first = ask()
    second = ask(client_id="d", text="Who else?")
    domain.moderate(mod, ModerateIn(question_id=second.id, status="dismissed"))
    seen["conflict/target_dismissed"] = refused(
        lambda: domain.merge(mod, MergeIn(question_id=first.id, into=second.id))
    )
    seen["conflict/not_live"] = refused(lambda: domain.show(mod, ShowIn(question_id=second.id)))
    done = domain.moderate(mod, ModerateIn(question_id=first.id, text="Who pays for it?"))
    domain.undo(mod, UndoIn(action_id=done.action_id))
    seen["conflict/undone"] = refused(lambda: domain.undo(mod, UndoIn(action_id=done.action_id)))
    organiser = Actor("admin", event.id)
    domain.create_seat(organiser, SeatIn(name="Anna"))
    seen["conflict/name_taken"] = refused(
        lambda: domain.create_seat(organiser, SeatIn(name="anna"))
    )
    domain.update_settings(mod, SettingsIn(voting_open=False))
    seen["closed/voting"] = refused(
        lambda: domain.vote(alice, VoteIn(question_id=first.id, up=True))
    )
    domain.update_settings(mod, SettingsIn(questions_open=False))
    seen["closed/questions"] = refused(lambda: ask(client_id="e"))
    for expected, error in seen.items():
        assert refusal_key(error) == expected, error
    assert len({REFUSALS[k] for k in seen}) == len(seen)
