"""iMIP invitations (RFC 6047 / RFC 5546): the calendar that makes a meeting call an event.

How the caller must attach it for Outlook and Gmail to show Accept/Decline: the part made by
`calendar_part(ics, method)` (`text/calendar; method=REQUEST; charset=utf-8`, base64) goes in the
*same* multipart/alternative as the text/plain and text/html bodies, after them. In that shape
clients treat the mail as a meeting request; as a mere attachment, or without `method=`, it may
show only as a file to import. ORGANIZER must be the bot's own address, because clients send
their REPLY there (not to From or Reply-To), and the mail should come From that address too.
Google also attaches the same bytes as `application/ics; name="invite.ics"` for clients that read
no alternatives; that is optional. A moved meeting is the same `uid` with a higher `sequence`; a
cancelled one is METHOD:CANCEL with the same `uid` and a higher `sequence`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress

PRODID = "-//cgbot//Coordination Group meetings//EN"
METHODS = ("REQUEST", "CANCEL")


def invitation(
    *,
    method: str,
    uid: str,
    sequence: int,
    summary: str,
    description: str,
    start: datetime,
    end: datetime,
    tz: str,
    location: str,
    organizer: tuple[str, str],
    attendees: list[tuple[str, str]],
    stamp: datetime,
) -> bytes:
    """The iCalendar bytes of a REQUEST or CANCEL for one meeting; equal input, equal bytes.

    `organizer` and `attendees` are (name, address) pairs; `start`, `end` and `stamp` must be
    aware (any zone): the event is written in `tz` (an IANA name) with its VTIMEZONE, so that
    each client shows the right wall-clock time on either side of a daylight-saving change.
    """
    if method not in METHODS:
        raise ValueError(f"an invitation is a REQUEST or a CANCEL, not {method!r}")
    if any(moment.utcoffset() is None for moment in (start, end, stamp)):
        raise ValueError("start, end and stamp must be aware datetimes")
    if end <= start:
        raise ValueError("a meeting must end after it starts")
    if sequence < 0 or not uid.strip():
        raise ValueError("an invitation needs a UID and a SEQUENCE of 0 or more")
    zone = ZoneInfo(tz)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)

    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", local_start)
    event.add("dtend", local_end)
    event.add("summary", summary)
    if description:
        event.add("description", description)
    if location:
        event.add("location", location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _person(*organizer))
    for name, address in attendees:
        event.add("attendee", _invitee(name, address))

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    # Before the event that uses it, and only the meeting's own years: a small VTIMEZONE with no
    # RDATE lists (which some readers get wrong), the same for every move within a year.
    calendar.add_component(
        Timezone.from_tzinfo(
            zone,
            tzid=tz,
            first_date=date(local_start.year, 1, 1),
            last_date=date(local_end.year + 1, 1, 1),
        )
    )
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def calendar_part(ics: bytes, method: str) -> EmailMessage:
    """The MIME part Outlook and Gmail turn into Accept/Decline (see the module docstring).

    Base64 keeps the calendar's CRLF line ends and UTF-8 names exactly as written, whatever
    the relays in between do to text.
    """
    part = EmailMessage()
    part.set_content(
        ics,
        maintype="text",
        subtype="calendar",
        cte="base64",
        params={"method": method, "charset": "utf-8"},
    )
    del part["MIME-Version"]  # a header of the whole message, not of one of its parts
    return part


def _person(name: str, address: str) -> vCalAddress:
    if not address or any(ch.isspace() or not ch.isprintable() for ch in address):
        raise ValueError(f"not an address: {address!r}")  # it is written out unescaped
    value = vCalAddress(f"mailto:{address}")
    if cn := _display_name(name):
        value.params["CN"] = cn
    return value


def _display_name(name: str) -> str:
    """A CN every client shows as written: a double quote cannot stand in a parameter, and its
    RFC 6868 escape (^') is shown raw by Outlook, so it becomes an apostrophe; line breaks and
    other controls become spaces."""
    cleaned = "".join(" " if not ch.isprintable() else ch for ch in name.replace('"', "'"))
    return " ".join(cleaned.split())


def _invitee(name: str, address: str) -> vCalAddress:
    """RSVP=TRUE and NEEDS-ACTION are what make clients offer Accept/Decline and send a REPLY."""
    value = _person(name, address)
    value.params["ROLE"] = "REQ-PARTICIPANT"
    value.params["PARTSTAT"] = "NEEDS-ACTION"
    value.params["RSVP"] = "TRUE"
    return value
