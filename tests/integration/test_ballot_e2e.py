"""A consensus ballot end to end through Dovecot and SMTP, the clock moved by --now (ToR 4.3)."""

from __future__ import annotations

import mailbox
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.demo import clients
from tests.conftest import BOT, CHAIR, MEMBERS, SECRETARIAT, Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
DEADLINE = T0 + timedelta(days=10)
(AMINA, _, _, _), (BRUNO, _, _, _), (CHLOE, _, _, _), (DANIEL, _, _, _) = MEMBERS
EMAIL = {m[0]: m[1] for m in MEMBERS}


def at(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat()


def open_by_email(bot: Bot, smtp: SmtpSink) -> None:
    # Issue 8: a command takes effect at once only when its sender is proven; here the
    # receiving server (trusted in the config) vouches with an aligned DMARC pass.
    with bot.config.open("a") as config:
        config.write('[security]\ntrusted_authserv_ids = ["mx.cg.example"]\n')
    vouched = b"Authentication-Results: mx.cg.example; dmarc=pass header.from=cg.example\r\n"
    bot.append(
        vouched
        + clients.command(
            "Executive Secretariat",
            SECRETARIAT,
            BOT,
            T0,
            "BALLOT: Adopt the 2027 shortlist",
            f"Deadline: {DEADLINE:%Y-%m-%d %H:%M} UTC\n\nDo you agree that the shortlist goes to "
            "the Governing Board?\n\nBest regards,\nThe Secretariat",
        )
    )
    bot.run("run", "--once", now=T0.isoformat())
    smtp.wait_for(5)


def ballot_to(smtp: SmtpSink, name: str, kind: str = "Ballot:") -> clients.Original:
    mails = [m for m in smtp.to(EMAIL.get(name, name)) if kind in m.message["Subject"]]
    return clients.Original(mails[-1].raw)


def text_of(mail: object) -> str:
    return mail.message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]


def bounce_for(original: clients.Original, recipient: str) -> bytes:
    """An RFC 3464 delivery status notification (as Postfix writes it) for one of our mails."""
    return f"""\
From: Mail Delivery System <MAILER-DAEMON@members.example>
To: {BOT}
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-1@members.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"

--dsn
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered to {recipient}.

--dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.members.example

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.2.2

--dsn
Content-Type: text/rfc822-headers

Message-ID: {original.message_id}
Subject: {original.subject}

--dsn--
""".replace("\n", "\r\n").encode()


def test_objection_escalates_to_the_board_chair_who_determines(bot: Bot, smtp: SmtpSink) -> None:
    # The whole path of ToR 4.3: opened by email, four personal ballots, replies from four
    # client styles in three languages, an out-of-office and a bounce (no position), a reminder
    # to the one member still silent, one objection standing at the deadline, an escalation
    # packet with the thread attached, the Chair's determination by reply, the outcome sent out.
    open_by_email(bot, smtp)
    opened = smtp.to(SECRETARIAT)[0].message
    assert "Opened" in opened["Subject"] and opened["In-Reply-To"]
    for name in EMAIL:
        assert len(smtp.to(EMAIL[name])) == 1

    bot.append(clients.outlook(ballot_to(smtp, AMINA), AMINA, EMAIL[AMINA], BOT, T0, "Agree."))
    bot.append(
        clients.CLIENTS["gmail_pt"](
            ballot_to(smtp, BRUNO), BRUNO, EMAIL[BRUNO], BOT, T0, "Concordo.\n\nAbraço,\nBruno"
        )
    )
    bot.append(
        clients.CLIENTS["apple_mail_fr"](
            ballot_to(smtp, CHLOE),
            CHLOE,
            EMAIL[CHLOE],
            BOT,
            T0,
            "Je ne suis pas d'accord : le point 2 recoupe le programme existant.",
        )
    )
    bot.append(clients.out_of_office(ballot_to(smtp, DANIEL), DANIEL, EMAIL[DANIEL], BOT, T0))
    bot.append(bounce_for(ballot_to(smtp, DANIEL), EMAIL[DANIEL]))
    bot.run("run", "--once", now=at(1))
    for name, label in ((AMINA, "AGREE"), (BRUNO, "AGREE"), (CHLOE, "OBJECT")):
        assert f"Recorded: {label}" in text_of(smtp.to(EMAIL[name])[-1]), name
    assert "reason: le point 2 recoupe" in text_of(smtp.to(EMAIL[CHLOE])[-1])
    assert len(smtp.to(EMAIL[DANIEL])) == 1  # automatic mail is never answered
    status = bot.status()
    assert EMAIL[DANIEL] not in status["items"][0]["responses"]
    assert status["inbound"] == {"processed": 4, "ignored": 2}

    bot.run("run", "--once", now=at(7.01))  # the 3-day reminder
    [reminder] = [m for m in smtp.messages if "Reminder" in m.message["Subject"]]
    assert reminder.recipients == [EMAIL[DANIEL]]
    bot.append(
        clients.html_only(
            ballot_to(smtp, DANIEL, "Reminder"),
            DANIEL,
            EMAIL[DANIEL],
            BOT,
            T0 + timedelta(days=8),
            "Abstain",
        )
    )
    bot.run("run", "--once", now=at(8))
    assert "Recorded: ABSTAIN" in text_of(smtp.to(EMAIL[DANIEL])[-1])

    bot.run("run", "--once", now=at(10.01))  # the deadline passes with an objection standing
    [packet] = smtp.to(CHAIR[1])
    body = text_of(packet)
    assert "For your determination" in packet.message["Subject"]
    assert "le point 2 recoupe le programme existant" in body  # the objector's own words
    assert "TIMELINE OF THE ROUND" in body and "reminder to 1 member" in body
    assert "reply to this mail with your determination by" in body
    [thread] = list(packet.message.iter_attachments())
    assert thread.get_filename().endswith(".mbox")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "thread.mbox"
        path.write_bytes(thread.get_payload(decode=True))
        subjects = [str(m["subject"]) for m in mailbox.mbox(str(path))]
    assert len(subjects) >= 10 and any("Ballot" in s for s in subjects)
    assert bot.status()["items"][0]["state"] == "escalated"
    for address in [*EMAIL.values(), SECRETARIAT]:
        assert "Escalated to the Board Chair" in smtp.to(address)[-1].message["Subject"]

    bot.append(
        clients.outlook(
            clients.Original(packet.raw),
            CHAIR[0],
            CHAIR[1],
            BOT,
            T0 + timedelta(days=12),
            "I determine that the shortlist goes to the Board without topic 2.",
        )
    )
    bot.run("run", "--once", now=at(12))
    # Issue 8: read back to the Chair first; her CONFIRM records and circulates it.
    readback = smtp.to(CHAIR[1])[-1]
    assert "Please CONFIRM" in readback.message["Subject"]
    assert "without topic 2" in text_of(readback)
    reply = clients.outlook(clients.Original(readback.raw), CHAIR[0], CHAIR[1], BOT, T0, "CONFIRM")
    bot.append(reply)
    bot.run("run", "--once", now=at(12.1))
    assert "has been recorded" in text_of(smtp.to(CHAIR[1])[-1])
    for address in [*EMAIL.values(), SECRETARIAT]:
        last = smtp.to(address)[-1]
        assert "Determined by the Board Chair" in last.message["Subject"]
        assert "without topic 2" in text_of(last)

    item = bot.status()["items"][0]
    assert (item["id"], item["kind"], item["state"]) == (1, "ballot", "determined")
    assert item["deadline"].startswith("2026-12-11T09:00")
    chloe = item["responses"][EMAIL[CHLOE]]
    assert chloe["position"] == "object" and chloe["at"] and chloe["message_id"].startswith("<")
    assert item["responses"][EMAIL[DANIEL]]["position"] == "abstain"


def test_all_agree_ends_in_consensus(bot: Bot, smtp: SmtpSink) -> None:
    open_by_email(bot, smtp)
    writers = ["outlook", "gmail_es", "apple_mail", "gmail_fr"]
    answers = ["Agree", "De acuerdo.", "+1", "D'accord"]
    for (name, email, _, _), writer, answer in zip(MEMBERS, writers, answers, strict=True):
        bot.append(clients.CLIENTS[writer](ballot_to(smtp, name), name, email, BOT, T0, answer))
    bot.run("run", "--once", now=at(1))
    bot.run("run", "--once", now=at(10.01))
    assert bot.status()["items"][0]["state"] == "consensus"
    assert smtp.to(CHAIR[1]) == []
    for address in [*EMAIL.values(), SECRETARIAT]:
        assert "Consensus" in smtp.to(address)[-1].message["Subject"]


def test_a_command_that_cannot_be_carried_out_is_answered_with_the_reasons(
    bot: Bot, smtp: SmtpSink
) -> None:
    bot.append(
        clients.command(
            "Executive Secretariat",
            SECRETARIAT,
            BOT,
            T0,
            "BALLOT: Budget",
            "Deadline: next friday\n\nDo you agree?",
        )
    )
    bot.run("run", "--once", now=T0.isoformat())
    [answer] = smtp.wait_for(1)
    assert answer.recipients == [SECRETARIAT]
    assert "'next friday' is not a date" in text_of(answer)
    assert bot.status()["items"] == []
