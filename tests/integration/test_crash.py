"""SIGKILL at every step of handling and sending: each reply recorded once, each mail sent once."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.demo import clients
from bot.faults import POINTS
from tests.conftest import BOT, MEMBERS, SECRETARIAT, Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"
LATER = "2026-12-02T10:00:00+00:00"


def crash_run(bot: Bot, point: str, skip: int, now: str) -> None:
    proc = bot.run(
        "run",
        "--once",
        now=now,
        check=False,
        env={"CGBOT_CRASH_AT": point, "CGBOT_CRASH_SKIP": str(skip)},
    )
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)


def two_replies_waiting(bot: Bot, smtp: SmtpSink) -> list[tuple[str, str, str, str]]:
    """The ballot sent, and two members' replies to it waiting in the mailbox."""
    bot.open_and_send(smtp, NOW)
    repliers = [MEMBERS[0], MEMBERS[2]]
    for name, email, _, _ in repliers:
        original = clients.Original(smtp.to(email)[0].raw)
        bot.append(clients.outlook(original, name, email, BOT, datetime.now(UTC), "Agree"))
    return repliers


def confirmed(smtp: SmtpSink, email: str) -> int:
    return len([m for m in smtp.to(email) if "Recorded: AGREE" in m.raw.decode()])


def each_recorded_and_confirmed_once(
    bot: Bot, smtp: SmtpSink, repliers: list[tuple[str, str, str, str]]
) -> dict[str, Any]:
    """Both replies recorded once (agree) and each member confirmed once; the status read."""
    status = bot.status()
    assert status["inbound"] == {"processed": 2}
    item = status["items"][0]
    assert item["history"] == 2
    for _, email, _, _ in repliers:
        assert item["responses"][email]["position"] == "agree"
        assert confirmed(smtp, email) == 1, f"{email} confirmed {confirmed(smtp, email)} times"
    return status


@pytest.mark.parametrize("skip", [0, 1])
@pytest.mark.parametrize("point", POINTS)
def test_killed_while_handling_replies(
    bot: Bot, smtp: SmtpSink, point: str, skip: int, matrix: dict[str, list[str]]
) -> None:
    # Two replies wait in the mailbox; the process dies at `point` on the first or the second.
    # After a restart each reply is recorded once and each member is confirmed once.
    repliers = two_replies_waiting(bot, smtp)

    crash_run(bot, point, skip, LATER)
    bot.run("run", "--once", now=LATER)
    bot.run("run", "--once", now=LATER)  # and once more: nothing may happen twice

    status = each_recorded_and_confirmed_once(bot, smtp, repliers)
    uncertain = [r for r in status["review_queue"] if r["reason"] == "delivery-uncertain"]
    assert len(uncertain) == (1 if point == "sent" else 0)
    which = "first" if skip == 0 else "second"
    matrix.setdefault("kill points (SIGKILL, restart)", []).append(
        f"handling, at '{point}' on the {which} reply: each recorded once, confirmed once"
    )


@pytest.mark.parametrize("restart", ["run --once", "run"])
def test_killed_after_storing_replies_that_then_leave_the_mailbox(
    bot: Bot, smtp: SmtpSink, restart: str, matrix: dict[str, list[str]]
) -> None:
    # The process dies once the two replies are stored, before they are applied, and someone
    # deletes them from the mailbox before the next start: they are not read again, so the
    # start (of a burst or of the daemon) applies them from the archive. Each recorded once,
    # each member confirmed once.
    repliers = two_replies_waiting(bot, smtp)

    crash_run(bot, "archived", 0, LATER)
    assert bot.status()["inbound"] == {"new": 2}
    assert bot.dovecot is not None
    imap = bot.dovecot.imap(bot.user, bot.password)
    imap.select("INBOX")
    imap.store("1:*", "+FLAGS", "\\Deleted")
    imap.expunge()
    imap.logout()
    assert bot.dovecot.count(bot.user, bot.password) == 0

    if restart == "run":
        daemon = bot.popen("run", now=LATER)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not all(
                confirmed(smtp, email) for _, email, _, _ in repliers
            ):
                time.sleep(0.05)
            answered = all(confirmed(smtp, email) for _, email, _, _ in repliers)
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=30) == 0
        assert answered, "the daemon did not apply the stored replies while it ran"
    else:
        bot.run("run", "--once", now=LATER)
    bot.run("run", "--once", now=LATER)  # and once more: nothing may happen twice

    each_recorded_and_confirmed_once(bot, smtp, repliers)
    matrix.setdefault("kill points (SIGKILL, restart)", []).append(
        f"handling, at 'archived', the replies then deleted from the mailbox: applied from "
        f"the archive when `{restart}` starts, each recorded once, confirmed once"
    )


@pytest.mark.parametrize("point", ["before-send", "sent"])
def test_killed_while_sending_the_ballot(
    bot: Bot, smtp: SmtpSink, point: str, matrix: dict[str, list[str]]
) -> None:
    # The process dies while the five opening mails go out: nobody gets a mail twice, and a mail
    # whose fate is unknown is shown to the Secretariat rather than sent again.
    bot.open_ballot("Adopt the 2027 shortlist", "Do you agree?", "2026-12-11T17:00:00Z", NOW)
    crash_run(bot, point, 2, NOW)
    bot.run("run", "--once", now=NOW)
    smtp.wait_for(5)
    for address in [m[1] for m in MEMBERS] + [SECRETARIAT]:
        assert len(smtp.to(address)) == 1, address
    status = bot.status()
    assert status["outbox"].get("sent", 0) + status["outbox"].get("uncertain", 0) == 5
    assert status["outbox"].get("uncertain", 0) == (1 if point == "sent" else 0)
    matrix.setdefault("kill points (SIGKILL, restart)", []).append(
        f"sending, at '{point}' on the third mail: nobody got a mail twice"
    )
