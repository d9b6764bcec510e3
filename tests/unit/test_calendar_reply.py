"""Calendar answers: real clients' REPLYs are read right; anything else is None, not a guess."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.inbound.calendar import CalendarReply, calendar_parts, read_method, read_reply
from tests.conftest import FIXTURES

CAL = FIXTURES / "calendar"
APPLE_ACCEPTED = CAL / "apple-ccs-calendarserver/txdav/caldav/datastore/scheduling/imip/test/data"
JAMES = CAL / "apache-james"
LIGHTNING_SINGLE_PART = (
    JAMES / "server/mailet/integration-testing/src/main/resources/eml/calendar.eml"
)
LIGHTNING_ICS_IN_HEADER = JAMES / "mailet/icalendar/src/test/resources/ics_in_header.eml"
OUTLOOK_COUNTER = JAMES / "mailbox/store/src/test/resources/eml/calendar.eml"
GOOGLE_FORWARDED = JAMES / "mailet/standard/src/test/resources/mime/gmail.mime"
YAHOO_REQUEST = (
    JAMES / "server/mailet/integration-testing/src/main/resources/eml/yahooInvitation.eml"
)
EXCHANGE_DECLINED = CAL / "icalevents/test/test_data/response.ics"
EXCHANGE_TWO_ATTENDEES = CAL / "icalevents/test/test_data/multi_attendee_response.ics"
GOOGLE_REQUEST = CAL / "postal-mime/test/fixtures/calendar-event.eml"
YANDEX_REQUEST = (
    CAL
    / "simple-java-mail/modules/simple-java-mail/src/test/resources/test-messages"
    / "#552 broken calendar method.eml"
)
OUTLOOK_REQUEST = CAL / "php-mime-mail-parser/tests/mails/m0020"

REQUESTS = [GOOGLE_REQUEST, YANDEX_REQUEST, YAHOO_REQUEST, OUTLOOK_REQUEST, GOOGLE_FORWARDED]


def mail(ics: str | bytes, content_type: str = "text/calendar; method=REPLY") -> bytes:
    """A calendar answer as Outlook sends one: a short text, then the calendar, base64, as an
    alternative; `content_type` is what the client wrote on the calendar part."""
    msg = EmailMessage()
    msg["From"] = "Ana Lima <ana.lima@example.org>"
    msg["To"] = "cg@cg.example"
    msg["Subject"] = "Accepted: Coordination Group call"
    msg.set_content("Ana Lima has answered.")
    body = ics.encode() if isinstance(ics, str) else ics
    maintype, _, subtype = content_type.split(";")[0].partition("/")
    params = dict(p.strip().split("=", 1) for p in content_type.split(";")[1:] if "=" in p)
    msg.add_alternative(body, maintype=maintype, subtype=subtype, cte="base64", params=params)
    return msg.as_bytes()


def ics(*lines: str) -> str:
    """A calendar written line by line, CRLF as RFC 5545 says."""
    return "\r\n".join(lines) + "\r\n"


def reply_event(*lines: str, method: str = "REPLY") -> str:
    """A calendar with one VEVENT around `lines`: the smallest REPLY a test needs."""
    return ics(
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Example//Hand-written test//EN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        "UID:cg.meeting.12@cg.example",
        "DTSTAMP:20250301T101500Z",
        "DTSTART:20250304T140000Z",
        *lines,
        "END:VEVENT",
        "END:VCALENDAR",
    )


# --- the permissive corpus --------------------------------------------------------------------


def test_apple_ical_accepted_reply_is_read() -> None:
    # Apple Mail attaches the REPLY with no method= in its Content-Type, quoted-printable.
    reply = read_reply((APPLE_ACCEPTED / "good_reply").read_bytes())
    assert reply == CalendarReply(
        uid="1E71F9C8-AEDA-48EB-98D0-76E898F6BB5C",
        attendee="xyzzy@example.com",
        partstat="ACCEPTED",
        comment="",
        sequence=7,
        method="REPLY",
    )


def test_lightning_single_part_reply_is_read() -> None:
    # Lightning sends the calendar as the whole message, with LF line ends and a folded UID.
    reply = read_reply(LIGHTNING_SINGLE_PART.read_bytes())
    assert reply is not None
    assert reply.partstat == "ACCEPTED"
    assert reply.attendee == "user1to@linagora.com"  # upper case in the sample, folded line
    assert reply.sequence == 2
    assert reply.uid.startswith("f1514f44bf39311568d6407249cb76c4") and reply.uid.endswith("b8f6")
    assert " " not in reply.uid


def test_lightning_reply_written_into_the_part_headers_is_rescued() -> None:
    # A relay put the calendar where the part's headers go; the lines are all there, so read it.
    raw = LIGHTNING_ICS_IN_HEADER.read_bytes()
    (body,) = calendar_parts(raw)
    assert body.startswith(b"BEGIN:VCALENDAR") and body.rstrip().endswith(b"END:VCALENDAR")
    reply = read_reply(raw)
    assert reply is not None
    assert (reply.attendee, reply.partstat, reply.sequence) == ("alice@linagora.com", "ACCEPTED", 0)
    assert reply.uid.endswith("a01ba232a553df751eb0931728d67672")


def test_exchange_declined_reply_keeps_its_comment() -> None:
    # Exchange writes no ORGANIZER and puts the member's note in COMMENT;LANGUAGE=...
    reply = read_reply(mail(EXCHANGE_DECLINED.read_bytes()))
    assert reply == CalendarReply(
        uid="ecc5e718-08eb-4247-a871-d7e09a3ffbbc@localhost",
        attendee="calendar@gmail.com",
        partstat="DECLINED",
        comment="test-message-from-the-calendar",
        sequence=1,
        method="REPLY",
    )


def test_reply_naming_two_attendees_is_not_counted() -> None:
    # Whose answer would it be? Two ATTENDEEs in a REPLY go to review, not to the first one.
    assert read_reply(mail(EXCHANGE_TWO_ATTENDEES.read_bytes())) is None


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: p.parent.name + "/" + p.name)
def test_invitations_are_not_replies_but_say_request(path: Path) -> None:
    # An invitation sent to the bot must not be taken for an answer, and must be recognisable.
    raw = path.read_bytes()
    assert read_reply(raw) is None
    assert read_method(raw) == "REQUEST"


@pytest.mark.parametrize("path", [GOOGLE_REQUEST, YANDEX_REQUEST, YAHOO_REQUEST])
def test_the_same_calendar_twice_counts_once(path: Path) -> None:
    # Google, Yandex and Yahoo send one calendar inline and again as invite.ics (LF vs CRLF).
    (body,) = calendar_parts(path.read_bytes())
    assert body.lstrip().startswith(b"BEGIN:VCALENDAR")


def test_two_different_calendars_are_both_kept() -> None:
    # In this forwarded Google invite the two copies really differ (one was anonymised upstream).
    assert len(calendar_parts(GOOGLE_FORWARDED.read_bytes())) == 2


def test_calendar_parts_are_decoded_from_their_transfer_encoding() -> None:
    # Apple's part is quoted-printable with =0D=0A: the caller gets the calendar, not the QP.
    (body,) = calendar_parts((APPLE_ACCEPTED / "good_reply").read_bytes())
    assert body.startswith(b"BEGIN:VCALENDAR\r\nPRODID:-//example Inc.//iCal 3.0//EN\r\n")


def test_a_counter_proposal_is_recognised_and_not_counted() -> None:
    # Outlook's "propose new time" (truncated upstream) is a COUNTER: review, not attendance.
    raw = OUTLOOK_COUNTER.read_bytes()
    assert read_method(raw) == "COUNTER"
    assert read_reply(raw) is None


# --- quirks the corpus shows only under copyleft licences, written here by hand ----------------


def test_reply_without_attendee_is_none() -> None:
    # Spark sends METHOD:REPLY with no ATTENDEE at all: there is no answer in it.
    spark_like = reply_event(
        "DTEND:20250304T153000Z",
        "SUMMARY:Coordination Group call",
        "ORGANIZER;CN=Secretariat, CG:mailto:cg@cg.example",  # unquoted comma, as sent
    )
    raw = mail(spark_like)
    assert read_reply(raw) is None
    assert read_method(raw) == "REPLY"


def test_reply_that_is_a_notification_is_none() -> None:
    # Apple Support appointment mails say METHOD:REPLY twice and name no attendee.
    notice = ics(
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Example//Appointments//EN",
        "METHOD:REPLY",
        "METHOD:REPLY",
        "BEGIN:VEVENT",
        "UID:appointment-0042@appointments.example",
        "DTSTAMP:20250301T101500Z",
        "DTSTART;TZID=America/Los_Angeles:20250305T093000",
        "SUMMARY:Your appointment",
        "LOCATION:Example Store",
        "END:VEVENT",
        "END:VCALENDAR",
    )
    raw = mail(notice, "text/calendar")
    assert read_reply(raw) is None
    assert read_method(raw) == "REPLY"


EXCHANGE_ACCEPTED = ics(
    "BEGIN:VCALENDAR",
    "METHOD:REPLY",
    "PRODID:Microsoft Exchange Server 2010",
    "VERSION:2.0",
    "BEGIN:VTIMEZONE",
    "TZID:W. Europe Standard Time",
    "BEGIN:STANDARD",
    "DTSTART:16010101T030000",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "DTSTART:16010101T020000",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
    "BEGIN:VEVENT",
    "ATTENDEE;PARTSTAT=ACCEPTED;CN=Ana Lima:MAILTO:Ana.Lima@Example.ORG",
    "COMMENT;LANGUAGE=pt-BR:Estarei presente\\, até já.\\n",
    "SUMMARY;LANGUAGE=pt-BR:Aceito: Coordination Group call",
    "DTSTART;TZID=W. Europe Standard Time:20250304T150000",
    "DTEND;TZID=W. Europe Standard Time:20250304T163000",
    "UID:cg.meeting.12@cg.example",
    "CLASS:PUBLIC",
    "PRIORITY:5",
    "DTSTAMP:20250301T101500Z",
    "TRANSP:OPAQUE",
    "STATUS:CONFIRMED",
    "SEQUENCE:3",
    "X-MICROSOFT-CDO-APPT-SEQUENCE:3",
    "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
    "END:VEVENT",
    "END:VCALENDAR",
)


def test_exchange_reply_without_organizer_with_windows_zone_and_upper_case_mailto() -> None:
    # Exchange: no ORGANIZER, `W. Europe Standard Time`, `MAILTO:` and a mixed-case address.
    assert read_reply(mail(EXCHANGE_ACCEPTED)) == CalendarReply(
        uid="cg.meeting.12@cg.example",
        attendee="ana.lima@example.org",
        partstat="ACCEPTED",
        comment="Estarei presente, até já.",
        sequence=3,
        method="REPLY",
    )


def test_exchange_internal_zone_name_does_not_spoil_the_reply() -> None:
    # `TZID=tzone://Microsoft/Utc` is unreadable as a date, but the answer is elsewhere.
    internal = EXCHANGE_ACCEPTED.replace(
        "TZID=W. Europe Standard Time", "TZID=tzone://Microsoft/Utc"
    )
    reply = read_reply(mail(internal))
    assert reply is not None and reply.partstat == "ACCEPTED"


def test_tentative_reply_is_read() -> None:
    # "Maybe" is an answer the Secretariat wants to see, in lower case or upper.
    tentative = reply_event(
        "ORGANIZER;CN=CG Secretariat:mailto:cg@cg.example",
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=tentative;CN=zoe@y.org;"
        "X-NUM-GUESTS=0:mailto:zoe@y.org",
        "COMMENT:Might be late",
        "SEQUENCE:0",
    )
    reply = read_reply(mail(tentative, "text/calendar; method=REPLY; charset=UTF-8"))
    assert reply is not None
    assert (reply.partstat, reply.attendee, reply.comment) == (
        "TENTATIVE",
        "zoe@y.org",
        "Might be late",
    )


def test_attendee_known_only_by_its_email_parameter() -> None:
    # CalDAV servers write a urn:uuid: principal and give the address in EMAIL=.
    by_email = reply_event(
        "ATTENDEE;PARTSTAT=DECLINED;EMAIL=Zoe.Ng@Y.org;CN=Zoë Ng:"
        "urn:uuid:5a7cf0d2-2b8c-4e43-9b1f-0d1e2f3a4b5c",
    )
    reply = read_reply(mail(by_email))
    assert reply is not None and (reply.attendee, reply.partstat) == ("zoe.ng@y.org", "DECLINED")


def test_mailto_wins_over_email_parameter() -> None:
    # When the value is a mailto:, that is the address the invitation went to.
    both = reply_event("ATTENDEE;PARTSTAT=ACCEPTED;EMAIL=other@y.org:mailto:zoe@y.org")
    reply = read_reply(mail(both))
    assert reply is not None and reply.attendee == "zoe@y.org"


def test_attendee_inside_an_alarm_is_not_an_invitee() -> None:
    # Google puts an ATTENDEE in its VALARM (ACTION:EMAIL); it is not a second answer.
    with_alarm = reply_event(
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@y.org",
        "BEGIN:VALARM",
        "ACTION:EMAIL",
        "DESCRIPTION:Reminder",
        "SUMMARY:Reminder",
        "ATTENDEE:mailto:zoe@y.org",
        "TRIGGER:-P0DT0H30M0S",
        "END:VALARM",
    )
    reply = read_reply(mail(with_alarm))
    assert reply is not None and reply.partstat == "ACCEPTED"


@pytest.mark.parametrize(
    "calendar",
    [
        reply_event("ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:zoe@y.org"),
        reply_event("ATTENDEE;PARTSTAT=DELEGATED:mailto:zoe@y.org"),
        reply_event("ATTENDEE:mailto:zoe@y.org"),
        reply_event("ATTENDEE;PARTSTAT=ACCEPTED:zoe at y dot org"),
        reply_event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@y.org", "SEQUENCE:two"),
        reply_event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@y.org", method="REQUEST"),
        reply_event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@y.org", method="COUNTER"),
        reply_event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@y.org").replace(
            "UID:cg.meeting.12@cg.example\r\n", ""
        ),
        reply_event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@y.org").replace(
            "END:VEVENT", "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:other\r\nEND:VEVENT"
        ),
        reply_event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@y.org").replace(
            "METHOD:REPLY", "METHOD:REPLY\r\nMETHOD:PUBLISH"
        ),
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nthis is not a content line\r\nEND:VCALENDAR\r\n",
        "",
    ],
    ids=[
        "needs-action",
        "delegated",
        "no-partstat",
        "not-an-address",
        "unreadable-sequence",
        "request",
        "counter",
        "no-uid",
        "two-events",
        "two-methods",
        "garbage",
        "empty",
    ],
)
def test_what_is_not_one_clear_answer_is_none(calendar: str) -> None:
    # Each of these would be a guess; the caller sends the mail to review instead.
    assert read_reply(mail(calendar)) is None


def test_method_comes_from_the_body_not_the_content_type() -> None:
    # Many clients omit method= or, after forwarding, state one that no longer fits.
    raw = mail(reply_event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@y.org"), "application/ics")
    assert read_method(raw) == "REPLY"
    assert read_reply(raw) is not None
    relabelled = mail(reply_event(method="CANCEL"), "text/calendar; method=REPLY")
    assert read_method(relabelled) == "CANCEL"


def test_the_same_reply_twice_is_one_reply_and_two_answers_are_none() -> None:
    # A copy with other line ends is the same answer; two different answers are ambiguous.
    accepted = reply_event("ATTENDEE;PARTSTAT=ACCEPTED:mailto:zoe@y.org")
    declined = accepted.replace("ACCEPTED", "DECLINED")

    def two(first: str, second: str) -> bytes:
        msg = EmailMessage()
        msg.set_content("Answer")
        for body, cte in ((first, "quoted-printable"), (second, "base64")):
            msg.add_attachment(
                body.encode(), maintype="application", subtype="ics", cte=cte, filename="a.ics"
            )
        return msg.as_bytes()

    same = two(accepted.replace("\r\n", "\n"), accepted)
    assert len(calendar_parts(same)) == 1
    assert read_reply(same) is not None
    assert read_reply(two(accepted, declined)) is None


def test_mail_without_a_calendar_has_none_of_it() -> None:
    # Most mail the bot reads is plain text: no parts, no method, no reply.
    msg = EmailMessage()
    msg["Subject"] = "Re: [CG-12] Coordination Group call"
    msg.set_content(
        "Apologies, I cannot make it.\nBEGIN:VCALENDAR in a sentence is not a calendar."
    )
    raw = msg.as_bytes()
    assert calendar_parts(raw) == []
    assert read_method(raw) is None
    assert read_reply(raw) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    # Hostile mail reaches this reader; it answers None, it never crashes the intake.
    reply, method, parts = read_reply(raw), read_method(raw), calendar_parts(raw)
    assert reply is None or isinstance(reply, CalendarReply)
    assert method is None or isinstance(method, str)
    assert all(isinstance(part, bytes) for part in parts)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_damaged_real_replies_never_raise(data: st.DataObject) -> None:
    # Truncated or spliced copies of real replies exercise the parser deeper than random bytes.
    raw = data.draw(st.sampled_from([LIGHTNING_SINGLE_PART, APPLE_ACCEPTED / "good_reply"]))
    blob = raw.read_bytes()
    cut = data.draw(st.integers(0, len(blob)))
    junk = data.draw(st.binary(max_size=40))
    for damaged in (blob[:cut], blob[:cut] + junk + blob[cut:]):
        read_reply(damaged)
        read_method(damaged)
