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
- digits and symbols for letters: 0 o, @ 4 a, 3 e/з, 1 ! | i/l, $ 5 s, 7 t, 8 b, 6 б, 4 ч,
  9 я, € e, and `*` for one vowel ("f*ck", "п*зда");
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

How: the text is normalised, its runs of one character cut to two, and its look-alikes folded
one for one (FOLD: Cyrillic "х" and Latin "x" become one letter, so do "@" and "a"); each list
is compiled into one regular expression, a trie of its entries in the same folded letters where
only the symbols that stand for more than one letter (AMBIGUOUS) need a class. `matcher(phrases,
builtin)` caches it per list, so checking a question is one `search` per list; a match is then
checked against the unfolded text for its script.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from pathlib import Path

BUILTIN_LANGUAGES = ("en", "ru")
DATA = Path(__file__).parent / "data" / "blocklists"

# Look-alikes read as one letter, in the text and in the entries alike (one character for one,
# so a match's place in the folded text is its place in the text): Cyrillic and Greek letters
# as the Latin letters they look like, and the digits and symbols that stand for one letter only.
FOLD = str.maketrans(
    "авекмнорстухпигшіјѕӏαεικοσρτ@0$57€¢869·•",
    "abekmhopctyxnurwijslaeikooptaostteсbбя..".replace("с", "c"),
)
# Symbols that stand for more than one letter, matched by a class in the entries: 3 is "e" or
# "з", 4 "a" or "ч", 1 | "i" or "l", ! "i", and * any one vowel.
AMBIGUOUS = {"a": "4", "e": "3", "i": "1!|", "l": "1|", "з": "3", "ч": "4"}
VOWELS = set("aeiouyыэюя")  # after folding
SEPARATOR = r"[._\-~,/\\^+=#]{0,2}"
GAP = r"[\W_]{1,8}"  # between the words of a phrase
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


RUN = re.compile(r"(.)\1{2,}")


def _runs(word: str) -> tuple[tuple[str, int], ...]:
    """A word as runs of one letter: ("ass") -> (("a", 1), ("s", 2)); a run counts at most 2."""
    return tuple((char, min(len(list(group)), 2)) for char, group in groupby(word))


def _letters(char: str, count: int) -> str:
    """The regular expression for a run of one letter of an entry: its class, `count` times
    (separators may stand between them), the last up to three times. The text's own runs are
    cut to two ("fuuuuck" is read as "fuuck"), so three is enough; and as no part of a pattern
    matches more than a few characters, a crafted text costs no more than a plain one."""
    extra = AMBIGUOUS.get(char, "") + ("*" if char in VOWELS else "")
    one = "[" + "".join(re.escape(c) for c in char + extra) + "]" if extra else re.escape(char)
    return (one + SEPARATOR) * (count - 1) + one + "{1,3}"


@dataclass(frozen=True)
class Entry:
    """One parsed entry: its words' letters, and whether it must start/end at a word edge."""

    term: str  # as shown to the moderator
    words: tuple[str, ...]
    starts_word: bool
    ends_word: bool

    @property
    def shown(self) -> str:
        """The entry as its list writes it, with its stars ("spam*")."""
        return "*" * (not self.starts_word) + self.term + "*" * (not self.ends_word)

    @property
    def latin(self) -> bool:
        """Whether the entry is written in Latin letters only (no Cyrillic)."""
        return not any(CYRILLIC.search(word) for word in self.words)

    @property
    def symbols(self) -> tuple:
        """The entry as a trie key: its start, then runs of letters, " " between words."""
        key: list = ["^" if self.starts_word else "*"]
        for number, word in enumerate(self.words):
            if number:
                key.append(" ")
            key.extend(_runs(word.translate(FOLD)))
        return tuple(key)


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


def _trie_regex(entries: list[Entry]) -> tuple[str, list[list[Entry]]]:
    """One alternation for many entries, factored by their leading letters so that a position
    where no entry can start costs one class test per distinct first letter. Where entries end,
    an empty group named e<n> says which: the second value lists the entries of each n."""
    trie: dict = {}
    for entry in entries:
        node = trie
        for symbol in entry.symbols:
            node = node.setdefault(symbol, {})
        node.setdefault("", {}).setdefault(entry.ends_word, []).append(entry)
    ended: list[list[Entry]] = []

    def end(ends_word: bool, which: list[Entry]) -> str:
        ended.append(which)
        return f"(?P<e{len(ended) - 1}>)" + (f"(?!{LETTER})" if ends_word else "")

    def build(node: dict, previous: object) -> str:
        branches, endings = [], []
        for symbol, child in node.items():
            if symbol == "":  # entries end here: whole words first, then word starts
                endings = [end(flag, child[flag]) for flag in (True, False) if flag in child]
                continue
            if symbol == "^":
                head = f"(?<!{LETTER})"
            elif symbol == "*":
                head = ""
            elif symbol == " ":
                head = GAP
            else:
                joint = SEPARATOR if isinstance(previous, tuple) else ""
                head = joint + _letters(*symbol)
            branches.append(head + build(child, symbol))
        branches += endings  # last, so that longer entries are tried first
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(trie, None), ended


@dataclass(frozen=True)
class Match:
    """What a text matched: the entry as written in its list, and where it came from."""

    term: str  # its words ("spam")
    entry: str  # as its list writes it ("spam*")
    source: str  # "event", "en" or "ru"


class Compiled:
    """One list compiled into one regular expression."""

    def __init__(self, entries: list[Entry], source: str) -> None:
        self.source = source
        self.size = len(entries)
        pattern, self.ended = _trie_regex(entries)
        self.regex = re.compile(pattern)
        self.alone: dict[Entry, re.Pattern] = {}

    def first(self, view: str, folded: str) -> tuple[int, Match] | None:
        """Where in view (folded: its look-alikes folded) the first entry matches, and which."""
        position = 0
        while (found := self.regex.search(folded, position)) is not None:
            which = self.ended[int(found.lastgroup[1:])]
            matched = view[found.start() : found.end()]
            entry = next((e for e in which if _script_fits(e, matched)), None)
            entry = entry or self._other(view, folded, found.start())
            if entry is not None:
                return found.start(), Match(entry.term, entry.shown, self.source)
            position = found.start() + 1
        return None

    def _other(self, view: str, folded: str, start: int) -> Entry | None:
        """An entry that matches at start in a script of its own, when the first one found
        there did not (rare: only where a word mixes scripts), tried one by one."""
        for which in self.ended:
            for entry in which:
                if entry not in self.alone:
                    self.alone[entry] = re.compile(_trie_regex([entry])[0])
                found = self.alone[entry].match(folded, start)
                if found and _script_fits(entry, view[found.start() : found.end()]):
                    return entry
        return None


class Matcher:
    """An event's own list and the built-in lists it switched on."""

    def __init__(self, parts: list[Compiled]) -> None:
        self.parts = parts
        self.size = sum(part.size for part in parts)

    def find(self, text: str) -> Match | None:
        """The entry matched first in the text (the event's own at the same place), or None."""
        if not self.parts:
            return None
        normal = RUN.sub(r"\1\1", normalize(text))
        views = [normal]
        if SPACED.search(normal):
            views.append(SPACED.sub(lambda m: m.group().replace(" ", ""), normal))
        for view in views:
            folded = view.translate(FOLD)
            found = [hit for part in self.parts if (hit := part.first(view, folded)) is not None]
            if found:
                return min(found, key=lambda hit: hit[0])[1]
        return None


def _script_fits(entry: Entry, matched: str) -> bool:
    """An entry must match at least one letter of its own script: a word written wholly in
    Cyrillic is Russian, not a disguised English word ("вообще" is not "boob*"), and a wholly
    Latin one is not a disguised Russian word ("epoxyed" is not "*хуе*")."""
    if entry.latin:
        return bool(LATIN_LETTER.search(matched)) or not CYRILLIC.search(matched)
    return bool(CYRILLIC.search(matched)) or not LATIN_LETTER.search(matched)


@lru_cache(maxsize=len(BUILTIN_LANGUAGES))
def builtin_list(language: str) -> Compiled:
    """A built-in list, compiled once per process."""
    lines = (DATA / f"{language}.txt").read_text(encoding="utf-8").splitlines()
    return Compiled([entry for line in lines if (entry := parse_entry(line))], language)


@lru_cache(maxsize=256)
def event_list(phrases: tuple[str, ...]) -> Compiled | None:
    """An event's own list, compiled once per process for each version of it."""
    entries = [entry for phrase in phrases if (entry := parse_entry(phrase))]
    return Compiled(entries, "event") if entries else None


@lru_cache(maxsize=256)
def matcher(phrases: tuple[str, ...], builtin: tuple[str, ...]) -> Matcher:
    """The matcher for an event's phrases and built-in lists (each part compiled and cached
    on its own: changing the event's list does not recompile the built-in ones)."""
    parts = [event_list(phrases)] + [builtin_list(language) for language in builtin]
    return Matcher([part for part in parts if part is not None])


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
