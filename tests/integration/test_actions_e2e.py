"""Agreed actions through real mail (issue 10): Dovecot and SMTP on loopback, the real `cgbot`
process, the clock moved with --now. One action is chased and then done, one is given more
time, one stays overdue and is listed in the Secretariat's digest."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from email.policy import default

import pytest

from bot.demo import clients
from tests.conftest import BOT, MEMBERS, SECRETARIAT, Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

OPENED = "2026-12-01T09:00:00+00:00"
NOTE = b"%PDF-1.4 the Board note, final\n" + bytes(range(256)) * 8


def add(bot: Bot, title: str, owner: str, due: str) -> int:
    out = bot.run("action", "add", "--title", title, "--owner", owner, "--due", due, now=OPENED)
    return int(out.stdout.split()[-1])


def reply(
    bot: Bot,
    smtp: SmtpSink,
    member: tuple[str, str, str, str],
    words: str,
    at: str,
    subject: str,
    file: tuple[str, bytes, str] | None = None,
) -> None:
    name, address = member[0], member[1]
    mail = [m for m in smtp.to(address) if subject in str(m.message["Subject"])][-1]
    raw = clients.gmail(
        clients.Original(mail.raw), name, address, BOT, datetime.fromisoformat(at), words
    )
    bot.append(clients.with_attachment(raw, *file) if file else raw)


def subjects(smtp: SmtpSink, address: str) -> list[str]:
    return [str(m.message["Subject"]) for m in smtp.to(address)]


def test_one_action_chased_to_done_one_extended_one_overdue_in_the_digest(
    bot: Bot, smtp: SmtpSink
) -> None:
    chased = add(bot, "Draft the Board note", MEMBERS[0][1], "2026-12-10")
    extended = add(bot, "Collect the facilitators' reports", MEMBERS[1][1], "2026-12-10")
    overdue = add(bot, "Update the risk register", MEMBERS[2][1], "2026-12-08")
    bot.run("run", "--once", now=OPENED)
    for member in MEMBERS[:3]:
        assert any("Action for you" in s for s in subjects(smtp, member[1]))

    bot.run("run", "--once", now="2026-12-07T17:01:00+00:00")  # three days before the 10th
    assert any(s.startswith("Reminder:") for s in subjects(smtp, MEMBERS[0][1]))
    reply(
        bot,
        smtp,
        MEMBERS[1],
        "Need until 2026-12-18, the last report arrives on the 16th.",
        "2026-12-08T08:00:00+00:00",
        "Reminder:",
    )
    bot.run("run", "--once", now="2026-12-08T09:00:00+00:00")
    (notice,) = [s for s in subjects(smtp, SECRETARIAT) if "asks until" in s]
    assert MEMBERS[1][0] in notice and "18" in notice

    bot.run("run", "--once", now="2026-12-10T17:01:00+00:00")  # the 10th passes
    assert any("Overdue since" in s for s in subjects(smtp, MEMBERS[0][1]))
    assert not any("Overdue since" in s for s in subjects(smtp, MEMBERS[1][1]))  # extended
    reply(
        bot,
        smtp,
        MEMBERS[0],
        "Done: the final note is attached.",
        "2026-12-11T10:00:00+00:00",
        "Overdue since",
        ("board-note.pdf", NOTE, "application/pdf"),
    )
    bot.run("run", "--once", now="2026-12-11T11:00:00+00:00")
    (done,) = [m for m in smtp.to(SECRETARIAT) if "Action done by" in str(m.message["Subject"])]
    assert MEMBERS[0][0] in str(done.message["Subject"])

    bot.run("run", "--once", now="2026-12-12T07:01:00+00:00")  # the daily digest
    digest = [m for m in smtp.to(SECRETARIAT) if "Digest" in str(m.message["Subject"])][-1]
    text = message_from_bytes(digest.raw, policy=default).get_body(("plain",)).get_content()
    actions = text[text.index("ACTIONS") :]
    assert "Update the risk register" in actions and "OVERDUE" in actions
    assert "Collect the facilitators' reports: Bruno Carvalho, due Fri 18 Dec, 17:00" in actions
    assert "Draft the Board note" not in actions  # done: no longer due

    record = {i["id"]: i for i in bot.status()["items"]}
    assert record[chased]["state"] == "done"
    assert (record[extended]["state"], record[extended]["due"]) == (
        "open",
        "2026-12-18T17:00:00+00:00",
    )
    assert (record[overdue]["state"], record[overdue]["owner"]) == ("overdue", MEMBERS[2][1])
