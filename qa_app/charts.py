"""Small SVG charts drawn on the server for the report: no chart library reaches the browser.

Each chart is a self-contained `<svg>` with a viewBox (it scales to the width of a 360 px
phone or of an A4 page), `role="img"` with a `<title>` and a `<desc>` that says in words what it
shows (the report page puts the numbers in a table beside it as well). Colours come from classes
that static/css/report.css styles — no `style` attribute, which the pages' Content-Security-Policy
would refuse — so the print stylesheet can change them too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from markupsafe import Markup, escape

WIDTH = 400
LEFT = 34  # room for the axis numbers
TICKS = (5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)  # minutes between the time labels
_ids = count(1)


def _id(prefix: str) -> str:
    """A fresh element id for a chart's title and description."""
    return f"{prefix}-{next(_ids)}"


def _svg(height: float, title: str, desc: str, body: list[str], css: str) -> Markup:
    """The chart's frame: viewBox, role, title and description, and its parts."""
    title_id, desc_id = _id("chart-t"), _id("chart-d")
    return Markup(
        f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {height:g}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _f(x: float) -> str:
    """A coordinate, short."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


# -- over time -------------------------------------------------------------------------------------


def _at(text: str) -> datetime:
    """A report time ("2026-11-27T15:30") as a datetime."""
    return datetime.fromisoformat(text)


def _ticks(start: datetime, minutes: int) -> list[datetime]:
    """Round clock times to label along a timeline of so many minutes (at most six)."""
    step = next((t for t in TICKS if minutes / t <= 5), TICKS[-1])
    first = start.replace(minute=0) + timedelta(minutes=step * -(-start.minute // step))
    return [first + timedelta(minutes=step * i) for i in range(6) if step * i <= minutes * 2]


def timeline_chart(timeline: dict, words: dict) -> Markup | None:
    """Bars of questions and of votes per bucket of minutes, one panel above the other, with
    a dashed line where the current issue changed (numbered) and a triangle where a question
    went on screen. `words`: title, desc, questions, votes, issue (with %(n)s), on_screen."""
    buckets = timeline["buckets"]
    if not buckets:
        return None
    start, size = _at(timeline["start"]), timeline["bucket_minutes"]
    minutes = len(buckets) * size
    inner = WIDTH - LEFT - 4
    step = inner / len(buckets)

    def x_of(at: str) -> float:
        return LEFT + (_at(at) - start).total_seconds() / 60 / minutes * inner

    body: list[str] = []
    panels = (("questions", 40, words["questions"]), ("votes", 152, words["votes"]))
    for key, top, label in panels:  # each panel: its label, its scale, its bars
        height = 68
        most = max(bucket[key] for bucket in buckets) or 1
        base = top + height
        body.append(f'<text class="panel-label" x="{LEFT}" y="{top - 8}">{escape(label)}</text>')
        body.append(
            f'<text class="axis" x="{LEFT - 4}" y="{top + 10}" text-anchor="end">{most}</text>'
        )
        body.append(f'<text class="axis" x="{LEFT - 4}" y="{base}" text-anchor="end">0</text>')
        body.append(
            f'<line class="baseline" x1="{LEFT}" x2="{WIDTH - 4}" y1="{base}" y2="{base}"/>'
        )
        for i, bucket in enumerate(buckets):
            if bucket[key]:
                h = bucket[key] / most * height
                body.append(
                    f'<rect class="bar {key}" x="{_f(LEFT + i * step + step * 0.1)}" '
                    f'y="{_f(base - h)}" width="{_f(max(step * 0.8, 0.6))}" height="{_f(h)}">'
                    f"<title>{bucket['at'][11:]} · {bucket[key]}</title></rect>"
                )
    for change in timeline["issue_changes"]:  # a dashed line, numbered above the panels
        x = _f(x_of(change["at"]))
        name = escape(words["issue"] % {"n": change["position"]})
        body.append(
            f'<g class="mark issue-change"><title>{change["at"][11:]} · {name}: '
            f"{escape(change['title'])}</title>"
            f'<line x1="{x}" x2="{x}" y1="15" y2="220"/>'
            f'<text x="{x}" y="11" text-anchor="middle">{change["position"]}</text></g>'
        )
    for shown in timeline["on_screen"]:  # a triangle between the panels
        x = x_of(shown["at"])
        body.append(
            f'<path class="mark on-screen" d="M{_f(x - 4)} 115 L{_f(x + 4)} 115 L{_f(x)} 123 Z">'
            f"<title>{shown['at'][11:]} · {escape(words['on_screen'])}: "
            f"{escape(shown['text'] or '')}</title></path>"
        )
    for tick in _ticks(start, minutes):
        offset = (tick - start).total_seconds() / 60
        if 0 <= offset <= minutes:
            x = LEFT + offset / minutes * inner
            anchor = "end" if x > WIDTH - 20 else "middle"
            body.append(f'<line class="tick" x1="{_f(x)}" x2="{_f(x)}" y1="220" y2="225"/>')
            body.append(
                f'<text class="axis" x="{_f(x)}" y="238" text-anchor="{anchor}">'
                f"{tick.strftime('%H:%M')}</text>"
            )
    return _svg(244, words["title"], words["desc"], body, "timeline-chart")


# -- bars per issue / per panelist -----------------------------------------------------------------


def _clip(text: str, most: int = 52) -> str:
    """A label cut to fit one line of the chart."""
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def bars_chart(rows: list[dict], words: dict) -> Markup | None:
    """One bar per row (an issue or a panelist): its questions, split into answered, published
    but not answered, and the rest (merged, pending), with the label above it and the count at
    its end. rows: {label, questions, answered, unanswered}; words: title, desc."""
    if not rows:
        return None
    most = max(row["questions"] for row in rows) or 1
    inner = WIDTH - 44
    body: list[str] = []
    for i, row in enumerate(rows):
        y = 8 + i * 42
        body.append(
            f'<text class="bar-label" x="0" y="{y + 13}">{escape(_clip(row["label"]))}</text>'
        )
        x = 0.0
        other = row["questions"] - row["answered"] - row["unanswered"]
        for part, value in (("answered", row["answered"]), ("unanswered", row["unanswered"]),
                            ("other", other)):  # fmt: skip
            if value > 0:
                w = value / most * inner
                body.append(
                    f'<rect class="bar {part}" x="{_f(x)}" y="{y + 19}" width="{_f(w)}" '
                    f'height="16"/>'
                )
                x += w
        body.append(
            f'<text class="bar-value" x="{_f(x + 5)}" y="{y + 32}">{row["questions"]}</text>'
        )
    return _svg(8 + len(rows) * 42, words["title"], words["desc"], body, "bars-chart")
