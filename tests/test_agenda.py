"""Tests for qa_app.agenda: programme text and JSON import of a panel session (the JSON event
file is validated by schemas.EventIn, the one schema: tests/test_event_schema.py has the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_app.agenda import parse_programme
from qa_app.errors import Invalid
from qa_app.schemas import EventIn, parse_event

DATA = Path(__file__).resolve().parent / "data" / "programmes"


def _read(name: str) -> str:
    """Read a programme fixture as UTF-8 text."""
    return (DATA / name).read_text(encoding="utf-8")


def _people(event: dict, role: str) -> list[dict]:
    """The speakers of one role, in order."""
    return [s for s in event["speakers"] if s["role"] == role]


# --------------------------------------------------------------------------- the seed page


def test_seed_english_page() -> None:
    event = parse_programme(_read("seed_en.txt"))
    assert set(event) == {
        "title",
        "starts_at",
        "ends_at",
        "venue",
        "description",
        "language",
        "issues",
        "speakers",
    }
    assert event["title"] == "Best Innovation Cluster Management Practices"
    assert event["starts_at"] == "2017-01-12T15:30:00"
    assert event["ends_at"] == "2017-01-12T17:30:00"
    assert event["venue"] == "Building 5, 5th Floor, Executive Conference Room"
    assert event["language"] == "en"
    paragraphs = event["description"].split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("In October 2016")
    assert paragraphs[2] == (
        "Thus, in the short term it is necessary to take the next step in improving the "
        "quality of management of cluster development, including on the basis of "
        "inter-cluster dialogue."
    )
    assert event["issues"] == [
        (
            "How one can grow several cluster global champions for the next 3-5 years? What "
            "are the ingredients of success?"
        ),
        (
            "Which Russian clusters are better ready to move internationally and have "
            "succeeded in this lately?"
        ),
        (
            "How to attract to clusters the most qualified and highly motivated staff who are "
            "able to compete internationally?"
        ),
        (
            "How to involve the maximum number of stakeholders in the development of clusters "
            "(both within clusters and beyond)?"
        ),
        (
            "How can the state effectively support cluster development in view of the "
            "extremely ambitious goals and hard budget constraints?"
        ),
    ]


def test_seed_english_speakers() -> None:
    event = parse_programme(_read("seed_en.txt"))
    assert event["speakers"][0] == {
        "name": "Oleg Fomichev",
        "role": "moderator",
        "affiliation": (
            "State Secretary – Deputy Minister of Economic Development of the Russian Federation"
        ),
    }
    assert len(_people(event, "moderator")) == 1
    panelists = _people(event, "panelist")
    assert len(panelists) == 12
    assert panelists[0] == {
        "name": "Andrey Antonov",
        "role": "panelist",
        "affiliation": "Deputy Governor for Economics, Tomsk Region",
    }
    assert panelists[-1] == {
        "name": "Ivan Fedotov",
        "role": "panelist",
        "affiliation": "Director, Association of Innovative Regions of Russia; Vice-Rector, RANEPA",
    }
    assert [p["name"] for p in panelists][1:4] == [
        "Alexey Shchedrov",
        "Alexander Smekalin",
        "Artem Zdunov",
    ]
    names = [s["name"] for s in event["speakers"]]
    assert len(names) == len(set(names)) == 13
    assert all(s["affiliation"] for s in event["speakers"])


def test_seed_russian_page() -> None:
    event = parse_programme(_read("seed_ru.txt"))
    assert event["title"] == "Лучшие практики управления инновационными кластерами"
    assert event["language"] == "ru"
    assert event["starts_at"] == "2017-01-12T15:30:00"
    assert event["ends_at"] == "2017-01-12T17:30:00"
    assert event["venue"] == "Здание 5, 5 этаж, Зал заседаний"
    assert len(event["description"].split("\n\n")) == 2
    assert event["issues"] == [
        (
            "Как вырастить несколько кластеров — глобальных чемпионов в ближайшие 3–5 лет? "
            "Каковы слагаемые успеха?"
        ),
        "Какие российские кластеры лучше готовы к выходу на международный уровень?",
        "Как привлечь в кластеры наиболее квалифицированные и мотивированные кадры?",
    ]
    assert event["speakers"] == [
        {
            "name": "Олег Фомичев",
            "role": "moderator",
            "affiliation": (
                "Статс-секретарь – заместитель Министра экономического "
                "развития Российской Федерации"
            ),
        },
        {
            "name": "Андрей Антонов",
            "role": "panelist",
            "affiliation": "Заместитель губернатора Томской области по экономике",
        },
        {
            "name": "Артем Здунов",
            "role": "panelist",
            "affiliation": "Министр экономики Республики Татарстан",
        },
        {
            "name": "Иван Федотов",
            "role": "panelist",
            "affiliation": "Директор Ассоциации инновационных регионов России; проректор РАНХиГС",
        },
    ]


# --------------------------------------------------------------------------- unusual texts


def _event(
    title: str = "Panel Title",
    *,
    starts_at: str | None = None,
    ends_at: str | None = None,
    venue: str | None = None,
    description: str | None = None,
    language: str = "en",
    issues: list[str],
    speakers: list[tuple[str, str, str | None]] = (),
) -> dict:
    """The expected event dict, speakers given as (name, role, affiliation)."""
    return {
        "title": title,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "venue": venue,
        "description": description,
        "language": language,
        "issues": issues,
        "speakers": [{"name": n, "role": r, "affiliation": a} for n, r, a in speakers],
    }


UNUSUAL = [
    pytest.param(
        "\r\n\r\nPanel Title\r\n\r\n\r\nJanuary 12, 2017, 15:30 - 17:30, Room A\r\n\r\n\r\n"
        "Some   description.\r\n\r\n\r\nIssues for Discussion\r\n\r\n\r\n• First issue?\r\n\r\n"
        "• Second issue?\r\n\r\n\r\nParticipants\r\n\r\n\r\n"
        "• Anna Smith\r\n\r\nChief Economist, Bank One\r\n\r\n",
        _event(
            starts_at="2017-01-12T15:30:00",
            ends_at="2017-01-12T17:30:00",
            venue="Room A",
            description="Some description.",
            issues=["First issue?", "Second issue?"],
            speakers=[("Anna Smith", "panelist", "Chief Economist, Bank One")],
        ),
        id="windows-line-ends-and-extra-blank-lines",
    ),
    pytest.param(
        "Panel Title\nJanuary 12, 2017, 15:30–17:30\nIssues for discussion:\n- Alpha?\n- Beta?\n",
        _event(
            starts_at="2017-01-12T15:30:00",
            ends_at="2017-01-12T17:30:00",
            issues=["Alpha?", "Beta?"],
        ),
        id="missing-description-hyphen-bullets-no-speakers",
    ),
    pytest.param(
        "Panel Title\n12 January 2017, 10:00 — 11:30, Hall 2\n\nIssues for Discussion\n* "
        "Alpha?\n* Beta?\n\n"
        "Speakers:\n* John Smith\n  CEO, Acme\n* Jane Doe\n",
        _event(
            starts_at="2017-01-12T10:00:00",
            ends_at="2017-01-12T11:30:00",
            venue="Hall 2",
            issues=["Alpha?", "Beta?"],
            speakers=[("John Smith", "panelist", "CEO, Acme"), ("Jane Doe", "panelist", None)],
        ),
        id="no-moderator-star-bullets-affiliation-without-blank-and-none",
    ),
    pytest.param(
        (
            "Panel Title\n\nTopics for discussion\n1. First topic that wraps\n   onto a "
            "second line?\n2. Second topic?\n"
        ),
        _event(issues=["First topic that wraps onto a second line?", "Second topic?"]),
        id="numbered-issues-with-wrapped-line-and-no-date",
    ),
    pytest.param(
        "Panel Title\nQuestions for discussion\nWhy now?\nWhat next?\n\nPanelists\n"
        "John Smith, CEO, Acme Corp\nMaria Garcia — Professor, MIT\n",
        _event(
            issues=["Why now?", "What next?"],
            speakers=[
                ("John Smith", "panelist", "CEO, Acme Corp"),
                ("Maria Garcia", "panelist", "Professor, MIT"),
            ],
        ),
        id="no-bullets-and-name-affiliation-on-one-line",
    ),
    pytest.param(
        "Panel Title\n\nIssues for Discussion\n  • Why?\n\nModerator:\n  • Oleg "
        "Fomichev\n    State Secretary\n\n"
        "Participants and experts\n  • Anna Smith\n    Economist\n  • Ivan Petrov\n",
        _event(
            issues=["Why?"],
            speakers=[
                ("Oleg Fomichev", "moderator", "State Secretary"),
                ("Anna Smith", "panelist", "Economist"),
                ("Ivan Petrov", "panelist", None),
            ],
        ),
        id="english-moderator-heading-with-colon-names-not-repeated",
    ),
    pytest.param(
        (
            "Panel Title\n\nIssues for Discussion\n• Why?\n\nModerated by Oleg Fomichev, "
            "State Secretary\n"
        ),
        _event(issues=["Why?"], speakers=[("Oleg Fomichev", "moderator", "State Secretary")]),
        id="moderated-by-on-one-line",
    ),
    pytest.param(
        "Panel Title\n\nIssues for Discussion\n• Why?\n\n• Digital Transformation\n\n• "
        "Oleg Fomichev\n\n"
        "State Secretary\n\nPANEL:\n• John Smith\n",
        _event(
            issues=["Why?", "Digital Transformation"],
            speakers=[
                ("Oleg Fomichev", "moderator", "State Secretary"),
                ("John Smith", "panelist", None),
            ],
        ),
        id="implicit-moderator-not-repeated-and-name-like-issue",
    ),
    pytest.param(
        "\ufeffPanel\u00a0Title\u00a0\n\n"
        "January\u00a012,\u00a02017,\u00a015:30\u00a0–\u00a017:30,\u00a0Room\u00a0A\n\n"
        "Issues\u00a0for\u00a0Discussion\n\u00a0\u00a0•\u00a0Why?\u00a0\n",
        _event(
            starts_at="2017-01-12T15:30:00",
            ends_at="2017-01-12T17:30:00",
            venue="Room A",
            issues=["Why?"],
        ),
        id="bom-and-non-breaking-spaces",
    ),
    pytest.param(
        "Заголовок\n12.01.2017, 15:30–17:30, Здание 5\nТемы для обсуждения:\n1) Первый "
        "вопрос?\n2) Второй вопрос?\n"
        "Эксперты\n– Иван Петров, директор фонда\n",
        _event(
            "Заголовок",
            starts_at="2017-01-12T15:30:00",
            ends_at="2017-01-12T17:30:00",
            venue="Здание 5",
            language="ru",
            issues=["Первый вопрос?", "Второй вопрос?"],
            speakers=[("Иван Петров", "panelist", "директор фонда")],
        ),
        id="russian-numeric-date-and-dash-bullets",
    ),
    pytest.param(
        (
            "Panel Title\n\tThursday, January 12, 2017, 3:30 pm\t–\t5:30 pm\n\n\tIssues for "
            "Discussion\n\t· Why?\n"
        ),
        _event(starts_at="2017-01-12T15:30:00", ends_at="2017-01-12T17:30:00", issues=["Why?"]),
        id="tabs-weekday-and-am-pm",
    ),
    pytest.param(
        "Panel Title\nSee you there!\n\nIssues for Discussion\n▪ Why?\n",
        _event(description="See you there!", issues=["Why?"]),
        id="no-date-line-becomes-description",
    ),
]


@pytest.mark.parametrize(("text", "expected"), UNUSUAL)
def test_unusual_programmes(text: str, expected: dict) -> None:
    assert parse_programme(text) == expected


BAD = [
    pytest.param("", "The programme text is empty.", id="empty"),
    pytest.param(" \r\n\t\u00a0\ufeff\n", "The programme text is empty.", id="whitespace-only"),
    pytest.param(
        "Panel Title\nJanuary 12, 2017\nSome text.\n",
        "No 'Issues for Discussion' section was found: add a heading 'Issues for Discussion' "
        "followed by one issue per line.",
        id="no-issues-section",
    ),
    pytest.param(
        "Panel Title\nIssues for Discussion\n\nParticipants\n• John Smith\n",
        "The 'Issues for Discussion' section is empty",
        id="issues-heading-without-issues",
    ),
    pytest.param("Issues for Discussion\n• Why?\n", "No title was found", id="no-title"),
    pytest.param(
        "Panel Title\nJanuary 12, 2017, 17:30 – 15:30\nIssues for Discussion\n• Why?\n",
        "The end time 15:30 is before the start time 17:30",
        id="end-before-start",
    ),
    pytest.param(
        "Panel Title\nFebruary 30, 2017, 10:00\nIssues for Discussion\n• Why?\n",
        "does not hold a valid calendar date",
        id="impossible-date",
    ),
    pytest.param("x" * 200_001, "the limit is 200,000", id="too-long"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_programmes(text: str, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_programme(text)
    assert message in caught.value.message
    assert caught.value.code == "invalid"


def test_not_a_string() -> None:
    with pytest.raises(Invalid, match="must be a string"):
        parse_programme(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- JSON


def parse_event_json(data: object) -> dict:
    """An event file's data as the one schema reads it, in the shape of parse_programme."""
    return parse_event(data, EventIn).model_dump(mode="json", exclude={"settings", "time_zone"})


def test_json_valid_event_is_normalised() -> None:
    data = {
        "title": "  Panel  Title ",
        "starts_at": "2017-01-12T15:30",
        "ends_at": "2017-01-12T17:30:00",
        "venue": " Room A ",
        "description": "",
        "language": "en",
        "issues": ["Why?", "  What   next? "],
        "speakers": [
            {"name": "Anna Smith", "role": "panelist"},
            {"name": "Oleg Fomichev", "role": "moderator", "affiliation": "State Secretary"},
        ],
    }
    assert parse_event_json(data) == _event(
        starts_at="2017-01-12T15:30:00",
        ends_at="2017-01-12T17:30:00",
        venue="Room A",
        issues=["Why?", "What next?"],
        speakers=[
            ("Oleg Fomichev", "moderator", "State Secretary"),
            ("Anna Smith", "panelist", None),
        ],
    )


def test_json_issue_objects_and_defaults() -> None:
    event = parse_event_json(
        {"title": "Круглый стол", "issues": [{"title": "Что дальше?"}, "Почему?"]}
    )
    assert event == _event("Круглый стол", language="ru", issues=["Что дальше?", "Почему?"])


def test_json_round_trips_a_parsed_programme() -> None:
    event = parse_programme(_read("seed_en.txt"))
    assert parse_event_json(event) == event


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(["not", "a", "dict"], "The event must be a JSON object", id="not-a-dict"),
        pytest.param({"issues": ["Why?"]}, "title: is required", id="missing-title"),
        pytest.param({"title": "T", "issues": []}, "issues: must not be empty", id="issues-empty"),
        pytest.param(
            {"title": "T", "issues": [{"title": " "}]},
            "issue 1: the title is empty",
            id="blank-issue",
        ),
        pytest.param(
            {"title": "T", "issues": ["Why?"], "speakers": [{"name": "A B", "role": "host"}]},
            "speaker 1 role: 'host' is not 'moderator' or 'panelist'",
            id="bad-role",
        ),
        pytest.param(
            {"title": "T", "issues": ["Why?"], "starts_at": "tomorrow"},
            "starts_at: 'tomorrow' is not an ISO 8601 date and time",
            id="bad-time",
        ),
        pytest.param(
            {"title": "T", "issues": ["Why?"], "notes": "draft"},
            "notes: is not a field of the event file",
            id="unknown-field",
        ),
        pytest.param(
            {
                "title": "T",
                "issues": ["Why?"],
                "starts_at": "2017-01-12T15:30",
                "ends_at": "2017-01-12T15:00",
            },
            "end time",
            id="end-before-start",
        ),
    ],
)
def test_json_bad_shapes(data: object, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_event_json(data)
    assert message in caught.value.message
