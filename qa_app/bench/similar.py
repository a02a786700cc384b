"""`qa-app bench --similar`: what duplicate suggestions cost the server, per keystroke and per
arriving question, with 1,000 questions in the event.

Real domain calls on a fresh SQLite file (in a temporary folder), in one process, no network:

- keystroke: `domain.similar` as the phone calls it while its participant types (the texts typed
  so far, word by word, of questions like those in the event), with the event's index cached in
  the process (as served) and, for comparison, rebuilt for every call (`uncached`);
- arrival: `domain.similar.suggestions` alone (what `ask` adds before its write), and a whole
  `domain.ask` (suggestions, write, commit).

Each figure is the median and the 95th percentile of the calls, in milliseconds.
"""

from __future__ import annotations

import itertools
import random
import statistics
import tempfile
import time
from pathlib import Path

PARTICIPANTS = 50

EN_ASK = [
    "How can {who} support {what} in {where}?",
    "Why does {where} need more {what} from {who}?",
    "What should {who} do about {what} in {where}?",
    "When will {who} fund {what} for {where}?",
    "Which {what} in {where} work best with {who}?",
]
EN_WHO = [
    "the state",
    "regional governments",
    "universities",
    "big business",
    "the ministry",
    "investors",
    "cluster managers",
    "foreign partners",
]
EN_WHAT = [
    "export projects",
    "engineering staff",
    "startups",
    "research centres",
    "brands",
    "training programmes",
    "joint laboratories",
    "pilot plants",
    "supplier networks",
]
EN_WHERE = [
    "Tomsk",
    "Kaluga",
    "Lipetsk",
    "Ulyanovsk",
    "Tatarstan",
    "Krasnoyarsk",
    "Mordovia",
    "Europe",
    "China",
    "India",
]
RU_ASK = [
    "Как {who} может поддержать {what} в регионе {where}?",
    "Почему регион {where} ждёт от {who} больше внимания к теме {what}?",
    "Что {who} делает для развития темы {what} в регионе {where}?",
]
RU_WHO = ["государство", "университет", "крупный бизнес", "министерство", "управляющая компания"]
RU_WHAT = ["экспорт", "кадры", "стартапы", "бренды", "обучение", "лаборатории", "инвестиции"]
RU_WHERE = ["Томск", "Калуга", "Липецк", "Ульяновск", "Татарстан", "Красноярск", "Мордовия"]


def question_texts(count: int, seed: int = 9) -> list[str]:
    """count distinct, realistic questions, about one in four in Russian."""
    english = [
        template.format(who=who, what=what, where=where)
        for template, who, what, where in itertools.product(EN_ASK, EN_WHO, EN_WHAT, EN_WHERE)
    ]
    russian = [
        template.format(who=who, what=what, where=where)
        for template, who, what, where in itertools.product(RU_ASK, RU_WHO, RU_WHAT, RU_WHERE)
    ]
    rng = random.Random(seed)
    rng.shuffle(english)
    rng.shuffle(russian)
    ru = count // 4
    return english[: count - ru] + russian[:ru]


def typed_so_far(texts: list[str], keystrokes: int, seed: int = 3) -> list[str]:
    """What phones send while typing: prefixes (3 words and more) of lightly changed questions."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < keystrokes:
        words = rng.choice(texts).lower().rstrip("?").split()
        for end in range(3, len(words) + 1):
            out.append(" ".join(words[:end]))
    return out[:keystrokes]


def timings(calls, fn) -> list[float]:
    """fn(call) for each call, in milliseconds each."""
    spent = []
    for call in calls:
        started = time.perf_counter()
        fn(call)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def summary(spent: list[float]) -> dict:
    """Median and 95th percentile (ms) of a list of timings."""
    ordered = sorted(spent)
    return {
        "calls": len(ordered),
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 3),
    }


def run(questions: int = 1000, keystrokes: int = 500, arrivals: int = 100) -> dict:
    """Measure in a fresh database; return the figures."""
    from .. import create_app, domain, storage
    from ..auth import Actor
    from ..domain.similar import suggestions
    from ..extensions import db
    from ..schemas import AskIn, EventIn, SimilarIn
    from .setup import BENCH_EVENT

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'similar.db'}",
                "SECRET_KEY": "similar-bench",
                "QA_RATE_LIMITS": False,
            }
        )
        storage.upgrade(app)
        with app.app_context():
            event, _key = domain.create_event(
                EventIn.model_validate(BENCH_EVENT | {"settings": {"pre_moderation": False}})
            )
            issue, event_id = event.issues[0].id, event.id
            actors = [
                Actor("participant", event_id, domain.join(event, None, "bench").participant_id)
                for _ in range(PARTICIPANTS)
            ]
            texts = question_texts(questions + arrivals)
            for n, text in enumerate(texts[:questions]):
                ask = AskIn(issue_id=issue, text=text, client_id=f"seed{n}")
                domain.ask(actors[n % PARTICIPANTS], ask)
            db.session.remove()
            app.extensions.pop("qa_similar", None)
            typed = typed_so_far(texts[:questions], keystrokes)
            typist = actors[0]

            def keystroke(text: str) -> None:
                domain.similar(typist, SimilarIn(text=text, issue_id=issue))
                db.session.rollback()

            started = time.perf_counter()
            keystroke(typed[0])
            first_ms = (time.perf_counter() - started) * 1000
            cached = timings(typed, keystroke)
            found = sum(1 for text in typed[:100] if domain.similar(typist, SimilarIn(text=text)))
            db.session.rollback()

            def uncached(text: str) -> None:
                app.extensions.pop("qa_similar", None)
                keystroke(text)

            rebuilt = timings(typed[:20], uncached)
            keystroke(typed[0])  # warm again
            new = texts[questions:]
            alone = timings(new, lambda text: suggestions(event_id, text))
            db.session.rollback()
            asks = iter(range(len(new)))

            def arrival(text: str) -> None:
                n = next(asks)
                domain.ask(
                    actors[n % PARTICIPANTS], AskIn(issue_id=issue, text=text, client_id=f"new{n}")
                )

            asked = timings(new, arrival)
            db.session.remove()
            db.engine.dispose()
    return {
        "questions": questions,
        "keystroke": summary(cached)
        | {"first_call_ms": round(first_ms, 1), "hints_found_in_100": found},
        "keystroke_uncached": summary(rebuilt),
        "arrival_suggestions": summary(alone),
        "arrival_ask": summary(asked),
    }


def table(report: dict) -> str:
    """The figures, one line each."""
    rows = [
        ("keystroke (`similar`, cached index)", report["keystroke"]),
        ("keystroke, index rebuilt every call", report["keystroke_uncached"]),
        ("arrival: suggestions alone", report["arrival_suggestions"]),
        ("arrival: whole ask (suggestions, write, commit)", report["arrival_ask"]),
    ]
    lines = [
        f"With {report['questions']} questions in the event (ms per call):",
        f"{'':50} {'median':>8} {'p95':>8} {'calls':>6}",
    ]
    for name, figures in rows:
        lines.append(
            f"{name:50} {figures['median_ms']:8.2f} {figures['p95_ms']:8.2f} {figures['calls']:6}"
        )
    lines.append(f"first keystroke (builds the index): {report['keystroke']['first_call_ms']} ms")
    return "\n".join(lines)
