"""API fuzzing from the OpenAPI document (schemathesis): no request makes a server error.

Each documented operation gets a fixed number of generated cases that fit its schema and as
many that do not (EXAMPLES), each sent by a caller drawn mostly from those the operation names
(a participant, the moderator, a logged-in admin with its CSRF token) and otherwise from anyone,
a stranger with a forged token and the rest, so that calls get past 401 and 403 to the domain.
Most cases are aimed at the real event and its questions (a random code or id is a quick 404),
and strings and integers are often drawn from values known to hurt (CONFIG). The run is
derandomized (the same cases every time) and checks every answer with schemathesis: no status
of 500 or more, each status documented, each error in the documented shape.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from qa_app import openapi
from qa_app.admin import set_admin_password
from tests.conftest import csrf_token, make_event, make_participant

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

# Cases per operation and generation mode (input that fits, input that does not): more where
# there is a body to get wrong.
EXAMPLES = {"body": 30, "no body": 10}
CALLERS = ["anyone", "stranger", "participant", "moderator", "admin"]
ALLOWED = {  # who may call, by the operation's "Who:"; they make most calls
    "anyone": CALLERS,
    "participant": ["participant"],
    "moderator": ["moderator", "admin"],
    "admin": ["admin"],
}
# Values known to hurt, drawn for half the strings and a quarter of the integers generated: NUL
# and other control characters, text that draws nothing, numbers beyond a database integer.
# The callers bring their own credentials (a generated session cookie would log the admin out).
CONFIG = schemathesis.Config.from_dict(
    {
        "dictionaries": {
            "texts": {"values": ["\0", "Why\0?", "\u200b\u200e", "\x1b"]},
            "numbers": {"values": [0, -1, 2**31 - 1, 2**31, 2**53, 2**63, 2**64]},
        },
        "generation": {
            "with-security-parameters": False,
            "dictionaries": {
                "string": {"dictionary": "texts", "probability": 0.5},
                "integer": {"dictionary": "numbers", "probability": 0.25},
            },
        },
    }
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def world(app) -> dict:
    """An event with questions; each caller's test client and headers; the real ids to aim at."""
    from qa_app import domain
    from qa_app.schemas import AskIn

    with app.app_context():
        event, key = make_event()
        alice, token = make_participant(event)
        questions = [
            domain.ask(alice, AskIn(issue_id=issue.id, text=f"Why {n}?", client_id=f"c{n}")).id
            for n, issue in enumerate(event.issues[:3])
        ]
        set_admin_password("organiser", "correct horse battery")
        real = {
            "code": event.code,
            "question_id": questions,
            "into": questions,
            "issue_id": [issue.id for issue in event.issues],
            "addressed_to": [speaker.id for speaker in event.speakers],
        }
    admin = app.test_client()
    page = admin.get("/admin/login")
    form = {"name": "organiser", "password": "correct horse battery"}
    admin.post("/admin/login", data=form | {"csrf_token": csrf_token(page.text)})
    plain = app.test_client()
    return {
        "real": real,
        "anyone": (plain, {}),
        "stranger": (plain, {"Authorization": "Bearer ms.forged-session"}),
        "participant": (plain, {"Authorization": f"Bearer {token}"}),
        "moderator": (plain, {"Authorization": f"Bearer {key}"}),
        "admin": (admin, {"X-CSRFToken": csrf_token(admin.get("/admin/").text)}),
    }


def aim(case, real: dict, pick: int) -> None:
    """Point a case's path at the real event or question and, for an even pick, the ids of a
    body that fits the schema at real ones (the other bodies keep their ids, to be refused)."""
    containers = [case.path_parameters]
    if pick % 2 == 0 and case.meta is not None and case.meta.generation.mode == "positive":
        containers.append(case.body)
    for where in containers:
        if not isinstance(where, dict):
            continue
        for name, value in real.items():
            if name in where:
                where[name] = value if name == "code" else value[pick % len(value)]


def fuzz(operation, mode, world: dict, sent: Counter, failures: list) -> None:
    """Send EXAMPLES generated cases to one operation, from callers drawn at random."""
    who = operation.definition.raw["description"].removeprefix("Who: ").rstrip(".")

    @settings(
        max_examples=EXAMPLES["body" if operation.body else "no body"],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        caller=st.sampled_from(ALLOWED[who] * 3 + CALLERS),
        pick=st.integers(-1, 5),
    )
    def send(case, caller, pick):
        if pick >= 0:
            aim(case, world["real"], pick)
        client, headers = world[caller]
        response = case.call(session=client, headers=headers)
        sent[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, schemathesis.errors.FailureGroup) as exc:  # kept, told at the end
            failures.append(f"{caller} {operation.label} ({mode}): {exc}")
        if "moderator-key" in operation.path and response.status_code == 201:
            rotated = response.json()["moderator_key"]  # the moderator goes on with the new key
            world["moderator"][1]["Authorization"] = f"Bearer {rotated}"

    try:
        send()
    except Unsatisfiable:
        assert mode == "negative"  # nothing in this operation can be made invalid


def test_fuzzing_the_api_finds_no_server_error(app, world):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(openapi.OPERATIONS)  # every documented operation
    sent: Counter = Counter()
    failures: list[str] = []
    for operation in operations:
        for mode in schemathesis.GenerationMode:
            fuzz(operation, mode, world, sent, failures)
    print(f"{sum(sent.values())} cases, by status: {dict(sorted(sent.items()))}")
    assert not failures, "\n\n".join(failures[:5])
    assert not [status for status in sent if status >= 500]
    assert sum(sent[status] for status in (200, 201)) > 60  # the domain said yes, often
