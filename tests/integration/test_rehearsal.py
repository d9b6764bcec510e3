"""`cgbot run --dry-run` over a real mailbox: every flag, folder and the database as they were,
the mails it would have sent written to a folder; then the real run does the work (issue 13)."""

from __future__ import annotations

import email
import re
import sqlite3
from datetime import UTC, datetime
from email.policy import default
from pathlib import Path

import pytest

from bot.demo import clients
from tests.conftest import BOT, MEMBERS, Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"
LATER = "2026-12-02T10:00:00+00:00"


def mailbox_state(bot: Bot) -> tuple[list[bytes], list[tuple[bytes, ...]]]:
    """The folders, and each message's UID, flags and size, as the server holds them."""
    assert bot.dovecot is not None
    client = bot.dovecot.imap(bot.user, bot.password)
    try:
        folders = client.list()[1]
        client.select("INBOX", readonly=True)
        typ, rows = client.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE)")
        assert typ == "OK"
        return sorted(f for f in folders if isinstance(f, bytes)), [
            tuple(sorted(r.split())) for r in rows if isinstance(r, bytes)
        ]
    finally:
        client.logout()


def set_flags(bot: Bot, uid: int, flags: str) -> None:
    assert bot.dovecot is not None
    client = bot.dovecot.imap(bot.user, bot.password)
    try:
        client.select("INBOX")
        assert client.uid("STORE", str(uid), "+FLAGS", flags)[0] == "OK"
    finally:
        client.logout()


def database_dump(path: Path) -> list[str]:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        return list(db.iterdump())


def test_a_rehearsal_changes_nothing_and_shows_what_it_would_send(
    bot: Bot, smtp: SmtpSink, tmp_path: Path
) -> None:
    if bot.on_postgres:
        pytest.skip("a rehearsal copies an SQLite database; on PostgreSQL it is refused")
    bot.open_and_send(smtp, NOW)
    for name, address, _, _ in MEMBERS[:2]:
        original = clients.Original(smtp.to(address)[0].raw)
        bot.append(clients.gmail(original, name, address, BOT, datetime.now(UTC), "Agree"))
    set_flags(bot, 1, "(\\Seen)")  # the Secretariat read one in their client
    set_flags(bot, 2, "(\\Flagged)")
    # New since anyone last opened the folder: \Recent, which a read-write SELECT would clear.
    bot.append(b"From: x@elsewhere.example\r\nSubject: hi\r\nMessage-ID: <x@e>\r\n\r\nhi\r\n")
    before = mailbox_state(bot), database_dump(bot.folder / "cg.db")
    assert b"\\Recent" in b" ".join(before[0][1][-1])
    sent_before = len(smtp.messages)
    outbox = tmp_path / "would-send"

    proc = bot.run("run", "--dry-run", "--once", "--outbox-dir", str(outbox), now=LATER)

    assert (mailbox_state(bot), database_dump(bot.folder / "cg.db")) == before
    assert len(smtp.messages) == sent_before  # nothing went out
    written = sorted(outbox.glob("*.eml"))
    mails = [email.message_from_bytes(f.read_bytes(), policy=default) for f in written]
    confirmed = {str(m["To"]) for m in mails if "Recorded: AGREE" in m.as_string()}
    assert confirmed == {MEMBERS[0][1], MEMBERS[1][1]}
    assert re.search(r"processed\s+2\b", proc.stdout) and re.search(
        r"quarantined\s+1\b", proc.stdout
    )
    assert "nothing was sent" in proc.stdout and written[0].name in proc.stdout

    bot.run("run", "--once", now=LATER)  # the real run finds the same work still to do
    assert bot.status()["inbound"] == {"processed": 2, "quarantined": 1}
    confirmations = [m for m in smtp.messages[sent_before:] if "Recorded: AGREE" in m.raw.decode()]
    assert len(confirmations) == 2
