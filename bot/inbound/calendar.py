"""Calendar answers in mail (iTIP over iMIP, RFC 5546 / RFC 6047), read without trusting the client.

Real clients disagree (tests/fixtures/calendar/SOURCE.md): the Content-Type often lacks
`method=`, so METHOD is read from the calendar itself; the same calendar often comes twice; a
"REPLY" may carry no attendee at all. A reply counts only when it is unambiguous, and anything
else is None, for the caller to send to review rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from icalendar import Calendar, Component

CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})
ANSWERS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE"})

_FOLD = re.compile(r"\r?\n[ \t]")
_FOLD_BYTES = re.compile(rb"\r?\n[ \t]")
_ADDRESS = re.compile(r"[^@\s:<>,;\"]+@[^@\s:<>,;\"]+")
_MAILTO = "mailto:"


@dataclass(frozen=True)
class CalendarReply:
    """One attendee's answer to one event; match it to an invitation by `uid` and `attendee`."""

    uid: str
    attendee: str  # the address, lower-cased, without mailto:
    partstat: str  # ACCEPTED, DECLINED or TENTATIVE
    comment: str  # the attendee's note, "" when there is none
    sequence: int  # the version of the event that was answered (0 when the client omits it)
    method: str  # always "REPLY": kept so that what was read can be logged as read


def calendar_parts(raw: bytes) -> list[bytes]:
    """Every distinct calendar body in a message, decoded, in MIME order; never raises.

    Google, Yahoo and Yandex send one calendar twice (inline and as invite.ics, one with LF and
    one with CRLF line ends): copies that differ only in line ends or folding count once.
    """
    found: list[bytes] = []
    seen: set[bytes] = set()
    if not _names_a_calendar(raw):
        return found  # not parsed a second time to learn that it has no calendar
    try:
        message = BytesParser(policy=compat32).parsebytes(raw)
        for part in _calendar_typed(message):
            body = _body(part)
            key = _comparable(body)
            if key and key not in seen:
                seen.add(key)
                found.append(body)
    except Exception:  # hostile or broken MIME: what was found so far is all there is
        return found
    return found


def _names_a_calendar(raw: bytes) -> bool:
    """A calendar part's Content-Type names one of CALENDAR_TYPES in plain ASCII (a media
    type is never encoded): a mail without those words has no calendar part."""
    low = raw.lower()
    return any(kind.encode() in low for kind in CALENDAR_TYPES)


def read_method(raw: bytes) -> str | None:
    """The METHOD (REQUEST, CANCEL, REPLY, COUNTER...) of the first calendar that states one.

    This tells an invitation or a cancellation sent to the bot from an answer to its own.
    """
    for body in calendar_parts(raw):
        method = _method(_text(body))
        if method:
            return method
    return None


def read_reply(raw: bytes) -> CalendarReply | None:
    """The one iTIP REPLY the message carries, or None when there is none or it is ambiguous.

    Two calendars that give different answers are ambiguous too: review decides, not the order
    in which a client happened to attach them.
    """
    replies = {reply for body in calendar_parts(raw) if (reply := _reply(body)) is not None}
    return replies.pop() if len(replies) == 1 else None


def _calendar_typed(message: Message) -> Iterator[Message]:
    """The parts whose type says calendar, wherever they sit (message/rfc822 included)."""
    for part in message.walk():
        if part.get_content_type() in CALENDAR_TYPES:
            yield part


def _body(part: Message) -> bytes:
    """The part's content, decoded from its transfer encoding (or rescued from its headers)."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes) and payload.strip():
        return payload
    return _calendar_in_headers(part)


def _calendar_in_headers(part: Message) -> bytes:
    """A relayed Lightning reply puts the calendar where the part's headers belong, so a MIME
    parser reads each content line as a header and the body as empty: put the lines back."""
    lines: list[str] = []
    for name, value in part.raw_items():
        line = f"{name}:{value}"
        if not lines and _unfolded(line).strip().upper() != "BEGIN:VCALENDAR":
            continue
        lines.append(line)
        if _unfolded(line).strip().upper() == "END:VCALENDAR":
            return ("\r\n".join(lines) + "\r\n").encode("utf-8", "surrogateescape")
    return b""


def _comparable(body: bytes) -> bytes:
    """The body with line ends, folding and surrounding blanks set aside, to spot copies."""
    unfolded = _FOLD_BYTES.sub(b"", body.replace(b"\r\n", b"\n"))
    return b"\n".join(line.rstrip() for line in unfolded.strip().split(b"\n"))


def _text(body: bytes) -> str:
    """iCalendar is UTF-8 (RFC 5545 3.1.4); a stray byte must not cost the whole answer."""
    return body.decode("utf-8", "replace").lstrip("\ufeff")


def _unfolded(text: str) -> str:
    return _FOLD.sub("", text)


def _method(text: str) -> str | None:
    """The first METHOD at the calendar's own level, read line by line so that a calendar
    icalendar refuses (a truncated Outlook COUNTER) still tells what it is."""
    depth = 0
    for line in _unfolded(text).splitlines():
        name, _, value = line.partition(":")
        name = name.strip().upper()
        if name == "BEGIN":
            depth += 1
        elif name == "END":
            depth -= 1
        elif depth == 1 and name.split(";", 1)[0] == "METHOD" and value.strip():
            return value.strip().upper()
    return None


def _reply(body: bytes) -> CalendarReply | None:
    """The REPLY in one calendar body, if it is one that can be counted."""
    try:
        calendars = Calendar.from_ical(_text(body), multiple=True)
        if len(calendars) != 1 or calendars[0].name != "VCALENDAR":
            return None
        return _reply_in(calendars[0])
    except Exception:  # icalendar rejects broken input in many ways; broken means "not counted"
        return None


def _reply_in(calendar: Component) -> CalendarReply | None:
    if _damaged(calendar, "METHOD"):
        return None
    method = _single_text(calendar, "METHOD")
    if method is None or method.upper() != "REPLY":
        return None
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    if len(events) != 1:
        return None
    event = events[0]
    if _damaged(event, "UID", "ATTENDEE", "SEQUENCE"):
        return None
    uid = _single_text(event, "UID")
    attendee = event.get("ATTENDEE")
    if not uid or attendee is None or isinstance(attendee, list):
        return None  # Spark and Apple Support send "REPLY"s with no attendee: not an answer
    partstat = str(attendee.params.get("PARTSTAT", "")).strip().upper()
    address = _address(str(attendee), attendee.params.get("EMAIL"))
    sequence = _sequence(event)
    if partstat not in ANSWERS or address is None or sequence is None:
        return None
    return CalendarReply(
        uid=uid,
        attendee=address,
        partstat=partstat,
        comment=_comment(event),
        sequence=sequence,
        method="REPLY",
    )


def _damaged(component: Component, *names: str) -> bool:
    """Whether icalendar could not read one of these properties: depending on its version it
    keeps them as unparsed values or drops them, and a dropped SEQUENCE must not read as 0."""
    return any(str(name).upper() in names for name, _ in component.errors)


def _single_text(component: Component, name: str) -> str | None:
    """A property that must occur once (METHOD, UID); twice is malformed, so None."""
    value = component.get(name)
    if value is None or isinstance(value, list):
        return None
    return str(value).strip()


def _address(value: str, email: object) -> str | None:
    """`MAILTO:Ana@X.org` -> `ana@x.org`; a value without mailto: (a CalDAV urn:uuid:) gives way
    to its EMAIL= parameter."""
    value = value.strip()
    if value.lower().startswith(_MAILTO):
        value = value[len(_MAILTO) :]
    elif email is not None and str(email).strip():
        value = str(email)
    value = value.strip().lower()
    return value if _ADDRESS.fullmatch(value) else None


def _sequence(event: Component) -> int | None:
    """SEQUENCE, 0 when absent (RFC 5545 3.8.7.4); an unreadable one makes the reply malformed."""
    value = event.get("SEQUENCE")
    if value is None:
        return 0
    if isinstance(value, list):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _comment(event: Component) -> str:
    """The attendee's note in any language, as plain text; several notes keep their order."""
    value = event.get("COMMENT")
    if value is None:
        return ""
    notes = value if isinstance(value, list) else [value]
    return "\n".join(text for note in notes if (text := str(note).strip()))
