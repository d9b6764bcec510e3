"""The labelled reply set through the whole pure pipeline: nothing is ever counted wrongly."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from functools import partial
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.demo import clients
from bot.mail.compose import reply_subject
from bot.store.db import session
from bot.store.models import Outbox
from tests.ballot_corpus import labelled, replies
from tests.conftest import BOT, MEMBERS, T0, make_app, open_ballot

LANGUAGES = {"en", "fr", "es", "pt", "de", "it", "nl"}
NAME, EMAIL = MEMBERS[0][0], MEMBERS[0][1]
QUESTION = "Do you agree that the shortlist goes to the Governing Board?"


def test_the_labelled_set_covers_every_class_in_seven_languages() -> None:
    # Issue 11 grew the set: conditions, words after the answer, the vocabulary of consensus
    # practice, and German, Italian and Dutch as members write them. Each class must stay.
    cases = labelled()
    assert len(cases) >= 180
    assert {str(c["client"]).split("_")[-1] for c in cases} >= {"fr", "es", "pt", "outlook"}
    assert sum(c["expected"] is None for c in cases) >= 40  # ambiguous ones, to go to review
    classes = {"plain", "hedged", "conditional", "later-prose", "consensus", "not-an-answer"}
    assert {c["class"] for c in cases} == classes
    assert {c["lang"] for c in cases} == LANGUAGES
    for cls in ("conditional", "consensus"):
        assert {c["lang"] for c in cases if c["class"] == cls} == LANGUAGES, cls
    assert all(c["expected"] is None for c in cases if c["class"] == "conditional")
    for lang in ("de", "it", "nl"):
        expected = {c["expected"] for c in cases if c["lang"] == lang}
        assert expected == {"agree", "object", "abstain", None}, lang


def test_no_reply_is_counted_wrongly(tmp_path: Path) -> None:
    # Ambiguous replies must come back with no position (review), never with a guess; clear
    # ones must be read as labelled. bench/ballot_reading.py prints the shares.
    app, cases = replies(tmp_path)
    for case, raw in cases:
        record = app.explain_record(raw)
        assert record["outcome"] == "handled", (case, record)
        assert record["position"] == case["expected"], (case["answer"], record["why"])


def ballot(folder: Path) -> tuple[App, clients.Original]:
    app = make_app(folder, secret="replies")
    open_ballot(app, question=QUESTION)
    with session(app.engine) as s:
        mail = s.exec(select(Outbox).where(Outbox.purpose == "ballot")).first()
        assert mail is not None
        return app, clients.Original(mail.raw)


def inline(original: clients.Original, above: str, answer: str, when: datetime) -> bytes:
    """A reply written under the quoted question, the rest of the ballot quoted below it."""
    quoted = []
    for line in original.text.splitlines():
        quoted.append("> " + line if line else ">")
        if line.strip() == QUESTION:
            quoted.append(answer)
    head = f"On {original.date}, {original.sender} wrote:"
    msg = EmailMessage()
    msg["From"] = formataddr((NAME, EMAIL))
    msg["To"] = BOT
    msg["Subject"] = reply_subject(original.subject)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=EMAIL.split("@")[1])
    msg["In-Reply-To"] = original.message_id
    msg["References"] = " ".join([*original.references, original.message_id])
    msg.set_content(f"{above}\n\n{head}\n\n" + "\n".join(quoted) + "\n")
    return msg.as_bytes()


INLINE = [
    ("", "Object - topic 2 overlaps the accounting work.", "object"),
    ("Hi,", "Agree", "agree"),
    ("Hallo,", "Einverstanden.", "agree"),
    ("", "Yes, provided the budget line is removed.", None),
]


@pytest.mark.parametrize(("above", "answer", "expected"), INLINE)
def test_an_inline_answer_under_the_quoted_question_is_the_answer(
    tmp_path: Path, above: str, answer: str, expected: str | None
) -> None:
    # Some members answer under the question they quote; the quoted ballot lists every
    # option (AGREE, OBJECT, ABSTAIN) and must never be read as their answer.
    app, original = ballot(tmp_path)
    record = app.explain_record(inline(original, above, answer, T0))
    assert answer in record["extracted_text"]
    assert "ABSTAIN" not in record["extracted_text"]
    assert record["position"] == expected, record["why"]


LOCAL_CLIENTS = [
    ("Am {date} schrieb {sender}:", "Hallo zusammen,\n\nich enthalte mich.\n\nViele Grüße\nKlaus"),
    ("Il giorno {date} {sender} ha scritto:", "Buongiorno,\n\nmi astengo.\n\nCordiali saluti"),
    ("Op {date} schreef {sender}:", "Beste allemaal,\n\nIk onthoud me.\n\nMet vriendelijke groet"),
]


@pytest.mark.parametrize(("header", "answer"), LOCAL_CLIENTS)
def test_german_italian_and_dutch_clients_quote_headers(
    tmp_path: Path, header: str, answer: str
) -> None:
    # A member writing German, Italian or Dutch often has a client in that language, whose
    # quote header ("Am ... schrieb ...:") must end the new text like the English one.
    app, original = ballot(tmp_path)
    write = partial(clients.gmail, header=header)
    record = app.explain_record(write(original, NAME, EMAIL, BOT, T0, answer))
    assert record["position"] == "abstain", record["why"]
    assert "AGREE" not in record["extracted_text"]
