"""The daemon: IMAP IDLE latency, and a clean stop on SIGTERM."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime

import pytest

from bot.demo import clients
from tests.conftest import BOT, MEMBERS, Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"


def wait_for_log(bot: Bot, text: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    log = bot.folder / "daemon.log"
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{text!r} not in the daemon log:\n{log.read_text()}")


def test_reply_appended_while_running_is_confirmed_within_two_seconds(
    bot: Bot, smtp: SmtpSink
) -> None:
    # Acceptance: in daemon mode, IDLE (not polling: poll_seconds is 30 here) wakes the bot,
    # and the confirmation reaches SMTP within 2 s of the APPEND.
    bot.open_and_send(smtp, NOW)
    name, email = MEMBERS[0][0], MEMBERS[0][1]
    original = clients.Original(smtp.to(email)[0].raw)
    daemon = bot.popen("run", now=NOW)
    try:
        wait_for_log(bot, "(IDLE)")
        time.sleep(0.5)  # let it enter IDLE
        started = time.monotonic()
        bot.append(clients.outlook(original, name, email, BOT, datetime.now(UTC), "Agree."))
        smtp.wait_for(6, timeout=10)
        latency = time.monotonic() - started
        print(f"reply-to-confirmation latency over IDLE: {latency:.2f}s")
        assert latency < 2.0, f"confirmed after {latency:.2f}s"
        assert "Recorded: AGREE" in smtp.to(email)[-1].message.get_body(("plain",)).get_content()
        time.sleep(1.0)  # back in IDLE: the stop ends it
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0
    log = (bot.folder / "daemon.log").read_text()
    assert "stopping:" in log
    # Stopped in IDLE without a traceback: the IDLE ends once (a second DONE was answered BAD
    # by Dovecot and aioimaplib logged "Fatal error" at every stop).
    assert "Fatal error" not in log and "Traceback" not in log, log
