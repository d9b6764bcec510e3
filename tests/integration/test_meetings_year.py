"""A year of meetings through real mail (issue 9): the cadence of config.example.toml as
shipped, cgbot started afresh every eight days (`run --once --now ...`), Dovecot and SMTP on
loopback. Twelve monthly calls and four quarterly ones with the facilitators, none twice; each
invitation parses back; each member's time is right on both sides of daylight saving."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.conftest import MATRIX, MEMBERS, Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def shipped_cadence() -> str:
    """The facilitators and [meetings.*] of config.example.toml, as shipped."""
    text = EXAMPLE.read_text()
    return text[text.index("# CIWP facilitators") : text.index("[security]")]


def test_a_year_of_calls(bot: Bot, smtp: SmtpSink) -> None:
    with bot.config.open("a") as config:
        config.write("\n" + shipped_cadence())
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    now = start
    while now <= start + timedelta(days=365):
        bot.run("run", "--once", now=now.isoformat())
        now += timedelta(days=8)
    calls = [m for m in smtp.messages if "Meeting call" in str(m.message["Subject"])]
    per_meeting = Counter((str(m.message["Subject"]).split("]")[0], m.recipients[0]) for m in calls)
    assert set(per_meeting.values()) == {1}, "a call went out twice"
    monthly = {k[0] for k in per_meeting if "Monthly" in _subject(calls, k)}
    quarterly = {k[0] for k in per_meeting if "Quarterly" in _subject(calls, k)}
    assert len(monthly) >= 12 and len(quarterly) >= 4
    invited = {k[1] for k in per_meeting if k[0] in quarterly}
    assert "facilitator.one@example.org" in invited

    # Each invitation parses back, and says the time the subject says in the member's zone.
    for mail in calls:
        part = next(p for p in mail.message.walk() if p.get_content_type() == "text/calendar")
        (event,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
        assert event["DTSTART"].dt.tzinfo is not None
    # 14:00 in London, read in Dakar, São Paulo and La Paz, in January and in July.
    expected = {
        ("January", "Africa/Dakar"): "14:00",
        ("July", "Africa/Dakar"): "13:00",
        ("January", "America/Sao_Paulo"): "11:00",
        ("July", "America/Sao_Paulo"): "10:00",
        ("January", "America/La_Paz"): "10:00",
        ("July", "America/La_Paz"): "09:00",
    }
    zones = {m[1]: m[3] for m in MEMBERS}
    seen = {}
    for mail in calls:
        subject = str(mail.message["Subject"])
        when = r"\w+,? \d+ (\w+) 2027, (\d\d:\d\d) \(([^)]+)\)"  # "Tuesday, 19 January 2027, ..."
        found = re.search(f"Monthly meeting, {when}", subject)
        if found and found.group(3) == zones.get(mail.recipients[0]):
            seen[(found.group(1), found.group(3))] = found.group(2)
    assert {k: seen.get(k) for k in expected} == expected
    MATRIX.setdefault("meetings (issue 9)", []).append(
        f"a year of the shipped cadence, cgbot restarted {int(365 / 8) + 1} times: "
        f"{len(monthly)} monthly and {len(quarterly)} quarterly calls, none twice"
    )


def _subject(calls: list, key: tuple[str, str]) -> str:  # type: ignore[type-arg]
    return next(
        str(m.message["Subject"]) for m in calls if str(m.message["Subject"]).startswith(key[0])
    )
