"""One way to write a date (issue 11, part 3): the CLI, the email commands and the members'
"need until" read a deadline with one parser; a date alone is the group's end of business in
its zone, moved off a weekend when the rules say so; the Chair is asked for whole days."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.clock import Clock
from bot.config import parse_config
from bot.demo import clients
from bot.domain.types import Fetched, ItemKind
from bot.inbound import commands
from bot.inbound.commands import parse_deadline, whole_days_after
from bot.rules import Deadlines, load_rules, resolve_rules_path
from tests.conftest import BOT, CHAIR, MEMBERS, SECRETARIAT, T0, config_text, mail_to, make_app

NEW_YORK = "America/New_York"
MOVE = Deadlines(weekend="next-working-day")
KEEP = Deadlines(weekend="keep")


@pytest.mark.parametrize(
    "written",
    [
        "2026-12-11",
        "11 December 2026",
        "December 11, 2026",
        "11 décembre 2026",
        "11 de diciembre de 2026",
        "11 de dezembro de 2026",
        "11. Dezember 2026",
        "11 dicembre 2026",
        "11 december 2026",
        "vendredi 11 décembre 2026",
    ],
)
def test_a_date_alone_is_the_end_of_business_in_the_groups_zone(written: str) -> None:
    # The same day written any way the bot reads it means one instant: 17:00 in New York.
    assert parse_deadline(written, NEW_YORK, MOVE) == datetime(2026, 12, 11, 22, tzinfo=UTC)


def test_the_rules_set_the_end_of_business() -> None:
    late = Deadlines(end_of_business=time(18, 30))
    assert parse_deadline("2026-12-11", "Europe/Paris", late).isoformat() == (
        "2026-12-11T18:30:00+01:00"
    )
    assert parse_deadline("11 décembre 2026", "Europe/Paris", late).hour == 18


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-12-11 9:30", "2026-12-11T09:30:00-05:00"),  # a time without a zone: the group's
        ("2026-12-11 9:30 Europe/Paris", "2026-12-11T09:30:00+01:00"),
        ("2026-12-11 Europe/Paris", "2026-12-11T17:00:00+01:00"),  # a date alone in that zone
        ("2026-12-11T17:00:00-03:00", "2026-12-11T17:00:00-03:00"),
        ("2026-12-11T17:00:00Z", "2026-12-11T17:00:00+00:00"),
        ("11 December 2026 12:00", "2026-12-11T12:00:00-05:00"),
        ("20 janvier 2027 à 12h", "2027-01-20T12:00:00-05:00"),
        ("20 de enero de 2027 a las 9:15", "2027-01-20T09:15:00-05:00"),
        ("20 janvier 2027 12:00 Europe/Paris", "2027-01-20T12:00:00+01:00"),
        ("1º de março de 2027", "2027-03-01T17:00:00-05:00"),
        ("  2026-12-11\t", "2026-12-11T17:00:00-05:00"),
    ],
)
def test_times_and_zones_as_written(written: str, expected: str) -> None:
    assert parse_deadline(written, NEW_YORK, MOVE).isoformat() == expected


@pytest.mark.parametrize(
    ("written", "moved", "kept"),
    [
        ("2026-12-12", "2026-12-14T17:00:00-05:00", "2026-12-12T17:00:00-05:00"),  # Saturday
        ("13 December 2026", "2026-12-14T17:00:00-05:00", "2026-12-13T17:00:00-05:00"),  # Sunday
        ("2026-12-11", "2026-12-11T17:00:00-05:00", "2026-12-11T17:00:00-05:00"),  # Friday
        # A time written with the date is what the writer chose: kept, on any day.
        ("2026-12-12 10:00", "2026-12-12T10:00:00-05:00", "2026-12-12T10:00:00-05:00"),
    ],
)
def test_a_date_alone_on_a_weekend_moves_when_the_rules_say_so(
    written: str, moved: str, kept: str
) -> None:
    assert parse_deadline(written, NEW_YORK, MOVE).isoformat() == moved
    assert parse_deadline(written, NEW_YORK, KEEP).isoformat() == kept


def test_the_weekend_is_judged_in_the_zone_written() -> None:
    # Friday 11 December in New York; already Saturday in Tokyo, where the writer put it.
    assert parse_deadline("2026-12-12 Asia/Tokyo", NEW_YORK, MOVE).isoformat() == (
        "2026-12-14T17:00:00+09:00"
    )


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("12/11/2026", "12/11/2026 reads differently by country: write 2026-11-12 or 2026-12-11"),
        ("12.11.2026 um 17 Uhr", "write 2026-11-12 or 2026-12-11"),
        ("13/11/2026", "write a date in numbers year first: 2026-11-13"),
        ("31/31/2026", "31/31/2026 is no day"),
        ("next friday", "not a date with day, month and year"),  # depends on when it is read
        ("tomorrow", "not a date with day, month and year"),
        ("20 January", "not a date with day, month and year"),  # no year guessed
        ("31 February 2027", "not a date with day, month and year"),
        ("2026-02-30", "no such day"),
        ("2026-12-11 24:00", "24:00 is not a time of day"),
        ("2026-12-11 Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("", "no date given"),
    ],
)
def test_what_is_not_a_date_is_refused_with_the_reason(written: str, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace(".", r"\.")):
        parse_deadline(written, NEW_YORK, MOVE)


def test_the_iso_forms_never_reach_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    # dateparser takes milliseconds where a regex takes microseconds: replies and commands
    # with ISO dates (most of them) must not pay for it.
    def refuse() -> None:
        raise AssertionError("dateparser called for an ISO date")

    monkeypatch.setattr(commands, "_reader", refuse)
    for written in ("2026-12-11", "2026-12-11 17:00", "2026-12-11 Europe/Paris"):
        parse_deadline(written, NEW_YORK, MOVE)


@pytest.mark.parametrize(
    ("rules", "closed_at", "due"),
    [
        # The case: the close ran on Saturday 09:01, so P14D ended Saturday 09:01.
        (MOVE, datetime(2026, 12, 12, 9, 1, tzinfo=UTC), "2026-12-28T17:00:00+00:00"),
        (KEEP, datetime(2026, 12, 12, 9, 1, tzinfo=UTC), "2026-12-26T17:00:00+00:00"),
        (MOVE, datetime(2026, 12, 11, 23, 30, tzinfo=UTC), "2026-12-25T17:00:00+00:00"),
    ],
)
def test_the_chairs_deadline_is_whole_days_at_the_end_of_business(
    rules: Deadlines, closed_at: datetime, due: str
) -> None:
    got = whole_days_after(closed_at, timedelta(days=14), "Europe/London", rules)
    assert got.isoformat() == due


def test_part_of_a_day_asked_of_the_chair_is_a_whole_day() -> None:
    closed_at = datetime(2026, 12, 7, 16, tzinfo=UTC)  # Monday
    got = whole_days_after(closed_at, timedelta(hours=36), "Europe/London", MOVE)
    assert got.isoformat() == "2026-12-09T17:00:00+00:00"


def test_the_group_rules_move_weekend_deadlines_at_five() -> None:
    # The shipped rules say what this group does; the defaults change nothing for others.
    shipped = load_rules(resolve_rules_path("ciwp-coordination-group")).deadlines
    assert (shipped.end_of_business, shipped.weekend) == (time(17, 0), "next-working-day")
    assert (Deadlines().end_of_business, Deadlines().weekend) == (time(17, 0), "keep")


# -- through the application -------------------------------------------------------------------

TRUSTED = '[security]\ntrusted_authserv_ids = ["mx.cg.example"]\n'
VOUCHED = b"Authentication-Results: mx.cg.example; dmarc=pass header.from=cg.example\r\n"


def in_new_york(text: str) -> str:
    return text.replace(
        'timezone = "Europe/London"\nsecretariat', f'timezone = "{NEW_YORK}"\nsecretariat'
    )


@pytest.mark.parametrize(
    ("written", "instant"),
    [
        ("2026-12-11", "2026-12-11T22:00:00+00:00"),  # Friday, 17:00 in New York
        ("2026-12-12", "2026-12-14T22:00:00+00:00"),  # Saturday: the rules move it to Monday
    ],
)
def test_a_ballot_opened_by_the_cli_and_by_mail_lands_on_the_same_instant(
    tmp_path: Path, written: str, instant: str
) -> None:
    # Acceptance of issue 11: `cgbot ballot open --deadline 2026-12-11` stored midnight UTC
    # while a BALLOT: mail with "Deadline: 2026-12-11" meant 17:00 in the group's zone.
    text = in_new_york(config_text(1, "u", "p", 1, tmp_path / "cg.db")) + TRUSTED
    assert NEW_YORK in text
    config = tmp_path / "config.toml"
    config.write_text(text)
    config.chmod(0o600)
    question = tmp_path / "q.txt"
    question.write_text("Do you agree?")
    cgbot = [sys.executable, "-m", "bot", "--config", str(config), "--now", T0.isoformat()]
    ballot = ["--title", "By the CLI", "--question-file", str(question), "--deadline", written]
    opened = subprocess.run(
        [*cgbot, "ballot", "open", *ballot],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert opened.returncode == 0, opened.stderr

    app = App(parse_config(text, config), Clock.starting_at(T0))
    body = f"Deadline: {written}\n\nDo you agree?"
    mail = clients.command("Secretariat", SECRETARIAT, BOT, T0, "BALLOT: By mail", body)
    assert app.handle(Fetched("test", VOUCHED + mail)) == "processed"

    deadlines = {i["title"]: i["deadline"] for i in app.status()["items"]}
    assert deadlines == {"By the CLI": instant, "By mail": instant}


def test_the_chair_is_asked_for_whole_days_off_the_weekend(tmp_path: Path) -> None:
    # The case: a ballot closing on Saturday at 09:01 asked the Chair for 09:01 on a
    # Saturday fourteen days on; now it is the end of business on the Monday after.
    app = make_app(tmp_path)
    app.open_item("ballot", "Shortlist", "Agree?", datetime(2026, 12, 12, 9, tzinfo=UTC), "test")
    chloe = MEMBERS[2]
    raw = clients.gmail(mail_to(app, chloe[1]), chloe[0], chloe[1], BOT, T0, "Object: not yet.")
    assert app.handle(Fetched("test", raw)) == "processed"
    app.clock.jump_to(datetime(2026, 12, 12, 9, 1, tzinfo=UTC))
    app.run_due()
    (item,) = app.status()["items"]
    assert item["state"] == "escalated"
    packet = mail_to(app, CHAIR[1], "escalation").text
    assert "determination by Monday, 28 December 2026, 17:00 (UTC)" in " ".join(packet.split())


NEEDS = [
    "Need until 20 January 2027, the data comes late.",
    "Besoin de temps jusqu'au 20 janvier 2027, désolée.",
    "Necesito hasta el 20 de enero de 2027.",
    "Preciso de tempo até 20 de janeiro de 2027.",
    "J’ai besoin de plus de temps jusqu’au mercredi 20 janvier 2027",
]


@pytest.mark.parametrize("answer", NEEDS)
def test_need_until_a_written_date_in_the_members_languages(tmp_path: Path, answer: str) -> None:
    # An owner asks for more time in their own words and language; the date is read by the
    # same parser as a deadline: a date alone is 17:00 in the group's zone (London).
    app = make_app(tmp_path)
    owner = MEMBERS[2]
    due = datetime(2026, 12, 18, 17, tzinfo=UTC)
    item_id = app.open_item(
        ItemKind.ACTION, "Collect comments", "", due, "test", {"owner": owner[1]}
    )
    raw = clients.gmail(mail_to(app, owner[1], "action"), owner[0], owner[1], BOT, T0, answer)
    assert app.handle(Fetched("test", raw)) == "processed"
    (item,) = [i for i in app.status()["items"] if i["id"] == item_id]
    assert item["due"] == "2027-01-20T17:00:00+00:00"


@pytest.mark.parametrize(
    ("answer", "new_due"),
    [
        ("Need until 10 January 2027", "2027-01-11T17:00:00+00:00"),  # a Sunday: the Monday
        ("Need until 10 January 2027 at 11:00 please", "2027-01-10T11:00:00+00:00"),  # as written
    ],
)
def test_need_until_a_sunday(tmp_path: Path, answer: str, new_due: str) -> None:
    app = make_app(tmp_path)
    owner = MEMBERS[0]
    due = datetime(2026, 12, 18, 17, tzinfo=UTC)
    item_id = app.open_item(ItemKind.ACTION, "Draft", "", due, "test", {"owner": owner[1]})
    raw = clients.gmail(mail_to(app, owner[1], "action"), owner[0], owner[1], BOT, T0, answer)
    assert app.handle(Fetched("test", raw)) == "processed"
    (item,) = [i for i in app.status()["items"] if i["id"] == item_id]
    assert item["due"] == new_due


def test_holidays_are_closed_days_like_a_weekend() -> None:
    # "The Chair is given a deadline ... on a public holiday weekend": the Secretariat's closed
    # days (yearly "MM-DD" or one date) move a whole-day deadline as a weekend does.
    closed = Deadlines(weekend="next-working-day", holidays=["12-25", "12-26", "01-01"])
    christmas_eve = datetime(2026, 12, 11, 23, 30, tzinfo=UTC)
    got = whole_days_after(christmas_eve, timedelta(days=14), "Europe/London", closed)
    assert got.isoformat() == "2026-12-28T17:00:00+00:00"  # not Friday the 25th
    new_year = parse_deadline("2027-01-01", "Europe/London", closed)
    assert new_year.isoformat() == "2027-01-04T17:00:00+00:00"  # Friday 1st, then a weekend
    once = Deadlines(weekend="next-working-day", holidays=["2027-04-02"])
    assert parse_deadline("2027-04-02", "Europe/London", once).date().isoformat() == "2027-04-05"
    kept = Deadlines(weekend="keep", holidays=["12-25"])
    assert parse_deadline("2026-12-25", "Europe/London", kept).day == 25
    with pytest.raises(ValueError, match="holidays: '12-32' is not MM-DD"):
        Deadlines(holidays=["12-32"])
