"""Votes are judged by when they reached the mailbox, not when the bot read them (issue 8, 3).

The bot is down across a ballot's deadline. Replies reach the server on both sides of it (their
INTERNALDATE says when); when the bot comes back it reads the mailbox first and closes after."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.demo import clients
from tests.conftest import BOT, MATRIX, MEMBERS, Bot
from tests.integration.test_daemon import wait_for_log
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

OPENED = datetime(2026, 12, 1, 9, tzinfo=UTC)
DEADLINE = datetime(2026, 12, 11, 17, tzinfo=UTC)  # Bot.open_and_send's ballot
BACK = DEADLINE + timedelta(hours=5)  # when the bot comes back


def received(hours_from_deadline: float) -> float:
    """The wall-clock arrival that the bot, started now at BACK, reads as deadline + hours."""
    return time.time() - (BACK - DEADLINE).total_seconds() + hours_from_deadline * 3600


def vote(
    bot: Bot, smtp: SmtpSink, member: tuple[str, str, str, str], words: str, at: float
) -> None:
    name, email = member[0], member[1]
    ballot = clients.Original(smtp.to(email)[0].raw)
    bot.append(clients.gmail(ballot, name, email, BOT, OPENED, words), received=received(at))


def test_an_objection_in_time_counts_though_read_after_the_deadline(
    bot: Bot, smtp: SmtpSink
) -> None:
    # The daemon restarts five hours after the deadline: it catches up the mailbox first.
    bot.open_and_send(smtp, OPENED.isoformat())
    for member in MEMBERS[1:]:
        vote(bot, smtp, member, "Agree", -30)
    vote(bot, smtp, MEMBERS[0], "Object: the second topic overlaps existing work.", -1)
    daemon = bot.popen("run", now=BACK.isoformat())
    try:
        wait_for_log(bot, "watching")
        smtp.wait_for(5 + 4 + 6, timeout=30)  # confirmations, then the outcome to five
    finally:
        daemon.terminate()
        daemon.wait(timeout=20)
    item = bot.status()["items"][0]
    assert item["state"] == "escalated"
    amina = item["responses"][MEMBERS[0][1]]
    assert (amina["position"], amina["status"]) == ("object", "counted")
    arrived = datetime.fromisoformat(amina["at"])  # recorded as of its arrival
    assert abs(arrived - (DEADLINE - timedelta(hours=1))) < timedelta(minutes=2)
    MATRIX.setdefault("votes judged by arrival (issue 8)", []).append(
        "objection reached the server 1 h before the deadline, bot down until 5 h after: "
        "counted, escalated"
    )


def test_an_objection_after_the_deadline_is_late_though_read_before_the_close(
    bot: Bot, smtp: SmtpSink
) -> None:
    bot.open_and_send(smtp, OPENED.isoformat())
    for member in MEMBERS:
        vote(bot, smtp, member, "Agree", -30)
    vote(bot, smtp, MEMBERS[1], "Object: I changed my mind.", +3)
    bot.run("run", "--once", now=BACK.isoformat())
    item = bot.status()["items"][0]
    assert item["state"] == "consensus"
    bruno = item["responses"][MEMBERS[1][1]]
    assert (bruno["position"], bruno["status"]) == ("agree", "counted")
    late = [m for m in smtp.to(MEMBERS[1][1]) if "after the deadline" in m.raw.decode()]
    assert late, "Bruno is told his objection came too late"
    MATRIX.setdefault("votes judged by arrival (issue 8)", []).append(
        "objection reached the server 3 h after the deadline, read before the close: late, "
        "consensus stands"
    )
