"""What the Secretariat's email commands share: `Key: value` fields and written deadlines.

Each command (BALLOT:, ...) lives with its item kind's workflow; this module only reads."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateparser

_DATE_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[ T](?P<time>\d{1,2}:\d{2}))?"
    r"(?:\s+(?P<tz>[A-Za-z_]+/[A-Za-z_/+-]+|UTC))?$"
)
DEFAULT_TIME = time(17, 0)


def read_fields(text: str, keys: tuple[str, ...]) -> tuple[dict[str, str], str]:
    """`Key: value` lines (above or below the prose) and the prose that remains."""
    pattern = re.compile(rf"^\s*(?P<key>{'|'.join(keys)})\s*:\s*(?P<value>.*)$", re.IGNORECASE)
    fields: dict[str, str] = {}
    prose = []
    for line in text.strip().splitlines():
        match = pattern.match(line)
        if match:
            fields[match.group("key").lower()] = match.group("value")
        else:
            prose.append(line)
    return fields, "\n".join(prose).strip()


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
