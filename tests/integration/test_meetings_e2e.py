"""A meeting through real mail (issue 9): Dovecot and an SMTP server on loopback, the real
`cgbot` process: the call with its invitation, a calendar's Decline, a plain apology."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.demo import clients
from tests.conftest import BOT, MEMBERS, SECRETARIAT, Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

MEETING = """
[meetings.monthly]
rrule = "FREQ=MONTHLY;BYDAY=3TU"
time = "14:00"
duration_minutes = 90
where = "https://meet.example.org/cg"
"""
CALL_DUE = "2026-12-05T15:00:00+00:00"  # ten days before Tuesday 15 December, 14:00 London


def test_a_call_a_decline_and_an_apology_through_real_mail(bot: Bot, smtp: SmtpSink) -> None:
    with bot.config.open("a") as config:
        config.write(MEETING)
    bot.run("run", "--once", now=CALL_DUE)
    calls = smtp.wait_for(len(MEMBERS) + 1)  # the calls, and the Secretariat's notice
    call_to = {m.recipients[0]: m for m in calls if "Meeting call" in m.message["Subject"]}
    assert set(call_to) == {m[1] for m in MEMBERS}
    invitation = next(
        p for p in call_to[MEMBERS[0][1]].message.walk() if p.get_content_type() == "text/calendar"
    )
    assert invitation.get_param("method") == "REQUEST"

    daniel, bruno = MEMBERS[3], MEMBERS[1]
    when = datetime(2026, 12, 6, 10, tzinfo=UTC)
    bot.append(
        clients.calendar_answer(
            clients.Original(call_to[daniel[1]].raw),
            daniel[0],
            daniel[1],
            BOT,
            when,
            "DECLINED",
            "In the field that week.",
        )
    )
    bot.append(
        clients.gmail(
            clients.Original(call_to[bruno[1]].raw),
            bruno[0],
            bruno[1],
            BOT,
            when,
            "Não poderei participar, peço desculpa.",
        )
    )
    bot.run("run", "--once", now="2026-12-06T11:00:00+00:00")
    (meeting,) = [i for i in bot.status()["items"] if i["kind"] == "meeting"]
    assert meeting["state"] == "scheduled" and meeting["starts_at"].startswith("2026-12-15T14:00")
    assert meeting["attendance"][daniel[1]] == "apology"
    assert meeting["attendance"][bruno[1]] == "apology"
    told = [m for m in smtp.to(SECRETARIAT) if "Apologies" in m.message["Subject"]]
    assert len(told) == 2
    assert [m.message["Subject"] for m in smtp.to(bruno[1])][-1].startswith("Re: [CG-1]")
    assert not [m for m in smtp.to(daniel[1]) if m.message["Subject"].startswith("Re:")]
