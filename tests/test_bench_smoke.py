"""`qa-app bench` works end to end on a tiny load (no timing assertions), and fails when phones
miss updates."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import service_unavailable

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.live


def needs_the_load_generator() -> None:
    """Skip (fail under CI) without Node and the socket.io client the load generator runs on."""
    if shutil.which("node") is None:
        service_unavailable("Node", "no node on PATH")
    if not (ROOT / "node_modules" / "socket.io-client").is_dir():
        service_unavailable("socket.io-client", "run npm install")


def test_a_tiny_bench_run_reports_both_fan_out_modes_and_both_servers(tmp_path):
    needs_the_load_generator()
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa_app",
            "bench",
            "--phones",
            "20",
            "--duration",
            "3",
            "--votes",
            "10",
            "--questions",
            "1",
            "--compare-async-mode",
            "eventlet",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "vote to every phone p50 / p99 (ms)" in done.stdout
    assert "baseline / coalesced" in done.stdout and "eventlet / gevent" in done.stdout
    assert "driving" in done.stderr  # the progress line
    report = json.loads(out.read_text())
    coalesced, baseline, eventlet = report["results"]
    assert (coalesced["tick_ms"], baseline["tick_ms"], eventlet["tick_ms"]) == (250, 0, 250)
    assert [r["async_mode"] for r in report["results"]] == ["gevent", "gevent", "eventlet"]
    for result in (coalesced, baseline, eventlet):
        assert result["connected"] == 22  # 20 phones, a moderator and a screen
        assert result["disconnects"] == 0
        assert result["votes_sent"] > 0 and result["votes_acked"] == result["votes_sent"]
        # every phone saw every acknowledged vote (the tool drains until they have)
        assert result["vote_sightings_expected"] == result["votes_acked"] * 20
        assert result["vote_sightings_missing"] == 0
        assert result["server_cpu_s"] > 0 and result["server_peak_mb"][0] > 0
    for ratios in (report["baseline_over_coalesced"], report["eventlet_over_gevent"]):
        assert set(ratios) >= {"connect_s", "vote_seen_p99", "messages"}


def test_a_bench_whose_phones_miss_updates_fails_and_says_what_was_lost(tmp_path):
    needs_the_load_generator()
    # a tick longer than the run and its drain: the server acknowledges every vote but no phone
    # hears of one before the load generator gives up
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa_app",
            "bench",
            "--phones",
            "5",
            "--duration",
            "1",
            "--votes",
            "5",
            "--questions",
            "0",
            "--no-baseline",
            "--tick-ms",
            "60000",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr[-3000:]
    assert "| vote sightings missing |" in done.stdout  # the table is still printed
    assert (
        "updates were lost: coalesced:" in done.stderr and "vote sightings missing" in done.stderr
    )


def test_a_join_storm_joins_every_phone_over_rest_and_compares_with_a_git_revision(tmp_path):
    needs_the_load_generator()
    out = tmp_path / "storm.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa_app",
            "bench",
            "--join-storm",
            "--phones",
            "30",
            "--duration",
            "2",
            "--votes",
            "5",
            "--questions",
            "0",
            "--no-baseline",
            "--compare-ref",
            "HEAD",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "| joins per second |" in done.stdout and "previous / current:" in done.stdout
    report = json.loads(out.read_text())
    current, previous = report["results"]
    assert previous["label"] == "previous (HEAD)"
    for result in (current, previous):
        assert (result["joined"], result["joins_failed"]) == (30, 0)  # over REST, every one
        assert result["connected"] == 32 and result["vote_sightings_missing"] == 0
        assert result["joins_per_s"] > 0 and result["join_ms"]["n"] == 30
        assert result["server_kb_per_connected_phone"] > 0
        assert result["server_connect_cpu_ms_per_phone"] > 0
    assert set(report["previous_over_current"]) >= {"join_s", "server_kb_per_phone", "connect_s"}


def test_the_vote_path_bench_prints_each_variant_and_its_ratio(tmp_path):
    out = tmp_path / "vote-path.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa_app",
            "bench",
            "--vote-path",
            "--vote-path-votes",
            "40",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "QA_INSTANCE_PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| | blocking | cooperative | threadpool | cooperative-full |" in done.stdout
    assert "cooperative / blocking:" in done.stdout
    assert "cooperative-full / cooperative:" in done.stdout
    report = json.loads(out.read_text())
    assert set(report["ratios"]) == {
        "cooperative_over_blocking",
        "threadpool_over_blocking",
        "cooperative-full_over_cooperative",
    }
    assert not list(tmp_path.glob("qa-vote-path-*"))  # its SQLite files are gone


def test_the_floor_bench_storms_qa_app_and_each_bare_stack_side_by_side(tmp_path):
    needs_the_load_generator()
    if not (ROOT / "node_modules" / "socket.io").is_dir():
        service_unavailable("the socket.io server for Node", "run npm install")
    out = tmp_path / "floor.json"
    done = subprocess.run(
        [sys.executable, "-m", "qa_app", "bench", "--floor", "--phones", "30", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    report = json.loads(out.read_text())
    stacks = ["qa_app", "flask-socketio", "python-socketio", "node socket.io"]
    assert list(report["results"]) == stacks
    for stack, result in report["results"].items():
        assert (result["joined"], result["connected"], result["failed"]) == (30, 30, 0), stack
        assert result["joins_per_s"] > 0 and result["connect_s"] > 0, stack
        assert result["cpu_ms_per_phone"] > 0, stack
    assert "| server CPU to let a phone in (ms) |" in done.stdout
    assert "qa_app's CPU per phone over each floor's: flask-socketio x" in done.stdout
