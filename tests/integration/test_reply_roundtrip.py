"""The walking skeleton end to end: a member's reply in Dovecot becomes a recorded position and
a confirmation through SMTP, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.demo import clients
from tests.conftest import BOT, MEMBERS, SECRETARIAT, Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"
LATER = "2026-12-02T10:00:00+00:00"


def test_ballot_mails_are_personal_and_threadable(bot: Bot, smtp: SmtpSink) -> None:
    # Each member gets their own mail with their own signed Message-ID, so a reply names both
    # the ballot and the member without trusting the From line.
    bot.open_and_send(smtp, NOW)
    ids = set()
    for _, email, _, _ in MEMBERS:
        [mail] = smtp.to(email)
        msg = mail.message
        assert msg["Subject"] == "[CG-1] Ballot: Adopt the 2027 shortlist"
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
        ids.add(msg["Message-ID"])
    assert len(ids) == 4
    assert "Opened" in smtp.to(SECRETARIAT)[0].message["Subject"]


def test_reply_is_archived_matched_recorded_and_confirmed_once(bot: Bot, smtp: SmtpSink) -> None:
    # Acceptance: a reply appended to INBOX is archived, matched to item and member, recorded,
    # confirmed through SMTP; a second run --once does nothing new.
    bot.open_and_send(smtp, NOW)
    name, email = MEMBERS[1][0], MEMBERS[1][1]
    original = clients.Original(smtp.to(email)[0].raw)
    bot.append(
        clients.gmail(
            original,
            name,
            email,
            BOT,
            datetime(2026, 12, 2, 9, tzinfo=UTC),
            "Concordo.\n\nAbraço,\nBruno",
            header="Em {date}, {sender} escreveu:",
        )
    )
    bot.run("run", "--once", now=LATER)
    [confirmation] = smtp.to(email)[1:]
    msg = confirmation.message
    assert "Recorded: AGREE" in msg.get_body(("plain",)).get_content()
    assert msg["In-Reply-To"] is not None and original.message_id in msg["References"]

    status = bot.status()
    response = status["items"][0]["responses"][email]
    assert response["position"] == "agree" and response["status"] == "counted"
    assert response["message_id"].endswith("@members.example>")
    assert status["inbound"] == {"processed": 1}
    assert status["mailboxes"][0]["last_uid"] == 1

    before = len(smtp.messages)
    out = bot.run("run", "--once", now=LATER).stdout
    assert len(smtp.messages) == before, out
    assert bot.status()["inbound"] == {"processed": 1}
    assert (
        bot.dovecot is not None and bot.dovecot.count(bot.user, bot.password) == 1
    )  # left on the server


def test_out_of_office_records_nothing_and_is_not_answered(bot: Bot, smtp: SmtpSink) -> None:
    # Automatic mail is archived and ignored: no position, no reply (no mail loop).
    bot.open_and_send(smtp, NOW)
    name, email = MEMBERS[3][0], MEMBERS[3][1]
    original = clients.Original(smtp.to(email)[0].raw)
    bot.append(clients.out_of_office(original, name, email, BOT, datetime(2026, 12, 2, tzinfo=UTC)))
    before = len(smtp.messages)
    bot.run("run", "--once", now=LATER)
    # Nothing answers it; the only mail of the run is the Secretariat's daily digest (issue 10).
    after = [m for m in smtp.messages[before:] if "Digest" not in str(m.message["Subject"])]
    assert after == []
    status = bot.status()
    assert status["inbound"] == {"ignored": 1}
    assert status["items"][0]["responses"] == {}
