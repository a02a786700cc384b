"""Build hook: every wheel and sdist carries the socket.io browser client the live pages import.

The client (`static/vendor/socket.io.esm.min.js`, MIT, its licence in its first lines) comes from
npm, pinned by package-lock.json, and is never committed. The hook takes it, in this order, from:

1. `node_modules/socket.io-client/dist/` (after `npm ci`, as `make setup` leaves it);
2. `static/vendor/` (an sdist carries it there, so a wheel builds from an sdist without Node);
3. `npm ci`, run here when npm is on the PATH and node_modules is missing;

and copies it to static/vendor/ in the source tree (as `make setup` does), from where the wheel
takes it with the rest of static/ and the sdist carries it. If none gives it, the build fails
with a message saying how to get it: a wheel without the client serves pages that show
"Reconnecting…" forever. An editable install (`pip install -e .`) only warns: `qa-app serve`
refuses to start until the file is there, naming it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CLIENT = "socket.io.esm.min.js"
VENDOR = Path("static", "vendor", CLIENT)  # in the checkout and in the sdist
FROM_NPM = Path("node_modules", "socket.io-client", "dist", CLIENT)
HOW = (
    "run `npm ci` in the source tree (Node.js and npm: https://nodejs.org) and build again, "
    "or build from the qa-app sdist, which carries the file"
)


class VendorClientHook(BuildHookInterface):
    """Puts the socket.io browser client into the wheel (qa_app/static/vendor/) and the sdist
    (static/vendor/)."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        target = root / VENDOR
        try:
            source = self.find_client(root, run_npm=True)
            if source is None:
                raise RuntimeError(
                    f"qa-app build: the socket.io browser client ({FROM_NPM.as_posix()}) is "
                    f"missing and npm could not provide it; {HOW}."
                )
        except RuntimeError as exc:
            if version != "editable":
                raise
            # an editable install serves the checkout, which may get it later (`make setup`)
            self.app.display_warning(f"{exc} `qa-app serve` refuses to start without it.")
            return
        if source != target:  # as `make setup` does: the checkout's static/ is what is served
            os.makedirs(target.parent, exist_ok=True)
            shutil.copyfile(source, target)
        if self.target_name == "sdist":  # static/vendor/ is git-ignored, so not included by itself
            build_data["force_include"][str(target)] = VENDOR.as_posix()
        # a wheel takes it with the rest of static/ (force-include in pyproject.toml)

    def find_client(self, root: Path, run_npm: bool) -> Path | None:
        """The client's file: from node_modules, else static/vendor, else after `npm ci`."""
        for candidate in (root / FROM_NPM, root / VENDOR):
            if candidate.is_file():
                self.check_version(root, candidate)
                return candidate
        npm = shutil.which("npm")
        if not run_npm or npm is None or not (root / "package-lock.json").is_file():
            return None
        self.app.display_info("qa-app build: running `npm ci` for the socket.io browser client")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=root,
            stdout=sys.stderr,  # pip shows the build's output only on failure, or with -v
        )
        if done.returncode != 0:
            raise RuntimeError(f"qa-app build: `npm ci` failed (exit {done.returncode}); {HOW}.")
        return self.find_client(root, run_npm=False)

    def check_version(self, root: Path, client: Path) -> None:
        """Refuse a client whose version differs from the one package-lock.json pins."""
        lock = root / "package-lock.json"
        if not lock.is_file():
            return
        packages = json.loads(lock.read_text(encoding="utf-8")).get("packages", {})
        pinned = packages.get("node_modules/socket.io-client", {}).get("version")
        with client.open(encoding="utf-8") as handle:
            head = handle.read(200)
        if pinned and f"Socket.IO v{pinned}" not in head:
            raise RuntimeError(
                f"qa-app build: {client.relative_to(root).as_posix()} is not socket.io-client "
                f"{pinned}, the version package-lock.json pins; delete it and {HOW}."
            )
