"""Import a panel session from the pasted text of a programme page (or from JSON).

A programme page, once copied from a browser, looks like this::

    Best Innovation Cluster Management Practices

    January 12, 2017, 15:30 – 17:30, Building 5, 5th Floor, Executive Conference Room

    Description paragraphs ...

    Issues for Discussion
      • First issue?
      • Second issue?

      • Moderator Name              <- a person before any speaker heading is a moderator
        Moderator Name
        Affiliation

    Participants and experts
      • Panelist Name
        Panelist Name
        Affiliation

`parse_programme` turns such text (English or Russian) into a plain event dict, which
schemas.EventIn validates like a JSON event file (`read_event` reads either); it raises `Invalid`
naming the missing or wrong part and never returns half an event.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime, time

from qa_app.errors import Invalid

MAX_CHARS = 200_000
ROLES = ("moderator", "panelist")

ISSUES_HEADINGS = {
    "issues for discussion": "en",
    "topics for discussion": "en",
    "questions for discussion": "en",
    "вопросы для обсуждения": "ru",
    "темы для обсуждения": "ru",
    "вопросы к обсуждению": "ru",
}
MODERATOR_HEADINGS = {
    "moderator": "en",
    "moderators": "en",
    "chair": "en",
    "moderated by": "en",
    "модератор": "ru",
    "модераторы": "ru",
    "ведущий": "ru",
    "ведущие": "ru",
}
PANELIST_HEADINGS = {
    "participants and experts": "en",
    "participants": "en",
    "panelists": "en",
    "panellists": "en",
    "speakers": "en",
    "panel": "en",
    "участники дискуссии": "ru",
    "участники и эксперты": "ru",
    "участники": "ru",
    "эксперты": "ru",
    "спикеры": "ru",
}
HEADINGS = {
    **{k: ("issues", v) for k, v in ISSUES_HEADINGS.items()},
    **{k: ("moderator", v) for k, v in MODERATOR_HEADINGS.items()},
    **{k: ("panelist", v) for k, v in PANELIST_HEADINGS.items()},
}
# "Moderator: Name, Affiliation" / "Moderated by Name" on one line.
INLINE_MODERATOR = re.compile(
    r"^(?:moderators?|chair|модераторы?|ведущи[йе])\s*:\s*(?P<rest>\S.*)$"
    r"|^moderated by\s+(?P<by>\S.*)$",
    re.IGNORECASE,
)

BULLET = re.compile(r"^\s*(?:[•·▪●◦‣∙■□➢►–—]\s*|[-*]\s+|\d{1,2}[.)]\s+)")

EN_MONTHS = {
    name: number
    for number, names in enumerate(
        "january/jan february/feb march/mar april/apr may june/jun july/jul august/aug "
        "september/sep/sept october/oct november/nov december/dec".split(),
        start=1,
    )
    for name in names.split("/")
}
RU_MONTHS = {
    name: number
    for number, name in enumerate(
        "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split(),
        start=1,
    )
}
MONTHS = {**EN_MONTHS, **RU_MONTHS}

WEEKDAY = (
    r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"понедельник|вторник|среда|четверг|пятница|суббота|воскресенье),?\s+)?"
)
DATE_PATTERNS = [
    re.compile(
        WEEKDAY + r"(?P<month>[a-z]+)\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b",
        re.IGNORECASE,
    ),
    re.compile(
        WEEKDAY + r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>[a-zа-яё]+)\.?,?\s+(?P<year>\d{4})"
        r"(?:\s*(?:года|г\.|г\b))?",
        re.IGNORECASE,
    ),
    re.compile(
        WEEKDAY + r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})(?:\s*(?:года|г\.|г\b))?",
        re.IGNORECASE,
    ),
    re.compile(WEEKDAY + r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b", re.IGNORECASE),
]
CLOCK = r"(?P<h{n}>\d{{1,2}})[:.](?P<m{n}>\d{{2}})\s*(?P<ap{n}>[ap]\.?m\.?)?"
TIMES = re.compile(
    r"^[\s,;]*(?:at\s+|from\s+|с\s+|в\s+)?"
    + CLOCK.format(n=1)
    + r"(?:\s*(?:[-–—]|to\b|до\b)\s*"
    + CLOCK.format(n=2)
    + r")?",
    re.IGNORECASE,
)

NAME_PARTICLES = set("van von der den de da di du del la le bin al ibn".split())
# Words that make a capitalised line an organisation rather than a person's name.
ORG_WORDS = set(
    (
        "university fund ministry agency region company bank institute association council group "
        "corporation government center centre school department academy foundation committee "
        "office club society forum partners holding llc jsc ltd inc plc ojsc pjsc "
        "университет фонд министерство агентство область края край банк институт ассоциация "
        "правительство центр компания корпорация группа академия администрация департамент "
        "ооо ао пао оао"
    ).split()
)
INVISIBLE = {"\ufeff", "\u200b", "\u200c", "\u200d", "\u2060"}


# --------------------------------------------------------------------------- text


def _clean_lines(text: str) -> list[str]:
    """Split text into lines with BOMs removed and every kind of space made plain."""
    text = unicodedata.normalize("NFC", text)
    chars = []
    for ch in text:
        if ch in INVISIBLE:
            continue
        chars.append(" " if ch == "\t" or unicodedata.category(ch) == "Zs" else ch)
    return [line.rstrip() for line in "".join(chars).splitlines()]


def _squash(text: str) -> str:
    """Collapse runs of whitespace to single spaces and strip the ends."""
    return " ".join(text.split())


def _strip_bullet(line: str) -> str:
    """Return the line without its bullet marker, whitespace-normalised."""
    return _squash(BULLET.sub("", line, count=1))


def _has_bullet(line: str) -> bool:
    """Whether the line starts with a bullet marker."""
    return bool(BULLET.match(line))


def _paragraphs(lines: list[str]) -> list[str]:
    """Group consecutive non-empty lines into whitespace-normalised paragraphs."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines + [""]:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(_squash(" ".join(current)))
            current = []
    return paragraphs


def _next_nonempty(lines: list[str], start: int) -> int | None:
    """Index of the first non-empty line at or after start, or None."""
    for index in range(start, len(lines)):
        if lines[index].strip():
            return index
    return None


# --------------------------------------------------------------------------- headings


def _heading_key(line: str) -> str:
    """The comparable form of a possible heading: no markdown hashes, colon or case."""
    return _squash(line.strip().lstrip("#").strip().rstrip(":")).casefold()


def _heading(line: str) -> tuple[str, str, str | None] | None:
    """Classify a line as (kind, language, inline text) if it is a section heading."""
    found = HEADINGS.get(_heading_key(line))
    if found:
        return found[0], found[1], None
    match = INLINE_MODERATOR.match(_squash(line))
    if match:
        rest = match.group("rest") or match.group("by")
        language = "ru" if re.search(r"[а-яё]", match.group(0)[:10], re.IGNORECASE) else "en"
        return "moderator", language, rest
    return None


def _find_headings(lines: list[str]) -> list[tuple[int, str, str, str | None]]:
    """List (line index, kind, language, inline text) for every heading line."""
    found = []
    for index, line in enumerate(lines):
        heading = _heading(line)
        if heading:
            found.append((index, *heading))
    return found


# --------------------------------------------------------------------------- dates


def _match_date(line: str) -> tuple[date, str] | None:
    """Find a date at the start of the line; return it with the rest of the line."""
    for pattern in DATE_PATTERNS:
        match = pattern.match(line.strip())
        if not match:
            continue
        month = match.group("month")
        number = int(month) if month.isdigit() else MONTHS.get(month.casefold())
        if number is None:
            continue
        try:
            return date(int(match.group("year")), number, int(match.group("day"))), line.strip()[
                match.end() :
            ]
        except ValueError:
            raise Invalid(
                f"The date line '{_squash(line)}' does not hold a valid calendar date."
            ) from None
    return None


def _clock(hour: str, minute: str, meridiem: str | None) -> time:
    """Build a time from hour, minute and an optional am/pm marker."""
    h = int(hour)
    if meridiem:
        h = h % 12 + (12 if meridiem.lower().startswith("p") else 0)
    try:
        return time(h, int(minute))
    except ValueError:
        raise Invalid(
            f"The time {hour}:{minute} on the date line is not a valid time of day."
        ) from None


def _match_times(rest: str) -> tuple[time | None, time | None, str]:
    """Read 'HH:MM – HH:MM' at the start of rest; return start, end and what follows."""
    match = TIMES.match(rest)
    if not match:
        return None, None, rest
    end_marker = match.group("ap2")
    start = _clock(match.group("h1"), match.group("m1"), match.group("ap1") or end_marker)
    end = _clock(match.group("h2"), match.group("m2"), end_marker) if match.group("h2") else None
    return start, end, rest[match.end() :]


def _parse_date_line(line: str) -> dict | None:
    """Parse 'date, start – end, venue' into starts_at/ends_at/venue, or None if no date."""
    found = _match_date(line)
    if found is None:
        return None
    day, rest = found
    start, end, rest = _match_times(rest)
    if start and end and end < start:
        raise Invalid(
            f"The end time {end:%H:%M} is before the start time {start:%H:%M}: check the date line."
        )
    venue = _squash(rest.lstrip(" ,;:–—-")) or None
    return {
        "starts_at": datetime.combine(day, start or time()).isoformat(timespec="seconds"),
        "ends_at": datetime.combine(day, end).isoformat(timespec="seconds") if end else None,
        "venue": venue,
    }


# --------------------------------------------------------------------------- people


def _is_name(text: str) -> bool:
    """Whether text looks like a person's name: 2-5 capitalised words, no organisation words."""
    words = text.split()
    if not 2 <= len(words) <= 5 or len(text) > 60:
        return False
    for word in words:
        if word.casefold() in NAME_PARTICLES:
            continue
        if word.casefold().strip(".") in ORG_WORDS or not word[0].isupper():
            return False
        if not all(ch.isalpha() or ch in "-'’." for ch in word):
            return False
    return True


def _split_inline(text: str) -> tuple[str, str | None]:
    """Split 'Name, Affiliation', 'Name — Affiliation' or 'Name (Affiliation)' into its parts."""
    match = re.match(r"^(?P<name>[^()]+?)\s*\((?P<aff>.+)\)$", text)
    if match and _is_name(match.group("name")):
        return match.group("name"), _squash(match.group("aff"))
    for separator in (" — ", " – ", " - ", ", "):
        name, found, affiliation = text.partition(separator)
        if found and _is_name(name.strip()) and affiliation.strip():
            return name.strip(), affiliation.strip()
    return text, None


def _same_name(a: str, b: str) -> bool:
    """Whether two lines hold the same text, ignoring bullets, spacing and case."""
    return _strip_bullet(a).casefold() == _strip_bullet(b).casefold()


def _person_blocks(lines: list[str]) -> list[list[str]]:
    """Group lines into person blocks: [name line, affiliation lines...]."""
    bulleted = any(_has_bullet(line) for line in lines if line.strip())
    blocks: list[list[str]] = []
    for line in lines:
        if not line.strip():
            continue
        text = _strip_bullet(line)
        if blocks and _same_name(text, blocks[-1][0]) and len(blocks[-1]) == 1:
            continue  # the name repeated on the next line
        starts_block = _has_bullet(line) if bulleted else _is_name(_split_inline(text)[0])
        if starts_block or not blocks:
            blocks.append([text])
        else:
            blocks[-1].append(text)
    return blocks


def _speaker(block: list[str], role: str) -> dict:
    """Turn one person block into a speaker dict."""
    name, rest = block[0], block[1:]
    affiliation = "; ".join(rest) if rest else None
    if affiliation is None:
        name, affiliation = _split_inline(name)
    return {"name": name, "role": role, "affiliation": affiliation}


def _speakers(sections: list[tuple[str, list[str]]]) -> list[dict]:
    """Collect speakers from (role, lines) sections: moderators first, duplicates dropped."""
    seen: set[str] = set()
    by_role: dict[str, list[dict]] = {role: [] for role in ROLES}
    for role, lines in sections:
        for block in _person_blocks(lines):
            speaker = _speaker(block, role)
            if speaker["name"] and speaker["name"].casefold() not in seen:
                seen.add(speaker["name"].casefold())
                by_role[role].append(speaker)
    return by_role["moderator"] + by_role["panelist"]


# --------------------------------------------------------------------------- issues


def _is_person_start(lines: list[str], index: int) -> bool:
    """Whether lines[index] begins a person block rather than another issue."""
    text = _strip_bullet(lines[index])
    if not _is_name(text):
        return False
    following = _next_nonempty(lines, index + 1)
    if following is not None and _same_name(lines[following], text):
        return True  # "• Name" then "Name" again: the programme's person layout
    if following is None or index == 0 or lines[index - 1].strip():
        return False
    # After a blank line, a name followed by an affiliation line (no bullet, not a question).
    return not _has_bullet(lines[following]) and not lines[following].rstrip().endswith("?")


def _split_issue_section(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split an issues section into issue lines and the person lines that follow them."""
    for index, line in enumerate(lines):
        if line.strip() and _is_person_start(lines, index):
            return lines[:index], lines[index:]
    return lines, []


def _parse_issues(lines: list[str]) -> list[str]:
    """One issue per bullet (or per line); unbulleted wrapped lines continue the issue above."""
    bulleted = any(_has_bullet(line) for line in lines if line.strip())
    issues: list[str] = []
    previous_blank = True
    for line in lines:
        if not line.strip():
            previous_blank = True
            continue
        text = _strip_bullet(line)
        if bulleted and issues and not previous_blank and not _has_bullet(line):
            issues[-1] = f"{issues[-1]} {text}"
        elif text:
            issues.append(text)
        previous_blank = False
    return issues


# --------------------------------------------------------------------------- programme


def _detect_language(text: str, heading_languages: list[str]) -> str:
    """'ru' for Russian headings or mostly Cyrillic letters, else 'en'."""
    if "ru" in heading_languages:
        return "ru"
    cyrillic = len(re.findall(r"[а-яё]", text, re.IGNORECASE))
    latin = len(re.findall(r"[a-z]", text, re.IGNORECASE))
    return "ru" if cyrillic > latin else "en"


def _check_text(text: object) -> list[str]:
    """Refuse non-strings, oversized and empty text; return the cleaned lines."""
    if not isinstance(text, str):
        raise Invalid("The programme text must be a string.")
    if len(text) > MAX_CHARS:
        raise Invalid(
            f"The programme text is too long: {len(text):,} characters "
            f"(the limit is {MAX_CHARS:,})."
        )
    lines = _clean_lines(text)
    if not any(line.strip() for line in lines):
        raise Invalid("The programme text is empty.")
    return lines


def _title(lines: list[str]) -> tuple[str, int]:
    """Return the title (first non-empty line) and its index, or raise Invalid."""
    index = _next_nonempty(lines, 0)
    line = lines[index]
    if _heading(line) or _has_bullet(line) or _match_date(line):
        raise Invalid(
            "No title was found: the first line of the programme must be the session title."
        )
    return _squash(line), index


def _head(lines: list[str]) -> dict:
    """Parse the lines between the title and the first heading: date line and description."""
    first = _next_nonempty(lines, 0)
    when = _parse_date_line(lines[first]) if first is not None else None
    if when is None:
        when = {"starts_at": None, "ends_at": None, "venue": None}
    else:
        lines = lines[first + 1 :]
    description = "\n\n".join(_paragraphs(lines)) or None
    return {**when, "description": description}


def _sections(lines: list[str], headings: list) -> list[tuple[str, list[str]]]:
    """Cut the text after each heading into (kind, lines) sections, inline text first."""
    sections = []
    for number, (index, kind, _language, inline) in enumerate(headings):
        end = headings[number + 1][0] if number + 1 < len(headings) else len(lines)
        body = lines[index + 1 : end]
        sections.append((kind, ([inline] if inline else []) + body))
    return sections


def _issues_and_people(sections: list[tuple[str, list[str]]]) -> tuple[list[str], list]:
    """Gather issues from issues sections; people after them become moderators."""
    issues: list[str] = []
    people: list[tuple[str, list[str]]] = []
    for kind, body in sections:
        if kind != "issues":
            people.append((kind, body))
            continue
        issue_lines, person_lines = _split_issue_section(body)
        issues += _parse_issues(issue_lines)
        people.append(("moderator", person_lines))
    return issues, people


def parse_programme(text: str) -> dict:
    """Parse programme text into an event dict; raise Invalid naming what is missing."""
    lines = _check_text(text)
    title, title_index = _title(lines)
    headings = _find_headings(lines)
    if not any(kind == "issues" for _, kind, _, _ in headings):
        raise Invalid(
            "No 'Issues for Discussion' section was found: add a heading "
            "'Issues for Discussion' followed by one issue per line."
        )
    head_end = headings[0][0] if headings else len(lines)
    issues, people = _issues_and_people(_sections(lines, headings))
    if not issues:
        raise Invalid(
            "The 'Issues for Discussion' section is empty: "
            "list one issue per line under the heading."
        )
    language = _detect_language(
        "\n".join(lines), [lang for _, kind, lang, _ in headings if kind == "issues"]
    )
    return {
        "title": title,
        **_head(lines[title_index + 1 : head_end]),
        "language": language,
        "issues": issues,
        "speakers": _speakers(people),
    }


# --------------------------------------------------------------------------- JSON


def detect_language(text: str) -> str:
    """'ru' for text with more Cyrillic letters than Latin ones, else 'en' (the event file's
    language when it names none: schemas.EventIn)."""
    return _detect_language(text, [])


def looks_like_json(text: str) -> bool:
    """Text that starts like JSON (an object, or a list to refuse as not one): an event file
    rather than a programme page, whose first line is a title."""
    return text.lstrip("\ufeff \t\r\n").startswith(("{", "["))


def decode_event_file(text: str) -> object:
    """The decoded JSON of an event file (docs/event-format.md), not yet validated."""
    try:
        return json.loads(text.lstrip("\ufeff"))
    except RecursionError:
        raise Invalid("The event file is nested too deeply.") from None
    except json.JSONDecodeError as exc:
        raise Invalid(
            f"The event file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None


def read_event(text: str, as_json: bool | None = None) -> object:
    """The event of a programme page's text or of a JSON event file's text (as_json None: it
    is JSON when it starts with '{'), ready for schemas.parse_event: the one schema decides."""
    if as_json is None:
        as_json = looks_like_json(text)
    return decode_event_file(text) if as_json else parse_programme(text)
