"""Light on the wire: what Flask serves is compressed, static files are cached for good under
versioned URLs, pages are revalidated.

- Compression: flask-compress compresses Flask's responses (pages, JSON, static files, the
  service worker) with Brotli or gzip, as the client accepts, and sets `Vary: Accept-Encoding` on
  every one; a static file is compressed once per encoding and kept in memory (a few files of a
  few KB). Socket.IO never reaches Flask (Engine.IO answers /socket.io/ before it, and compresses
  its long-polling bodies itself), so neither its streams nor the limits of
  qa_app/httpserver.py are touched. `QA_COMPRESSION=0` turns it off (a proxy that compresses).
- Versioned URLs: every static file is served at /static/<version>/<path>, where the version is
  a hash of the whole static folder, computed at start. Relative imports between our ES
  modules (`./live.js`, `../vendor/...`) then resolve inside the same version, with no import
  map. Those responses are `public, max-age=31536000, immutable`: a repeat visit fetches none of
  them. The plain /static/<path> still answers, revalidated (`no-cache`). The version is read
  once: restart the server after editing a static file.
- Pages (HTML) and the service worker carry an ETag and `Cache-Control: no-cache`: a repeat
  visit revalidates them and gets a 304 when nothing changed.
- Complete: `qa-app serve` and `demo` refuse to start when a file the pages reference (through
  `url_for('static', ...)` in a template, or an ES module import from one of those) is missing,
  naming it (`require_page_assets`); the socket.io browser client comes from npm and is put into
  every wheel and sdist by hatch_build.py.

WhiteNoise was weighed: it serves precompressed siblings (.gz/.br made by its CLI) with
immutable headers, but as WSGI middleware outside Flask its responses would miss the page
policy of qa_app/headers.py, the siblings would have to be generated into the package folder
(read-only in a wheel) at set-up, and pages and JSON would still need on-the-fly compression.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import posixpath
import re

from flask import Flask, Response, current_app, request
from flask_compress import Compress
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"
REVALIDATE = "no-cache"
SW_VERSION_LINE = 'const VERSION = "dev";'  # in static/js/sw.js; the server fills the version in


def version(folder: str) -> str:
    """A short hash of every file under folder (names and contents): the static version."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, folder).encode() + b"\0")
            with open(path, "rb") as handle:
                digest.update(handle.read())
            digest.update(b"\0")
    return digest.hexdigest()[:12]


class StaticCache:
    """flask-compress's cache backend, keeping the compressed static files only: its key is
    `<encoding>;<path>`, and the key function gives "" for anything else (never kept)."""

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.kept.get(key)

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";"):
            self.kept[key] = value


def _cache_key(req) -> str:
    """The compressed-body cache key: the versioned path of a static file, else none."""
    return req.path if req.endpoint == "static" else ""


def _static_file(filename: str, cache_control: str) -> Response:
    """A static file as a plain (not streamed) response, so that it is compressed once and
    kept; its ETag (of its content: the same on every process) is evaluated after compression."""
    path = safe_join(current_app.static_folder, filename)
    if path is None or not os.path.isfile(path):
        raise NotFound()
    with open(path, "rb") as handle:
        body = handle.read()
    kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    response = Response(body, mimetype=kind)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = cache_control
    return _conditional(response)


def _conditional(response: Response) -> Response:
    """Answer If-None-Match with a 304 here when flask-compress does not (QA_COMPRESSION=0)."""
    if not current_app.config["QA_COMPRESSION"]:
        response.make_conditional(request)
    return response


def versioned_static(filename: str) -> Response:
    """/static/<version>/<path>: never changes, cached for a year."""
    return _static_file(filename, IMMUTABLE)


def plain_static(filename: str) -> Response:
    """/static/<path> without a version: revalidated on every use."""
    return _static_file(filename, REVALIDATE)


def service_worker() -> Response:
    """/sw.js, with the static version filled in (its cache name changes with the shell)."""
    path = os.path.join(current_app.static_folder, "js", "sw.js")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    filled = f'const VERSION = "{current_app.config["QA_ASSET_VERSION"]}";'
    response = Response(text.replace(SW_VERSION_LINE, filled), mimetype="text/javascript")
    response.add_etag()
    response.headers["Cache-Control"] = REVALIDATE
    return _conditional(response)


def static_url_path(folder: str) -> tuple[str, str]:
    """The version of folder and the URL path Flask serves it under."""
    current = version(folder)
    return current, f"/static/{current}"


STATIC_URL = re.compile(r"""url_for\(\s*['"]static['"]\s*,\s*filename\s*=\s*['"]([^'"]+)['"]""")
MODULE_IMPORT = re.compile(r"""\b(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""")
VENDOR_HOW = {
    "vendor/socket.io.esm.min.js": (
        "the socket.io browser client, from npm: in a checkout run `make setup` (or `npm ci` and "
        "reinstall), or install qa-app from a wheel, which carries it"
    ),
}


def page_assets(templates: str, static: str) -> list[str]:
    """Every static file the pages reference (paths under static/): those the templates name,
    and the ES modules those import, transitively."""
    wanted: list[str] = []
    for root, _dirs, files in os.walk(templates):
        for name in sorted(files):
            with open(os.path.join(root, name), encoding="utf-8") as handle:
                wanted += STATIC_URL.findall(handle.read())
    found: list[str] = []
    while wanted:
        asset = wanted.pop(0)
        if asset in found:
            continue
        found.append(asset)
        path = os.path.join(static, asset)
        if asset.endswith(".js") and os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                imports = MODULE_IMPORT.findall(handle.read())
            here = posixpath.dirname(asset)
            wanted += [posixpath.normpath(posixpath.join(here, rel)) for rel in imports]
    return found


def require_page_assets(app: Flask) -> None:
    """Refuse to serve (SystemExit, one line) when a file the pages reference is missing."""
    static = app.static_folder
    for asset in page_assets(os.path.join(app.root_path, app.template_folder), static):
        if not os.path.isfile(os.path.join(static, asset)):
            how = VENDOR_HOW.get(asset, "the installation is incomplete: reinstall qa-app")
            raise SystemExit(
                f"qa-app: cannot serve: {os.path.join(static, asset)} is missing ({how})."
            )


def init_app(app: Flask, asset_version: str) -> None:
    """Serve static files from the versioned path, compress, and tag pages with ETags (call
    before any other after_request that must see the uncompressed body)."""
    app.config["QA_ASSET_VERSION"] = asset_version
    app.view_functions["static"] = versioned_static
    app.add_url_rule("/static/<path:filename>", "static_plain", plain_static)
    if app.config["QA_COMPRESSION"]:
        app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
        app.config.setdefault("COMPRESS_BR_LEVEL", 5)
        app.config.setdefault("COMPRESS_STREAMS", False)  # nothing of ours streams
        app.config.setdefault("COMPRESS_CACHE_BACKEND", StaticCache)
        app.config.setdefault("COMPRESS_CACHE_KEY", _cache_key)
        Compress(app)

    @app.context_processor
    def asset_context():
        return {"asset_version": asset_version}

    @app.after_request
    def revalidate_pages(response: Response) -> Response:
        """A page gets an ETag of its body and `no-cache` (runs before compression)."""
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and response.mimetype == "text/html"
            and not response.is_streamed
        ):
            response.add_etag()
            response.headers.setdefault("Cache-Control", REVALIDATE)
            return _conditional(response)
        return response
