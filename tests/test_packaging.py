"""The package: a wheel carries templates, static files, migrations and the console script;
the migrations match the models."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from flask_migrate import check

from qa_app.storage import MIGRATIONS
from tests.live import ROOT


def test_wheel_contains_everything_the_server_needs(tmp_path):
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("qa_app-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "qa_app/templates/audience.html",
        "qa_app/templates/moderate.html",
        "qa_app/templates/screen.html",
        "qa_app/static/css/app.css",
        "qa_app/migrations/env.py",
        "qa_app/migrations/versions/0001_initial_schema.py",
        "qa_app/data/demo_event.json",
    ):
        assert needed in names, needed
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "qa-app = qa_app.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_migrations_match_the_models(app):
    with app.app_context():
        check(directory=MIGRATIONS)  # raises SystemExit(1) when the models drifted
