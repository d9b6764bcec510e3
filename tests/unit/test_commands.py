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


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # This group's rules: a date alone on a weekend is the Monday, at the end of business.
        ("Deadline: 2026-12-12", "2026-12-14T17:00:00+00:00"),
        ("Deadline: samedi 12 décembre 2026", "2026-12-14T17:00:00+00:00"),
        # A time written with it is what the Secretariat chose, on any day.
        ("Deadline: 2026-12-12 12:00", "2026-12-12T12:00:00+00:00"),
        ("Deadline: 11 de diciembre de 2026", "2026-12-11T17:00:00+00:00"),
    ],
)
def test_the_rules_deadlines_apply_to_a_ballot_mail(rules: Rules, line: str, expected: str) -> None:
    ballot = parse_ballot("BALLOT: X", f"{line}\n\nQ?", rules, "Europe/London", NOW)
    assert ballot.deadline.isoformat() == expected


def test_an_ambiguous_date_is_answered_with_both_readings(rules: Rules) -> None:
    # The Secretariat is told what to write instead, not only that it is wrong.
    with pytest.raises(CommandError) as err:
        parse_ballot("BALLOT: X", "Deadline: 12/11/2026\n\nQ?", rules, "UTC", NOW)
    (problem,) = err.value.problems
    assert problem.startswith("Deadline: '12/11/2026' is not a date")
    assert "2026-11-12 or 2026-12-11" in problem
