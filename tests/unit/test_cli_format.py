"""Human output (issue 11, part 5): times in the group's zone to the minute, names before
addresses, singular and plural, text cut on a word with an ellipsis, tables plain when piped
and drawn by rich on a terminal."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from bot import cli_format as fmt

AT = datetime(2026, 12, 3, 11, 0, 0, 27899, tzinfo=UTC)


def test_a_time_is_the_groups_to_the_minute_never_a_debug_stamp() -> None:
    # What was seen: "2026-12-03T11:00:00.027899+00:00".
    assert fmt.when(AT, "Europe/London") == "2026-12-03 11:00"
    assert fmt.when(AT.isoformat(), "Europe/Paris") == "2026-12-03 12:00"
    assert fmt.when(AT, "America/La_Paz", with_zone=True) == "2026-12-03 07:00 (America/La_Paz)"
    assert fmt.when(None, "UTC") == "-"
    assert fmt.local_day_time(AT, "Europe/Paris") == "Thu 03 Dec 2026 12:00"


def test_singular_and_plural_are_words_not_brackets() -> None:
    # What was seen: "entr(y/ies)", "1 member(s)".
    assert (fmt.plural(1, "entry"), fmt.plural(3, "entry")) == ("1 entry", "3 entries")
    assert (fmt.plural(1, "member"), fmt.plural(0, "member")) == ("1 member", "0 members")
    assert fmt.plural(2, "day") == "2 days"
    assert fmt.plural(2, "person", "people") == "2 people"


def test_how_far_a_time_is() -> None:
    assert fmt.relative(AT + timedelta(days=10, hours=8), AT) == "in 10 days"
    assert fmt.relative(AT - timedelta(hours=1), AT) == "1 hour ago"
    assert fmt.relative(AT + timedelta(minutes=5), AT) == "in 5 minutes"
    assert fmt.relative(AT, AT) == "now"


def test_names_come_before_addresses() -> None:
    assert fmt.person("Amina Diallo", "amina@members.example") == (
        "Amina Diallo <amina@members.example>"
    )
    assert fmt.person(None, "x@y.example") == "x@y.example"
    people = [{"name": "Amina"}, {"name": "Bruno"}, {"name": "Chloé"}]
    assert fmt.names(people) == "Amina, Bruno and Chloé"


def test_text_is_shortened_on_a_word_with_an_ellipsis_on_one_line() -> None:
    # What was seen: text cut mid-word, no sign that something is missing.
    text = "Point 2 overlaps with the existing work programme\nand the budget line is unclear."
    short = fmt.shorten(text, 40)
    assert short.endswith("…") and len(short) <= 40 and "\n" not in short
    assert short == "Point 2 overlaps with the existing work…"
    assert fmt.shorten("Agree.", 40) == "Agree."
    assert fmt.shorten("\x1b[31mred", 20) == "\\x1b[31mred"  # a terminal never obeys a reply


def test_a_piped_table_is_plain_whole_and_aligned() -> None:
    # Piped output has no colour codes and no box drawing, and nothing is cut at 80 columns.
    out = io.StringIO()
    long = "a title long enough to run past the eightieth column of any terminal window, and on"
    fmt.Printer(out, terminal=False).table(("ID", "Title"), [(1, long), (22, "[bold]x")], "2 items")
    lines = out.getvalue().splitlines()
    assert lines == ["2 items", "ID  Title", f"1   {long}", "22  [bold]x"]
    assert "\x1b" not in out.getvalue()


def test_on_a_terminal_rich_draws_the_table_and_reads_no_markup_in_cells() -> None:
    out = io.StringIO()
    fmt.Printer(out, terminal=True).table(("ID", "Title"), [(1, "[bold]x[/bold]")], "1 item")
    drawn = out.getvalue()
    assert "─" in drawn  # rich's rule under the headers
    assert "[bold]x[/bold]" in drawn  # a member's words are text, not markup
