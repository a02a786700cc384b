"""Blocklist matching: an event's own words and phrases plus the built-in English and Russian
lists (qa_app/data/blocklists/*.txt), tolerant of the usual evasions.

An entry is a word or phrase; `*` at the end of a word matches any word starting with it
("spam*"), at the start any word ending with it, at both ends anything containing it (used only
for roots that occur in no innocent word, like "*пизд*"). Without `*` a word matches only as a
whole word, so "ass" does not match "classic" or "assessment" and "cunt*" does not match
"Scunthorpe": the Scunthorpe problem is avoided by never matching inside a word unless the entry
asks for it.

Evasions matched:
- case, accents and compatibility forms (NFKC, casefold; "Fück", full-width and mathematical
  letters), "ё" as "е", invisible characters (zero-width spaces, soft hyphens) inside a word;
- repeated letters ("fuuuck", "бляяя"): every letter of an entry matches one or more of itself;
- Latin and Cyrillic look-alikes in either direction (Latin x, y, e, o, p, a, c, k, m, h, b, t,
  n, u, r in a Russian word; Cyrillic а, е, о, р, с, х, у, к, м, н, в, т in an English word).
  What an entry matches must hold at least one letter of the entry's own script: a word
  written wholly in the other script is that language's word ("вообще" is not "boob*",
  "epoxyed" is not "*хуе*"), so a Russian word spelled wholly in Latin look-alikes ("CYKA")
  is matched only when the list has it in Latin;
- digits and symbols for letters: 0 o, @ 4 a, 3 e/з, 1 ! | i/l, $ 5 s, 7 t, 6 б, 4 ч, 9 я,
  and `*` for one vowel ("f*ck", "п*зда");
- separators inside a word: up to two of . - _ ~ , / \\ ^ + = # and middle dots between
  letters ("f.u.c.k", "х_у_й", "пи-зда"); not apostrophes or quotes ("who're" is no "whore");
- spaced-out letters: a run of three or more single letters separated by single spaces
  ("f u c k") is also read as one word. Spaces between the letters of a longer run are not
  joined ("fu ck" passes): joining every space would join innocent neighbouring words.

Not matched (known limits): phonetic or transliterated spellings that are not look-alikes
unless the list has them ("pizdec" is listed; "fak" is not), letters dropped or swapped
("fck" only because it is listed), a word split by a space ("fu ck"), look-alikes from other
scripts than Latin, Cyrillic and a few Greek letters, and meaning: a list only finds words.

Why no library: the profanity filters on PyPI are English-only (better-profanity, unmaintained
since 2020, expands every leet spelling of every word into memory), or Russian-only regex
lists from the Python 2 era, and none handles Latin/Cyrillic look-alikes both ways. The TR39
confusable skeletons (confusable_homoglyphs, confusables) map every character to one
prototype in one direction, which makes pure Russian words collide with English entries and
knows nothing of digit substitutions, so the folding here is a small table of its own.

`matcher(phrases, builtin)` compiles one regular expression (a trie of the entries'
letter classes) and caches it, so checking a question is one `search` over its text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUILTIN_LANGUAGES = ("en", "ru")
DATA = Path(__file__).parent / "data" / "blocklists"

# What each letter of an entry also matches: look-alikes of the other script, then digits
# and symbols. Letters not listed match only themselves.
LOOKALIKES = {
    # Latin
    "a": "а@4α", "b": "вь8", "c": "с(¢", "e": "е3€ε", "h": "н", "i": "і1!|ι", "j": "ј",
    "k": "кκ", "l": "1|ӏ", "m": "м", "n": "п", "o": "о0οσ", "p": "рρ", "s": "ѕ$5",
    "t": "т7", "u": "и", "x": "х", "y": "у",
    # Cyrillic
    "а": "a@4α", "б": "6", "в": "b8", "г": "r", "е": "e3€ε", "з": "3", "и": "u", "к": "kκ",
    "м": "m", "н": "h", "о": "o0οσ", "п": "n", "р": "pρ", "с": "c$(¢", "т": "t7", "у": "y",
    "х": "x", "ч": "4", "ь": "b", "я": "9", "ш": "w",
}
VOWELS = set("aeiouyаеиоуыэюя")
SEPARATOR = r"[._\-~,/\\^+=#·•]{0,2}"
LETTER = r"[^\W\d_]"
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LATIN_LETTER = re.compile(r"[a-z]")
SPACED = re.compile(r"(?<!\S)\w(?: \w){2,}(?!\S)")


def normalize(text: str) -> str:
    """Text as the matcher reads it: NFKC, casefolded, "ё" as "е", no accents or invisible
    characters (but "й" kept: its breve is part of the letter)."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    kept = []
    for char in unicodedata.normalize("NFD", text):
        category = unicodedata.category(char)
        if category == "Cf" or (category == "Mn" and not (char == "\u0306" and kept[-1:] == ["и"])):
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _letter(char: str) -> str:
    """The regular expression for one letter of an entry: its class, one or more times."""
    extra = LOOKALIKES.get(char, "") + ("*" if char in VOWELS else "")
    if not extra:
        return re.escape(char) + "+"
    return "[" + "".join(re.escape(c) for c in char + extra) + "]+"


@dataclass(frozen=True)
class Entry:
    """One parsed entry: its words' letters, and whether it must start/end at a word edge."""

    term: str  # as shown to the moderator
    words: tuple[str, ...]
    starts_word: bool
    ends_word: bool

    @property
    def latin(self) -> bool:
        """Whether the entry is written in Latin letters only (no Cyrillic)."""
        return not any(CYRILLIC.search(word) for word in self.words)


def parse_entry(raw: str) -> Entry | None:
    """An entry from one line of a list, or None for blank lines, comments and entries with
    no letter or digit."""
    line = normalize(raw).strip()
    if not line or line.startswith("#"):
        return None
    starts_word, ends_word = not line.startswith("*"), not line.endswith("*")
    words = tuple(
        "".join(c for c in word if c.isalnum()) for word in re.split(r"[\s\-_.]+", line.strip("*"))
    )
    words = tuple(word for word in words if word)
    if not words:
        return None
    return Entry(" ".join(words), words, starts_word, ends_word)


def _pattern(entry: Entry) -> str:
    """The regular expression of one entry."""
    words = [SEPARATOR.join(_letter(c) for c in word) for word in entry.words]
    body = r"[\W_]+".join(words)
    return (
        (f"(?<!{LETTER})" if entry.starts_word else "")
        + body
        + (f"(?!{LETTER})" if entry.ends_word else "")
    )


def _trie_regex(entries: list[Entry]) -> str:
    """One alternation for many entries, factored by their leading letters so that a position
    where no entry can start costs one class test per distinct first letter."""
    trie: dict = {}
    for entry in entries:
        key = ("^" if entry.starts_word else "*",) + tuple(" ".join(entry.words))
        node = trie
        for symbol in key:
            node = node.setdefault(symbol, {})
        node.setdefault("", set()).add("$" if entry.ends_word else "*")

    def build(node: dict, previous: str | None) -> str:
        branches = []
        for symbol, child in node.items():
            if symbol == "":
                ends = child
                if "*" in ends:
                    branches.append("")
                else:
                    branches.append(f"(?!{LETTER})")
                continue
            if symbol == "^":
                head = f"(?<!{LETTER})"
            elif symbol == "*":
                head = ""
            elif symbol == " ":
                head = r"[\W_]+"
            else:
                joint = SEPARATOR if previous not in (None, " ", "^", "*") else ""
                head = joint + _letter(symbol)
            branches.append(head + build(child, symbol if symbol not in "^*" else None))
        if len(branches) == 1:
            return branches[0]
        # the empty branch (an entry ends here) goes last so longer entries are tried first
        branches.sort(key=lambda branch: branch == "")
        return "(?:" + "|".join(branches) + ")"

    return build(trie, None)


@dataclass(frozen=True)
class Match:
    """What a text matched: the entry as written in its list, and where it came from."""

    term: str
    source: str  # "event", "en" or "ru"


class Matcher:
    """The compiled entries of one event list plus the built-in lists switched on."""

    def __init__(self, entries: list[tuple[Entry, str]]) -> None:
        self.entries = entries
        self.size = len(entries)
        self._any = (
            re.compile(_trie_regex([entry for entry, _source in entries])) if entries else None
        )
        self._each: list[tuple[re.Pattern, Entry, str]] | None = None

    def _identify(self, text: str, start: int) -> Match | None:
        """Which entry matched at start (asked only after the combined expression found one)."""
        if self._each is None:
            self._each = [(re.compile(_pattern(e)), e, source) for e, source in self.entries]
        for pattern, entry, source in self._each:
            found = pattern.match(text, start)
            if found and _script_fits(entry, found.group()):
                return Match(entry.term, source)
        return None

    def find(self, text: str) -> Match | None:
        """The first entry the text matches, or None."""
        if self._any is None:
            return None
        normal = normalize(text)
        views = [normal]
        if SPACED.search(normal):
            views.append(SPACED.sub(lambda m: m.group().replace(" ", ""), normal))
        for view in views:
            position = 0
            while (found := self._any.search(view, position)) is not None:
                match = self._identify(view, found.start())
                if match is not None:
                    return match
                position = found.start() + 1
        return None


def _script_fits(entry: Entry, matched: str) -> bool:
    """An entry must match at least one letter of its own script: a word written wholly in
    Cyrillic is Russian, not a disguised English word ("вообще" is not "boob*"), and a wholly
    Latin one is not a disguised Russian word ("epoxyed" is not "*хуе*")."""
    if entry.latin:
        return bool(LATIN_LETTER.search(matched)) or not CYRILLIC.search(matched)
    return bool(CYRILLIC.search(matched)) or not LATIN_LETTER.search(matched)


@lru_cache(maxsize=4)
def builtin_entries(language: str) -> tuple[Entry, ...]:
    """The entries of a built-in list."""
    lines = (DATA / f"{language}.txt").read_text(encoding="utf-8").splitlines()
    return tuple(entry for line in lines if (entry := parse_entry(line)) is not None)


@lru_cache(maxsize=256)
def matcher(phrases: tuple[str, ...], builtin: tuple[str, ...]) -> Matcher:
    """The compiled matcher for an event's phrases and built-in lists (cached: an event's
    list changes rarely and is read on every question)."""
    entries = [(entry, "event") for p in phrases if (entry := parse_entry(p)) is not None]
    for language in builtin:
        entries += [(entry, language) for entry in builtin_entries(language)]
    return Matcher(entries)


def split_phrases(stored: str | None) -> tuple[str, ...]:
    """The phrases of a stored list (one a line)."""
    return tuple(line.strip() for line in (stored or "").splitlines() if line.strip())


def split_builtin(stored: str | None) -> tuple[str, ...]:
    """The built-in list codes of a stored comma-separated value, in a fixed order."""
    codes = {code.strip() for code in (stored or "").split(",")}
    return tuple(code for code in BUILTIN_LANGUAGES if code in codes)


def find(text: str, phrases: tuple[str, ...], builtin: tuple[str, ...]) -> Match | None:
    """The first blocklist entry text matches, or None."""
    if not phrases and not builtin:
        return None
    return matcher(phrases, builtin).find(text)
