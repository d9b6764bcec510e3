"""Meeting invitations: what calendar clients need to show Accept/Decline at the right hour."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Component, Timezone, vCalAddress

from bot.inbound.calendar import calendar_parts, read_method, read_reply
from bot.mail.ical import PRODID, calendar_part, invitation

LONDON = ZoneInfo("Europe/London")
ORGANIZER = ("CG Secretariat", "cg@cg.example")
ATTENDEES = [
    ("Lima, Ana", "ana.lima@example.org"),
    ("Zoë Ng", "zoe@y.org"),
    ('Daniel "Dan" Tupa', "daniel@members.example"),
]
STAMP = datetime(2025, 2, 1, 9, 30, tzinfo=UTC)


def call(**changes: Any) -> bytes:
    """The monthly call of 4 March 2025 in London, with whatever a test changes."""
    fields: dict[str, Any] = {
        "method": "REQUEST",
        "uid": "cg.meeting.12@cg.example",
        "sequence": 0,
        "summary": "Coordination Group — monthly call",
        "description": 'Agenda:\n1. Minutes; 2. Budget, "Q3"',
        "start": datetime(2025, 3, 4, 14, 0, tzinfo=LONDON),
        "end": datetime(2025, 3, 4, 15, 30, tzinfo=LONDON),
        "tz": "Europe/London",
        "location": "https://meet.example/cg",
        "organizer": ORGANIZER,
        "attendees": ATTENDEES,
        "stamp": STAMP,
    } | changes
    return invitation(**fields)


def event_of(ics: bytes) -> tuple[Calendar, Component]:
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def params(event: Component, name: str) -> dict[str, str]:
    """A property's parameters (icalendar's types describe values, not this attribute)."""
    prop: Any = event[name]
    return {key: str(value) for key, value in prop.params.items()}


def people(event: Component, name: str) -> list[vCalAddress]:
    """ORGANIZER or ATTENDEE as a list of addresses, however many there are."""
    value = event.get(name)
    values = value if isinstance(value, list) else [value]
    assert all(isinstance(v, vCalAddress) for v in values)
    return [v for v in values if isinstance(v, vCalAddress)]


def lines(ics: bytes) -> list[str]:
    """Content lines, unfolded, to compare two calendars property by property."""
    return re.sub(r"\r\n[ \t]", "", ics.decode()).split("\r\n")


def test_request_parses_back_with_every_property() -> None:
    # The properties RFC 5546 requires and Outlook/Gmail need to offer Accept/Decline.
    calendar, event = event_of(call())
    assert calendar["PRODID"] == PRODID and calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == "cg.meeting.12@cg.example"
    assert event.decoded("SEQUENCE") == 0
    assert event.decoded("DTSTAMP") == STAMP
    assert lines(call()).count("DTSTAMP:20250201T093000Z") == 1
    assert event.decoded("DTSTART") == datetime(2025, 3, 4, 14, 0, tzinfo=LONDON)
    assert event.decoded("DTEND") == datetime(2025, 3, 4, 15, 30, tzinfo=LONDON)
    assert params(event, "DTSTART")["TZID"] == params(event, "DTEND")["TZID"] == "Europe/London"
    assert str(event["SUMMARY"]) == "Coordination Group — monthly call"
    assert str(event["DESCRIPTION"]) == 'Agenda:\n1. Minutes; 2. Budget, "Q3"'
    assert str(event["LOCATION"]) == "https://meet.example/cg"
    assert str(event["STATUS"]) == "CONFIRMED"
    (organizer,) = people(event, "ORGANIZER")
    assert (str(organizer), organizer.params["CN"]) == ("mailto:cg@cg.example", "CG Secretariat")
    attendees = people(event, "ATTENDEE")
    assert [str(a) for a in attendees] == [f"mailto:{address}" for _, address in ATTENDEES]
    assert [a.params["CN"] for a in attendees][:2] == ["Lima, Ana", "Zoë Ng"]
    for attendee in attendees:
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["RSVP"] == "TRUE"


def test_london_vtimezone_is_included_with_both_offsets() -> None:
    # Without VTIMEZONE some clients show the call an hour off once the clocks change.
    calendar, _ = event_of(call())
    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/London"
    offsets = {(sub.name, sub["TZNAME"]) for sub in zone.subcomponents}
    assert {("STANDARD", "GMT"), ("DAYLIGHT", "BST")} <= offsets
    assert calendar.subcomponents.index(zone) < calendar.subcomponents.index(
        calendar.walk("VEVENT")[0]
    )


@pytest.mark.parametrize(
    ("tz", "wall", "utc"),
    [
        ("Europe/Paris", datetime(2025, 3, 25, 14, 0), datetime(2025, 3, 25, 13, 0)),  # CET
        ("Europe/Paris", datetime(2025, 4, 1, 14, 0), datetime(2025, 4, 1, 12, 0)),  # CEST
        ("America/La_Paz", datetime(2025, 3, 25, 10, 0), datetime(2025, 3, 25, 14, 0)),
        ("America/La_Paz", datetime(2025, 11, 4, 10, 0), datetime(2025, 11, 4, 14, 0)),
        ("Europe/London", datetime(2025, 10, 27, 9, 0), datetime(2025, 10, 27, 9, 0)),  # GMT
    ],
)
def test_times_round_trip_in_their_zone(tz: str, wall: datetime, utc: datetime) -> None:
    # The call is written in the group's zone; the VTIMEZONE alone must give the same instant.
    start = wall.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)  # given in UTC: converted to tz
    ics = call(tz=tz, start=start, end=start + timedelta(minutes=90))
    calendar, event = event_of(ics)
    assert params(event, "DTSTART")["TZID"] == tz
    assert event.decoded("DTSTART").replace(tzinfo=None) == wall
    assert event.decoded("DTSTART").astimezone(UTC) == utc.replace(tzinfo=UTC)
    (zone,) = calendar.walk("VTIMEZONE")
    assert isinstance(zone, Timezone)
    from_vtimezone = zone.to_tz(lookup_tzid=False)  # what a client without tzdata does
    assert wall.replace(tzinfo=from_vtimezone).astimezone(UTC) == utc.replace(tzinfo=UTC)


def test_naive_or_backwards_times_are_refused() -> None:
    # A naive time would be read in the server's zone; a call that ends first is a typo.
    with pytest.raises(ValueError, match="aware"):
        call(start=datetime(2025, 3, 4, 14, 0))
    with pytest.raises(ValueError, match="end"):
        call(end=datetime(2025, 3, 4, 13, 0, tzinfo=LONDON))


def test_only_request_and_cancel_are_built() -> None:
    # The bot organises; it never answers its own call, so REPLY etc. are mistakes.
    with pytest.raises(ValueError, match="REQUEST"):
        call(method="REPLY")


def test_an_address_cannot_smuggle_a_line_into_the_calendar() -> None:
    # Addresses are written unescaped; a newline would add a property of its own.
    with pytest.raises(ValueError, match="address"):
        call(attendees=[("X", "x@y.org\r\nATTENDEE:mailto:evil@z.org")])


def test_equal_input_gives_equal_bytes() -> None:
    # The outbox stores the mail once; a rebuilt call must be byte-identical to compare.
    assert call() == call()


def test_cancel_keeps_the_uid_and_says_cancelled() -> None:
    # Clients apply a CANCEL to the event with the same UID and remove it from the calendar.
    calendar, event = event_of(call(method="CANCEL", sequence=1))
    assert calendar["METHOD"] == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["UID"] == "cg.meeting.12@cg.example"
    assert event.decoded("SEQUENCE") == 1


def test_moved_meeting_differs_only_in_sequence_times_and_stamp() -> None:
    # An update must be the same event (UID, attendees, zone) so clients move, not duplicate.
    before = call()
    after = call(
        sequence=1,
        start=datetime(2025, 3, 11, 15, 0, tzinfo=LONDON),
        end=datetime(2025, 3, 11, 16, 30, tzinfo=LONDON),
        stamp=STAMP + timedelta(days=3),
    )
    removed = set(lines(before)) - set(lines(after))
    added = set(lines(after)) - set(lines(before))
    assert {line.split(":")[0].split(";")[0] for line in removed | added} == {
        "SEQUENCE",
        "DTSTART",
        "DTEND",
        "DTSTAMP",
    }
    assert "SEQUENCE:1" in added
    assert "DTSTART;TZID=Europe/London:20250311T150000" in added


def test_names_with_commas_quotes_and_accents_survive() -> None:
    # Commas need quoting; a double quote would need RFC 6868, which Outlook shows raw.
    _, event = event_of(call())
    assert [a.params["CN"] for a in people(event, "ATTENDEE")] == [
        "Lima, Ana",
        "Zoë Ng",
        "Daniel 'Dan' Tupa",
    ]
    assert "^" not in call().decode()


def test_a_line_break_in_a_name_stays_inside_the_name() -> None:
    # A name from a config file or an address book must not start a line of its own.
    _, event = event_of(call(attendees=[("Ana\r\nLima\x00", "ana@x.org")]))
    assert [a.params["CN"] for a in people(event, "ATTENDEE")] == ["Ana Lima"]


def test_calendar_part_has_what_outlook_needs() -> None:
    # Outlook offers Accept/Decline only for text/calendar with method= and a UTF-8 charset.
    ics = call()
    part = calendar_part(ics, "REQUEST")
    assert part["Content-Type"] == 'text/calendar; method="REQUEST"; charset="utf-8"'
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    assert part["Content-Transfer-Encoding"] == "base64"
    assert "MIME-Version" not in part
    assert part.get_payload(decode=True) == ics


def test_a_call_with_its_calendar_reads_back_as_a_request() -> None:
    # Assembled as the docstring says, the bot's own reader finds the same calendar in it.
    ics = call()
    msg = EmailMessage()
    msg["Subject"] = "Coordination Group — monthly call"
    msg.set_content("The call is on 4 March.", cte="quoted-printable")
    msg.add_alternative("<p>The call is on 4 March.</p>", subtype="html", cte="quoted-printable")
    msg.attach(calendar_part(ics, "REQUEST"))
    raw = msg.as_bytes()
    parsed = BytesParser(policy=default).parsebytes(raw)
    assert [p.get_content_type() for p in parsed.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert calendar_parts(raw) == [ics]
    assert read_method(raw) == "REQUEST"


def test_an_answer_to_our_call_matches_it_by_uid_and_address() -> None:
    # What a client sends back for our invitation is read with our UID and the invitee's address.
    calendar, event = event_of(call(sequence=2))
    calendar["METHOD"] = "REPLY"
    accepted = people(event, "ATTENDEE")[1]
    accepted.params["PARTSTAT"] = "ACCEPTED"
    del event["ATTENDEE"]
    event.add("ATTENDEE", accepted)
    answer = EmailMessage()
    answer.set_content("Accepted")
    answer.add_alternative(
        calendar.to_ical(), maintype="text", subtype="calendar", params={"method": "REPLY"}
    )
    reply = read_reply(answer.as_bytes())
    assert reply is not None
    assert (reply.uid, reply.attendee, reply.partstat, reply.sequence) == (
        "cg.meeting.12@cg.example",
        "zoe@y.org",
        "ACCEPTED",
        2,
    )
