"""A ballot's rules in process (no servers): late replies, changed minds, review, the Chair."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store.db import session
from bot.store.models import Outbox, Person, Review
from tests.conftest import BOT, CHAIR, MEMBERS, T0, make_app, open_ballot

NAME, EMAIL = MEMBERS[0][0], MEMBERS[0][1]


def setup(tmp_path: Path) -> App:
    app = make_app(tmp_path)
    open_ballot(app)
    return app


def last_mail_to(app: App, address: str, purpose: str | None = None) -> Outbox:
    with session(app.engine) as s:
        rows = [
            o
            for o in s.exec(select(Outbox).order_by(col(Outbox.id)))
            if address in o.recipients and (purpose is None or o.purpose.split(":")[0] == purpose)
        ]
    return rows[-1]


def body(mail: Outbox) -> str:
    return clients.Original(mail.raw).text


def reply(app: App, answer: str, days: float, to_purpose: str = "ballot") -> str:
    app.clock.jump_to(T0 + timedelta(days=days))
    original = clients.Original(last_mail_to(app, EMAIL, to_purpose).raw)
    raw = clients.gmail(original, NAME, EMAIL, BOT, app.clock.now(), answer)
    return app.handle(Fetched("test", raw))


def state(app: App) -> dict:  # type: ignore[type-arg]
    return app.status()


def test_a_later_reply_replaces_the_earlier_and_history_is_kept(tmp_path: Path) -> None:
    app = setup(tmp_path)
    reply(app, "Agree", 1)
    reply(app, "Object: I have read the annex since.", 2)
    record = state(app)["items"][0]
    assert record["responses"][EMAIL]["position"] == "object"
    assert record["history"] == 2
    assert "Recorded: OBJECT" in body(last_mail_to(app, EMAIL))


def test_ambiguous_reply_is_not_counted_and_goes_to_review(tmp_path: Path) -> None:
    app = setup(tmp_path)
    reply(app, "Agree in principle, but not with para 3.", 1)
    snap = state(app)
    assert snap["items"][0]["responses"][EMAIL]["status"] == "review"
    assert [r["reason"] for r in snap["review_queue"]] == ["ambiguous"]
    mail = last_mail_to(app, EMAIL)
    assert mail.purpose == "clarify" and "NOT been counted" in body(mail)


def test_agreeing_with_a_colleague_is_not_counted_as_agreeing(tmp_path: Path) -> None:
    # The colleague may have objected: the member is asked what their own position is.
    app = setup(tmp_path)
    colleague = MEMBERS[1][0].split()[0]
    reply(app, f"I agree with {colleague}.", 1)
    assert state(app)["items"][0]["responses"][EMAIL]["status"] == "review"
    mail = last_mail_to(app, EMAIL)
    assert mail.purpose == "clarify" and "joins someone else's view" in body(mail)


def test_late_reply_is_answered_and_recorded_as_late(tmp_path: Path) -> None:
    app = setup(tmp_path)
    app.clock.jump_to(T0 + timedelta(days=10, minutes=1))
    app.run_due()
    reply(app, "Agree", 11)
    record = state(app)["items"][0]
    assert record["state"] == "closed"
    assert record["responses"][EMAIL]["status"] == "late"
    assert last_mail_to(app, EMAIL).purpose == "late"


def test_reply_to_a_reminder_counts(tmp_path: Path) -> None:
    app = setup(tmp_path)
    app.clock.jump_to(T0 + timedelta(days=7, minutes=1))
    app.run_due()
    reply(app, "Abstain", 8, to_purpose="reminder")
    assert state(app)["items"][0]["responses"][EMAIL]["position"] == "abstain"


def test_chair_is_reminded_until_a_determination_arrives(tmp_path: Path) -> None:
    app = setup(tmp_path)
    reply(app, "Object: not ready.", 1)
    app.clock.jump_to(T0 + timedelta(days=10, minutes=1))
    app.run_due()
    assert state(app)["items"][0]["state"] == "escalated"
    # chair_response P14D from the day of the close, at 17:00 in London (issue 11): Friday 25
    # December is a holiday of the rules, so Monday 28 December; the reminder P7D before
    app.clock.jump_to(T0 + timedelta(days=20, hours=8, minutes=2))
    app.run_due()
    reminder = last_mail_to(app, CHAIR[1])
    assert reminder.purpose == "chair-reminder" and "awaiting your reply" in body(reminder)
    packet = clients.Original(last_mail_to(app, CHAIR[1], "escalation").raw)
    raw = clients.outlook(packet, CHAIR[0], CHAIR[1], BOT, app.clock.now(), "Adopted as proposed.")
    assert app.handle(Fetched("test", raw)) == "processed"
    # Issue 8: the determination is read back to the Chair and recorded on CONFIRM.
    readback = clients.Original(last_mail_to(app, CHAIR[1], "readback").raw)
    raw = clients.outlook(readback, CHAIR[0], CHAIR[1], BOT, app.clock.now(), "CONFIRM")
    assert app.handle(Fetched("test", raw)) == "processed"
    assert state(app)["items"][0]["state"] == "determined"
    app.clock.jump_to(T0 + timedelta(days=10 + 14 - 2, hours=8, minutes=2))
    app.run_due()
    assert last_mail_to(app, CHAIR[1]).purpose == "confirm"  # no reminder after determining


def test_a_reply_to_someone_elses_ballot_is_held(tmp_path: Path) -> None:
    # A member forwards her ballot mail to a colleague, who replies to it: the token names
    # Amina, the From line names Bruno, and nothing is counted.
    app = setup(tmp_path)
    original = clients.Original(last_mail_to(app, EMAIL, "ballot").raw)
    raw = clients.gmail(original, MEMBERS[1][0], MEMBERS[1][1], BOT, T0, "Agree")
    assert app.handle(Fetched("test", raw)) == "quarantined"
    with session(app.engine) as s:
        assert [r.reason for r in s.exec(select(Review))] == ["not-theirs"]
    assert state(app)["items"][0]["responses"] == {}


def dsn(recipient: str, original: clients.Original, n: int = 1, action: str = "failed") -> bytes:
    return (
        f"From: MAILER-DAEMON@members.example\r\nTo: {BOT}\r\nSubject: Undelivered Mail\r\n"
        f"Message-ID: <dsn-{n}-{recipient}>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: 5.1.1\r\n"
        f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {original.message_id}\r\n"
        "--b--\r\n"
    ).encode()


def test_a_bounce_marks_the_address_failing_and_tells_the_secretariat_once(
    tmp_path: Path,
) -> None:
    # Bounces are never answered and count no position; the first one for an address marks it
    # failing and tells the Secretariat, the next ones only stay in the archive; a reply from
    # the member clears it.
    app = setup(tmp_path)
    original = clients.Original(last_mail_to(app, EMAIL, "ballot").raw)
    assert app.handle(Fetched("test", dsn(EMAIL, original))) == "ignored"
    assert app.handle(Fetched("test", dsn(EMAIL, original, 2))) == "ignored"
    with session(app.engine) as s:
        notices = s.exec(select(Outbox).where(Outbox.purpose == "notice")).all()
    failing = [n for n in notices if "bouncing" in n.subject]
    assert len(failing) == 1 and EMAIL in body(failing[0])
    assert state(app)["items"][0]["responses"] == {}
    assert last_mail_to(app, EMAIL).purpose == "ballot"  # the bounce was not answered
    reply(app, "Agree", 2)
    with session(app.engine) as s:
        person = s.exec(select(Person).where(Person.email == EMAIL)).one()
    assert person.failing_since is None


def test_a_bounce_without_a_delivery_report_is_traced_by_our_token(tmp_path: Path) -> None:
    # Older MTAs send plain-text bounces quoting the failed mail: our signed token in the quote
    # names the member whose address failed; a delayed report names nobody.
    app = setup(tmp_path)
    original = clients.Original(last_mail_to(app, EMAIL, "ballot").raw)
    delayed = dsn(EMAIL, original, 1, action="delayed").replace(b"Status: 5.1.1", b"Status: 4.4.7")
    assert app.handle(Fetched("test", delayed)) == "ignored"
    with session(app.engine) as s:
        assert s.exec(select(Person).where(Person.email == EMAIL)).one().failing_since is None
    plain = (
        f"From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example>\r\nTo: {BOT}\r\n"
        "Subject: Returned mail: User unknown\r\nMessage-ID: <b2@relay.example>\r\n\r\n"
        "The original message was received but could not be delivered.\r\n\r\n"
        f"----- Original message -----\r\nMessage-ID: {original.message_id}\r\n"
        f"Subject: {original.subject}\r\n"
    ).encode()
    assert app.handle(Fetched("test", plain)) == "ignored"
    with session(app.engine) as s:
        assert s.exec(select(Person).where(Person.email == EMAIL)).one().failing_since is not None
