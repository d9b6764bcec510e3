"""The Secretariat's email commands, read from subject and body. Pure: returns what to do.

Subject: BALLOT: <title>
Body:    Deadline: 2026-12-11 17:00            (ISO 8601; a date alone means 17:00;
         Options: agree, object                  the group's time zone unless one is named)
                                                (optional; default: every position)
         <the question, as many lines as needed>
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateparser

from bot.rules import Rules

_SUBJECT = re.compile(r"^\s*(?:fwd?\s*:\s*)?BALLOT\s*:\s*(?P<title>.*)$", re.IGNORECASE)
_FIELD = re.compile(r"^\s*(?P<key>deadline|options|by|due)\s*:\s*(?P<value>.*)$", re.IGNORECASE)
_DATE_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[ T](?P<time>\d{1,2}:\d{2}))?"
    r"(?:\s+(?P<tz>[A-Za-z_]+/[A-Za-z_/+-]+|UTC))?$"
)
DEFAULT_TIME = time(17, 0)


@dataclass(frozen=True)
class OpenBallot:
    title: str
    question: str
    deadline: datetime
    options: tuple[str, ...]


class CommandError(Exception):
    """The command was understood as one but cannot be carried out; `problems` say why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def is_command(subject: str) -> bool:
    return bool(_SUBJECT.match(subject))


def parse_deadline(value: str, zone: str) -> datetime:
    """ISO 8601 with an offset, or 'YYYY-MM-DD[ HH:MM][ Area/City]' in `zone` (17:00 if no time)."""
    value = value.strip()
    match = _DATE_TIME.match(value)
    if match:
        tz_name = match.group("tz") or zone
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz_name!r}") from exc
        day = datetime.fromisoformat(match.group("date")).date()
        at = DEFAULT_TIME
        if match.group("time"):
            hour, minute = match.group("time").split(":")
            at = time(int(hour), int(minute))
        return datetime.combine(day, at, tzinfo=tz)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        if not re.search(r"[A-Za-z]{3}", value):
            raise  # "12/11/2026" is ambiguous between countries: ask for ISO instead
        parsed = _written_date(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(zone))


def _written_date(value: str) -> datetime:
    """'11 December 2026', 'Dec 11, 2026 17:00' (python-dateutil; 17:00 if no time is given)."""
    try:
        parsed: datetime = dateparser.parse(
            value, dayfirst=True, default=datetime(2000, 1, 1, 17, 0)
        )
    except (ValueError, OverflowError) as exc:
        raise ValueError(str(exc)) from exc
    return parsed


def _options(value: str, rules: Rules) -> tuple[tuple[str, ...], list[str]]:
    by_name = {k.lower(): k for k in rules.positions}
    by_name.update({p.label.lower(): k for k, p in rules.positions.items()})
    keys, problems = [], []
    for word in [w.strip().lower() for w in re.split(r"[,;/]|\s+", value) if w.strip()]:
        if word in by_name:
            keys.append(by_name[word])
        else:
            problems.append(
                f"Options: {word!r} is not a position in the rules "
                f"({', '.join(p.label for p in rules.positions.values())})"
            )
    return tuple(dict.fromkeys(keys)), problems


def parse_ballot(subject: str, text: str, rules: Rules, zone: str, now: datetime) -> OpenBallot:
    """Read `BALLOT: title` and its body; every problem found is reported at once."""
    match = _SUBJECT.match(subject)
    assert match, "call is_command first"
    title = match.group("title").strip()
    problems = [] if title else ["the subject has no title after 'BALLOT:'"]
    deadline: datetime | None = None
    options: tuple[str, ...] = ()
    question_lines = []
    for line in text.strip().splitlines():  # fields may stand above or below the question
        field = _FIELD.match(line)
        if not field:
            question_lines.append(line)
            continue
        key, value = field.group("key").lower(), field.group("value")
        if key == "options":
            options, bad = _options(value, rules)
            problems += bad
            continue
        try:
            deadline = parse_deadline(value, zone)
        except ValueError as exc:
            problems.append(
                f"Deadline: {value.strip()!r} is not a date ({exc}); write "
                "2026-12-11, 2026-12-11 17:00 or 2026-12-11 17:00 Europe/Paris"
            )
    question = "\n".join(question_lines).strip()
    if not question:
        problems.append("the body has no question after the Deadline/Options lines")
    if deadline is None and not any(p.startswith("Deadline") for p in problems):
        deadline = now + rules.consensus.email_round
    if deadline is not None and deadline <= now:
        problems.append(f"Deadline: {deadline.isoformat()} is not in the future")
    if problems:
        raise CommandError(problems)
    assert deadline is not None
    return OpenBallot(title, question, deadline, options)
