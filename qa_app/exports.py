"""The CSV export, safe to open in a spreadsheet; the one writer behind the API and `qa-app export`.

Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return as a formula, so a question like `=HYPERLINK(...)` would run on the organiser's
machine (OWASP: CSV injection). Such a cell gets a single quote in front, as OWASP suggests: the
spreadsheet shows the text as typed. Only text is touched; numbers stay numbers, and the JSON
export keeps every value as stored. (defusedcsv does the same job but leaves tab and carriage
return alone and rewrites `|` inside cells, hence these few lines.)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

FIELDS = [
    "id",
    "issue_position",
    "issue",
    "text",
    "author_name",
    "addressed_to",
    "votes",
    "status",
    "merged_into",
    "created_at",
    "answered_at",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """value, with a single quote in front when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(stream: TextIO, rows: Iterable[dict]) -> None:
    """Write the header and the rows of the export to stream, every cell spreadsheet-safe."""
    writer = csv.DictWriter(stream, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows({name: spreadsheet_safe(value) for name, value in row.items()} for row in rows)
