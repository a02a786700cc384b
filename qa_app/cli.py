"""The `qa-app` console script. The commands are in qa_app/commands.py, which imports the app
only inside each command, so that `serve` and `demo` can patch the standard library for their
async server (qa_app/asyncmode.py) before the app is imported."""

from __future__ import annotations


def main() -> None:
    """Entry point of the console script."""
    from .commands import cli

    cli(prog_name="qa-app")
