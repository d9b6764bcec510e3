"""Trust, round two (issue 8), items 4 and 7: no loops with robots, no genuine vote lost.

Each loop scenario runs ten rounds of a robot answering whatever the bot last sent; the bot may
answer it once per item. Each scenario adds a row to the trust matrix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

import pytest
from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, MEMBERS, T0, mail_to, make_app, open_ballot

NAME, EMAIL = MEMBERS[0][0], MEMBERS[0][1]
OTHER_NAME, OTHER = MEMBERS[1][0], MEMBERS[1][1]


def latest_to(app: App, address: str) -> clients.Original:
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id))).all()
    return clients.Original([r.raw for r in rows if address in r.recipients][-1])


def mails_to(app: App, address: str) -> list[Outbox]:
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id))).all()
    return [r for r in rows if address in r.recipients]


def autoresponder(original: clients.Original) -> bytes:
    """A robot that answers every mail, in the thread, without any RFC 3834 header."""
    return clients.gmail(
        original, NAME, EMAIL, BOT, T0, "Thank you for your message. I will get back to you soon."
    )


def forwarding_rule(original: clients.Original) -> bytes:
    """An Exchange rule that forwards every mail back: new message, member's From, FW subject."""
    msg = EmailMessage()
    msg["From"] = formataddr((NAME, EMAIL))
    msg["To"] = BOT
    msg["Subject"] = f"FW: {original.subject}"
    msg["Date"] = format_datetime(T0)
    msg["Message-ID"] = make_msgid(domain="members.example")
    msg.set_content(
        f"________________________________\nFrom: {original.sender}\nSent: {original.date}\n"
        f"To: {NAME} <{EMAIL}>\nSubject: {original.subject}\n\n{original.text}"
    )
    return msg.as_bytes()


def echo(original: clients.Original) -> bytes:
    """A robot that answers with the bot's own words as its new text (no quote header)."""
    msg = EmailMessage()
    msg["From"] = formataddr((NAME, EMAIL))
    msg["To"] = BOT
    msg["Subject"] = f"Re: {original.subject}"
    msg["Date"] = format_datetime(T0)
    msg["Message-ID"] = make_msgid(domain="members.example")
    msg["In-Reply-To"] = original.message_id
    msg["References"] = original.message_id
    msg.set_content(original.text)
    return msg.as_bytes()


LOOPS: list[tuple[str, Callable[[clients.Original], bytes]]] = [
    ("an autoresponder without RFC 3834 headers", autoresponder),
    ("a mailbox rule forwarding the bot's mail back", forwarding_rule),
    ("a robot echoing the bot's own text as its answer", echo),
]


@pytest.mark.parametrize(("name", "robot"), LOOPS, ids=[c[0] for c in LOOPS])
def test_a_robot_gets_at_most_one_automatic_answer(
    tmp_path_factory: pytest.TempPathFactory,
    matrix: dict[str, list[str]],
    name: str,
    robot: Callable[[clients.Original], bytes],
) -> None:
    app = make_app(tmp_path_factory.mktemp("loop"))
    open_ballot(app)
    before = len(mails_to(app, EMAIL))
    for round_ in range(10):
        app.clock.jump_to(T0 + timedelta(minutes=10 * (round_ + 1)))
        app.handle(Fetched("test", robot(latest_to(app, EMAIL))))
    answers = len(mails_to(app, EMAIL)) - before
    assert answers <= 1, f"{answers} automatic answers to a robot"
    record = app.status()["items"][0]["responses"].get(EMAIL)
    assert record is None or record["status"] != "counted"  # a robot never casts a vote
    matrix.setdefault("loops: at most one automatic answer per person and item", []).append(
        f"{name}, 10 rounds: {answers} answer(s)"
    )


def test_the_same_unclear_words_twice_get_one_clarification(app_with_ballot: App) -> None:
    app = app_with_ballot
    for n in range(2):
        app.clock.jump_to(T0 + timedelta(hours=n + 1))
        raw = clients.gmail(mail_to(app, EMAIL), NAME, EMAIL, BOT, app.clock.now(), "Hmm, maybe.")
        app.handle(Fetched("test", raw))
    assert len([m for m in mails_to(app, EMAIL) if m.purpose == "clarify"]) == 1


def test_three_unclear_replies_in_a_row_go_to_review_without_more_answers(
    app_with_ballot: App,
) -> None:
    app = app_with_ballot
    for n, words in enumerate(["Hmm, maybe.", "Not sure yet, let me think.", "Perhaps later?"]):
        app.clock.jump_to(T0 + timedelta(hours=n + 1))
        raw = clients.gmail(mail_to(app, EMAIL), NAME, EMAIL, BOT, app.clock.now(), words)
        app.handle(Fetched("test", raw))
    assert len([m for m in mails_to(app, EMAIL) if m.purpose == "clarify"]) == 2
    reasons = [r["reason"] for r in app.status()["review_queue"]]
    assert "no-answer-sent" in reasons
    # A clear answer afterwards counts and is confirmed as usual.
    raw = clients.gmail(mail_to(app, EMAIL), NAME, EMAIL, BOT, T0 + timedelta(hours=5), "Agree")
    app.handle(Fetched("test", raw))
    assert app.status()["items"][0]["responses"][EMAIL]["position"] == "agree"
    assert mails_to(app, EMAIL)[-1].purpose == "confirm"


@pytest.fixture
def app_with_ballot(tmp_path_factory: pytest.TempPathFactory) -> App:
    def plus(text: str) -> str:
        return text + '[security]\nplus_domains = ["members.example"]\n'

    app = make_app(tmp_path_factory.mktemp("loss"), change=plus)
    open_ballot(app)
    return app


def test_a_bulk_marked_reply_with_the_members_own_token_reaches_review(
    app_with_ballot: App, matrix: dict[str, list[str]]
) -> None:
    # A gateway adds Precedence: bulk to the member's genuine reply: held, never binned.
    app = app_with_ballot
    raw = clients.gmail(mail_to(app, EMAIL), NAME, EMAIL, BOT, T0, "Object: too broad.")
    assert app.handle(Fetched("test", b"Precedence: bulk\r\n" + raw)) == "processed"
    record = app.status()["items"][0]["responses"][EMAIL]
    assert record["status"] == "review"
    assert "untrusted-reply" in [r["reason"] for r in app.status()["review_queue"]]
    told = mails_to(app, EMAIL)[-1]
    assert told.purpose == "clarify" and b"looks automatic" in told.raw
    matrix.setdefault("no silent loss (issue 8)", []).append(
        "a member's reply marked Precedence: bulk by a gateway: to review, member told why"
    )


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("name+tag@ at a domain that delivers it", "amina+cg@members.example"),
        ("a quoted local part", '"amina"@members.example'),
        ("a trailing dot after the domain", "amina@members.example."),
        ("capitals everywhere", "AMINA@MEMBERS.EXAMPLE"),
    ],
)
def test_the_members_address_written_another_way_still_counts(
    app_with_ballot: App, matrix: dict[str, list[str]], name: str, address: str
) -> None:
    app = app_with_ballot
    raw = clients.gmail(mail_to(app, EMAIL), NAME, EMAIL, BOT, T0, "Agree")
    raw = raw.replace(f"<{EMAIL}>".encode(), f"<{address}>".encode(), 1)
    assert app.handle(Fetched("test", raw)) == "processed"
    assert app.status()["items"][0]["responses"][EMAIL]["position"] == "agree"
    matrix.setdefault("no silent loss (issue 8)", []).append(f"{name}: counted")


def test_a_reply_all_answered_by_the_wrong_member_is_held_and_that_member_told_once(
    app_with_ballot: App, matrix: dict[str, list[str]]
) -> None:
    app = app_with_ballot
    for n in range(2):
        raw = clients.gmail(mail_to(app, EMAIL), OTHER_NAME, OTHER, BOT, T0, f"Agree {n}")
        assert app.handle(Fetched("test", raw)) == "quarantined"
    held = [m for m in mails_to(app, OTHER) if m.purpose == "held"]
    assert len(held) == 1 and b"sent to someone else" in held[0].raw
    assert OTHER not in app.status()["items"][0]["responses"]
    matrix.setdefault("no silent loss (issue 8)", []).append(
        "reply-all answered by the wrong member: held, that member told once per item"
    )


def test_a_forwarding_rule_after_a_vote_still_gets_one_answer_at_most(
    app_with_ballot: App, matrix: dict[str, list[str]]
) -> None:
    # The member has voted (her standing reply is the counted one, days old); then her mailbox
    # starts forwarding every bot mail back: the loop guard reads her latest reply, not the vote.
    app = app_with_ballot
    raw = clients.gmail(mail_to(app, EMAIL), NAME, EMAIL, BOT, T0, "Agree")
    app.handle(Fetched("test", raw))
    before = len(mails_to(app, EMAIL))
    for round_ in range(10):
        app.clock.jump_to(T0 + timedelta(days=3, minutes=10 * (round_ + 1)))
        app.handle(Fetched("test", forwarding_rule(latest_to(app, EMAIL))))
    answers = len(mails_to(app, EMAIL)) - before
    assert answers <= 1
    assert app.status()["items"][0]["responses"][EMAIL]["position"] == "agree"
    matrix.setdefault("loops: at most one automatic answer per person and item", []).append(
        f"a forwarding rule switched on after the member voted, 10 rounds: {answers} answer(s)"
    )


def test_the_reason_asked_for_in_the_confirmation_is_recorded(app_with_ballot: App) -> None:
    # "Object" is confirmed with a request for the reason; the reason, sent in answer to that
    # confirmation, is recorded (not taken for a robot repeating itself).
    app = app_with_ballot
    app.handle(Fetched("test", clients.gmail(mail_to(app, EMAIL), NAME, EMAIL, BOT, T0, "Object")))
    confirmation = mail_to(app, EMAIL, "confirm")
    because = "Object: line 4 counts the same removals twice."
    app.handle(Fetched("test", clients.gmail(confirmation, NAME, EMAIL, BOT, T0, because)))
    record = app.status()["items"][0]["responses"][EMAIL]
    assert record["position"] == "object" and "counts the same removals twice" in record["text"]
