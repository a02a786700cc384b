"""`python -m qa_app` is the `qa-app` command."""

from .cli import main

main()
