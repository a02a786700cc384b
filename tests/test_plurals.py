"""Russian plurals: every counted string (each i18n.Plural of the pages' scripts and each
ngettext entry of the Russian catalogue) takes the right form for 1, 2, 5, 11, 21, 22, 25."""

from __future__ import annotations

import re

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from flask_babel import force_locale, get_translations

from qa_app import create_app
from qa_app.i18n import JS_STRINGS, TRANSLATIONS, Plural, js_strings
from tests import conftest

# Which Russian word each number takes, written out (not computed): 1 and 21 take the first
# ("голос"), 2 and 22 the second ("голоса"), 5, 11 and 25 the third ("голосов").
FORM_OF = {1: 0, 21: 0, 2: 1, 22: 1, 5: 2, 11: 2, 25: 2}

# The Russian words of each counted string (by its English singular), in the order one, few,
# many. A counted string missing here fails the test: add its words.
EXPECTED = {
    "vote": ("голос", "голоса", "голосов"),
    "%(n)s message waiting to send": (
        "сообщение ждёт",
        "сообщения ждут",
        "сообщений ждут",
    ),
    "Your question is too long: at most %(n)s character.": ("символа", "символов", "символов"),
    "%(n)s device connected": (
        "устройство подключено",
        "устройства подключены",
        "устройств подключено",
    ),
    "Ban the asker of this question (%(n)s question)? Their device can no longer ask or vote, "
    "and their pending questions are dismissed.": ("вопрос)", "вопроса)", "вопросов)"),
    "Merged %(n)s question": ("Объединён", "Объединено", "Объединено"),
    "%(n)s question will be merged into the one you choose; its votes become the union of all "
    "voters.": ("вопрос будет объединён", "вопроса будут объединены", "вопросов будут объединены"),
    "%(n)s question selected": ("Выбран", "Выбрано", "Выбрано"),
    "This asker: %(n)s question": ("вопрос", "вопроса", "вопросов"),
    "Undo the last action (for %(n)s second)": ("секунды", "секунд", "секунд"),
    "%(n)s live question": (
        "опубликованный вопрос",
        "опубликованных вопроса",
        "опубликованных вопросов",
    ),
    # the report (templates/report.html, qa_app/report.py)
    "%(n)s vote": ("голос", "голоса", "голосов"),
    "%(n)s question": ("вопрос", "вопроса", "вопросов"),
    "participant": ("участник", "участника", "участников"),
    "person asked": ("человек спросил", "человека спросили", "человек спросили"),
    "question": ("вопрос", "вопроса", "вопросов"),
    "from %(n)s device": ("устройства", "устройств", "устройств"),
    "%(n)s merged as a duplicate": ("объединён", "объединены", "объединены"),
    "%(n)s never reviewed": ("рассмотрен", "рассмотрены", "рассмотрены"),
    "%(n)s dismissed": ("отклонён", "отклонены", "отклонены"),
    "%(n)s withdrawn by the asker": ("отозван", "отозваны", "отозваны"),
    "%(n)s published question was never answered: what the panel still owes the hall, most "
    "votes first.": (
        "опубликованный вопрос остался",
        "опубликованных вопроса остались",
        "опубликованных вопросов остались",
    ),
    "And %(n)s more: see the CSV.": ("ещё", "ещё", "ещё"),
    "per %(n)s minute": ("минуту", "минуты", "минут"),
    "%(n)s time": ("раз", "раза", "раз"),
}
# where the words above do not tell the forms apart, the noun must be there too
NOUNS = {
    "Merged %(n)s question": ("вопрос", "вопроса", "вопросов"),
    "%(n)s question selected": ("вопрос", "вопроса", "вопросов"),
}


def has_word(text: str, word: str) -> bool:
    """Whether word stands in text as a whole word (голос is not found in голоса)."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def check(msgid: str, text: str, n: int, has_number: bool) -> None:
    assert msgid in EXPECTED, f"add the Russian forms of {msgid!r} to EXPECTED"
    form = FORM_OF[n]
    for words in (EXPECTED[msgid], NOUNS.get(msgid)):
        if words:
            assert has_word(text, words[form]), f"{n}: {text!r} should say {words[form]!r}"
            others = {w for w in words if w != words[form]}
            assert not any(has_word(text, w) for w in others), f"{n}: {text!r}"
    if has_number:
        assert has_word(text, str(n)), f"{text!r} should show {n}"


@pytest.fixture(scope="module")
def russian(tmp_path_factory):
    app = create_app(conftest.test_config(f"sqlite:///{tmp_path_factory.mktemp('db')}/x.db"))
    with app.test_request_context("/"), force_locale("ru"):
        yield


PLURALS = {key: value for key, value in JS_STRINGS.items() if isinstance(value, Plural)}


@pytest.mark.parametrize("key", sorted(PLURALS))
@pytest.mark.parametrize("n", sorted(FORM_OF))
def test_each_counted_string_of_the_pages_takes_the_right_russian_form(russian, key, n):
    """What the page's `tn(key, n)` shows: the form named by the CLDR category of n (the
    categories Intl.PluralRules uses in the browser)."""
    entry = PLURALS[key]
    forms = js_strings()[key]
    text = forms[Locale("ru").plural_form(n)].replace("%(n)s", str(n))
    check(entry.singular, text, n, "%(n)s" in entry.singular)


def plural_entries() -> list:
    with (TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return [m for m in read_po(po) if m.id and m.pluralizable]


def test_the_catalogue_and_the_pages_plurals_are_the_same_set():
    """Every ngettext entry is checked below; a Python ngettext string counts too."""
    singulars = {m.id[0] for m in plural_entries()}
    assert {entry.singular for entry in PLURALS.values()} <= singulars
    assert singulars <= set(EXPECTED), sorted(singulars - set(EXPECTED))


@pytest.mark.parametrize("n", sorted(FORM_OF))
def test_each_ngettext_entry_of_the_catalogue_takes_the_right_russian_form(russian, n):
    translations = get_translations()
    for message in plural_entries():
        singular, plural = message.id
        text = translations.ngettext(singular, plural, n) % {"n": n}
        check(singular, text, n, "%(n)s" in singular)
