"""Outages and rebuilt mailboxes: mail waits, the daemon reconnects, nothing is done twice."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime

import pytest

from bot.demo import clients
from tests.conftest import BOT, MATRIX, MEMBERS, Bot
from tests.integration.test_daemon import wait_for_log
from tests.servers import Dovecot, SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"
AMINA = MEMBERS[0]


def open_ballot(bot: Bot, smtp: SmtpSink) -> clients.Original:
    bot.open_and_send(smtp, NOW)
    return clients.Original(smtp.to(AMINA[1])[0].raw)


def reply(original: clients.Original, answer: str = "Agree") -> bytes:
    return clients.gmail(original, AMINA[0], AMINA[1], BOT, datetime.now(UTC), answer)


def test_smtp_down_mail_waits_in_the_outbox_and_goes_once(bot: Bot, smtp: SmtpSink) -> None:
    # SMTP refuses connections: the reply is recorded, its confirmation waits; when the server
    # is back the confirmation goes out exactly once.
    original = open_ballot(bot, smtp)
    bot.append(reply(original))
    smtp.stop()
    bot.run("run", "--once", now="2026-12-02T10:00:00Z")
    status = bot.status()
    assert status["items"][0]["responses"][AMINA[1]]["position"] == "agree"
    # The confirmation waits (and, since issue 10, the Secretariat's daily digest with it).
    assert status["outbox"] == {"sent": 5, "pending": 2}
    smtp.start()  # same port
    bot.run("run", "--once", now="2026-12-02T11:00:00Z")
    bot.run("run", "--once", now="2026-12-02T12:00:00Z")
    assert bot.status()["outbox"] == {"sent": 7}  # the confirmation and the digest
    confirmations = [m for m in smtp.to(AMINA[1]) if "Recorded" in m.raw.decode()]
    assert len(confirmations) == 1
    MATRIX.setdefault("outages survived", []).append(
        "SMTP down: the confirmation waited in the outbox and went once when it was back"
    )


def test_daemon_reconnects_after_the_imap_server_restarts(
    bot: Bot, smtp: SmtpSink, dovecot: Dovecot
) -> None:
    original = open_ballot(bot, smtp)
    daemon = bot.popen("run", now=NOW)
    try:
        wait_for_log(bot, "(IDLE)")
        serving = dovecot.connection_pids(bot.user)
        assert serving, "the daemon is connected"
        dovecot.stop()
        dovecot.drop_connections(serving)  # IMAP processes outlive the master: cut them too
        time.sleep(2)
        dovecot.start()
        bot.append(reply(original))
        smtp.wait_for(6, timeout=60)
        assert "Recorded: AGREE" in smtp.messages[-1].raw.decode()
        assert "mailbox unavailable" in (bot.folder / "daemon.log").read_text()
        MATRIX.setdefault("outages survived", []).append(
            "IMAP server restarted under the daemon: reconnected, the reply was confirmed"
        )
    finally:
        daemon.terminate()
        daemon.wait(timeout=20)


def test_polling_when_idle_is_off(bot: Bot, smtp: SmtpSink) -> None:
    # A server without IDLE (here: IDLE switched off) is polled every poll_seconds.
    text = bot.config.read_text().replace("poll_seconds = 30.0", "poll_seconds = 0.5")
    bot.config.write_text(text.replace('folder = "INBOX"', 'folder = "INBOX"\nidle = false'))
    original = open_ballot(bot, smtp)
    daemon = bot.popen("run", now=NOW)
    try:
        wait_for_log(bot, "polling every 0.5s")
        bot.append(reply(original))
        mails = smtp.wait_for(6, timeout=15)
    finally:
        daemon.terminate()
        daemon.wait(timeout=20)
    # What was waited for: the sixth mail is Amina's confirmation, found by polling alone.
    assert mails[5].recipients == [AMINA[1]]
    assert "Recorded: AGREE" in mails[5].raw.decode()
    assert "(IDLE)" not in (bot.folder / "daemon.log").read_text()


def test_uidvalidity_change_and_rebuilt_mailbox_do_not_repeat_anything(
    bot: Bot, smtp: SmtpSink
) -> None:
    # The server renumbers the folder (new UIDVALIDITY) and a restore appends the same reply
    # again, plus a copy whose headers a server rewrote: the bot rereads, recognises all of it by
    # content and Message-ID, and neither records nor confirms anything twice.
    original = open_ballot(bot, smtp)
    raw = reply(original)
    bot.append(raw)
    bot.run("run", "--once", now="2026-12-02T10:00:00Z")
    bot.sql("UPDATE checkpoint SET uidvalidity = uidvalidity + 1000")
    bot.append(raw)
    bot.append(b"X-Restored-By: backup-tool\r\n" + raw)
    before = len(smtp.messages)
    out = bot.run("run", "--once", now="2026-12-02T11:00:00Z", check=True)
    assert "UIDVALIDITY changed" in out.stderr
    status = bot.status()
    assert status["inbound"] == {"processed": 1, "duplicate": 1}
    assert status["items"][0]["history"] == 1
    assert len(smtp.messages) == before
    MATRIX.setdefault("outages survived", []).append(
        "UIDVALIDITY changed and mailbox restored: nothing recorded or sent twice"
    )


def test_locked_database_is_a_clear_error_and_loses_nothing(bot: Bot, smtp: SmtpSink) -> None:
    # Another process holds the database: the run stops with a message that names the database
    # and exits 75 (try again later); the reply stays on the server and counts next time.
    if bot.on_postgres:
        pytest.skip("SQLite's file lock; PostgreSQL waits for its lock (lock_timeout) instead")
    original = open_ballot(bot, smtp)
    bot.append(reply(original))
    holder = sqlite3.connect(bot.folder / "cg.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        out = bot.run("run", "--once", now="2026-12-02T10:00:00Z", check=False)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert out.returncode == 75, out.stderr
    assert "cg.db" in out.stderr and "locked" in out.stderr and "Traceback" not in out.stderr
    bot.run("run", "--once", now="2026-12-02T10:05:00Z")
    MATRIX.setdefault("outages survived", []).append(
        "database locked: exit 75 with the reason, the reply counted on the next run"
    )
    status = bot.status()
    assert status["inbound"] == {"processed": 1}
    assert status["items"][0]["responses"][AMINA[1]]["position"] == "agree"
