"""What the report costs on a big session: `python -m qa_app.bench.report`.

A SQLite database in a temporary folder with one event of 2,000 participants, 10,000 questions
over its five issues and three addressees (every status, asked over two hours) and 100,000
votes; prints the time to build the report's data (domain/report.py), the best of 5 rounds
(the machine's other work only adds to a round), and the size of its JSON.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from datetime import datetime, timedelta

from sqlalchemy import insert, select, text

QUESTIONS, VOTES, PARTICIPANTS = 10_000, 100_000, 2_000
STATUSES = ["live"] * 5 + ["answered"] * 3 + ["merged", "dismissed", "pending", "withdrawn"]


def fill(event, rng: random.Random) -> None:
    """Participants, questions and votes, inserted in bulk (the domain would take minutes)."""
    from qa_app import storage
    from qa_app.extensions import db
    from qa_app.models import Participant, Question, Vote

    start = datetime(2017, 1, 12, 12, 30)
    moment = lambda: start + timedelta(seconds=rng.randrange(7200))  # noqa: E731
    with storage.writing():
        db.session.execute(
            insert(Participant),
            [{"event_id": event.id, "token_hash": f"{i:064d}"} for i in range(PARTICIPANTS)],
        )
    people = list(db.session.scalars(select(Participant.id)))
    issues = [issue.id for issue in event.issues]
    addressees = [speaker.id for speaker in event.speakers] + [None]
    rows = [
        {
            "event_id": event.id,
            "issue_id": rng.choice(issues),
            "participant_id": rng.choice(people),
            "text": f"Question number {number}?",
            "addressed_to": rng.choice(addressees),
            "status": rng.choice(STATUSES),
            "vote_count": 0,
            "created_at": moment(),
        }
        for number in range(QUESTIONS)
    ]
    with storage.writing():
        db.session.execute(insert(Question), rows)
    questions = list(db.session.scalars(select(Question.id)))
    votes: set[tuple[int, int]] = set()
    while len(votes) < VOTES:
        votes.add((rng.choice(people), rng.choice(questions)))
    with storage.writing():
        db.session.execute(
            insert(Vote),
            [{"participant_id": p, "question_id": q, "created_at": moment()} for p, q in votes],
        )
        db.session.execute(
            text(
                "UPDATE questions SET vote_count ="
                " (SELECT count(*) FROM votes WHERE votes.question_id = questions.id)"
            )
        )


def main() -> None:
    """Build the session, then time the report."""
    from qa_app import create_app, domain, storage
    from qa_app.domain.report import report
    from qa_app.extensions import db
    from qa_app.models import Event
    from qa_app.schemas import EventIn

    folder = tempfile.mkdtemp()
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db", "SECRET_KEY": "bench"}
    )
    storage.upgrade(app)
    with app.app_context():
        programme = {
            "title": "Bench",
            "issues": [f"Issue {n}" for n in range(1, 6)],
            "speakers": [{"name": f"Panelist {n}", "role": "panelist"} for n in (1, 2)],
        }
        event, _key = domain.create_event(EventIn.model_validate(programme))
        fill(event, random.Random(12))
        event = db.session.get(Event, event.id)
        rounds = []
        for _round in range(5):
            began = time.perf_counter()
            data = report(event)
            rounds.append(time.perf_counter() - began)
    size = len(json.dumps(data)) / 1024
    print(
        f"report of {QUESTIONS:,} questions and {VOTES:,} votes: {min(rounds) * 1000:.0f} ms "
        f"(best of 5; median {sorted(rounds)[2] * 1000:.0f} ms); JSON {size:,.0f} KB"
    )


if __name__ == "__main__":
    main()
