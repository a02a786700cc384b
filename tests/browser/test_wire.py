"""Light on the wire: every byte a phone receives for the audience page, first and repeat visit.

Counted through the Chrome DevTools Protocol on the page (`Network.loadingFinished`'s
`encodedDataLength`: response headers and the body as it came, compressed or not; a WebSocket's
handshake and its frames' payloads, up to and including the snapshot) and through Playwright
for what the service worker fetches itself (its own target). The figures, per resource and in
total, go to test-artifacts/wire.json.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.live import ROOT

from .conftest import LAPTOP, PHONE, PROJECTOR

pytestmark = [pytest.mark.browser, pytest.mark.live]

FIRST_VISIT_LIMIT = 60 * 1024
REPEAT_VISIT_LIMIT = 10 * 1024
ARTIFACT = ROOT / "test-artifacts" / "wire.json"
SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}
FIGURES: dict = {}


class Wire:
    """What one page receives, resource by resource, from the moment it is attached."""

    def __init__(self, context, page) -> None:
        self.rows: dict[str, dict] = {}  # request id -> {url, status, bytes, ...}
        self.sockets: dict[str, dict] = {}  # WebSocket request id -> {url, bytes, frames}
        self.snapshot = False  # the socket's snapshot has arrived
        self.cdp = context.new_cdp_session(page)
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.webSocketCreated", self._socket)
        self.cdp.on("Network.webSocketHandshakeResponseReceived", self._handshake)
        self.cdp.on("Network.webSocketFrameReceived", self._frame)
        self.cdp.send("Network.enable")
        self.worker: list[dict] = []  # what the service worker fetched itself
        context.on("requestfinished", self._worker_fetch)

    def _sent(self, event) -> None:
        row = self.rows.setdefault(event["requestId"], {"bytes": 0})
        row["url"] = event["request"]["url"]

    def _response(self, event) -> None:
        response = event["response"]
        row = self.rows.setdefault(event["requestId"], {"bytes": 0, "url": response["url"]})
        headers = {k.lower(): v for k, v in response["headers"].items()}
        row.update(
            status=response["status"],
            encoding=headers.get("content-encoding", ""),
            cache_control=headers.get("cache-control", ""),
            from_cache=bool(response.get("fromDiskCache") or response.get("fromMemoryCache")),
            from_service_worker=bool(response.get("fromServiceWorker")),
        )

    def _finished(self, event) -> None:
        self.rows.setdefault(event["requestId"], {"url": "?"})["bytes"] = int(
            event["encodedDataLength"]
        )

    def _socket(self, event) -> None:
        self.sockets[event["requestId"]] = {"url": event["url"], "bytes": 0, "frames": 0}

    def _handshake(self, event) -> None:
        response = event["response"]
        text = response.get("headersText") or "".join(
            f"{k}: {v}\r\n" for k, v in response["headers"].items()
        )
        socket = self.sockets.setdefault(event["requestId"], {"bytes": 0, "frames": 0})
        socket["bytes"] += len(text.encode())

    def _frame(self, event) -> None:
        if self.snapshot:
            return  # counted up to the snapshot only
        payload = event["response"]["payloadData"]
        size = len(payload.encode()) if event["response"]["opcode"] == 1 else len(payload) * 3 // 4
        socket = self.sockets.setdefault(event["requestId"], {"bytes": 0, "frames": 0})
        socket["bytes"] += size + (2 if size < 126 else 4)  # the frame's own header
        socket["frames"] += 1
        if payload.startswith('42["snapshot"'):
            self.snapshot = True

    def _worker_fetch(self, request) -> None:
        if request.service_worker is None:
            return
        sizes = request.sizes()
        self.worker.append(
            {
                "url": request.url,
                "bytes": sizes["responseHeadersSize"] + sizes["responseBodySize"],
            }
        )

    def report(self) -> dict:
        """Per resource and in total; stops counting."""
        self.cdp.detach()
        resources = [
            {**row, "url": _short(row["url"])}
            for row in self.rows.values()
            if not row.get("url", "").startswith("data:")
        ]
        sockets = [{**s, "url": _short(s.get("url", "?"))} for s in self.sockets.values()]
        worker = [{**w, "url": _short(w["url"])} for w in self.worker]
        total = sum(r["bytes"] for r in resources + sockets + worker)
        return {"total": total, "resources": resources, "sockets": sockets, "worker": worker}


def _short(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def settle(page, wire: Wire, ready: str | None = None) -> None:
    """Wait until the page is live, the snapshot is in and (on the phone) offline-ready."""
    expect(page.locator("#conn")).to_have_text("Live")
    deadline = time.monotonic() + 10
    while not wire.snapshot and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert wire.snapshot, "no snapshot arrived"
    if ready:
        expect(page.locator("html")).to_have_attribute(ready, "true")
    page.wait_for_timeout(300)  # whatever the page or its worker fetch right after


def record(name: str, figures: dict) -> None:
    """Keep the figures and rewrite test-artifacts/wire.json with all measured so far."""
    FIGURES[name] = figures
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(FIGURES, indent=2) + "\n")


# Chromium offers Brotli to HTTPS and localhost only: a phone on the hall's plain-HTTP LAN
# address gets gzip, measured too
GZIP_ONLY = {"extra_http_headers": {"Accept-Encoding": "gzip, deflate"}}


@pytest.mark.parametrize(
    ("phone", "offer"),
    [(PHONE, {}), (SMALL_PHONE, {}), (PHONE, GZIP_ONLY)],
    ids=["390x844", "360x740", "390x844-gzip"],
)
def test_the_audience_page_is_light_on_the_wire(events, new_context, phone, offer):
    """A first visit costs at most 60 KB on the wire, a repeat visit (reload) at most 10 KB,
    and the repeat visit fetches no static file again."""
    event = events.create()
    context = new_context(**phone, **offer)
    page = context.new_page()
    size = f"{phone['viewport']['width']}x{phone['viewport']['height']}"
    size += " gzip only" if offer else ""

    wire = Wire(context, page)
    page.goto(event["urls"]["audience"])
    settle(page, wire, "data-offline-ready")
    first = wire.report()

    wire = Wire(context, page)
    page.reload()
    settle(page, wire, "data-offline-ready")
    repeat = wire.report()

    record(f"audience {size}", {"first_visit": first, "repeat_visit": repeat})
    assert first["total"] <= FIRST_VISIT_LIMIT, json.dumps(first, indent=1)
    assert repeat["total"] <= REPEAT_VISIT_LIMIT, json.dumps(repeat, indent=1)
    fetched = repeat["resources"] + repeat["worker"]
    refetched = [r for r in fetched if r["url"].startswith("/static/")]
    assert sum(r["bytes"] for r in refetched) == 0, refetched


def test_the_screen_and_console_first_visits_are_measured(events, new_context):
    """The projector's and the moderator's first visits, for the record."""
    event = events.create()
    for name, url, options in (
        ("screen 1920x1080", event["urls"]["screen"], PROJECTOR),
        ("console 1440x900", event["urls"]["moderator"], LAPTOP),
    ):
        context = new_context(**options)
        page = context.new_page()
        wire = Wire(context, page)
        page.goto(url)
        settle(page, wire)
        record(name, {"first_visit": wire.report()})
        assert FIGURES[name]["first_visit"]["total"] > 0
