"""Languages: English and Russian, chosen by ?lang=, then the switch's cookie, then the browser."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

from flask import Flask, Response, g, request
from flask_babel import Babel, get_locale, get_translations, lazy_gettext

log = logging.getLogger(__name__)

LANGUAGES = {"en": "English", "ru": "Русский"}
COOKIE = "qa_lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def _valid(lang: str | None) -> str | None:
    """lang when it is one of ours, else None."""
    lang = (lang or "").strip().lower()[:2]
    return lang if lang in LANGUAGES else None


def select_locale() -> str:
    """?lang= first, then the cookie set by the switch, then Accept-Language."""
    chosen = _valid(request.args.get("lang")) or _valid(request.cookies.get(COOKIE))
    return chosen or request.accept_languages.best_match(list(LANGUAGES), default="en")


def current_lang() -> str:
    """The language of this request (cached on g)."""
    if "qa_lang" not in g:
        g.qa_lang = select_locale()
    return g.qa_lang


def remember_choice(response: Response) -> Response:
    """A page opened with ?lang= keeps that language: the switch sets a cookie."""
    lang = _valid(request.args.get("lang"))
    if lang and request.cookies.get(COOKIE) != lang:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def compile_catalogs(folder: Path = TRANSLATIONS) -> None:
    """Compile each messages.po to .mo when the .mo is missing or older (a fresh clone works)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in folder.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog)
        except OSError:  # a read-only install keeps the committed .mo
            log.warning("could not compile %s", po)


class Plural(NamedTuple):
    """A counted string for the pages' scripts: English singular and plural (with `%(n)s` where
    the number goes); the page gets every form of its language and live.js's `tn` picks one."""

    singular: str
    plural: str


def plural_forms(entry: Plural) -> dict[str, str]:
    """Each form of entry in the current language, by the CLDR category that JavaScript's
    `Intl.PluralRules.select` names ("one", "few", "many", "other", ...)."""
    locale, translations = get_locale(), get_translations()
    samples: dict[str, int] = {}
    for n in range(200):  # the first number of each category picks its form from the catalogue
        samples.setdefault(locale.plural_form(n), n)
    return {
        category: translations.ngettext(entry.singular, entry.plural, n)
        for category, n in samples.items()
    }


# The strings the ES modules show, by key; rendered into each page (no extra request). A Plural
# becomes {category: form}.
JS_STRINGS = {
    "live": lazy_gettext("Live"),
    "reconnecting": lazy_gettext("Reconnecting…"),
    "offline": lazy_gettext("Offline"),
    "waiting": Plural("%(n)s message waiting to send", "%(n)s messages waiting to send"),
    "popular": lazy_gettext("Popular"),
    "recent": lazy_gettext("Recent"),
    "answered": lazy_gettext("Answered"),
    "no_questions": lazy_gettext("No questions yet. Be the first to ask!"),
    "anonymous": lazy_gettext("Anonymous"),
    "to": lazy_gettext("to %(name)s"),
    "yours": lazy_gettext("Yours"),
    "awaiting_review": lazy_gettext("Awaiting review"),
    "dismissed_own": lazy_gettext("Not published by the moderator"),
    # the phone (issue 10): the draft's issue, tabs, my questions, withdraw
    "now_discussing": lazy_gettext("Now discussing: issue %(n)s — %(title)s"),
    "draft_for": lazy_gettext("Your question will go to issue %(n)s — %(title)s"),
    "live_questions": Plural("%(n)s live question", "%(n)s live questions"),
    "name_optional": lazy_gettext("(optional)"),
    "name_required": lazy_gettext("(required)"),
    "status_live": lazy_gettext("Published"),
    "status_answered": lazy_gettext("Answered"),
    "status_withdrawn": lazy_gettext("Withdrawn"),
    "withdraw": lazy_gettext("Withdraw"),
    "did_withdraw": lazy_gettext("Your question was withdrawn."),
    "withdrawn_by_asker": lazy_gettext("Withdrawn by the asker"),
    "err_withdrawn": lazy_gettext("This question was withdrawn by its asker."),
    "err_not_pending": lazy_gettext(
        "This question is no longer waiting for review, so it cannot be withdrawn."
    ),
    "waiting_to_send": lazy_gettext("Waiting to send"),
    "on_screen": lazy_gettext("On screen"),
    "current": lazy_gettext("Now"),
    "vote": lazy_gettext("Upvote"),
    "unvote": lazy_gettext("Remove your vote"),
    "votes": Plural("vote", "votes"),
    "sent": lazy_gettext("Your question was sent."),
    "sent_review": lazy_gettext("Your question was sent; it will appear after review."),
    "queued": lazy_gettext(
        "You are offline: your question will be sent when the connection returns."
    ),
    "err_too_long": Plural(
        "Your question is too long: at most %(n)s character.",
        "Your question is too long: at most %(n)s characters.",
    ),
    "err_empty": lazy_gettext("Write your question first."),
    "err_closed": lazy_gettext("Questions are closed for this event."),
    "err_voting_closed": lazy_gettext("Voting is closed for this event."),
    "err_rate_limited": lazy_gettext("You are going too fast; wait a moment and try again."),
    "err_name_required": lazy_gettext(
        "This event does not accept anonymous questions: give your name."
    ),
    "err_forbidden": lazy_gettext("You may not do this."),
    "err_not_found": lazy_gettext("This question no longer exists."),
    "err_unauthorized": lazy_gettext("Your session has expired; reload the page."),
    "err_banned": lazy_gettext(
        "The moderator has blocked this device from asking and voting in this event."
    ),
    "err_generic": lazy_gettext("Something went wrong; try again."),
    "err_offline": lazy_gettext(
        "You are offline: this was not done. Try again when the connection is back."
    ),
    "err_no_answer": lazy_gettext(
        "The server did not answer: this may not have been done. Check, then try again."
    ),
    "err_closed_now": lazy_gettext("This is closed for now."),
    "err_invalid": lazy_gettext("This was not accepted: check what you entered and try again."),
    "err_no_issue": lazy_gettext("This issue no longer exists; reload the page."),
    "err_no_speaker": lazy_gettext("This speaker is no longer on the programme; reload the page."),
    "err_no_event": lazy_gettext("This event no longer exists."),
    "err_no_action": lazy_gettext("There is no such action to undo."),
    "err_gone": lazy_gettext("This no longer exists; reload the page."),
    "err_merged": lazy_gettext("This question was merged into another; act on that one."),
    "err_target_dismissed": lazy_gettext(
        "The question to merge into is dismissed; bring it back first."
    ),
    "err_not_live": lazy_gettext("This question is not live, so it cannot be voted for or shown."),
    "err_undone": lazy_gettext("This was already undone."),
    "err_undo_later": lazy_gettext(
        "A later action changed the same question; undo that one first."
    ),
    "err_changed": lazy_gettext("This has changed since; it cannot be undone."),
    "err_not_undoable": lazy_gettext("This action cannot be undone."),
    "err_conflict": lazy_gettext("This changed in the meantime; look again and retry."),
    "err_too_large": lazy_gettext("This is too large to send."),
    "err_busy": lazy_gettext("The server is too busy to save this now; try again in a moment."),
    "err_not_now": lazy_gettext("The server cannot save this right now; try again in a moment."),
    "err_not_saved": lazy_gettext("The server could not save this; try again later."),
    "err_join": lazy_gettext("Could not join the event; check your connection."),
    "err_mod_link": lazy_gettext(
        "This moderator link is no longer valid: it was replaced or revoked, or it was "
        "copied wrong. Ask the organiser for a new link."
    ),
    "bad_link_title": lazy_gettext("This moderator link does not work"),
    "bad_link_organiser": lazy_gettext("Organiser? Log in to moderate or to make a new link"),
    "pending": lazy_gettext("Pending"),
    "dismissed": lazy_gettext("Dismissed"),
    "approve": lazy_gettext("Approve"),
    "dismiss": lazy_gettext("Dismiss"),
    "mark_answered": lazy_gettext("Mark answered"),
    "reopen": lazy_gettext("Back to live"),
    "edit": lazy_gettext("Edit"),
    "save": lazy_gettext("Save"),
    "cancel": lazy_gettext("Cancel"),
    "show": lazy_gettext("On screen"),
    "hide": lazy_gettext("Take off screen"),
    "move_to": lazy_gettext("Move to issue"),
    "make_current": lazy_gettext("Make current"),
    "all_issues": lazy_gettext("All issues"),
    "issue_n": lazy_gettext("Issue %(n)s"),
    "connected": Plural("%(n)s device connected", "%(n)s devices connected"),
    "nothing_on_screen": lazy_gettext("Nothing on screen"),
    "none_here": lazy_gettext("No questions here."),
    "moved": lazy_gettext("Moved to issue %(n)s"),
    "top_questions": lazy_gettext("Top questions"),
    "time_left": lazy_gettext("Time left for this issue"),
    "time_up": lazy_gettext("Time is up"),
    "clock_left": lazy_gettext("%(time)s left"),
    "copied": lazy_gettext("Copied"),
    "saved": lazy_gettext("Saved"),
    "created": lazy_gettext(
        "Created: %(title)s (code %(code)s). Keep the moderator link: it is shown once."
    ),
    "rotate_confirm": lazy_gettext(
        "Make a new moderator link? The old link stops working at once."
    ),
    "new_link": lazy_gettext("New moderator link (shown once):"),
    "rotate_seat_confirm": lazy_gettext(
        "Give %(name)s a new moderator link? Their old link stops working at once."
    ),
    "revoke_confirm": lazy_gettext(
        "Revoke %(name)s? Their link stops working and their open console is cut off at once."
    ),
    "seat_added": lazy_gettext("%(name)s added: send them this link (shown once)."),
    "since": lazy_gettext("since"),
    "rotate": lazy_gettext("Rotate"),
    "revoke": lazy_gettext("Revoke"),
    "team_moderating": lazy_gettext("Moderating:"),
    "team_alone": lazy_gettext("Only you are moderating"),
    "team_you": lazy_gettext("%(name)s (you)"),
    "team_editing": lazy_gettext("%(name)s is editing"),
    "audience_link": lazy_gettext("Audience"),
    "screen_link": lazy_gettext("Screen"),
    "moderator_link": lazy_gettext("Moderator"),
    "copy": lazy_gettext("Copy"),
    "understood": lazy_gettext("This is what was understood:"),
    "when": lazy_gettext("When"),
    "where": lazy_gettext("Where"),
    "speakers": lazy_gettext("Speakers"),
    "moderator_role": lazy_gettext("moderator"),
    "bad_json": lazy_gettext("This file is not valid JSON."),
    "addressed_to": lazy_gettext("Addressed to"),
    "all_panelists": lazy_gettext("All panelists"),
    "ban_asker": lazy_gettext("Ban the asker"),
    "ban_confirm": Plural(
        "Ban the asker of this question (%(n)s question)? Their device can no longer "
        "ask or vote, and their pending questions are dismissed.",
        "Ban the asker of this question (%(n)s questions)? Their device can no longer "
        "ask or vote, and their pending questions are dismissed.",
    ),
    "did_answer": lazy_gettext("Marked answered"),
    "did_approve": lazy_gettext("Approved"),
    "did_ban": lazy_gettext("Asker banned"),
    "did_dismiss": lazy_gettext("Dismissed"),
    "did_edit": lazy_gettext("Edited"),
    "did_hide": lazy_gettext("Taken off screen"),
    "did_merge": Plural("Merged %(n)s question", "Merged %(n)s questions"),
    "did_readdress": lazy_gettext("Addressee changed"),
    "did_reopen": lazy_gettext("Back to live"),
    "did_show": lazy_gettext("On screen"),
    "did_unban": lazy_gettext("Unbanned"),
    "everyones_questions": lazy_gettext("Everyone's questions"),
    "held": lazy_gettext("Held: %(reason)s"),
    "merge_into": lazy_gettext("Merge into…"),
    "merge_into_n": lazy_gettext("Merge into #%(id)s"),
    "merge_what": Plural(
        "%(n)s question will be merged into the one you choose; "
        "its votes become the union of all voters.",
        "%(n)s questions will be merged into the one you choose; "
        "its votes become the union of all voters.",
    ),
    "n_selected": Plural("%(n)s question selected", "%(n)s questions selected"),
    "not_duplicate": lazy_gettext("Not a duplicate"),
    "nothing_to_merge_into": lazy_gettext("There is no other question to merge into."),
    "only_asker": lazy_gettext("Only this asker's questions"),
    "only_these": lazy_gettext("Show only theirs (f)"),
    "possible_duplicate": lazy_gettext("Possible duplicate of #%(id)s: %(text)s"),
    "press_again": lazy_gettext("Press again to show a pending question"),
    "press_again_short": lazy_gettext("Press again"),
    "select_for_merge": lazy_gettext("Select for merging"),
    "this_asker": Plural("This asker: %(n)s question", "This asker: %(n)s questions"),
    "unban": lazy_gettext("Unban"),
    "undo_toast": lazy_gettext("%(what)s · Undo (z)"),
    "undo_too_late": lazy_gettext("Too late to undo."),
    "undone": lazy_gettext("Undone"),
    "merged_into": lazy_gettext("Merged into: %(text)s"),
    "merged_similar": lazy_gettext("Merged into a similar question"),
    # the organiser's events (issue 12): archive, programme edits, the preview, duplicates
    "err_archived": lazy_gettext(
        "This event is archived: it is read-only. Asking and voting are closed for good."
    ),
    "err_issue_has_questions": lazy_gettext(
        "This issue has questions, so it cannot be removed: move them to another issue first."
    ),
    "err_speaker_has_questions": lazy_gettext(
        "Questions are addressed to this speaker, so they cannot be removed: readdress the "
        "questions first."
    ),
    "err_delete_confirm": lazy_gettext("Type the event's code exactly to delete it."),
    # the organiser's pages word refusals by code too (issue 10, item 11)
    "err_name_taken": lazy_gettext(
        "Another moderator of this event already has this name; pick another name."
    ),
    "err_event_invalid": lazy_gettext(
        "The event was not accepted; correct this and try again: %(problems)s"
    ),
    "err_ends_before": lazy_gettext("The end time is before the start time."),
    "manage": lazy_gettext("Open its page: moderators, settings, programme"),
    "title": lazy_gettext("Title"),
    "starts": lazy_gettext("Starts"),
    "ends": lazy_gettext("Ends"),
    "time_zone": lazy_gettext("Time zone"),
    "issues_lines": lazy_gettext("Issues for discussion, one per line"),
    "panelists_lines": lazy_gettext("Panelists, one per line: Name, affiliation"),
    "duplicate": lazy_gettext(
        "An event with this title and start already exists: %(code)s — create another anyway? "
        "Press Create again."
    ),
}


def js_strings() -> dict:
    """The JS strings in the current language."""
    return {
        key: plural_forms(value) if isinstance(value, Plural) else str(value)
        for key, value in JS_STRINGS.items()
    }


def init_app(app: Flask) -> None:
    """Set up Flask-Babel, the language cookie and the template helpers."""
    compile_catalogs()
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=current_lang)
    app.after_request(remember_choice)

    @app.context_processor
    def language_helpers() -> dict:
        return {
            "lang": current_lang(),
            "languages": LANGUAGES,
            "js_strings": js_strings,
        }
