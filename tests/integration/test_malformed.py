"""Bad input never stops the bot and is never lost: archived, quarantined, reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.demo import clients
from tests.conftest import BOT, MEMBERS, SECRETARIAT, Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"
LATER = "2026-12-02T10:00:00+00:00"
AMINA = MEMBERS[0][1]

BROKEN_MIME = (
    f"From: Amina Diallo <{AMINA}>\r\nTo: {BOT}\r\nMessage-ID: <broken-1@members.example>\r\n"
    "Subject: Re: [CG-1] Ballot\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="never-used"\r\n\r\nAgree\r\n'
).encode()
BAD_CHARSET = (
    f"From: Amina Diallo <{AMINA}>\r\nTo: {BOT}\r\nMessage-ID: <charset-1@members.example>\r\n"
    "Subject: Re: [CG-1] Ballot\r\nMIME-Version: 1.0\r\n"
    'Content-Type: text/plain; charset="x-klingon"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
).encode() + b"Agr\xe9\xff\xfe\r\n"
NO_MESSAGE_ID = (
    f"From: Amina Diallo <{AMINA}>\r\nTo: {BOT}\r\nSubject: Re: [CG-1] Ballot\r\n\r\nAgree\r\n"
).encode()


def test_malformed_mail_is_quarantined_and_the_next_good_one_is_processed(
    bot: Bot, smtp: SmtpSink
) -> None:
    # Acceptance: broken MIME, an undecodable charset and a missing Message-ID are each archived
    # and quarantined (and the Secretariat is told); the good reply after them still counts.
    bot.open_and_send(smtp, NOW)
    original = clients.Original(smtp.to(AMINA)[0].raw)
    for raw in (BROKEN_MIME, BAD_CHARSET, NO_MESSAGE_ID):
        bot.append(raw)
    bot.append(clients.gmail(original, "Amina Diallo", AMINA, BOT, datetime.now(UTC), "Agree"))

    bot.run("run", "--once", now=LATER)

    status = bot.status()
    assert status["inbound"] == {"quarantined": 3, "processed": 1}
    reasons = sorted(r["reason"] for r in status["review_queue"])
    assert reasons == ["bad-charset", "broken-mime", "no-message-id"]
    assert status["items"][0]["responses"][AMINA]["position"] == "agree"
    notices = [m for m in smtp.to(SECRETARIAT) if "Held for review" in m.message["Subject"]]
    # Issue 8: held mail is reported in one notice an hour at most, every original attached.
    assert len(notices) == 1
    attached = [part.get_content() for part in notices[0].message.iter_attachments()]
    assert len(attached) == 3
    assert BAD_CHARSET in attached  # the original, byte for byte
    assert "Recorded: AGREE" in smtp.to(AMINA)[-1].message.get_body(("plain",)).get_content()
