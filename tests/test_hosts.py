"""Links come from a trusted host: a request naming any other Host gets 400 and builds nothing.

Trusted are the loopback names, QA_PUBLIC_URL's host, and QA_TRUSTED_HOSTS (by default the
machine's own name and addresses), behind a proxy only through QA_TRUSTED_PROXIES.
"""

from __future__ import annotations

import socket

import psutil
import pytest
import requests
from sqlalchemy import func, select

from qa_app.extensions import db
from qa_app.models import Participant
from tests.conftest import make_event
from tests.live import running_server

EVIL = "evil.example"
PAGES = [
    "/",
    "/e/{code}",
    "/e/{code}/screen",
    "/e/{code}/moderate",
    "/admin/login",
    "/admin/",
    "/sw.js",
    "/static/css/app.css",
]
API = ["/api/openapi.json", "/api/v1/events/{code}", "/api/v1/events/{code}/export.csv"]


def event_of(app) -> tuple[str, str]:
    """A new event's code and moderator key."""
    with app.app_context():
        event, key = make_event()
        return event.code, key


def machine_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback."""
    return [
        address.address
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family == socket.AF_INET and not address.address.startswith("127.")
    ]


def test_pages_for_an_untrusted_host_are_refused_with_a_page(make_app):
    app = make_app()
    code, key = event_of(app)
    client = app.test_client()
    for path in PAGES:
        answer = client.get(path.format(code=code), headers={"Host": EVIL})
        assert answer.status_code == 400, path
        assert answer.mimetype == "text/html"
        assert "does not answer to the address you opened" in answer.text
        assert EVIL not in answer.text and "Set-Cookie" not in answer.headers
    russian = client.get("/", headers={"Host": EVIL, "Accept-Language": "ru"})
    assert russian.status_code == 400 and "не отвечает" in russian.text


def test_the_api_for_an_untrusted_host_is_refused_with_json_and_writes_nothing(make_app):
    app = make_app()
    code, key = event_of(app)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {key}", "Host": EVIL}
    for path in API:
        answer = client.get(path.format(code=code), headers=auth)
        assert answer.status_code == 400, path
        assert answer.json["error"]["code"] == "invalid"
        assert "host name" in answer.json["error"]["message"]
        assert EVIL not in answer.text
    joined = client.post(f"/api/v1/events/{code}/participants", json={}, headers={"Host": EVIL})
    assert joined.status_code == 400
    rotated = client.post(f"/api/v1/events/{code}/moderator-key", headers=auth)
    assert rotated.status_code == 400 and EVIL not in rotated.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 0
    still = client.get(
        f"/api/v1/events/{code}/export.json", headers={"Authorization": f"Bearer {key}"}
    )
    assert still.status_code == 200  # the key was not rotated


def test_socket_io_for_an_untrusted_host_is_refused(make_app):
    client = make_app().test_client()
    handshake = "/socket.io/?EIO=4&transport=polling"
    refused = client.get(handshake, headers={"Host": EVIL})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "invalid"
    assert client.get(handshake, headers={"Host": "localhost"}).status_code == 200


def test_by_default_loopback_and_the_machines_own_names_are_trusted(make_app):
    app = make_app()
    code, _ = event_of(app)
    client = app.test_client()
    own = ["localhost", "localhost:5000", "app.localhost", "127.0.0.1:8000"]
    own += [socket.gethostname().lower(), *machine_addresses()]
    for host in own:
        screen = client.get(f"/e/{code}/screen", headers={"Host": host})
        assert screen.status_code == 200, host
        assert f"{host}/e/{code}" in screen.text  # the join link shown under the QR code
    assert client.get(f"/e/{code}/screen", headers={"Host": EVIL}).status_code == 400


def test_links_use_the_trusted_host_of_the_request(make_app):
    app = make_app()
    code, key = event_of(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}", "Host": "127.0.0.1:8000"}
    rotated = client.post(f"/api/v1/events/{code}/moderator-key", headers=headers)
    assert rotated.status_code == 201
    urls = rotated.json["urls"]
    assert urls["audience"] == f"http://127.0.0.1:8000/e/{code}"
    assert urls["moderator"].startswith(f"http://127.0.0.1:8000/e/{code}/moderate#key=mk.")
    headers["Authorization"] = f"Bearer {rotated.json['moderator_key']}"
    headers["Host"] = EVIL
    assert client.post(f"/api/v1/events/{code}/moderator-key", headers=headers).status_code == 400


def test_public_url_builds_every_link_and_its_host_is_trusted(make_app):
    app = make_app(QA_PUBLIC_URL="https://qa.example.org")
    code, _ = event_of(app)
    client = app.test_client()
    for host in ("localhost", "qa.example.org"):
        screen = client.get(f"/e/{code}/screen", headers={"Host": host})
        assert screen.status_code == 200
        assert f"qa.example.org/e/{code}" in screen.text and f"{host}:" not in screen.text
    assert client.get(f"/e/{code}/screen", headers={"Host": EVIL}).status_code == 400


def test_trusted_hosts_setting_replaces_the_machines_names(make_app):
    app = make_app(QA_TRUSTED_HOSTS=["qa.example.org", ".venue.lan"])
    code, _ = event_of(app)
    client = app.test_client()
    for host in ("qa.example.org", "hall-2.venue.lan", "venue.lan:8000", "localhost"):
        assert client.get(f"/e/{code}", headers={"Host": host}).status_code == 200, host
    for host in (EVIL, "venue.lan.evil.example", *machine_addresses()):
        assert client.get(f"/e/{code}", headers={"Host": host}).status_code == 400, host


def test_behind_a_trusted_proxy_the_forwarded_host_must_be_trusted(make_app):
    app = make_app(QA_TRUSTED_PROXIES=1, QA_TRUSTED_HOSTS=["qa.example.org"])
    code, _ = event_of(app)
    client = app.test_client()
    proxy = {"Host": "127.0.0.1:5001", "X-Forwarded-Proto": "https"}
    screen = client.get(
        f"/e/{code}/screen", headers={**proxy, "X-Forwarded-Host": "qa.example.org"}
    )
    assert screen.status_code == 200
    assert f'data-join="qa.example.org/e/{code}"' in screen.text
    forged = client.get(f"/e/{code}/screen", headers={**proxy, "X-Forwarded-Host": EVIL})
    assert forged.status_code == 400 and EVIL not in forged.text

    direct = make_app().test_client()  # no proxy trusted: X-Forwarded-Host is a client's word
    screen = direct.get(
        f"/e/{code}/screen", headers={"Host": "localhost", "X-Forwarded-Host": EVIL}
    )
    assert screen.status_code == 200
    assert EVIL not in screen.text and f'data-join="localhost/e/{code}"' in screen.text
    assert direct.get(f"/e/{code}/screen", headers={"Host": EVIL}).status_code == 400


@pytest.mark.live
def test_the_real_server_refuses_an_untrusted_host(tmp_path):
    with running_server(tmp_path) as live:
        for path in ("/", "/api/openapi.json", "/socket.io/?EIO=4&transport=polling"):
            refused = requests.get(live.url + path, headers={"Host": EVIL}, timeout=10)
            assert refused.status_code == 400, path
            assert EVIL not in refused.text
            assert requests.get(live.url + path, timeout=10).status_code == 200, path
        assert f"for host '{EVIL}'" in live.log.read_text()


def test_an_address_gained_after_start_is_learnt_when_first_named(make_app):
    from qa_app.hosts import RELEARN_AFTER, Guard

    addresses = machine_addresses()
    if not addresses:
        pytest.skip("this machine has no address but loopback")
    app = make_app()
    guard = Guard(app.wsgi_app, ["localhost"], learn=True)  # as if started before the network
    app.wsgi_app = guard
    client = app.test_client()
    host = {"Host": addresses[0]}
    assert client.get("/", headers=host).status_code == 400  # looked at most RELEARN_AFTER ago
    guard.learnt_at -= RELEARN_AFTER
    assert client.get("/", headers=host).status_code == 200
    assert client.get("/", headers={"Host": EVIL}).status_code == 400
