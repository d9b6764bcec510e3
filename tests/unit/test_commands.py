"""The Secretariat's BALLOT: command, read from subject and body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.rules import Rules, load_rules, resolve_rules_path
from bot.workflows.ballot import is_command, parse_ballot
from bot.workflows.base import CommandError

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(resolve_rules_path("ciwp-coordination-group"))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Deadline: 2026-12-11 17:00", "2026-12-11T17:00:00+00:00"),  # Europe/London in winter
        ("Deadline: 2026-12-11", "2026-12-11T17:00:00+00:00"),
        ("Deadline: 2026-12-11 9:30 Europe/Paris", "2026-12-11T08:30:00+00:00"),
        ("deadline: 2026-12-11T17:00:00-03:00", "2026-12-11T20:00:00+00:00"),
    ],
)
def test_deadline_forms(rules: Rules, line: str, expected: str) -> None:
    ballot = parse_ballot(
        "BALLOT: Shortlist", f"{line}\n\nDo you agree?", rules, "Europe/London", NOW
    )
    assert ballot.deadline.astimezone(UTC).isoformat() == expected
    assert (ballot.title, ballot.question) == ("Shortlist", "Do you agree?")


def test_options_and_default_round(rules: Rules) -> None:
    ballot = parse_ballot("BALLOT: X", "Options: agree, OBJECT\n\nQ?", rules, "UTC", NOW)
    assert ballot.options == ("agree", "object")
    assert ballot.deadline == NOW + rules.consensus.email_round


def test_every_problem_is_reported_at_once(rules: Rules) -> None:
    with pytest.raises(CommandError) as err:
        parse_ballot("BALLOT:", "Deadline: 2020-01-01\nOptions: maybe\n", rules, "UTC", NOW)
    problems = " | ".join(err.value.problems)
    for part in ("no title", "not in the future", "'maybe' is not a position", "no question"):
        assert part in problems


def test_only_a_new_mail_is_a_command() -> None:
    assert is_command("BALLOT: x") and is_command("Fwd: ballot: x")
    assert not is_command("Re: BALLOT: x") and not is_command("About the ballot")


def test_written_dates_and_fields_below_the_question(rules: Rules) -> None:
    ballot = parse_ballot(
        "BALLOT: X", "Do you agree?\n\nDeadline: 11 December 2026", rules, "Europe/London", NOW
    )
    assert ballot.deadline.isoformat() == "2026-12-11T17:00:00+00:00"
    assert ballot.question == "Do you agree?"
    with pytest.raises(CommandError):  # 12/11: November or December? Ask for ISO instead.
        parse_ballot("BALLOT: X", "Deadline: 12/11/2026\n\nQ?", rules, "UTC", NOW)
