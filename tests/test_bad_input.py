"""Bad input gets a clear 4xx (or an `invalid` ack) and writes nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from qa_app.admin import set_admin_password
from qa_app.extensions import db, socketio
from qa_app.models import Event, Participant, Question, Vote
from tests.conftest import csrf_token, make_event, make_participant

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

MAX_INT = 2**31 - 1  # the largest id or version: PostgreSQL INTEGER
TOO_LARGE = [2**31, 2**40, 2**63, 2**64, 10**30]

# Each draws nothing: zero-width space, joiners, BOM, bidi marks, embeddings and isolates,
# word joiner, soft hyphen, Mongolian vowel separator, Hangul filler, a lone combining mark.
INVISIBLE = [
    "\u200b",
    "\u200c\u200d",
    "\ufeff",
    "\u200e\u200f",
    "\u202a\u202e\u202c",
    "\u2066\u2069",
    "\u2060",
    "\u00ad",
    "\u180e",
    "\u3164",
    "\u0301",
    " \u200b \u00a0\u200b\u3000",
]


@pytest.fixture
def world(app):
    """An event with a question and its vote, a participant and the moderator key."""
    from qa_app import domain
    from qa_app.schemas import AskIn, VoteIn

    with app.app_context():
        event, key = make_event()
        alice, token = make_participant(event)
        ask = AskIn(issue_id=event.issues[0].id, text="First?", client_id="c0")
        question = domain.ask(alice, ask)
        domain.vote(alice, VoteIn(question_id=question.id, up=True))
        return {
            "code": event.code,
            "issue": event.issues[0].id,
            "q": question.id,
            "participant": {"Authorization": f"Bearer {token}"},
            "moderator": {"Authorization": f"Bearer {key}"},
            "token": token,
            "key": key,
        }


def written(app) -> tuple:
    """What the database holds: the rows input can add, every version and every text."""
    with app.app_context():
        counts = tuple(
            db.session.scalar(select(func.count()).select_from(table))
            for table in (Event, Participant, Question, Vote)
        )
        versions = tuple(db.session.scalars(select(Event.version).order_by(Event.id)))
        texts = tuple(db.session.scalars(select(Question.text).order_by(Question.id)))
        db.session.remove()
    return counts, versions, texts


def admin_headers(app, client) -> dict:
    """Create an admin and log the client in; the CSRF header for API calls."""
    with app.app_context():
        set_admin_password("organiser", "correct horse battery")
    page = client.get("/admin/login")
    form = {"name": "organiser", "password": "correct horse battery"}
    answer = client.post("/admin/login", data=form | {"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 302
    return {"X-CSRFToken": csrf_token(client.get("/admin/").text)}


def assert_error(answer, status: int, code: str, text: str = "") -> None:
    """The answer is the JSON error shape with this status and code (and text in its message)."""
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.json["error"]["code"] == code
    assert text in answer.json["error"]["message"]


def connect(app, world, who: str = "token", **auth):
    """A Socket.IO test client connected to the world's event."""
    phone = socketio.test_client(app, auth={"event": world["code"], "token": world[who]} | auth)
    assert phone.is_connected()
    return phone


def test_a_path_id_no_database_can_hold_is_not_found_for_every_method(app, client, world):
    before = written(app)
    q, participant, moderator = world["q"], world["participant"], world["moderator"]
    for number in [*TOO_LARGE, 0, "9" * 5000]:
        calls = [
            client.put(f"/api/v1/questions/{number}/vote", headers=participant),
            client.delete(f"/api/v1/questions/{number}/vote", headers=participant),
            client.patch(f"/api/v1/questions/{number}", json={"text": "x"}, headers=moderator),
            client.post(f"/api/v1/questions/{number}/merge", json={"into": q}, headers=moderator),
        ]
        for answer in calls:
            assert_error(answer, 404, "not_found")
    largest = client.put(f"/api/v1/questions/{MAX_INT}/vote", headers=participant)
    assert_error(largest, 404, "not_found", "no such question")
    assert written(app) == before


BAD_BODIES = [
    ("[" * 100_000 + "]" * 100_000, "application/json", "nested too deeply"),
    ('{"a": ' * 50_000 + "1" + "}" * 50_000, "application/json", "nested too deeply"),
    ('{"issue_id": 1, "text": ', "application/json", "not valid JSON"),
    (b"\xff\xfe\x00{", "application/json", "not valid JSON"),
    ('{"text": "Why?"}', "text/plain", "must be JSON"),
    ("[1, 2]", "application/json", "JSON object"),
    ('"text"', "application/json", "JSON object"),
]


def test_a_body_that_is_not_a_json_object_is_invalid(app, client, world):
    before = written(app)
    for body, content_type, message in BAD_BODIES:
        for path, headers in [
            (f"/api/v1/events/{world['code']}/questions", world["participant"]),
            (f"/api/v1/events/{world['code']}/participants", {}),
        ]:
            answer = client.post(path, data=body, headers=headers | {"Content-Type": content_type})
            assert_error(answer, 400, "invalid", message)
        answer = client.patch(
            f"/api/v1/questions/{world['q']}",
            data=body,
            headers=world["moderator"] | {"Content-Type": content_type},
        )
        assert_error(answer, 400, "invalid", message)
    assert written(app) == before


def test_a_query_string_never_steers_the_canonical_redirect(client, world):
    code = world["code"]
    for query in ["_method=POST", "_scheme=javascript&_external=1", "_anchor=x&lang=ru&lang=en"]:
        for page in ("", "/screen", "/moderate"):
            answer = client.get(f"/e/{code.lower()}{page}?{query}")
            assert answer.status_code == 302
            assert answer.headers["Location"] == f"/e/{code}{page}?{query}"
            assert client.get(answer.headers["Location"]).status_code == 200


def nul_bodies(world) -> list[tuple[str, str, str, dict, str]]:
    """(who, method, path, body, field) for every text a caller types, with a NUL in it."""
    code, issue, q = world["code"], world["issue"], world["q"]
    ask = {"issue_id": issue, "text": "Why?", "client_id": "n1"}
    event = {"title": "New", "issues": ["One"]}
    speaker = {"name": "Ann"}
    return [
        ("participant", "POST", f"/api/v1/events/{code}/questions", ask | {"text": "W\0?"}, "text"),
        (
            "participant",
            "POST",
            f"/api/v1/events/{code}/questions",
            ask | {"author_name": "An\0na"},
            "author_name",
        ),
        (
            "",
            "POST",
            f"/api/v1/events/{code}/participants",
            {"display_name": "A\0"},
            "display_name",
        ),
        ("moderator", "PATCH", f"/api/v1/questions/{q}", {"text": "\0"}, "text"),
        ("admin", "POST", "/api/v1/events", event | {"title": "N\0ew"}, "title"),
        ("admin", "POST", "/api/v1/events", event | {"issues": ["O\0ne"]}, "issues.0"),
        ("admin", "POST", "/api/v1/events", event | {"venue": "Hall\0"}, "venue"),
        ("admin", "POST", "/api/v1/events", event | {"description": "A\0B"}, "description"),
        (
            "admin",
            "POST",
            "/api/v1/events",
            event | {"speakers": [{"name": "\0"}]},
            "speakers.0.name",
        ),
        (
            "admin",
            "POST",
            "/api/v1/events",
            event | {"speakers": [speaker | {"affiliation": "\0"}]},
            "speakers.0.affiliation",
        ),
    ]


def test_a_nul_byte_in_any_text_is_invalid_and_writes_nothing(app, client, world):
    before = written(app)
    admin = admin_headers(app, client)
    for who, method, path, body, field in nul_bodies(world):
        headers = admin if who == "admin" else world.get(who, {})
        answer = client.open(path, method=method, json=body, headers=headers)
        assert_error(answer, 400, "invalid", "control character U+0000")
        assert answer.json["error"]["details"][0]["field"] == field
    programme = "Round table\0\n\nIssues for Discussion\n\n1. Why?\n"
    answer = client.post(
        "/api/v1/events/import", data=programme, headers=admin | {"Content-Type": "text/plain"}
    )
    assert_error(answer, 400, "invalid", "control character")
    phone = connect(app, world)
    ack = phone.emit("ask", nul_bodies(world)[0][3], callback=True)
    phone.disconnect()
    assert ack["ok"] is False and "control character U+0000" in ack["error"]["message"]
    assert written(app) == before


def test_control_characters_are_invalid_but_line_breaks_in_a_question_are_kept(app, client, world):
    before = written(app)
    ask = {"issue_id": world["issue"], "client_id": "lines"}
    path = f"/api/v1/events/{world['code']}/questions"
    for control in ["\x01", "\x1b", "\x7f", "\x85"]:
        answer = client.post(
            path, json=ask | {"text": f"Why{control}?"}, headers=world["participant"]
        )
        assert_error(answer, 400, "invalid", f"U+{ord(control):04X}")
    answer = client.post(
        path, json=ask | {"author_name": "Ann\nLee", "text": "Why?"}, headers=world["participant"]
    )
    assert_error(answer, 400, "invalid", "U+000A")
    assert written(app) == before
    answer = client.post(
        path, json=ask | {"text": "Why?\r\n\tAnd how?"}, headers=world["participant"]
    )
    assert answer.status_code == 201
    assert answer.json["question"]["text"] == "Why?\r\n\tAnd how?"


def test_an_event_code_with_junk_is_not_found(app, client, world):
    for code in ["AB\0CD", "a\0", "\U0001f600", "ABC DEF", "x" * 300]:
        path = quote(code)
        answer = client.get(f"/api/v1/events/{path}")
        assert_error(answer, 404, "not_found", "No event has the code")
        assert_error(client.post(f"/api/v1/events/{path}/participants", json={}), 404, "not_found")
        assert client.get(f"/e/{path}").status_code == 404
        assert client.get("/", query_string={"code": code}).status_code == 404
        phone = socketio.test_client(app, auth={"event": code})
        assert not phone.is_connected()


def test_text_of_invisible_characters_is_empty_but_ordinary_text_keeps_them(app, client, world):
    before = written(app)
    phone = connect(app, world)
    for text in INVISIBLE:
        ask = {"issue_id": world["issue"], "text": text, "client_id": "ghost"}
        path = f"/api/v1/events/{world['code']}/questions"
        answer = client.post(path, json=ask, headers=world["participant"])
        assert_error(answer, 400, "invalid", "the question is empty")
        named = ask | {"text": "Why?", "author_name": text}
        answer = client.post(path, json=named, headers=world["participant"])
        assert_error(answer, 400, "invalid", "the name is empty")
        answer = client.patch(
            f"/api/v1/questions/{world['q']}", json={"text": text}, headers=world["moderator"]
        )
        assert_error(answer, 400, "invalid", "the question is empty")
        answer = client.post(
            f"/api/v1/events/{world['code']}/participants", json={"display_name": text}
        )
        assert_error(answer, 400, "invalid", "the name is empty")
        ack = phone.emit("ask", ask, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid"
        assert "the question is empty" in ack["error"]["message"]
    phone.disconnect()
    assert written(app) == before
    # ordinary text keeps its characters, invisible ones included
    for number, text in enumerate(
        [
            "Who\u200bwill pay?",  # a zero-width space inside ordinary text
            "\u200fמי ישלם?",  # a right-to-left mark before Hebrew
            "\U0001f469\u200d\U0001f4bb or \U0001f468\u200d\U0001f373?",  # emoji joined by ZWJ
            "Café, naïve, e\u0301",  # a combining mark on a letter
            "\u3164\u3164 Why?",
        ]
    ):
        ask = {"issue_id": world["issue"], "text": text, "client_id": f"k{number}"}
        answer = client.post(
            f"/api/v1/events/{world['code']}/questions",
            json=ask | {"author_name": text},
            headers=world["participant"],
        )
        assert answer.status_code == 201, answer.json
        assert answer.json["question"]["text"] == text
        assert answer.json["question"]["author_name"] == text


def test_sync_since_out_of_range_is_invalid(app, world):
    phone = connect(app, world)
    acks = [phone.emit("sync", {"since": since}, callback=True) for since in [*TOO_LARGE, -1]]
    in_range = phone.emit("sync", {"since": MAX_INT}, callback=True)
    phone.disconnect()
    for ack in acks:
        assert ack["ok"] is False and ack["error"]["code"] == "invalid"
        assert ack["error"]["details"][0]["field"] == "since"
    assert in_range["ok"] is True and in_range["questions"] == []


def test_a_connection_with_a_since_out_of_range_gets_the_full_snapshot(app, world):
    for since in [*TOO_LARGE, 2**70, -5, "7", True, 1.5, None]:
        phone = connect(app, world, since=since)
        received = phone.get_received()
        phone.disconnect()
        assert [message["name"] for message in received] == ["snapshot"]
        assert [q["id"] for q in received[0]["args"][0]["questions"]] == [world["q"]]


def test_an_id_no_database_can_hold_is_invalid_on_the_socket(app, world):
    before = written(app)
    phone = connect(app, world)
    moderator = connect(app, world, who="key")
    issue, q = world["issue"], world["q"]
    for number in TOO_LARGE:
        acks = [
            phone.emit("vote", {"question_id": number, "up": True}, callback=True),
            phone.emit("ask", {"issue_id": number, "text": "?", "client_id": "b"}, callback=True),
            phone.emit(
                "ask",
                {"issue_id": issue, "text": "?", "client_id": "b", "addressed_to": number},
                callback=True,
            ),
            moderator.emit("moderate", {"question_id": number, "status": "live"}, callback=True),
            moderator.emit("moderate", {"question_id": q, "issue_id": number}, callback=True),
            moderator.emit("merge", {"question_id": q, "into": number}, callback=True),
            moderator.emit("show", {"question_id": number}, callback=True),
            moderator.emit("set_issue", {"issue_id": number}, callback=True),
        ]
        for ack in acks:
            assert ack["ok"] is False and ack["error"]["code"] == "invalid", (number, ack)
    phone.disconnect()
    moderator.disconnect()
    assert written(app) == before


def test_an_unknown_event_gets_an_invalid_ack(app, world):
    phone = connect(app, world)
    acks = [
        phone.emit("vote_for", {"question_id": world["q"]}, callback=True),
        phone.emit("x" * 1000, callback=True),
        phone.emit("message", "hello", callback=True),
    ]
    phone.emit("nothing", {"no": "ack"})  # without an ack: nothing to answer, nothing raised
    assert phone.is_connected()
    phone.disconnect()
    for ack in acks:
        assert ack["ok"] is False and ack["error"]["code"] == "invalid"
        assert ack["error"]["message"].startswith("Unknown event")
        assert "vote" in ack["error"]["message"]
    # the client's name is echoed cut short (the list of events grows with the protocol)
    assert "x" * 64 in acks[1]["error"]["message"] and "x" * 65 not in acks[1]["error"]["message"]


MALFORMED = [[], "text", 5, 2.5, True, ["a", "list"], {"unknown": 1}, {"question_id": "1"}]


def test_a_malformed_payload_on_any_event_gets_an_invalid_ack(app, world):
    before = written(app)
    phone = connect(app, world)
    moderator = connect(app, world, who="key")
    events = ["ask", "vote", "moderate", "merge", "show", "set_issue", "editing", "log", "sync"]
    for event in events:
        for socket in (phone, moderator):
            acks = [socket.emit(event, payload, callback=True) for payload in MALFORMED]
            acks.append(socket.emit(event, {}, {"second": "argument"}, callback=True))
            for ack in acks:
                assert ack["ok"] is False, (event, ack)
                assert ack["error"]["code"] in ("invalid", "forbidden"), (event, ack)
            socket.emit(event, "no ack")  # nothing to answer; the socket stays usable
            assert socket.emit("sync", {"since": 0}, callback=True)["ok"] is True
    phone.disconnect()
    moderator.disconnect()
    assert written(app) == before
