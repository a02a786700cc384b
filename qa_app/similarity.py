"""How alike two questions are, in English and Russian: the engine behind duplicate suggestions.

Pure functions and a small in-memory index; no Flask, no database. Used by the domain on a
question's arrival (the moderator sees "possible duplicate of ...") and while a participant types
(the phone shows questions already asked).

A text is *prepared* once: Unicode NFKC, case folded, ``ё`` read as ``е``, hyphens inside words
dropped ("start-ups" = "startups", "3–5" = "3-5"), punctuation removed, stop words (function words,
question words, auxiliaries; never "not"/"не") dropped, and every remaining word reduced to its
Snowball stem (Russian for Cyrillic words, English otherwise). Two prepared texts are compared word
by word: equal stems match, so do stems sharing a long prefix (Russian word forms the stemmer keeps
apart: "российск"/"росс", "успех"/"успешн") and stems within a typo of each other (rapidfuzz's
normalised Indel ratio >= 80, words of 4 letters or more; numbers must be equal). The score is the
share of both texts' words that found a match (a soft F1, 0..100): word order, case, punctuation
and typos do not lower it, a word that differs ("Russia" vs "Europe", "attract" vs "retain") does;
a negation ("not", "не") counts twice, so "ready" vs "not ready" is no duplicate.

:data:`THRESHOLD` was chosen on the labelled set in tests/data/similar_pairs.json (68 English and
Russian pairs: paraphrases, reordered words, typos, word forms; near-misses that ask something
else): the lowest score at which precision on that set stays at or above 0.9, rounded to a step of
5 (tests/test_similarity.py checks this, prints precision and recall and writes them to
test-artifacts/similarity.json).

An :class:`Index` holds one event's prepared questions. A query prepares its text once, lets
rapidfuzz rank every indexed question by token-set ratio in C (``process.extract``), and rescores
only the best candidates with the word-by-word score. While a participant is still typing, a
question that contains (nearly) all the words typed so far also counts, the last word as a
prefix ("How will AI affect jo" finds "How will AI affect jobs in Russia?").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process

#: Suggest a question as a possible duplicate at this score (0..100) or above.
THRESHOLD = 85.0

#: How many candidates the C-level pre-ranking hands to the word-by-word score.
CANDIDATES = 40

_STOP_EN = frozenset(
    """
    a an the and or but if of to in on at by for from with about into onto over under between
    among as than then so such too very much many more most some any each every other another
    own same this that these those there here it its it's they them their theirs we us our ours
    you your yours he him his she her i me my mine who whom whose which what when where why how
    whether is are was were be been being am do does did doing done have has had having can
    could will would shall should may might must going get gets got also just only still yet
    ever even really please
    """.split()
)

_STOP_RU = frozenset(
    """
    и а но или да же ли бы то ни в во на с со к ко о об обо от до по за из из-за под над при
    про для без у через между перед после чтобы что чем как так также тоже уже еще ещё вот это
    этот эта эти этого этой этих этим тот та те того той тех там тут здесь он она оно они его
    ее её их им ему ей них мы нас нам наш наша наши вы вас вам ваш ваша ваши я меня мне мой моя
    мои ты тебя тебе твой кто кого кому чей какой какая какое какие каким какую каких каков
    какова каковы когда где куда почему зачем сколько ли есть быть был была было были будет
    будут будем буду является являются может могут можно нужно надо ли очень самый самая самое
    самые весь вся все всё всех свой своя свои своих свою своей
    """.split()
)

#: Words that turn a question around: each counts twice, so "ready" vs "not ready" is no duplicate.
_NEGATIONS = frozenset({"not", "no", "never", "не", "нет", "никогда"})

_STEMMERS = {
    "en": snowballstemmer.stemmer("english"),
    "ru": snowballstemmer.stemmer("russian"),
}

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212-"
_INWORD_DASH = re.compile(rf"(?<=\w)[{_DASHES}](?=\w)")
_WORD = re.compile(r"\w+")
_NOT = re.compile(r"n['’]t\b")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    lang = "ru" if _CYRILLIC.search(word) else "en"
    return _STEMMERS[lang].stemWord(word)


def normalise(text: str) -> str:
    """Unicode NFKC, case folded, ``ё`` as ``е``, in-word hyphens dropped, punctuation as spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    text = _NOT.sub(" not", text)
    text = _INWORD_DASH.sub("", text)
    return " ".join(_WORD.findall(text.replace("_", " ")))


def words(text: str) -> tuple[str, ...]:
    """The stems of a text's content words, in order (stop words dropped)."""
    out = []
    for word in normalise(text).split():
        if word in _STOP_EN or word in _STOP_RU:
            continue
        out.append(_stem(word))
    return tuple(out)


@dataclass(frozen=True)
class Prepared:
    """A question's text reduced to what the score compares; cheap to keep per question."""

    stems: tuple[str, ...]
    joined: str

    @classmethod
    def of(cls, text: str) -> Prepared:
        stems = words(text)
        return cls(stems, " ".join(stems))


def prepare(text: str) -> Prepared:
    return Prepared.of(text)


@lru_cache(maxsize=65536)
def _word_match(a: str, b: str) -> float:
    """How well two stems match, 0..1."""
    if a == b:
        return 1.0
    if a.isdigit() or b.isdigit():
        return 0.0
    shorter = min(len(a), len(b))
    if shorter < 4:
        return 0.0
    prefix = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        prefix += 1
    if prefix >= 4 and prefix >= 0.75 * shorter:
        return 1.0
    ratio = fuzz.ratio(a, b)
    return ratio / 100.0 if ratio >= 80 else 0.0


def _weight(stems: tuple[str, ...]) -> int:
    return len(stems) + sum(1 for stem in stems if stem in _NEGATIONS)


def _matched(stems: tuple[str, ...], others: tuple[str, ...]) -> float:
    total = 0.0
    for stem in stems:
        best = 0.0
        for other in others:
            m = _word_match(stem, other)
            if m > best:
                best = m
                if best == 1.0:
                    break
        total += best * (2 if stem in _NEGATIONS else 1)
    return total


def score_prepared(a: Prepared, b: Prepared) -> float:
    """0..100: the share of both texts' content words that found a match in the other."""
    if not a.stems or not b.stems:
        return 0.0
    matched = _matched(a.stems, b.stems) + _matched(b.stems, a.stems)
    return 100.0 * matched / (_weight(a.stems) + _weight(b.stems))


def score(a: str, b: str) -> float:
    """How alike two question texts are, 0..100 (see the module's docstring)."""
    return score_prepared(prepare(a), prepare(b))


def is_duplicate(a: str, b: str, threshold: float = THRESHOLD) -> bool:
    return score(a, b) >= threshold


def _coverage(query: Prepared, other: Prepared, partial: str | None) -> float:
    """0..100: the share of the query's words found in other; a last word still being typed
    (partial) matches any stem it begins or that begins it."""
    if partial is None:
        matched = _matched(query.stems, other.stems)
    else:
        matched = _matched(query.stems[:-1], other.stems)
        if any(stem.startswith(partial) or partial.startswith(stem) for stem in other.stems):
            matched += 1.0
    return 100.0 * matched / _weight(query.stems)


def _partial_word(text: str, prepared: Prepared) -> str | None:
    """The word being typed at the end of text (no space or punctuation after it), if any."""
    if not prepared.stems or not text or not text[-1].isalnum():
        return None
    last = normalise(text).rsplit(" ", 1)[-1]
    return last if len(last) >= 2 and _stem(last) == prepared.stems[-1] else None


class Index:
    """Questions prepared once, by id; :meth:`query` ranks them against a text.

    Not thread-safe for writers: the owner serialises :meth:`put` and :meth:`discard`.
    """

    def __init__(self, items: Iterable[tuple[int, str]] = ()):
        self._texts: dict[int, str] = {}
        self._prepared: dict[int, Prepared] = {}
        self._joined: dict[int, str] = {}
        for key, text in items:
            self.put(key, text)

    def __len__(self) -> int:
        return len(self._prepared)

    def __contains__(self, key: int) -> bool:
        return key in self._prepared

    def put(self, key: int, text: str, prepared: Prepared | None = None) -> Prepared:
        """Add or replace a question (its text is prepared again only if it changed)."""
        if self._texts.get(key) == text:
            return self._prepared[key]
        prepared = prepared or prepare(text)
        self._texts[key] = text
        self._prepared[key] = prepared
        self._joined[key] = prepared.joined
        return prepared

    def discard(self, key: int) -> None:
        for mapping in (self._texts, self._prepared, self._joined):
            mapping.pop(key, None)

    def query(
        self,
        text: str,
        *,
        limit: int = 3,
        threshold: float = THRESHOLD,
        exclude: Iterable[int] = (),
        typing: bool = False,
        min_words: int = 1,
    ) -> list[tuple[int, float]]:
        """The most similar questions scoring >= threshold, best first: (id, score) pairs.

        typing: the text is still being written, so a question containing (nearly) all of its
        words also counts (with min_words content words at least), the last word as a prefix.
        """
        query = prepare(text)
        if len(query.stems) < min_words or not self._prepared:
            return []
        partial = _partial_word(text, query) if typing else None
        skip = set(exclude)
        # A pair scoring >= threshold shares most of its words, so its token-set ratio is high
        # too: the C-level pass keeps the word-by-word score to a few candidates.
        candidates = process.extract(
            query.joined,
            self._joined,
            scorer=fuzz.partial_token_set_ratio if typing else fuzz.token_set_ratio,
            limit=CANDIDATES,
            score_cutoff=60.0,
        )
        scored = []
        for _, _, key in candidates:
            if key in skip:
                continue
            other = self._prepared[key]
            both = score_prepared(query, other)
            value = max(both, _coverage(query, other, partial)) if typing else both
            if value >= threshold:
                scored.append((-value, -both, key))
        scored.sort()  # best first; among equals the closer match in both directions, then by id
        return [(key, round(-value, 1)) for value, _both, key in scored[:limit]]
