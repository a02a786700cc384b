"""Admin log-ins: throttled per address and per account before any password is checked, hashed off
the event loop, and an unknown name costs what a wrong password costs."""

from __future__ import annotations

import statistics
import threading
import time

import pytest
import requests
import socketio as socketio_client

from qa_app.admin import set_admin_password
from tests.conftest import csrf_token
from tests.live import running_server
from tests.test_revocation import add_admin, create_event_live, log_in_live
from tests.timing import bound

PASSWORD = "correct horse battery"


@pytest.fixture
def make_app(make_app):
    """conftest's factory of apps on one database, with rate limits on (the test's login
    limits) and two admins."""

    def make(**limits):
        application = make_app(**{"QA_RATE_LIMITS": True, **limits})
        with application.app_context():
            set_admin_password("organiser", PASSWORD)
            set_admin_password("deputy", PASSWORD)
        return application

    return make


class Browser:
    """A login form in a browser at one address (the test client, its cookie and CSRF token)."""

    def __init__(self, app, address: str = "192.0.2.1") -> None:
        self.client = app.test_client()
        self.address = address
        self.token = csrf_token(self.client.get("/admin/login").text)

    def log_in(self, name: str, password: str, address: str | None = None, lang: str = "en"):
        """Post the form; the response and how long it took."""
        started = time.perf_counter()
        answer = self.client.post(
            "/admin/login",
            data={"name": name, "password": password, "csrf_token": self.token},
            environ_base={"REMOTE_ADDR": address or self.address},
            headers={"Accept-Language": lang},
        )
        return answer, time.perf_counter() - started


def test_failed_logins_are_throttled_per_address(make_app):
    app = make_app(QA_LOGIN_LIMIT="3/minute", QA_LOGIN_ACCOUNT_LIMIT="100/minute")
    for _ in range(4):  # successes count against nothing
        assert Browser(app).log_in("organiser", PASSWORD)[0].status_code == 302
    browser = Browser(app)
    failures = [
        browser.log_in(name, "wrong password") for name in ("organiser", "nobody", "deputy")
    ]
    assert [answer.status_code for answer, _ in failures] == [401, 401, 401]
    hashing = min(took for _, took in failures)

    throttled, took = browser.log_in("organiser", PASSWORD)  # the right password, too late
    assert throttled.status_code == 429
    assert "Too many failed log-ins from this address" in throttled.text
    assert took < hashing / 2, f"throttled in {took:.3f} s, a password check takes {hashing:.3f} s"
    in_russian, _ = browser.log_in("organiser", PASSWORD, lang="ru")
    assert in_russian.status_code == 429 and "Слишком много неудачных попыток" in in_russian.text
    assert browser.client.get("/admin/").status_code == 302  # not logged in

    elsewhere, _ = Browser(app, "198.51.100.7").log_in("organiser", PASSWORD)
    assert elsewhere.status_code == 302 and elsewhere.location.endswith("/admin/")


def test_failed_logins_are_throttled_per_account(make_app):
    app = make_app(QA_LOGIN_LIMIT="100/minute", QA_LOGIN_ACCOUNT_LIMIT="3/minute")
    browser = Browser(app)
    failures = [
        browser.log_in("organiser", "wrong password", address=f"203.0.113.{n}") for n in range(3)
    ]
    assert [answer.status_code for answer, _ in failures] == [401, 401, 401]
    hashing = min(took for _, took in failures)

    throttled, took = browser.log_in("organiser", PASSWORD, address="203.0.113.99")
    assert throttled.status_code == 429
    assert "Too many failed log-ins for this account" in throttled.text
    assert took < hashing / 2, f"throttled in {took:.3f} s, a password check takes {hashing:.3f} s"

    other_account, _ = browser.log_in("deputy", PASSWORD, address="203.0.113.99")
    assert other_account.status_code == 302


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_name_with_a_control_character_is_a_wrong_name_not_a_server_error(app):
    with app.app_context():
        set_admin_password("organiser", PASSWORD)
    browser = Browser(app)
    for name in ("organiser\0", "\0", "org\x1baniser", "o" * 500):
        answer, _ = browser.log_in(name, PASSWORD)
        assert answer.status_code == 401, name
        assert "Wrong name or password." in answer.text


def test_a_new_secret_key_keeps_the_organiser_in_only_while_the_old_one_is_a_fallback(make_app):
    app = make_app()
    browser = Browser(app)
    assert browser.log_in("organiser", PASSWORD)[0].status_code == 302
    assert browser.client.get("/admin/").status_code == 200
    old = app.secret_key

    app.secret_key = app.config["SECRET_KEY"] = "rotated-" + str(old)
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert browser.client.get("/admin/").status_code == 200  # the cookie signed with the old key

    app.config["SECRET_KEY_FALLBACKS"] = []
    assert browser.client.get("/admin/").status_code == 302  # to the log-in form
    assert Browser(app).log_in("organiser", PASSWORD)[0].status_code == 302  # signed anew


def test_an_unknown_name_takes_as_long_as_a_wrong_password(make_app):
    app = make_app(QA_RATE_LIMITS=False)
    browser = Browser(app)
    browser.log_in("nobody at all", "warm up")  # the first unknown name makes the dummy hash
    wrong, unknown = [], []
    for _ in range(3):
        wrong.append(browser.log_in("organiser", "wrong password")[1])
        unknown.append(browser.log_in("nobody at all", "wrong password")[1])
    ratio = statistics.median(unknown) / statistics.median(wrong)
    print(
        f"\nwrong password {statistics.median(wrong) * 1000:.0f} ms, "
        f"unknown name {statistics.median(unknown) * 1000:.0f} ms (median of 3)"
    )
    assert 0.5 < ratio < 2, f"unknown name / wrong password = {ratio:.2f}"


# -- a flood against the real server ----------------------------------------------------------


FLOOD_LOOPS = 8
FLOOD_SECONDS = 8


def wrong_password_loop(url: str, stop: threading.Event, answers: list) -> None:
    """Post wrong passwords as fast as the server answers, until stop."""
    browser = requests.Session()
    token = csrf_token(browser.get(f"{url}/admin/login", timeout=10).text)
    while not stop.is_set():
        answer = browser.post(
            f"{url}/admin/login",
            data={"name": "organiser", "password": "not the password", "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
        answers.append(answer.status_code)


@pytest.mark.live
def test_a_login_flood_does_not_hold_back_the_hall(tmp_path):
    # rate limits are off on the test server, so every attempt of the flood is really hashed
    with running_server(tmp_path, QA_TICK_MS="100") as server:
        add_admin(server)
        code = create_event_live(server, *log_in_live(server))["code"]
        token = requests.post(
            f"{server.url}/api/v1/events/{code}/participants", json={}, timeout=10
        ).json()["token"]
        phone = socketio_client.Client(reconnection=False)
        phone.connect(server.url, auth={"event": code, "token": token}, transports=["websocket"])
        issue = phone.call("sync", {"since": 0}, timeout=10)["issues"][0]["id"]
        asked = phone.call(
            "ask", {"issue_id": issue, "text": "Floods?", "client_id": "f1"}, timeout=10
        )
        question = asked["question"]["id"]

        stop, answers = threading.Event(), []
        loops = [
            threading.Thread(target=wrong_password_loop, args=(server.url, stop, answers))
            for _ in range(FLOOD_LOOPS)
        ]
        for loop in loops:
            loop.start()
        time.sleep(1)  # the flood is under way
        acks, up, ends = [], True, time.monotonic() + FLOOD_SECONDS
        while time.monotonic() < ends:
            started = time.perf_counter()
            ack = phone.call("vote", {"question_id": question, "up": up}, timeout=30)
            acks.append(time.perf_counter() - started)
            assert ack["ok"], ack
            up = not up
            time.sleep(0.05)
        stop.set()
        for loop in loops:
            loop.join(timeout=60)
        phone.disconnect()

    acks.sort()
    p99 = acks[min(len(acks) - 1, int(len(acks) * 0.99))]
    print(
        f"\n{len(answers)} wrong-password log-ins from {FLOOD_LOOPS} loops;"
        f" {len(acks)} votes: ack median {statistics.median(acks) * 1000:.0f} ms,"
        f" p99 {p99 * 1000:.0f} ms, max {acks[-1] * 1000:.0f} ms"
    )
    assert answers and set(answers) == {401}  # every attempt was checked, none throttled
    assert len(answers) >= 10
    assert p99 < bound(1.0), f"vote ack p99 {p99 * 1000:.0f} ms during the log-in flood"
