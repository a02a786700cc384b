"""The blocklist: the matcher (evasions caught, innocent words let through, both languages), and
the held question end to end (domain, socket, REST)."""

from __future__ import annotations

import pytest

from qa_app import blocklist

BOTH = ("en", "ru")


def found(text: str, phrases: tuple[str, ...] = (), builtin: tuple[str, ...] = BOTH):
    """The term text matches, or None."""
    match = blocklist.find(text, phrases, builtin)
    return match.term if match else None


# ---- the matcher -----------------------------------------------------------------------------

EVASIONS = [
    # (text, term) -- English
    ("What the fuck is this?", "fuck"),
    ("FUCK", "fuck"),
    ("fuuuuck", "fuck"),
    ("ffuucckk", "fuck"),
    ("Fück", "fuck"),
    ("f.u.c.k", "fuck"),
    ("f-u-c-k you", "fuck"),
    ("f_u_c_k", "fuck"),
    ("f u c k", "fuck"),
    ("f*ck", "fuck"),
    ("f\u200buck", "fuck"),  # a zero-width space inside
    ("ｆｕｃｋ", "fuck"),  # full-width
    ("fu\u0441k", "fuck"),  # Cyrillic с
    ("\u0455hit", "shit"),  # Cyrillic ѕ
    ("sh1t", "shit"),
    ("$hit", "shit"),
    ("sh!t happens", "shit"),
    ("a$$hole", "asshole"),
    ("@sshole", "asshole"),
    ("b1tch", "bitch"),
    ("bitches", "bitch"),
    ("motherfucker", "motherfucker"),
    ("that's bullshit", "bullshit"),
    ("c\u0443nt".replace("\u0443", "u"), "cunt"),
    ("CUNT", "cunt"),
    ("n1gg3r", "nigger"),
    # Russian
    ("хуй", "хуй"),
    ("ХУЙНЯ какая-то", "хуй"),
    ("xуй", "хуй"),  # Latin x
    ("xyй", "хуй"),  # Latin x and y
    ("нахуй", "нахуй"),
    ("Охуеть!", "охуе"),
    ("пизда", "пизд"),
    ("спиздили", "пизд"),
    ("пи3да", "пизд"),
    ("п*зда", "пизд"),
    ("пиииздец", "пизд"),
    ("pizdec", "pizd"),
    ("блядь", "блядь"),
    ("бл9ть", "блят"),
    ("бля", "бля"),
    ("ебать", "еб"),
    ("ёбаный", "еб"),
    ("eбaть", "еб"),  # Latin e and a
    ("заебал", "заеб"),
    ("съебался", "ъеб"),
    ("долбоёб", "долбоеб"),
    ("сука", "сука"),
    ("cукa", "сука"),  # Latin c and a
    ("CYKA BLYAT", "cyka"),
    ("мудак", "мудак"),
    ("пидор", "пидор"),
    ("пидорас", "пидорас"),
    ("х_у_й", "хуй"),
    ("пи-зда", "пизд"),
    ("б л я", "бля"),
    ("говно", "говн"),
]


@pytest.mark.parametrize(("text", "term"), EVASIONS)
def test_evasions_are_matched(text, term):
    assert found(text) == term


INNOCENT = [
    # English: the Scunthorpe problem and friends
    "Scunthorpe United",
    "an assessment of the class",
    "a classic assassin",
    "Dick Cheney and Moby Dick",
    "cocktail in the cockpit",
    "What is the passage?",
    "Who're the panelists?",
    "the raccoons of Middlesex",
    "shiitake mushrooms",
    "Hancock and Cockburn",
    "the Wankel engine",
    "spick and span",
    "summa cum laude",
    "What the hell, damn it",
    "the therapist's analysis",
    "Niger and Nigeria",
    "snigger",
    "epoxyethane and hydroxyethyl",
    # Russian
    "скипидар",
    "оскорбление",
    "употреблять",
    "сабля",
    "хлеба",
    "небо и учебник",
    "требовать себе",
    "хулиган",
    "художник",
    "страхуемый риск, подстрахуй меня",
    "тихую, всухую, ветхую",
    "мандарин и мандат",
    "бляшка и бляха",
    "сук и сучок",
    "мудрый",
    "педикюр",
    "жидкий",
    "Нигерия",
    "хохлома",
    "Москаленко",
    "вообще",
    "застрахуй",
    "колебаться",
    "потребление",
]


@pytest.mark.parametrize("text", INNOCENT)
def test_innocent_words_are_not_matched(text):
    assert found(text) is None


def test_no_lists_match_nothing():
    assert found("fuck", builtin=()) is None
    assert blocklist.matcher((), ()).find("anything") is None


def test_event_phrases_whole_words_prefixes_and_phrases():
    phrases = ("spam*", "crypto scam", "*coin", "Competitor Inc")
    assert found("SPAMMING here", phrases, ()) == "spam"
    assert found("a crypto   scam!", phrases, ()) == "crypto scam"
    assert found("crypto-scam", phrases, ()) == "crypto scam"
    assert found("buy shitcoin", phrases, ()) == "coin"
    assert found("competitor inc. is better", phrases, ()) == "competitor inc"
    assert found("a crypto question", phrases, ()) is None
    assert found("coins", phrases, ()) is None  # "*coin" ends a word
    assert found("aspam", phrases, ()) is None


def test_first_match_in_the_text_wins_and_names_its_source():
    match = blocklist.find("the competitor, fuck", ("competitor",), BOTH)
    assert (match.term, match.source) == ("competitor", "event")
    match = blocklist.find("fuck you", ("fuck you",), BOTH)  # same place: the event's own
    assert (match.term, match.source) == ("fuck you", "event")
    assert blocklist.find("пизда", (), BOTH).source == "ru"
    assert blocklist.find("fuck", (), BOTH).source == "en"


def test_russian_event_phrase_with_look_alikes():
    assert found("Bаш кандидат", ("ваш кандидат",), ()) == "ваш кандидат"  # Latin B
    assert found("наш кандидат", ("ваш кандидат",), ()) is None


def test_builtin_lists_are_separate():
    assert found("fuck", builtin=("ru",)) is None
    assert found("хуй", builtin=("en",)) is None


def test_matcher_is_cached():
    phrases = ("one", "two")
    assert blocklist.matcher(phrases, BOTH) is blocklist.matcher(phrases, BOTH)


def test_stored_values_round_trip():
    assert blocklist.split_phrases("a\n\n  b c \r\n") == ("a", "b c")
    assert blocklist.split_phrases(None) == ()
    assert blocklist.split_builtin("ru,en") == ("en", "ru")
    assert blocklist.split_builtin("") == ()
