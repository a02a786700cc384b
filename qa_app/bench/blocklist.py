"""What the blocklist costs: `python -m qa_app.bench.blocklist`.

An event list of 200 phrases (words, word starts and two-word phrases) plus both built-in lists:
the time to compile them (once per process and version of the list), and the time `find` takes
per question on 2,000 questions of 40 to 300 characters in English and Russian, clean and
blocked, written with the evasions the matcher reads through. Prints the best of 7 rounds (the
machine's other work only adds to a round).
"""

from __future__ import annotations

import random
import re
import statistics
import time

from qa_app import blocklist

WORDS_EN = (
    "how what why when will could should the cluster region policy export talent state "
    "investment funding university startup innovation support programme growth market budget "
    "international partners champions management practice strategy tax law regulation"
).split()
WORDS_RU = (
    "как что почему когда будет может ли регион кластер политика экспорт таланты государство "
    "инвестиции финансирование университет стартап инновации поддержка программа рост рынок "
    "бюджет партнёры чемпионы управление практика стратегия налог закон регулирование"
).split()
BLOCKED = ["fuuuck", "sh1t", "f.u.c.k", "a$$hole", "xyйня", "пи3дец", "бл9ть", "cукa", "spamword7"]


def phrases(rng: random.Random, count: int = 200) -> tuple[str, ...]:
    """An event list: made-up words, some as word starts (*) and some as two-word phrases."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    cyrillic = "абвгдежзиклмнопрстуфхцчшыэюя"
    made = []
    for number in range(count):
        alphabet = cyrillic if number % 3 == 0 else letters
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 10)))
        if number % 5 == 0:
            word += "*"
        elif number % 7 == 0:
            word += " " + "".join(rng.choice(alphabet) for _ in range(5))
        made.append(word)
    made[7] = "spamword7"
    return tuple(made)


def questions(rng: random.Random, count: int = 2000) -> list[str]:
    """Questions of 40 to 300 characters, half Russian; one in ten carries a blocked word."""
    made = []
    for number in range(count):
        words = WORDS_RU if number % 2 else WORDS_EN
        text = " ".join(rng.choice(words) for _ in range(rng.randint(6, 40)))[:300]
        if number % 10 == 0:
            text += " " + rng.choice(BLOCKED)
        made.append(text.capitalize() + "?")
    return made


def run(rounds: int = 7) -> dict:
    """The best compile time and per-question cost over rounds."""
    rng = random.Random(9)
    listed, texts = phrases(rng), questions(rng)
    compile_ms, per_question_us, held = [], [], 0
    for _round in range(rounds):
        blocklist.event_list.cache_clear()
        blocklist.builtin_list.cache_clear()
        blocklist.matcher.cache_clear()
        re.purge()  # the re module's own cache would hide the compile time
        start = time.perf_counter()
        matcher = blocklist.matcher(listed, blocklist.BUILTIN_LANGUAGES)
        compile_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        held = sum(matcher.find(text) is not None for text in texts)
        per_question_us.append((time.perf_counter() - start) / len(texts) * 1e6)
    return {
        "entries": matcher.size,
        "questions": len(texts),
        "held": held,
        "compile_ms": round(min(compile_ms), 1),
        "per_question_us": round(min(per_question_us), 1),
        "mean_length": round(statistics.mean(map(len, texts))),
    }


if __name__ == "__main__":
    report = run()
    print(
        f"{report['entries']} entries (200 event phrases + en + ru): compiled in "
        f"{report['compile_ms']} ms; {report['per_question_us']} µs per question "
        f"({report['questions']} questions, {report['mean_length']} characters on average, "
        f"{report['held']} held)"
    )
