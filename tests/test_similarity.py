"""Duplicate suggestions: the engine on a labelled set, suggestions on arrival, `similar`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa_app import create_app, domain, schemas, similarity, storage
from qa_app.auth import Actor
from qa_app.domain.views import view_for
from qa_app.errors import Banned, Forbidden, Invalid, NotFound
from qa_app.extensions import db
from qa_app.models import Question
from qa_app.schemas import AskIn, BanIn, ModerateIn, SettingsIn, SimilarIn, VoteIn
from tests import conftest
from tests.conftest import make_event, make_participant, moderator

ROOT = Path(__file__).resolve().parent.parent
PAIRS = json.loads((ROOT / "tests" / "data" / "similar_pairs.json").read_text("utf-8"))["pairs"]
ARTIFACTS = ROOT / "test-artifacts"

#: Measured on the labelled set at similarity.THRESHOLD (0.914 when written); a floor, not a target.
RECALL_FLOOR = 0.85


def _measure(pairs: list[dict], threshold: float) -> dict:
    tp = fp = fn = tn = 0
    for pair in pairs:
        said = similarity.is_duplicate(pair["a"], pair["b"], threshold)
        if said and pair["duplicate"]:
            tp += 1
        elif said:
            fp += 1
        elif pair["duplicate"]:
            fn += 1
        else:
            tn += 1
    return {
        "pairs": len(pairs),
        "precision": round(tp / (tp + fp), 3) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 1.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def test_the_labelled_set_is_big_enough_and_balanced():
    assert len(PAIRS) >= 40
    for lang in ("en", "ru"):
        mine = [p for p in PAIRS if p["lang"] == lang]
        assert sum(p["duplicate"] for p in mine) >= 10
        assert sum(not p["duplicate"] for p in mine) >= 10
    assert len({(p["a"], p["b"]) for p in PAIRS}) == len(PAIRS)


def test_precision_and_recall_on_the_labelled_set_at_the_threshold():
    overall = _measure(PAIRS, similarity.THRESHOLD)
    report = {
        "threshold": similarity.THRESHOLD,
        **overall,
        "by_language": {
            lang: _measure([p for p in PAIRS if p["lang"] == lang], similarity.THRESHOLD)
            for lang in ("en", "ru")
        },
        "missed": [
            [p["a"], p["b"]]
            for p in PAIRS
            if p["duplicate"] and not similarity.is_duplicate(p["a"], p["b"])
        ],
        "false_alarms": [
            [p["a"], p["b"]]
            for p in PAIRS
            if not p["duplicate"] and similarity.is_duplicate(p["a"], p["b"])
        ],
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "similarity.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), "utf-8"
    )
    print(
        f"\nsimilarity at threshold {similarity.THRESHOLD}: precision {overall['precision']}, "
        f"recall {overall['recall']} on {overall['pairs']} pairs"
    )
    assert overall["precision"] >= 0.9, report
    assert overall["recall"] >= RECALL_FLOOR, report
    for lang, measured in report["by_language"].items():
        assert measured["precision"] >= 0.9, (lang, measured)


def test_the_threshold_is_the_lowest_step_of_five_keeping_precision():
    """How THRESHOLD was chosen: the lowest multiple of 5 whose precision on the set is >= 0.9."""
    steps = [t for t in range(50, 100, 5) if _measure(PAIRS, t)["precision"] >= 0.9]
    assert similarity.THRESHOLD == min(steps)


@pytest.mark.parametrize(
    "a, b",
    [
        ("How will AI affect JOBS in clusters?!", "how will ai affect jobs in clusters"),
        ("jobs clusters AI affect", "How will AI affect jobs in clusters?"),
        ("Как ИИ повлияет на рабочие места?", "как ии повлияет на рабочие места"),
        ("Ёлки: поддержка экспортёров", "елки поддержка экспортеров"),
        ("Which clusters are ready to go internationl?", "Which clusters go international?"),
        ("How can start-ups join?", "How can startups join?"),
        ("ｃｌｕｓｔｅｒ ｓｕｐｐｏｒｔ ｎｅｅｄｅｄ", "cluster support needed"),
    ],
)
def test_case_punctuation_order_typos_and_forms_do_not_matter(a, b):
    assert similarity.score(a, b) >= similarity.THRESHOLD


def test_a_different_key_word_or_a_negation_is_not_a_duplicate():
    assert not similarity.is_duplicate(
        "How will AI affect jobs in Russia?", "How will AI affect jobs in Europe?"
    )
    assert not similarity.is_duplicate(
        "Which clusters are ready to go international?",
        "Which clusters aren't ready to go international?",
    )
    assert similarity.score("", "anything") == 0
    assert similarity.score("How? What?", "How? What?") == 0  # nothing but stop words


def test_the_index_ranks_the_best_matches_first_and_skips_excluded_ids():
    index = similarity.Index(
        [
            (1, "How will AI affect jobs in Russia?"),
            (2, "How will artificial intelligence change work in Europe?"),
            (3, "Как ИИ повлияет на рабочие места в России?"),
            (4, "How will AI affect jobs in Russian clusters?"),
            (5, "Which clusters are ready to go international?"),
        ]
    )
    assert len(index) == 5
    found = index.query("how will AI affect the jobs in russia")
    assert [key for key, _ in found][:1] == [1]
    assert all(score >= similarity.THRESHOLD for _, score in found)
    assert 5 not in [key for key, _ in found]
    assert index.query("Как ИИ повлияет на рабочие места в России")[0][0] == 3
    assert [k for k, _ in index.query("AI affect jobs Russia", exclude=[1])] == [4]
    assert index.query("AI affect jobs Russia", limit=1) == index.query("AI affect jobs Russia")[:1]
    assert index.query("") == []


def test_while_typing_a_question_containing_the_words_so_far_is_found():
    index = similarity.Index(
        [
            (1, "How will AI affect jobs in Russia?"),
            (2, "How will AI affect jobs in Europe?"),
            (3, "Как ИИ повлияет на рабочие места в России?"),
        ]
    )
    typing = {"typing": True, "min_words": 3}
    assert [k for k, _ in index.query("How will AI affect jo", **typing)] == [1, 2]
    assert [k for k, _ in index.query("how will ai affect jobs in Eu", **typing)] == [2]
    assert [k for k, _ in index.query("Как ИИ повлияет на рабоч", **typing)] == [3]
    assert index.query("Как ИИ повлияет на рабочие места в Европе", **typing) == []
    assert index.query("AI jobs", **typing) == []  # too few words to tell
    index.discard(1)
    index.put(2, "Which clusters are ready to go international?")
    assert index.query("How will AI affect jo", **typing) == []
    assert len(index) == 2 and 3 in index


# ---------------------------------------------------------------- the domain and the API


def _ask(actor, event, text, client_id, issue=0):
    data = {"issue_id": event.issues[issue].id, "text": text, "client_id": client_id}
    return domain.ask(actor, AskIn.model_validate(data))


def _similar(actor, text, **extra):
    return domain.similar(actor, SimilarIn.model_validate({"text": text, **extra}))


def _status(event, question, status):
    domain.moderate(
        moderator(event), ModerateIn.model_validate({"question_id": question.id, "status": status})
    )


@pytest.fixture
def hall(ctx):
    """An event with a live, a pending, a dismissed and an answered question (and their askers)."""
    event, _key = make_event()
    asker, _ = make_participant(event)
    other, _ = make_participant(event)
    live = _ask(asker, event, "How will AI affect jobs in Russian clusters?", "l")
    answered = _ask(asker, event, "How can the state support clusters on a tight budget?", "a")
    _status(event, answered, "answered")
    dismissed = _ask(asker, event, "Which Russian clusters are ready to go international?", "d")
    _status(event, dismissed, "dismissed")
    domain.update_settings(moderator(event), SettingsIn(pre_moderation=True))
    pending = _ask(asker, event, "How do you attract qualified staff to regional clusters?", "p")
    return {
        "event": event,
        "asker": asker,
        "other": other,
        "live": live.id,
        "answered": answered.id,
        "dismissed": dismissed.id,
        "pending": pending.id,
    }


def test_similar_finds_live_and_answered_questions_as_the_participant_types(hall):
    other = hall["other"]
    found = _similar(other, "how will ai affect the jobs in russian cl")
    assert [q["id"] for q in found] == [hall["live"]]
    assert found[0]["voted"] is False and found[0]["mine"] is False
    assert found[0]["text"] == "How will AI affect jobs in Russian clusters?"
    assert [q["id"] for q in _similar(other, "state support clusters tight budget")] == [
        hall["answered"]
    ]
    domain.vote(other, VoteIn(question_id=hall["live"], up=True))
    again = _similar(other, "How will AI affect jobs in Russian clusters")
    assert again[0]["voted"] is True and again[0]["votes"] == 1
    assert "similar_to" not in again[0]


def test_similar_never_returns_pending_or_dismissed_questions(hall):
    other = hall["other"]
    assert _similar(other, "Which Russian clusters are ready to go international?") == []
    assert _similar(other, "How do you attract qualified staff to regional clusters?") == []
    assert _similar(hall["asker"], "attract qualified staff to regional clusters") == []
    _status(hall["event"], db.session.get(Question, hall["pending"]), "live")
    found = _similar(other, "attract qualified staff to regional clusters")
    assert [q["id"] for q in found] == [hall["pending"]]
    _status(hall["event"], db.session.get(Question, hall["live"]), "dismissed")
    assert _similar(other, "How will AI affect jobs in Russian clusters?") == []


def test_similar_puts_the_questions_of_the_issue_first_and_knows_russian(ctx):
    event, _key = make_event()
    asker, _ = make_participant(event)
    first = _ask(asker, event, "Как ИИ повлияет на рабочие места в кластерах?", "r1", issue=0)
    second = _ask(
        asker, event, "Как искусственный интеллект и ИИ повлияет на рабочие места?", "r2", issue=1
    )
    typed = "как ии повлияет на рабочие места"
    assert [q["id"] for q in _similar(asker, typed)][0] == first.id
    assert [q["id"] for q in _similar(asker, typed, issue_id=event.issues[1].id)][0] == second.id
    with pytest.raises(NotFound):
        _similar(asker, typed, issue_id=event.issues[1].id + 1000)


def test_similar_is_refused_to_a_banned_participant_and_to_the_screen(hall):
    event = hall["event"]
    domain.ban(moderator(event), BanIn(question_id=hall["live"]))
    with pytest.raises(Banned):
        _similar(hall["asker"], "How will AI affect jobs in Russian clusters?")
    with pytest.raises(Forbidden):
        _similar(Actor("screen", event.id), "How will AI affect jobs in Russian clusters?")
    moderators = _similar(moderator(event), "How will AI affect jobs in Russian clusters?")
    assert [q["id"] for q in moderators] == [hall["live"]]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "   \u200b "}, "text"),
        ({"text": 42}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"text": "How will AI affect jobs?", "issue_id": "1"}, "issue_id"),
        ({"text": "How will AI affect jobs?", "issue_id": 0}, "issue_id"),
        ({"text": "How will AI affect jobs?", "extra": 1}, "extra"),
    ],
)
def test_bad_similar_payloads_are_refused_with_the_field_named(payload, field):
    with pytest.raises(Invalid) as refused:
        schemas.parse(SimilarIn, payload)
    assert field in str(refused.value)


def test_the_similar_route_and_the_rate_limit(tmp_path):
    app = create_app(
        conftest.test_config(
            f"sqlite:///{tmp_path / 'similar.db'}", QA_RATE_LIMITS=True, QA_SIMILAR_LIMIT="3/minute"
        )
    )
    storage.upgrade(app)
    client = app.test_client()
    with app.app_context():
        event, _key = make_event()
        asker, token = make_participant(event)
        live = _ask(asker, event, "How will AI affect jobs in Russian clusters?", "l").id
        code, issue = event.code, event.issues[0].id
    url = f"/api/v1/events/{code}/similar"
    auth = {"Authorization": f"Bearer {token}"}
    found = client.get(
        url, query_string={"text": "AI affect jobs Russian", "issue_id": issue}, headers=auth
    )
    assert found.status_code == 200, found.json
    assert [q["id"] for q in found.json["questions"]] == [live]
    assert found.json["questions"][0]["mine"] is True
    bad = client.get(url, query_string={"text": "AI affect jobs", "issue_id": "x"}, headers=auth)
    assert bad.status_code == 400 and "issue_id" in bad.json["error"]["message"]
    missing = client.get(url, headers=auth)
    assert missing.status_code == 400 and "text" in missing.json["error"]["message"]
    assert client.get(url, query_string={"text": "AI affect jobs"}).status_code == 403
    again = [
        client.get(url, query_string={"text": "AI affect jobs Russian"}, headers=auth)
        for _ in range(3)
    ]
    assert [r.status_code for r in again] == [200, 200, 429]  # 3 a minute, refusals not counted
    limited = again[-1]
    assert limited.json["error"]["code"] == "rate_limited"
    with app.app_context():
        db.engine.dispose()


def test_a_new_question_names_its_likely_duplicates_for_moderators_only(hall):
    event, other = hall["event"], hall["other"]
    domain.update_settings(moderator(event), SettingsIn(pre_moderation=False))
    # an answered one in another issue, the pending one; never the dismissed one
    new = _ask(other, event, "which russian clusters are ready to go internationl??", "n1", 1)
    assert new.similar_to is None  # its only look-alike was dismissed
    again = _ask(other, event, "How will AI affect the jobs in russian clusters", "n2", 2)
    assert again.similar_to == [hall["live"]]
    staff = _ask(other, event, "How to attract highly qualified staff to regional clusters?", "n3")
    assert staff.similar_to == [hall["pending"]]
    third = _ask(hall["asker"], event, "how will AI affect jobs in Russian clusters?!", "n4")
    assert third.similar_to[:2] == [hall["live"], again.id]

    def seen_by(actor):
        return {q["id"]: q for q in domain.sync(actor)["questions"]}

    assert seen_by(moderator(event))[again.id]["similar_to"] == [hall["live"]]
    assert seen_by(moderator(event))[hall["live"]]["similar_to"] == []
    for actor in (other, hall["asker"], Actor("screen", event.id)):
        for view in seen_by(actor).values():
            assert "similar_to" not in view and "asker" not in view
    assert "similar_to" not in view_for(other, again)


def test_the_cost_bench_runs_on_a_tiny_event():
    """`qa-app bench --similar N` (the real figures come from N=1000, outside the suite)."""
    from qa_app.bench import similar as bench

    report = bench.run(questions=40, keystrokes=10, arrivals=5)
    assert report["keystroke"]["calls"] == 10 and report["arrival_ask"]["calls"] == 5
    assert "keystroke" in bench.table(report)
