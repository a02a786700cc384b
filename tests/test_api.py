"""The JSON API: every route x role, bad bodies, the error shape, nothing written on refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_app.admin import set_admin_password
from qa_app.extensions import db
from qa_app.models import Event, Question, Vote
from tests.conftest import csrf_token, make_event, make_participant

PROGRAMME = (Path(__file__).parent / "data" / "programmes" / "seed_en.txt").read_text("utf-8")
ROLES = ["anonymous", "participant", "screen", "other_moderator", "moderator", "admin"]


@pytest.fixture
def world(app, client):
    """An event with two questions, a participant, a moderator key, another key, an admin."""
    with app.app_context():
        event, key = make_event()
        _other, other_key = make_event(title="Another session")
        alice, token = make_participant(event)
        from qa_app import domain
        from qa_app.schemas import AskIn

        questions = [
            domain.ask(alice, AskIn(issue_id=event.issues[0].id, text=f"Q{n}?", client_id=f"c{n}"))
            for n in range(2)
        ]
        from qa_app.schemas import ModerateIn
        from tests.conftest import moderator

        edit = ModerateIn(question_id=questions[1].id, text="Q1?")
        action = domain.moderate(moderator(event), edit).action_id  # an action to undo
        held = domain.ask(alice, AskIn(issue_id=event.issues[0].id, text="Q2?", client_id="c2"))
        domain.moderate(moderator(event), ModerateIn(question_id=held.id, status="pending"))
        set_admin_password("organiser", "correct horse battery")
        from qa_app.domain.seats import active_seats, open_seat

        seat = active_seats(event.id)[0]
        anna, _anna_key = open_seat(event.id, "Anna")
        db.session.commit()
        world = {
            "action_id": action,
            "seat": seat.id,
            "seat2": anna.id,
            "code": event.code,
            "issue": event.issues[1].id,
            "q": questions[0].id,
            "q2": questions[1].id,
            "pending": held.id,  # alice's, waiting for review
            "tokens": {"participant": token, "moderator": key, "other_moderator": other_key},
        }
    return world


def login_admin(client) -> str:
    """Log the test client in as the admin; return the CSRF token for API calls."""
    page = client.get("/admin/login")
    answer = client.post(
        "/admin/login",
        data={
            "name": "organiser",
            "password": "correct horse battery",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert answer.status_code == 302
    return csrf_token(client.get("/admin/").text)


def headers_for(role: str, world: dict, client) -> dict:
    """The request headers a caller of this role sends."""
    if role == "admin":
        return {"X-CSRFToken": login_admin(client)}
    token = world["tokens"].get(role)
    return {"Authorization": f"Bearer {token}"} if token else {}


# (name, method, path, body, {role: status}); roles not listed get the default of the row.
MODERATOR_ONLY = {"moderator": 200, "admin": 200, "other_moderator": 401, "default": 403}
PARTICIPANT_ONLY = {"participant": 200, "other_moderator": 401, "default": 403}
ADMIN_ONLY = {"admin": 201, "anonymous": 401, "screen": 401, "default": 403}
ROUTES = [
    ("create", "POST", "/api/v1/events", {"title": "New", "issues": ["One"]}, ADMIN_ONLY),
    ("import", "POST", "/api/v1/events/import", PROGRAMME, ADMIN_ONLY),
    ("preview", "POST", "/api/v1/events/import?dry_run=1", PROGRAMME, {**ADMIN_ONLY, "admin": 200}),
    ("get", "GET", "/api/v1/events/{code}", None, {"other_moderator": 401, "default": 200}),
    ("join", "POST", "/api/v1/events/{code}/participants", {}, {"default": 201}),
    (
        "ask",
        "POST",
        "/api/v1/events/{code}/questions",
        {"issue_id": "{issue}", "text": "New question?", "client_id": "x1"},
        {**PARTICIPANT_ONLY, "participant": 201},
    ),
    ("vote", "PUT", "/api/v1/questions/{q}/vote", None, PARTICIPANT_ONLY),
    ("unvote", "DELETE", "/api/v1/questions/{q}/vote", None, PARTICIPANT_ONLY),
    ("withdraw", "POST", "/api/v1/questions/{pending}/withdraw", None, PARTICIPANT_ONLY),
    ("moderate", "PATCH", "/api/v1/questions/{q}", {"status": "answered"}, MODERATOR_ONLY),
    ("merge", "POST", "/api/v1/questions/{q2}/merge", {"into": "{q}"}, MODERATOR_ONLY),
    (
        "merge_many",
        "POST",
        "/api/v1/events/{code}/merge",
        {"question_ids": ["{q2}"], "into": "{q}"},
        MODERATOR_ONLY,
    ),
    ("undo", "POST", "/api/v1/actions/{action_id}/undo", None, MODERATOR_ONLY),
    ("bans", "GET", "/api/v1/events/{code}/bans", None, MODERATOR_ONLY),
    ("show", "PUT", "/api/v1/events/{code}/screen", {"question_id": "{q}"}, MODERATOR_ONLY),
    (
        "set_issue",
        "PUT",
        "/api/v1/events/{code}/current-issue",
        {"issue_id": "{issue}"},
        MODERATOR_ONLY,
    ),
    (
        "settings",
        "PATCH",
        "/api/v1/events/{code}/settings",
        {"pre_moderation": True},
        MODERATOR_ONLY,
    ),
    ("screen_mode", "PUT", "/api/v1/events/{code}/screen-mode", {"mode": "join"}, MODERATOR_ONLY),
    ("clock", "PATCH", "/api/v1/events/{code}/clock", {"on": True}, MODERATOR_ONLY),
    (
        "rotate",
        "POST",
        "/api/v1/events/{code}/moderator-key",
        None,
        {**MODERATOR_ONLY, "moderator": 201, "admin": 201},
    ),
    (
        "session",
        "POST",
        "/api/v1/events/{code}/moderator-session",
        None,
        {**MODERATOR_ONLY, "moderator": 201, "admin": 403},  # a seat's link only
    ),
    ("seats", "GET", "/api/v1/events/{code}/seats", None, MODERATOR_ONLY),
    (
        "add_seat",
        "POST",
        "/api/v1/events/{code}/seats",
        {"name": "Boris"},
        {"admin": 201, "other_moderator": 401, "default": 403},  # not a moderator's to add
    ),
    (
        "rotate_own_seat",
        "POST",
        "/api/v1/seats/{seat}/key",
        None,
        {**MODERATOR_ONLY, "moderator": 201, "admin": 201},
    ),
    (
        "rotate_other_seat",
        "POST",
        "/api/v1/seats/{seat2}/key",
        None,
        {**MODERATOR_ONLY, "moderator": 403, "admin": 201},
    ),
    (
        "revoke_seat",
        "DELETE",
        "/api/v1/seats/{seat2}",
        None,
        {"admin": 200, "other_moderator": 401, "default": 403},
    ),
    ("log", "GET", "/api/v1/events/{code}/log?limit=10", None, MODERATOR_ONLY),
    ("blocklist", "GET", "/api/v1/events/{code}/blocklist", None, MODERATOR_ONLY),
    (
        "set_blocklist",
        "PUT",
        "/api/v1/events/{code}/blocklist",
        {"phrases": ["spam*"], "builtin": ["en"]},
        MODERATOR_ONLY,
    ),
    ("export_csv", "GET", "/api/v1/events/{code}/export.csv", None, MODERATOR_ONLY),
    ("export_json", "GET", "/api/v1/events/{code}/export.json", None, MODERATOR_ONLY),
    ("export_event", "GET", "/api/v1/events/{code}/export/event.json", None, MODERATOR_ONLY),
]
ERROR_CODES = {401: "unauthorized", 403: "forbidden"}


def fill(value, world):
    """Put the world's ids into a path or body template."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in world:
            return world[value[1:-1]]
        return value.format(**world)
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name, method, path, body, expected", ROUTES, ids=[r[0] for r in ROUTES])
def test_route_by_role(app, client, world, role, name, method, path, body, expected):
    status = expected.get(role, expected["default"])
    headers = headers_for(role, world, client)
    kwargs = (
        {"data": body, "content_type": "text/plain"}
        if isinstance(body, str)
        else {"json": fill(body, world)}
    )
    with app.app_context():
        before = db.session.scalar(select(Event.version).filter_by(code=world["code"]))
    answer = client.open(fill(path, world), method=method, headers=headers, **kwargs)
    assert answer.status_code == status, answer.text
    if status >= 400:
        assert answer.json["error"]["code"] == ERROR_CODES[status]
        assert answer.json["error"]["message"]
        with app.app_context():  # a refusal writes nothing
            assert db.session.scalar(select(Event.version).filter_by(code=world["code"])) == before
    elif name == "export_csv":
        assert "Q0?" in answer.text and answer.headers["Content-Type"].startswith("text/csv")
    elif name in ("create", "import"):
        assert (
            answer.json["moderator_key"].startswith("mk.")
            and "#key=mk." in answer.json["urls"]["moderator"]
        )
    elif name == "get":
        assert answer.json["event"]["code"] == world["code"]
        held = {"Q2?"} if role in ("participant", "moderator", "admin") else set()  # pending
        assert {q["text"] for q in answer.json["questions"]} == {"Q0?", "Q1?"} | held


BAD_BODIES = [
    (
        "ask: missing text",
        "POST",
        "/api/v1/events/{code}/questions",
        {"issue_id": "{issue}", "client_id": "b"},
    ),
    (
        "ask: text is a number",
        "POST",
        "/api/v1/events/{code}/questions",
        {"issue_id": "{issue}", "text": 5, "client_id": "b"},
    ),
    (
        "ask: blank text",
        "POST",
        "/api/v1/events/{code}/questions",
        {"issue_id": "{issue}", "text": "   ", "client_id": "b"},
    ),
    (
        "ask: id as string",
        "POST",
        "/api/v1/events/{code}/questions",
        {"issue_id": "1", "text": "Hi", "client_id": "b"},
    ),
    (
        "ask: unknown field",
        "POST",
        "/api/v1/events/{code}/questions",
        {"issue_id": "{issue}", "text": "Hi", "client_id": "b", "votes": 99},
    ),
    (
        "ask: bad client_id",
        "POST",
        "/api/v1/events/{code}/questions",
        {"issue_id": "{issue}", "text": "Hi", "client_id": "a b/c"},
    ),
    (
        "ask: too long",
        "POST",
        "/api/v1/events/{code}/questions",
        {"issue_id": "{issue}", "text": "x" * 301, "client_id": "b"},
    ),
    ("ask: a list", "POST", "/api/v1/events/{code}/questions", ["not", "an", "object"]),
    ("moderate: bad status", "PATCH", "/api/v1/questions/{q}", {"status": "deleted"}),
    ("moderate: merged by hand", "PATCH", "/api/v1/questions/{q}", {"status": "merged"}),
    ("moderate: nothing", "PATCH", "/api/v1/questions/{q}", {}),
    ("merge: into a string", "POST", "/api/v1/questions/{q2}/merge", {"into": "x"}),
    ("show: missing field", "PUT", "/api/v1/events/{code}/screen", {}),
    ("set_issue: negative", "PUT", "/api/v1/events/{code}/current-issue", {"issue_id": -1}),
    ("screen_mode: unknown", "PUT", "/api/v1/events/{code}/screen-mode", {"mode": "slides"}),
    ("screen_mode: missing", "PUT", "/api/v1/events/{code}/screen-mode", {}),
    ("clock: nothing", "PATCH", "/api/v1/events/{code}/clock", {}),
    ("clock: zero step", "PATCH", "/api/v1/events/{code}/clock", {"add_minutes": 0}),
    ("clock: huge step", "PATCH", "/api/v1/events/{code}/clock", {"add_minutes": 500}),
    ("clock: text", "PATCH", "/api/v1/events/{code}/clock", {"add_minutes": "5"}),
    ("clock: on as text", "PATCH", "/api/v1/events/{code}/clock", {"on": "yes"}),
    (
        "settings: limit too small",
        "PATCH",
        "/api/v1/events/{code}/settings",
        {"max_question_length": 3},
    ),
]


@pytest.mark.parametrize("name, method, path, body", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies_get_400_and_write_nothing(app, client, world, name, method, path, body):
    role = "participant" if name.startswith("ask") else "moderator"
    with app.app_context():
        before = (
            db.session.scalar(select(Event.version).filter_by(code=world["code"])),
            db.session.scalar(select(func.count()).select_from(Question)),
        )
    answer = client.open(
        fill(path, world),
        method=method,
        json=fill(body, world),
        headers=headers_for(role, world, client),
    )
    assert answer.status_code == 400, answer.text
    assert answer.json["error"]["code"] == "invalid" and answer.json["error"]["message"]
    with app.app_context():
        after = (
            db.session.scalar(select(Event.version).filter_by(code=world["code"])),
            db.session.scalar(select(func.count()).select_from(Question)),
        )
    assert after == before


def test_not_json_and_unknown_things(client, world):
    participant = headers_for("participant", world, client)
    answer = client.post(
        f"/api/v1/events/{world['code']}/questions",
        data="text=hi",
        headers=participant,
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 400 and "JSON" in answer.json["error"]["message"]
    assert client.get("/api/v1/events/NOPE00").json["error"]["code"] == "not_found"
    assert client.put("/api/v1/questions/999999/vote", headers=participant).status_code == 404
    bad = client.get(
        f"/api/v1/events/{world['code']}", headers={"Authorization": "Bearer p.forged"}
    )
    assert bad.status_code == 401 and bad.json["error"]["code"] == "unauthorized"
    assert (
        client.get(f"/api/v1/events/{world['code'].lower()}").status_code == 200
    )  # codes ignore case


def test_admin_needs_the_csrf_token(client, world):
    login_admin(client)
    answer = client.post("/api/v1/events", json={"title": "New", "issues": ["One"]})
    assert answer.status_code == 403 and "CSRF" in answer.json["error"]["message"]


def test_wrong_admin_password_is_refused(client, world):
    page = client.get("/admin/login")
    answer = client.post(
        "/admin/login",
        data={"name": "organiser", "password": "nope", "csrf_token": csrf_token(page.text)},
    )
    assert answer.status_code == 401 and "Wrong name or password" in answer.text
    assert client.get("/admin/").status_code == 302


def test_votes_over_http_are_counted_once(app, client, world):
    headers = headers_for("participant", world, client)
    for _ in range(3):
        answer = client.put(f"/api/v1/questions/{world['q']}/vote", headers=headers)
    ack = answer.json
    assert ack == {"question_id": world["q"], "votes": 1, "voted": True, "rev": ack["rev"]}
    assert ack["rev"] > 0
    answer = client.delete(f"/api/v1/questions/{world['q']}/vote", headers=headers)
    assert answer.json["votes"] == 0 and answer.json["voted"] is False
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_import_with_unreadable_text_says_what_is_missing(client, world):
    headers = {"X-CSRFToken": login_admin(client)}
    answer = client.post(
        "/api/v1/events/import",
        data="Just a title\n\nAnd a paragraph.",
        content_type="text/plain",
        headers=headers,
    )
    assert answer.status_code == 400 and "Issues for Discussion" in answer.json["error"]["message"]


def test_preview_parses_the_seed_without_saving(app, client, world):
    headers = {"X-CSRFToken": login_admin(client)}
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(Event))
    answer = client.post(
        "/api/v1/events/import?dry_run=1",
        data=PROGRAMME,
        content_type="text/plain",
        headers=headers,
    )
    event = answer.json["event"]
    assert event["title"] == "Best Innovation Cluster Management Practices"
    assert len(event["issues"]) == 5 and len(event["speakers"]) == 13
    assert event["starts_at"] == "2017-01-12T15:30:00"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == events


def test_openapi_document_lists_every_route_and_schema(client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for _name, method, path, _body, _expected in ROUTES:
        template = (
            path.split("?")[0]
            .replace("{q}", "{question_id}")
            .replace("{q2}", "{question_id}")
            .replace("{pending}", "{question_id}")
        )
        template = template.replace("{seat}", "{seat_id}").replace("{seat2}", "{seat_id}")
        template = template.replace("export.csv", "export.{fmt}").replace(
            "export.json", "export.{fmt}"
        )
        assert method.lower() in paths[template], (method, template)
    assert {"AskIn", "ModerateChange", "EventIn", "Error"} <= set(doc["components"]["schemas"])
    ask = paths["/api/v1/events/{code}/questions"]["post"]
    assert ask["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AskIn"
    }


@pytest.fixture
def limited_app(tmp_path):
    """An app with tight rate limits."""
    from qa_app import create_app, storage
    from tests.conftest import test_config

    config = test_config(
        f"sqlite:///{tmp_path / 'limited.db'}",
        QA_RATE_LIMITS=True,
        QA_ASK_LIMIT="2/minute",
        QA_VOTE_LIMIT="3/minute",
        QA_JOIN_LIMIT="4/minute",
    )
    application = create_app(config)
    storage.upgrade(application)
    yield application
    with application.app_context():
        db.engine.dispose()


def test_rate_limits_refuse_with_429_and_write_nothing(limited_app):
    client = limited_app.test_client()
    with limited_app.app_context():
        event, _key = make_event()
        code, issue = event.code, event.issues[0].id
    joins = [client.post(f"/api/v1/events/{code}/participants", json={}) for _ in range(5)]
    assert [j.status_code for j in joins] == [201, 201, 201, 201, 429]
    assert joins[-1].json["error"]["code"] == "rate_limited"
    headers = {"Authorization": f"Bearer {joins[0].json['token']}"}
    asks = [
        client.post(
            f"/api/v1/events/{code}/questions",
            json={"issue_id": issue, "text": f"Question {n}?", "client_id": f"r{n}"},
            headers=headers,
        )
        for n in range(3)
    ]
    assert [a.status_code for a in asks] == [201, 201, 429]
    assert "too fast" in asks[-1].json["error"]["message"]
    # a resend of an accepted question is not limited: it is the same question
    resend = client.post(
        f"/api/v1/events/{code}/questions",
        json={"issue_id": issue, "text": "Question 0?", "client_id": "r0"},
        headers=headers,
    )
    assert (
        resend.status_code == 201
        and resend.json["question"]["id"] == asks[0].json["question"]["id"]
    )
    qid = asks[0].json["question"]["id"]
    votes = [client.put(f"/api/v1/questions/{qid}/vote", headers=headers) for _ in range(4)]
    assert [v.status_code for v in votes] == [200, 200, 200, 429]
    with limited_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 2


def test_a_saturated_database_answers_busy_and_writes_nothing(tmp_path):
    from qa_app import create_app, storage
    from qa_app.extensions import socketio
    from tests.conftest import test_config

    engine = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2}
    config = test_config(f"sqlite:///{tmp_path / 'busy.db'}", SQLALCHEMY_ENGINE_OPTIONS=engine)
    application = create_app(config)
    storage.upgrade(application)
    with application.app_context():
        event, _ = make_event()
        _alice, token = make_participant(event)
        issue = event.issues[0].id
        code = event.code
        db.session.remove()
    phone = socketio.test_client(application, auth={"event": code, "token": token})
    assert phone.is_connected()
    with application.app_context():
        held = db.engine.connect()  # the pool's only connection, taken by someone else
        try:
            answer = application.test_client().post(
                f"/api/v1/events/{code}/questions",
                json={"issue_id": issue, "text": "Will it scale?", "client_id": "c-1"},
                headers={"Authorization": f"Bearer {token}"},
            )
            ack = phone.emit(
                "ask",
                {"issue_id": issue, "text": "Will it scale?", "client_id": "c-2"},
                callback=True,
            )
        finally:
            held.close()
        assert answer.status_code == 503
        assert answer.json["error"]["code"] == "busy"
        assert "try again" in answer.json["error"]["message"]
        assert ack["ok"] is False and ack["error"]["code"] == "busy"
        assert db.session.scalar(select(func.count()).select_from(Question)) == 0
        db.session.remove()
    phone.disconnect()
    with application.app_context():
        db.engine.dispose()
