"""What the Secretariat's email commands share: `Key: value` fields and written deadlines.

Each command (BALLOT:, ...) lives with its item kind's workflow; this module only reads.
`parse_deadline` is the one reader of a written date, for mail and command line alike, so that
"2026-12-11" means the same instant whoever writes it and however it reaches the bot."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.rules import Deadlines

if TYPE_CHECKING:
    from dateparser.date import DateDataParser  # type: ignore[import-untyped]

_ZONE = r"(?P<tz>[A-Za-z_]+/[A-Za-z_/+-]+|UTC)"
_WITH_ZONE = re.compile(rf"^(?P<rest>.*?)\s+{_ZONE}$")
_ISO_DAY = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[ T](?P<time>\d{1,2}:\d{2}))?$")
# 12/11/2026 is 12 November in Paris and 11 December in New York: refused, never guessed.
_NUMERIC_DAY = re.compile(r"(?<![\d/.-])(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?![\d/.-])")
_ORDINAL_MARK = re.compile(r"(?<=\d)[º°ª]")  # "1º de março", "1ª"
# The languages the bot reads replies in (rules [languages.*]); dateparser knows each.
WRITTEN_IN = ("en", "fr", "es", "pt", "de", "it", "nl")
RULES_DEFAULT = Deadlines()


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


def parse_deadline(value: str, zone: str, rules: Deadlines = RULES_DEFAULT) -> datetime:
    """The instant a written deadline means; ValueError says why there is none.

    '2026-12-11[ 17:00][ Area/City]', ISO 8601 with an offset, or a date written out in a
    language the bot reads ('20 janvier 2027', 'Dec 11, 2026 17:00'). Without a zone it is in
    `zone`; a date alone is the end of business, moved off a weekend if the rules say so."""
    text = " ".join(value.split())
    if not text:
        raise ValueError("no date given")
    tz = _zone(zone)
    named = _WITH_ZONE.match(text)
    if named:
        text, tz = named.group("rest"), _zone(named.group("tz"))
    iso = _ISO_DAY.match(text)
    if iso:
        day = _iso_date(iso.group("date"))
        if iso.group("time") is None:
            return end_of_business(day, tz, rules)
        return datetime.combine(day, _clock_time(iso.group("time")), tzinfo=tz)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return _written(text, tz, rules)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def end_of_business(day: date, tz: tzinfo, rules: Deadlines = RULES_DEFAULT) -> datetime:
    """A deadline of a whole day: its end of business, on the next working day if it falls on
    a weekend or a holiday and the rules move such deadlines."""
    for _ in range(366):  # a year of closed days would be a mistake in the rules: stop there
        if not rules.closed(day):
            break
        day += timedelta(days=1)
    return datetime.combine(day, rules.end_of_business.replace(tzinfo=None), tzinfo=tz)


def whole_days_after(
    start: datetime, days: timedelta, zone: str, rules: Deadlines = RULES_DEFAULT
) -> datetime:
    """`days` (rounded up to whole days) after the day of `start` in `zone`, at the end of
    business: what is asked of the Board Chair reads "by Monday 28 December, 17:00", not 09:01."""
    tz = _zone(zone)
    count = math.ceil(days / timedelta(days=1))
    return end_of_business(start.astimezone(tz).date() + timedelta(days=count), tz, rules)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"no such day ({exc})") from exc


def _clock_time(text: str) -> time:
    hour, minute = (int(part) for part in text.split(":"))
    if hour > 23 or minute > 59:
        raise ValueError(f"{text} is not a time of day")
    return time(hour, minute)


def _written(text: str, tz: tzinfo, rules: Deadlines) -> datetime:
    """A date written out in words; only the written forms reach dateparser (it is slower)."""
    numeric = _NUMERIC_DAY.search(text)
    if numeric:
        raise ValueError(_ambiguous(numeric.group(), *numeric.groups()))
    data = _reader().get_date_data(_ORDINAL_MARK.sub("", text))
    found: datetime | None = data.date_obj
    if found is None:
        raise ValueError(
            "not a date with day, month and year "
            "(write 2026-12-11, 2026-12-11 17:00 or 11 December 2026)"
        )
    here = found.tzinfo or tz
    if data.period != "time":  # no time of day was written
        return end_of_business(found.date(), here, rules)
    return found if found.tzinfo else found.replace(tzinfo=tz)


def _ambiguous(shown: str, first: str, second: str, year: str) -> str:
    """What a numeric date could mean, in ISO, so the writer can copy the one meant."""
    full = int(year) + (2000 if len(year) == 2 else 0)
    readings = []
    for month, day in ((int(second), int(first)), (int(first), int(second))):
        try:
            readings.append(date(full, month, day).isoformat())
        except ValueError:
            continue
    if not readings:
        return f"{shown} is no day, whichever comes first"
    if len(set(readings)) == 1:
        return f"write a date in numbers year first: {readings[0]}"
    return f"{shown} reads differently by country: write {readings[0]} or {readings[1]}"


@cache
def _reader() -> DateDataParser:
    """Built once, on the first written date: dateparser loads each language on first use."""
    from dateparser.date import DateDataParser  # type: ignore[import-untyped]

    settings = {
        "PARSERS": ["absolute-time"],  # "next friday" depends on when it is read: refused
        "REQUIRE_PARTS": ["day", "month", "year"],  # no year guessed from the real clock
        "RETURN_TIME_AS_PERIOD": True,  # tells a date alone from one at midnight
    }
    return DateDataParser(languages=list(WRITTEN_IN), settings=settings)
