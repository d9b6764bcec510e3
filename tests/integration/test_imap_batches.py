"""A catch-up over real IMAP: a long backlog comes in bounded batches, one UID FETCH each,
every message byte for byte with its arrival time, and never marked read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from bot.config import MailboxConfig
from bot.domain.batches import BATCH_BYTES, BATCH_MESSAGES
from bot.domain.types import Fetched
from bot.mail.imap import ImapSource
from tests.servers import Dovecot

pytestmark = pytest.mark.integration

ARRIVED = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def message(i: int, size: int = 0) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"writer{i}@members.example"
    msg["To"] = "cg-bot@cg.example"
    msg["Subject"] = f"Message {i}"
    msg["Message-ID"] = f"<m{i}@members.example>"
    msg.set_content(f"Body {i}\n" + "x" * size)
    return msg.as_bytes(policy=SMTP)  # CRLF, as the server stores it


async def read_all(source: ImapSource, last_uid: int) -> list[list[Fetched]]:
    await source.connect()
    try:
        return [batch async for batch in source.fetch_batches(last_uid)]
    finally:
        await source.close()


def test_a_backlog_comes_in_bounded_batches(dovecot: Dovecot) -> None:
    user, password = dovecot.new_user()
    sent = [message(i, size=BATCH_BYTES + 1000 if i == 70 else 0) for i in range(120)]
    for raw in sent:
        dovecot.append(user, password, raw, received=ARRIVED.timestamp())
    cfg = MailboxConfig(
        host="127.0.0.1", port=dovecot.port, security="none", username=user, timeout_seconds=30
    )

    batches = asyncio.run(read_all(ImapSource(cfg, password), last_uid=0))

    got = [f for batch in batches for f in batch]
    assert [f.raw for f in got] == sent  # every message, byte for byte, in mailbox order
    assert [f.uid for f in got] == sorted(f.uid or 0 for f in got)
    assert {f.arrived_at for f in got} == {ARRIVED}
    assert all(len(b) <= BATCH_MESSAGES for b in batches)
    assert [len(b) for b in batches if sent[70] in [f.raw for f in b]] == [1]  # alone
    assert len(batches) < len(sent) / 10  # a batch per UID FETCH, not a message
    later = asyncio.run(read_all(ImapSource(cfg, password), last_uid=got[100].uid or 0))
    assert [f.raw for batch in later for f in batch] == sent[101:]
    client = dovecot.imap(user, password)
    try:
        client.select("INBOX", readonly=True)
        assert client.search(None, "UNSEEN")[1][0].split() == [
            str(i).encode() for i in range(1, 121)
        ]  # PEEK: still unread in the Secretariat's client
    finally:
        client.logout()
