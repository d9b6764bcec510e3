"""Two daemons on one database and one mailbox (a standby left running, a second machine):
every reply is applied once and confirmed once, and the register's chain holds (issue 13); a
mail one of them is sending when the other starts is settled without a false alarm."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

import pytest
from aiosmtpd.smtp import Envelope, Session

from bot.demo import clients
from tests.conftest import BOT, MEMBERS, Bot, config_text
from tests.servers import Dovecot, SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"
ROUNDS = 6  # each member answers six times (changing their mind), among 80 other mails


def header(raw: bytes, name: str) -> str:
    return str(BytesHeaderParser(policy=compat32).parsebytes(raw).get(name, "")).strip()


def stranger(i: int) -> bytes:
    return (
        f"From: Reader {i} <reader{i}@elsewhere.example>\r\nTo: {BOT}\r\n"
        f"Subject: Newsletter {i}\r\nMessage-ID: <n{i}@elsewhere.example>\r\n\r\nIssue {i}.\r\n"
    ).encode()


def test_two_daemons_on_one_database_confirm_every_reply_once(
    tmp_path: Path, dovecot: Dovecot, smtp: SmtpSink, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("two daemons share a PostgreSQL database (SQLite is one machine's file)")
    user, password = dovecot.new_user()
    config = tmp_path / "config.toml"
    cap = "max_per_address_per_hour = 10000\n"
    config.write_text(config_text(dovecot.port, user, password, smtp.port, db_url, smtp_extra=cap))
    config.chmod(0o600)
    bot = Bot(tmp_path, config, dovecot, user, password, db_url)
    bot.open_and_send(smtp, NOW)
    replies = []
    for round_ in range(ROUNDS):
        for name, address, _, _ in MEMBERS:
            original = clients.Original(smtp.to(address)[0].raw)
            words = "Agree" if (round_ + len(name)) % 2 else "Object: not yet"
            raw = clients.gmail(original, name, address, BOT, datetime.now(UTC), words)
            replies.append(header(raw, "Message-ID"))
            bot.append(raw)
        for i in range(round_ * 14, round_ * 14 + 14):
            bot.append(stranger(i))
    total = len(replies) + ROUNDS * 14
    # A first run killed once it has stored its first batch: both daemons then find the same
    # stored, unapplied messages and race to apply them.
    killed = bot.run("run", "--once", now=NOW, check=False, env={"CGBOT_CRASH_AT": "archived"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert bot.status()["inbound"].get("new", 0) > 0

    daemons = [bot.popen("run", now=NOW, log_name=f"daemon-{n}.log") for n in (1, 2)]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = bot.status()
            confirmed = Counter(header(m.raw, "In-Reply-To") for m in smtp.messages)
            if sum(status["inbound"].values()) >= total and all(confirmed[r] for r in replies):
                break
            time.sleep(0.5)
        time.sleep(2)  # anything sent twice would have arrived by now
    finally:
        for daemon in daemons:
            daemon.send_signal(signal.SIGTERM)
        codes = [daemon.wait(timeout=60) for daemon in daemons]

    logs = [(tmp_path / f"daemon-{n}.log").read_text() for n in (1, 2)]
    assert codes == [0, 0], logs
    status = bot.status()
    assert sum(status["inbound"].values()) == total, status["inbound"]
    assert status["inbound"].get("processed") == len(replies) and "new" not in status["inbound"]
    confirmed = Counter(header(m.raw, "In-Reply-To") for m in smtp.messages)
    assert {r: confirmed[r] for r in replies} == dict.fromkeys(replies, 1)
    assert set(status["outbox"]) <= {"sent"}, status["outbox"]
    assert status["items"][0]["history"] == len(replies)
    assert "the chain holds" in bot.run("register", "verify").stdout


@dataclass
class HeldSink(SmtpSink):
    """An SmtpSink that holds its answer to the first mail it receives until `release` is set:
    the sender of that mail is mid-send for as long as the test likes."""

    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        if not self.holding.is_set():
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def test_a_daemon_started_while_another_sends_leaves_no_false_alarm(
    tmp_path: Path, dovecot: Dovecot, db_url: str
) -> None:
    # A standby starts while the first daemon is in the middle of a mail: it reports that mail
    # as uncertain ("may or may not have gone out; resend it"). When the first daemon's mail is
    # accepted after all, the row is marked sent and that review closed: nobody is asked to
    # resend a mail that went, and everyone has the ballot once.
    sink = HeldSink()
    sink.start()
    try:
        user, password = dovecot.new_user()
        config = tmp_path / "config.toml"
        config.write_text(config_text(dovecot.port, user, password, sink.port, db_url))
        config.chmod(0o600)
        bot = Bot(tmp_path, config, dovecot, user, password, db_url)
        bot.open_ballot("Adopt the 2027 shortlist", "Do you agree?", "2026-12-11T17:00:00Z", NOW)

        first = bot.popen("run", "--once", now=NOW, log_name="first.log")
        assert sink.holding.wait(30), "the first daemon never began to send"
        bot.run("run", "--once", now=NOW)  # the standby: reports the mail in hand, sends the rest
        alarms = [r for r in bot.status()["review_queue"] if r["reason"] == "delivery-uncertain"]
        assert len(alarms) == 1  # the scenario happened: the mail in hand was reported

        sink.release.set()
        assert first.wait(timeout=60) == 0
        status = bot.status()
        assert [r for r in status["review_queue"] if r["reason"] == "delivery-uncertain"] == []
        assert status["outbox"] == {"sent": 5}
        recipients = Counter(r for m in sink.messages for r in m.recipients)
        assert sorted(recipients.values()) == [1] * 5
    finally:
        sink.release.set()
        sink.stop()
