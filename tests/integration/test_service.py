"""The daemon as a service: SIGTERM in the middle of a catch-up ends it cleanly within its bound,
and the restart finishes the work with nothing done twice or left half-done (issue 13)."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.demo import clients
from tests.conftest import BOT, MEMBERS, Bot, config_text
from tests.servers import Dovecot, SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"
STRANGERS = 300


def stranger(i: int) -> bytes:
    return (
        f"From: Reader {i} <reader{i}@elsewhere.example>\r\nTo: {BOT}\r\n"
        f"Subject: Newsletter {i}\r\nMessage-ID: <n{i}@elsewhere.example>\r\n"
        f"Date: Tue, 01 Dec 2026 08:00:00 +0000\r\n\r\nIssue {i} of our newsletter.\r\n"
    ).encode()


def handled(bot: Bot) -> int:
    try:
        return int(bot.sql("SELECT count(*) FROM inbound WHERE state != 'new'")[0][0])
    except Exception:  # the daemon has not created the tables yet
        return 0


@pytest.fixture
def busy_bot(tmp_path: Path, dovecot: Dovecot, smtp: SmtpSink, db_url: str) -> Bot:
    user, password = dovecot.new_user()
    config = tmp_path / "config.toml"
    text = config_text(
        dovecot.port,
        user,
        password,
        smtp.port,
        db_url,
        smtp_extra="max_per_address_per_hour = 10000\n",
    )
    config.write_text(text)
    config.chmod(0o600)
    return Bot(tmp_path, config, dovecot, user, password, db_url)


def test_sigterm_during_a_catch_up_ends_cleanly_and_loses_nothing(
    busy_bot: Bot, smtp: SmtpSink
) -> None:
    bot = busy_bot
    bot.open_and_send(smtp, NOW)
    replies = {}
    for i in range(STRANGERS):
        if i % 75 == 0:  # a member's reply every so often among the newsletters
            name, address, _, _ = MEMBERS[(i // 75) % len(MEMBERS)]
            original = clients.Original(smtp.to(address)[0].raw)
            bot.append(clients.gmail(original, name, address, BOT, datetime.now(UTC), "Agree"))
            replies[address] = name
        bot.append(stranger(i))
    total = STRANGERS + len(replies)

    daemon = bot.popen("run", now=NOW)
    deadline = time.monotonic() + 60
    while handled(bot) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    daemon.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    code = daemon.wait(timeout=60)
    took = time.monotonic() - signalled
    midway = handled(bot)

    log = (bot.folder / "daemon.log").read_text()
    assert code == 0, log
    assert took < 25, f"took {took:.1f} s to stop (bound 20 s)"
    assert 0 < midway < total, f"not stopped during the catch-up ({midway} of {total})"
    assert "stopping" in log and "stopped" in log

    bot.run("run", "--once", now=NOW)
    bot.run("run", "--once", now=NOW)  # and once more: nothing happens twice
    status = bot.status()
    assert sum(status["inbound"].values()) == total and "new" not in status["inbound"]
    assert status["inbound"]["processed"] == len(replies)
    assert set(status["outbox"]) <= {"sent"}, status["outbox"]  # none uncertain or stuck
    for address in replies:
        confirmations = [m for m in smtp.to(address) if "Recorded: AGREE" in m.raw.decode()]
        assert len(confirmations) == 1, address
