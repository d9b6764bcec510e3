"""Every mail template in every language the bot writes (issue 11, item 2): each renders with
the context its workflow gives it (no missing key: the renderer is strict), and a mail written
in French, Spanish or Portuguese carries no English left untranslated. The position words a
mail asks for are words the reader reads back as that position."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.types import FileView, ItemView, PersonView
from bot.inbound.intent import DOUBTS, Reading, read_position
from bot.render import DEFAULT_LANGUAGE, Renderer, languages
from bot.resources import data_dir
from bot.rules import load_rules

RULES = load_rules(data_dir("rules") / "ciwp-coordination-group.toml")
TEMPLATES = data_dir("templates")
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
DUE = datetime(2026, 12, 11, 17, tzinfo=UTC)

# English words that no French, Spanish or Portuguese sentence uses: one left in a mail in
# those languages is a sentence the translation missed.
ENGLISH = frozenset(
    {
        "the",
        "your",
        "please",
        "reply",
        "you",
        "this",
        "with",
        "will",
        "been",
        "have",
        "which",
        "should",
        "would",
        "from",
        "when",
        "what",
        "who",
        "deadline",
        "answer",
        "meeting",
        "ballot",
        "recorded",
        "received",
        "reminder",
        "dear",
        "regards",
        "thank",
        "thanks",
        "by",
        "of",
        "to",
        "and",
        "is",
        "are",
        "not",
        "was",
        "were",
        "here",
        "there",
        "our",
        "their",
        "they",
        "can",
        "could",
        "overdue",
    }
)
# What stays English on purpose: the CLI's commands, and the keywords of the email commands the
# bot reads in English only (a mail in another language says so next to them).
COMMANDS = re.compile(r"cgbot [a-z][\w -]*|\b(?:BALLOT|Deadline|Options)\b")
# Text the bot takes from the code, not from a template, shown to the Secretariat only (the
# held and quarantined mail's diagnosis, a refused command's problems): English by design,
# said in the README. Nothing a member reads is on this list.
SECRETARIAT_DIAGNOSTICS = (
    "the sender is not proven",
    "Deadline: 'x' is not a date",
    "damaged MIME",
    "550 no such user",
    "552 too big",
)


def person(pid: int, name: str, role: str, zone: str, language: str) -> PersonView:
    return PersonView(pid, f"p{pid}@members.example", name, "member", role, zone, language)


def item(kind: str, state: str = "open", **data: Any) -> ItemView:
    return ItemView(12, kind, "Programa 2027", "Texto.", state, NOW, DUE, data, "cli")


def samples(language: str) -> dict[str, dict[str, Any]]:
    """A context for every template, as its workflow builds it."""
    me = person(1, "Ana Pérez", "expert-panel-co-chair", "America/Lima", language)
    other = person(2, "Luís Gómez", "governing-board", "Europe/Madrid", language)
    third = person(3, "Marta Sousa", "ipslc-engagement-forum", "Africa/Dakar", language)
    meeting = {
        "starts_at": DUE,
        "ends_at": DUE + timedelta(minutes=90),
        "where": "Zoom",
        "dial_in": "+44 20 1234",
    }
    agenda = [
        {"n": 1, "title": "Uno", "by": "Secretariat", "status": "accepted"},
        {"n": 2, "title": "Dos", "by": "Ana Pérez", "status": "proposed"},
    ]
    tally = {"AGREE": ["Ana Pérez"], "OBJECT": ["Luís Gómez"], "no answer": ["Marta Sousa"]}
    standing = [(me, "AGREE", "Texto."), (other, "OBJECT", "Texto."), (third, "no answer", "")]
    positions = dict(RULES.positions)
    doubt = read_position("Agree in principle, but only if the annex goes.", RULES)
    assert doubt.code == "hedged"
    reply = {
        "person": me,
        "at": NOW,
        "text": "Texto.",
        "late": True,
        "nothing": False,
        "files": [FileView("a.docx", "ab" * 32, 10)],
    }
    return {
        "action/assigned": {"item": item("action"), "due": DUE},
        "action/done": {"item": item("action"), "person": me, "note": "Feito.", "files": []},
        "action/done_notice": {
            "item": item("action"),
            "person": me,
            "note": "Feito.",
            "files": ["a.pdf"],
        },
        "action/extended": {
            "item": item("action"),
            "person": me,
            "note": "",
            "files": [],
            "due": DUE,
            "was": NOW,
        },
        "action/extension_notice": {
            "item": item("action"),
            "person": me,
            "note": "",
            "files": [],
            "due": DUE,
            "was": NOW,
        },
        "action/overdue": {"item": item("action", "overdue"), "due": DUE},
        "action/refused": {"item": item("action"), "due": DUE, "note": "NON"},
        "action/reminder": {"item": item("action"), "due": DUE},
        "ballot/ballot": {"item": item("ballot"), "positions": positions},
        "ballot/chair_reminder": {"item": item("ballot", "escalated"), "chair_due": DUE},
        "ballot/clarify": {
            "item": item("ballot"),
            "reading": doubt,
            "label": "",
            "positions": positions,
            "why": doubt.why,
            "code": doubt.code,
            "detail": doubt.detail,
        },
        "ballot/confirm": {
            "item": item("ballot"),
            "reading": Reading("object", "Texto.", ""),
            "label": "OBJECT",
            "positions": positions,
            "asks_reason": True,
        },
        "ballot/determination": {
            "item": item("ballot", "determined"),
            "determination": "Sí.",
            "tally": tally,
        },
        "ballot/determination_confirm": {
            "item": item("ballot"),
            "determination": "Sí.",
            "tally": tally,
        },
        "ballot/determination_readback": {"item": item("ballot"), "determination": "Sí."},
        "ballot/determination_withdrawn": {"item": item("ballot")},
        "ballot/escalation": {
            "item": item("ballot", "escalated"),
            "tally": tally,
            "objections": [1],
            "missing": [],
            "standing": standing,
            "timeline": [
                (NOW, {"event": "opened", "count": 4}),
                (NOW, {"event": "reminder", "count": 1}),
                (
                    NOW,
                    {"event": "reply", "name": "Ana Pérez", "position": "agree", "status": "late"},
                ),
                (
                    NOW,
                    {"event": "reply", "name": "Luís Gómez", "position": None, "status": "review"},
                ),
                (DUE, {"event": "deadline"}),
            ],
            "chair_due": DUE,
        },
        "ballot/late": {
            "item": item("ballot", "escalated"),
            "reading": Reading("agree", "", ""),
            "label": "AGREE",
            "positions": positions,
        },
        "ballot/opened": {
            "item": item("ballot"),
            "opened_by": "cli",
            "summary": {"options": ["AGREE", "OBJECT"]},
        },
        "ballot/outcome": {
            "item": item("ballot", "escalated"),
            "tally": tally,
            "objections": [1],
            "outcome": "escalated",
            "missing": [],
            "standing": standing,
            "timeline": [],
        },
        "ballot/reminder": {"item": item("ballot"), "positions": positions},
        # The console's mails (issue 11, item 4): an extension, a cancellation, a position the
        # Secretariat recorded from the review queue, and the answer to EXTEND:/CANCEL:/REMIND:.
        "ballot/extended": {
            "item": item("ballot"),
            "was": NOW,
            "answers": {2: "agree"},
            "positions": positions,
        },
        "ballot/cancelled": {"item": item("ballot", "cancelled"), "reason": "Texto."},
        "ballot/resolved": {
            "item": item("ballot"),
            "label": "OBJECT",
            "by": "Executive Secretariat",
            "note": "Texto.",
            "words": "",
            "asks_reason": True,
            "positions": positions,
        },
        "common/command_done": {
            "item": item("ballot"),
            "command": "EXTEND: 12",
            "action": "extend",
            "told": ["Ana Pérez", "Luís Gómez"],
        },
        "common/address_failing": {"person": me, "detail": "550 no such user", "subject": "X"},
        "common/command_refused": {
            "subject": "BALLOT: x",
            "zone": "Europe/London",
            "problems": ["Deadline: 'x' is not a date"],
        },
        "common/held": {"summary": "the sender is not proven", "subject": "Re: [CG-12] X"},
        "common/opened": {"item": item("feedback"), "opened_by": "cli", "summary": {}},
        "common/packet_without_archive": {
            "subject": "[CG-12] X",
            "recipients": ["c@x.org"],
            "message_id": "<a@b>",
            "refusal": "552 too big",
        },
        "common/quarantine": {
            "held": [
                {
                    "reason": "damaged",
                    "summary": "damaged MIME",
                    "detail": "",
                    "sender": "",
                    "subject": "",
                    "inbound_id": 5,
                    "attached": "held-5.eml",
                }
            ],
            "more": 1,
            "unattached": 1,
        },
        "confirmation/cancelled": {"item": item("confirmation", "cancelled")},
        "confirmation/request": {
            "item": item("confirmation", "awaiting"),
            "why": "the sender is not proven",
        },
        "confirmation/unclear": {"item": item("confirmation", "awaiting")},
        "digest/digest": {
            "weekly": True,
            "today": NOW,
            "failing": [me],
            "owed": [{"person": me, "things": [(DUE, "ballot: B"), (None, "action (overdue): A")]}],
            "ballots": [
                {
                    "id": 3,
                    "title": "B",
                    "state": "open",
                    "deadline": DUE,
                    "responses": {
                        me.name: {"position": "agree", "status": "counted", "text": "Sí."}
                    },
                }
            ],
            "rounds": [
                {
                    "id": 4,
                    "title": "F",
                    "deadline": None,
                    "responses": {me.name: {"status": "no-comments"}},
                }
            ],
            "actions": [{"id": 5, "title": "A", "owner": me.name, "due": DUE, "state": "overdue"}],
            "meetings": [
                {"id": 7, "title": "M", "starts_at": DUE, "attendance": {me.name: "apology"}}
            ],
            "unrecorded": [{"id": 6, "title": "M0", "starts_at": DUE}],
            "review": [
                {"id": 1, "reason": "ambiguous", "detail": "Texto.", "answered_since": True}
            ],
        },
        "feedback/compilation": {
            "item": item("feedback", "closed"),
            "silent": [other],
            "replies": [reply, {**reply, "nothing": True, "files": ()}],
        },
        "feedback/draft": {"item": item("feedback"), "round": 2},
        "feedback/late": {"item": item("feedback"), "person": me, "text": "Texto."},
        "feedback/noted": {
            "item": item("feedback"),
            "late": True,
            "nothing": False,
            "files": ["a.docx"],
        },
        "feedback/reminder": {"item": item("feedback")},
        "meeting/agenda": {
            "item": item("meeting", "scheduled"),
            "meeting": meeting,
            "agenda": agenda,
        },
        "meeting/agenda_noted": {
            "item": item("meeting", "scheduled"),
            "meeting": meeting,
            "agenda": agenda,
            "papers": ["p.pdf"],
        },
        "meeting/apology": {
            "item": item("meeting", "scheduled"),
            "meeting": meeting,
            "person": me,
            "note": "Texto.",
        },
        "meeting/call": {
            "item": item("meeting", "scheduled"),
            "meeting": meeting,
            "ask_before": timedelta(days=2),
        },
        "meeting/cancelled": {
            "item": item("meeting", "scheduled"),
            "meeting": meeting,
            "reason": "Texto.",
        },
        "meeting/comment_noted": {
            "item": item("meeting", "scheduled"),
            "meeting": meeting,
            "count": 2,
        },
        "meeting/moved": {"item": item("meeting", "scheduled"), "meeting": meeting, "was": meeting},
        "meeting/noted": {
            "item": item("meeting", "scheduled"),
            "meeting": meeting,
            "answer": "apology",
        },
        "meeting/proposal": {
            "item": item("meeting", "scheduled"),
            "meeting": meeting,
            "added": agenda[1:],
            "person": me,
        },
        "meeting/proposal_noted": {
            "item": item("meeting", "scheduled"),
            "meeting": meeting,
            "added": agenda[1:],
            "person": me,
        },
        "meeting/record": {
            "item": item("meeting", "held"),
            "meeting": meeting,
            "record": {
                "attended": ["Ana Pérez"],
                "decisions": ["Sí."],
                "actions": [{"title": "T", "owner": me.email, "due": "2027-01-15T17:00"}],
                "unsettled": [],
            },
        },
        "poll/ask": {"item": item("poll"), "slots": [NOW, DUE]},
        "poll/clarify": {"item": item("poll"), "slots": [NOW, DUE], "picked": None},
        "poll/noted": {"item": item("poll"), "slots": [NOW, DUE], "picked": (1, 2)},
        "poll/result": {
            "item": item("poll", "closed"),
            "silent": ["Marta Sousa"],
            "tally": [
                {"n": 2, "start": DUE, "can": ["Ana Pérez"]},
                {"n": 1, "start": NOW, "can": []},
            ],
        },
        "report/draft": {"r": report_content(), "zone": "Europe/London", "charts": [], "pdf": True},
    } | {"_recipient": me}  # type: ignore[operator]


def report_content() -> dict[str, Any]:
    from bot.workflows.report import compile_report, period

    return compile_report(period("2026-12", "Europe/London"), [], [], {}, frozenset())


def templates() -> list[str]:
    return sorted(
        p.relative_to(TEMPLATES).as_posix()[: -len(".en.txt")] for p in TEMPLATES.glob("*/*.en.txt")
    )


def visible(text: str) -> str:
    """What a reader sees of a part: HTML without its tags and comments."""
    text = re.sub(r"<!--.*?-->|<style.*?</style>|<[^>]+>", " ", text, flags=re.S)
    return html.unescape(text)


def english_left(text: str) -> set[str]:
    for value in SECRETARIAT_DIAGNOSTICS:
        text = text.replace(value, " ")
    text = COMMANDS.sub(" ", text)
    return {w for w in re.findall(r"[\w']+", text.lower()) if w in ENGLISH}


@pytest.mark.parametrize("language", languages())
def test_every_template_renders_in_every_language_with_nothing_left_in_english(
    language: str,
) -> None:
    assert set(languages()) >= {"en", "fr", "es", "pt"}
    renderer = Renderer()
    contexts = samples(language)
    me = contexts.pop("_recipient")
    missing = [name for name in templates() if name not in contexts]
    assert not missing, f"no sample context for {missing}: add one to this test"
    base = {
        "group_name": "CIWP Coordination Group",
        "tag": "CG",
        "rules": RULES,
        "members": (me,),
        "chair": me,
        "now": NOW,
        "recipient": me,
    }
    left: dict[str, set[str]] = {}
    for name in templates():
        out = renderer.render(name, {**base, **contexts[name]}, language)
        assert out.subject and out.text.strip() and "<html" in out.html, name
        if language != DEFAULT_LANGUAGE:
            page = out.html.split("<hr", 1)[0] if name == "report/draft" else out.html
            # (the report's own pages, after the <hr>, are in English: the Board's papers)
            words = english_left(f"{out.subject}\n{out.text}\n{visible(page)}")
            if words:
                left[name] = words
    assert not left, f"English left in {language}: {left}"


def test_every_code_the_reader_gives_is_one_of_its_doubts() -> None:
    # DOUBTS is what the test below renders: a code added to the reader and not to it would
    # reach a member untranslated.
    source = (Path(__file__).parents[2] / "bot" / "inbound" / "intent.py").read_text()
    given = set(re.findall(r'_Doubt\(\s*"([a-z-]+)"', source))
    given |= set(re.findall(r'Reading\(None, [^\n]*"([a-z-]+)"[^\n]*\)', source))
    assert len(given) >= 10 and given <= set(DOUBTS), given - set(DOUBTS)


@pytest.mark.parametrize("language", ["fr", "es", "pt"])
def test_every_reason_a_reply_is_not_counted_is_told_in_the_members_language(
    language: str,
) -> None:
    # The clarifying mail says why in the member's words; a code it does not know would put
    # the reader's English sentence into a French, Spanish or Portuguese mail.
    contexts = samples(language)
    me = contexts.pop("_recipient")
    base = {"group_name": "G", "tag": "CG", "rules": RULES, "members": (me,), "chair": me,
            "now": NOW, "recipient": me, **contexts["ballot/clarify"]}  # fmt: skip
    for code in (*DOUBTS, "automatic", "not-own-mail"):  # (the last two: ballot.py's own)
        context = {**base, "code": code, "why": "UNTRANSLATED-REASON", "detail": "x"}
        out = Renderer().render("ballot/clarify", context, language)
        assert "UNTRANSLATED-REASON" not in out.text + out.html, (language, code)


@pytest.mark.parametrize("language", ["fr", "es", "pt"])
def test_every_part_of_every_template_exists_in_each_language(language: str) -> None:
    # A part missing in a language would fall back to English silently.
    for english in TEMPLATES.glob("*/*.en.*"):
        assert english.with_name(english.name.replace(".en.", f".{language}.")).is_file()


def test_the_position_words_a_mail_asks_for_are_read_back_as_those_positions() -> None:
    for key, position in RULES.positions.items():
        for language, label in {"en": position.label, **position.labels}.items():
            reading = read_position(label, RULES)
            assert reading.position == key, (language, label, reading.why)


def test_a_french_ballot_mail_asks_for_french_words_and_a_date_written_in_french() -> None:
    contexts = samples("fr")
    me = contexts.pop("_recipient")
    base = {
        "group_name": "G",
        "tag": "CG",
        "rules": RULES,
        "members": (me,),
        "chair": me,
        "now": NOW,
        "recipient": me,
    }
    out = Renderer().render("ballot/ballot", {**base, **contexts["ballot/ballot"]}, "fr")
    assert "D'ACCORD" in out.text and "OBJECTION" in out.text and "ABSTENTION" in out.text
    assert "AGREE" not in out.text
    assert "vendredi 11 décembre 2026, 12:00 (America/Lima)" in out.text
    assert '<html lang="fr">' in out.html


def test_a_language_without_templates_falls_back_to_english_parts_and_is_not_offered(
    tmp_path: Path,
) -> None:
    (tmp_path / "kind").mkdir()
    for part in ("subject", "txt", "html"):
        (tmp_path / "kind" / f"a.en.{part}").write_text("x")
    (tmp_path / "kind" / "a.de.txt").write_text("y")  # German started, not finished
    assert languages(tmp_path) == ("en",)


def test_a_ballot_its_confirmation_and_its_reminder_are_wholly_in_french_and_portuguese(
    tmp_path: Path,
) -> None:
    # Issue 11 acceptance: members with language "fr" and "pt", through the real pipeline,
    # store and outbox: every mail they get is in their language, every date written their way.
    from email import message_from_bytes
    from email.policy import default

    from sqlmodel import col, select

    from bot.demo import clients
    from bot.domain.types import Fetched
    from bot.store.db import session
    from bot.store.models import Outbox
    from tests.conftest import BOT, MEMBERS, T0, WITHOUT_DIGEST, mail_to, make_app, open_ballot

    def speaking(text: str) -> str:
        for address, language in ((MEMBERS[1][1], "pt"), (MEMBERS[2][1], "fr")):
            text = text.replace(
                f'email = "{address}"\n', f'email = "{address}"\nlanguage = "{language}"\n'
            )
        return text

    app = make_app(tmp_path, change=speaking, registry=WITHOUT_DIGEST)
    open_ballot(app, "Programa 2027", "Texto.")
    bruno, chloe = MEMBERS[1], MEMBERS[2]
    answer = clients.gmail(mail_to(app, chloe[1]), chloe[0], chloe[1], BOT, T0, "D'accord.")
    app.handle(Fetched("test", answer))
    app.clock.jump_to(T0 + timedelta(days=7, minutes=1))  # three days before: the reminder
    app.run_due()
    with session(app.engine) as s:
        rows = list(s.exec(select(Outbox).order_by(col(Outbox.id))))
    seen: dict[str, list[str]] = {}
    for row in rows:
        for address, language in ((bruno[1], "pt"), (chloe[1], "fr")):
            if address not in row.recipients:
                continue
            seen.setdefault(language, []).append(row.purpose)
            msg = message_from_bytes(row.raw, policy=default)
            text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            page = visible(msg.get_body(("html",)).get_content())  # type: ignore[union-attr]
            assert not english_left(f"{msg['Subject']}\n{text}\n{page}"), (row.purpose, text)
            assert ("dezembro de 2026" if language == "pt" else "décembre 2026") in text
    assert seen == {"pt": ["ballot", "reminder"], "fr": ["ballot", "confirm"]}


@pytest.mark.parametrize("language", languages())
def test_the_answer_to_a_review_settled_by_mail_is_in_the_secretariats_language(
    language: str,
) -> None:
    # RESOLVE: N by mail: settled as a position (the entry's item named), or dismissed (a held
    # mail has no item): each branch of the answer, nothing left in English.
    contexts = samples(language)
    me = contexts.pop("_recipient")
    base = {"group_name": "G", "tag": "CG", "rules": RULES, "now": NOW, "recipient": me}
    resolved = {
        "item": contexts["common/command_done"]["item"],
        "command": "RESOLVE: 4",
        "action": "resolved",
        "position": "agree",
        "told": ["Ana Pérez"],
    }
    dismissed = {"item": None, "command": "RESOLVE: 5", "action": "dismissed", "told": []}
    agree = RULES.positions["agree"]
    label = agree.labels.get(language, agree.label)  # AGREE, D'ACCORD, DE ACUERDO, CONCORDO
    for context, shown in ((resolved, label), (dismissed, "cgbot review")):
        out = Renderer().render("common/command_done", {**base, **context}, language)
        assert shown in out.text and shown in visible(out.html), (language, context["action"])
        assert context["command"] in out.text
        if language != DEFAULT_LANGUAGE:
            assert not english_left(f"{out.text}\n{visible(out.html)}"), language
