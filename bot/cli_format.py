"""How the command line writes for a person: times in the group's zone to the minute, names
before addresses, singular and plural, text shortened on a word with an ellipsis, and tables
drawn by rich on a terminal but plain (no colour, no box, never cut) when piped.

Every value a stranger wrote passes through `terminal_text`, so printing it cannot move the
cursor or recolour the terminal, and goes into rich as Text, so "[bold]" stays two words."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.textsafe import one_line, terminal_text

GAP = "  "  # between the columns of a plain table


def instant(value: datetime | str | None) -> datetime | None:
    """A time as the record keeps it (aware, or ISO 8601 text), or None."""
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def when(value: datetime | str | None, zone: str, *, with_zone: bool = False) -> str:
    """'2026-12-11 17:00' in the group's zone (no seconds, no offset); '-' for no time."""
    at = instant(value)
    if at is None:
        return "-"
    shown = at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    return f"{shown} ({zone})" if with_zone else shown


def local_day_time(value: datetime | str | None, zone: str) -> str:
    """'Fri 11 Dec 2026 17:00' in a reader's own zone: the deadline as a member will see it."""
    at = instant(value)
    if at is None:
        return "-"
    return at.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M")


def relative(value: datetime | str | None, now: datetime) -> str:
    """'in 3 days', '5 hours ago', 'now': how far a time is, in the largest whole unit."""
    at = instant(value)
    if at is None:
        return ""
    delta = at - now
    size = abs(delta)
    for unit, length in (("day", timedelta(days=1)), ("hour", timedelta(hours=1))):
        if size >= length:
            text = plural(int(size / length), unit)
            return f"in {text}" if delta > timedelta(0) else f"{text} ago"
    minutes = int(size / timedelta(minutes=1))
    if minutes == 0:
        return "now"
    text = plural(minutes, "minute")
    return f"in {text}" if delta > timedelta(0) else f"{text} ago"


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 member', '2 members', '1 entry', '3 entries' (give `many` when 's' is wrong)."""
    if n == 1:
        return f"1 {one}"
    if many is None:
        many = one[:-1] + "ies" if one.endswith("y") and one[-2:-1] not in "aeiou" else one + "s"
    return f"{n} {many}"


def person(name: str | None, email: str | None) -> str:
    """'Amina Diallo <amina@members.example>', or whichever of the two is known."""
    if name and email:
        return f"{name} <{email}>"
    return name or email or "-"


def names(people: Sequence[dict[str, Any]]) -> str:
    """'Amina Diallo, Bruno Carvalho and Chloé Martin' (people as records with a name)."""
    shown = [str(p.get("name") or p.get("email") or "?") for p in people]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def shorten(text: str | None, width: int) -> str:
    """One line of at most `width` characters, cut at a word with '…', controls escaped."""
    flat = " ".join((text or "").split())
    return one_line(flat, width) if flat else ""


class Printer:
    """Where the CLI writes: rich on a terminal, plain text anywhere else (a pipe, a file)."""

    def __init__(self, stream: TextIO | None = None, terminal: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.console = (
            Console(file=self.stream, highlight=False, force_terminal=True)
            if self.terminal
            else None
        )

    def line(self, text: object = "") -> None:
        shown = terminal_text(str(text))
        if self.console is not None:
            self.console.print(Text(shown), soft_wrap=True)
        else:
            self.stream.write(shown + "\n")

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[object]],
        title: str = "",
    ) -> None:
        """Columns of text. Plain: a title line, the headers and left-aligned columns two
        spaces apart, every cell whole (a pipe keeps what a terminal would wrap)."""
        cells = [[terminal_text(str(c)) for c in row] for row in rows]
        if self.console is not None:
            table = Table(title=title or None, box=box.SIMPLE_HEAD, title_justify="left")
            for header in headers:
                table.add_column(header, overflow="fold")
            for row in cells:
                table.add_row(*(Text(c) for c in row))
            self.console.print(table)
            return
        if title:
            self.stream.write(terminal_text(title) + "\n")
        widths = [
            max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h))
            for i, h in enumerate(headers)
        ]
        for row in [list(map(str, headers)), *cells]:
            padded = [c.ljust(w) for c, w in zip(row, widths, strict=True)]
            self.stream.write(GAP.join(padded).rstrip() + "\n")


def fields(pairs: Sequence[tuple[str, object]], say: Callable[[str], None]) -> None:
    """'label    value' lines, the labels padded to one width (a record shown field by field)."""
    width = max((len(label) for label, _ in pairs), default=0)
    for label, value in pairs:
        text = str(value)
        pad = " " * (width + 2)
        say(f"{label.ljust(width)}  {text.replace(chr(10), chr(10) + pad)}")
