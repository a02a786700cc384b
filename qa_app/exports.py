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


# -- the report (qa_app/report.py): one flat table, documented in docs/report.md ------------------

REPORT_FIELDS = [
    "section",
    "metric",
    "value",
    "at",
    "issue_position",
    "issue",
    "panelist",
    "rank",
    "question_id",
    "text",
    "author_name",
    "status",
]
NUMBERS = ["questions", "published", "answered", "unanswered", "answered_share", "votes",
           "pending", "merged", "dismissed", "withdrawn"]  # fmt: skip


def _listed(section: str, questions: list[dict], **where) -> list[dict]:
    """Rows of listed questions (a top list, the unanswered ones): their votes, ranked."""
    return [
        {
            "section": section,
            "metric": "votes",
            "value": question["votes"],
            "at": question["asked_at"],
            "issue_position": question["issue_position"],
            "rank": rank,
            "question_id": question["id"],
            "text": question["text"],
            "author_name": question["author_name"],
            "status": question["status"],
            "panelist": question["addressed_to"],
        }
        | where
        for rank, question in enumerate(questions, 1)
    ]


def report_rows(report: dict) -> list[dict]:
    """The report (domain/report.py) as flat rows: one number, or one listed question, a row."""
    rows = [
        {"section": "headline", "metric": name, "value": value}
        for name, value in report["headline"].items()
    ]
    for issue in report["issues"]:
        where = {"issue_position": issue["position"], "issue": issue["title"]}
        rows += [{"section": "issue", "metric": n, "value": issue[n]} | where for n in NUMBERS]
        rows += _listed("issue_top", issue["top"], **where)
    for person in report["panelists"]:
        where = {"panelist": person["name"] or "(all panelists)"}
        rows += [{"section": "panelist", "metric": n, "value": person[n]} | where for n in NUMBERS]
        rows += _listed("panelist_top", person["top"], **where)
    timeline = report["timeline"]
    for bucket in timeline["buckets"]:
        rows += [
            {
                "section": "timeline",
                "metric": f"{name}_per_{timeline['bucket_minutes']}_min",
                "value": bucket[name],
                "at": bucket["at"],
            }  # fmt: skip
            for name in ("questions", "votes")
        ]
    rows += [
        {
            "section": "issue_change",
            "at": change["at"],
            "issue_position": change["position"],
            "issue": change["title"],
        }  # fmt: skip
        for change in timeline["issue_changes"]
    ]
    rows += [
        {
            "section": "on_screen",
            "at": shown["at"],
            "question_id": shown["question_id"],
            "text": shown["text"],
        }  # fmt: skip
        for shown in timeline["on_screen"]
    ]
    return rows + _listed("unanswered", report["owed"])


def write_report_csv(stream: TextIO, report: dict) -> None:
    """Write the report as one flat CSV table (docs/report.md), every cell spreadsheet-safe."""
    writer = csv.DictWriter(stream, fieldnames=REPORT_FIELDS)
    writer.writeheader()
    writer.writerows(
        {name: spreadsheet_safe(value) for name, value in row.items()}
        for row in report_rows(report)
    )
