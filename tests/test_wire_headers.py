"""What travels: compressed pages, JSON and static files, versioned static URLs cached for good,
pages revalidated with a 304, Socket.IO left alone, the page policy on every response."""

from __future__ import annotations

import gzip
import re

import brotli

from qa_app.extensions import db
from qa_app.models import Event
from tests.conftest import make_event

BR = {"Accept-Encoding": "br, gzip"}
GZIP = {"Accept-Encoding": "gzip, deflate"}


def audience_path(app) -> str:
    with app.app_context():
        event, _key = make_event()
        return f"/e/{db.session.get(Event, event.id).code}"


def test_pages_are_compressed_and_revalidated_with_a_304(app, client):
    path = audience_path(app)
    page = client.get(path, headers=BR)
    assert page.status_code == 200
    assert page.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in page.headers["Vary"]
    assert page.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = brotli.decompress(page.data).decode()
    assert "<html" in html

    again = client.get(path, headers={**BR, "If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert "Content-Security-Policy" in again.headers


def test_the_page_names_its_files_by_version_and_they_are_cached_for_good(app, client):
    html = gzip.decompress(client.get(audience_path(app), headers=GZIP).data).decode()
    version = app.config["QA_ASSET_VERSION"]
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert urls and all(url.startswith(f"/static/{version}/") for url in urls), urls
    for url in urls:
        answer = client.get(url, headers=GZIP)
        assert answer.status_code == 200, url
        assert answer.headers["Content-Encoding"] == "gzip"
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Accept-Encoding" in answer.headers["Vary"]
        assert "Content-Security-Policy" in answer.headers
    # a module's relative imports resolve inside the same version
    live = gzip.decompress(client.get(f"/static/{version}/js/live.js", headers=GZIP).data)
    assert b'from "../vendor/socket.io.esm.min.js"' in live


def test_an_unversioned_or_other_version_static_url(client):
    plain = client.get("/static/css/app.css", headers=GZIP)
    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == "no-cache"
    assert client.get("/static/000000000000/css/app.css").status_code == 404


def test_the_service_worker_carries_the_version_and_is_revalidated(app, client):
    answer = client.get("/sw.js", headers=GZIP)
    script = gzip.decompress(answer.data).decode()
    assert f'const VERSION = "{app.config["QA_ASSET_VERSION"]}";' in script
    assert answer.headers["Cache-Control"] == "no-cache"
    again = client.get("/sw.js", headers={**GZIP, "If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_socket_io_is_not_compressed_by_flask(client):
    answer = client.get("/socket.io/?EIO=4&transport=polling", headers=BR)
    assert answer.status_code == 200
    assert answer.headers.get("Content-Encoding") is None  # a handshake is under Engine.IO's 1 KB
    assert answer.data.startswith(b"0{")


def test_compression_can_be_left_to_a_proxy(make_app):
    app = make_app(QA_COMPRESSION=False)
    client = app.test_client()
    page = client.get("/", headers=BR)
    assert "Content-Encoding" not in page.headers
    assert client.get("/", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304
