"""Replies as real mail clients write them, for the demo and the tests.

Each function returns the raw bytes a member's client would send in reply to one of the bot's
mails: its own MIME shape, quote style, headers and footers (Outlook, Gmail, Apple Mail,
an iPhone, an out-of-office responder)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import format_datetime, formataddr, make_msgid
from functools import partial

from bot.mail.compose import reply_subject


class Original:
    """The bot mail being answered: its headers and plain text, for quoting."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        msg = BytesParser(policy=default).parsebytes(raw)
        self.message_id = str(msg["Message-ID"])
        self.references = str(msg.get("References", "")).split()
        self.subject = str(msg["Subject"])
        self.sender = str(msg["From"])
        self.date = str(msg["Date"])
        body = msg.get_body(preferencelist=("plain",))
        self.text = body.get_content() if body is not None else ""


def _base(
    original: Original, name: str, address: str, to: str, when: datetime, subject: str | None = None
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((name, address))
    msg["To"] = to
    msg["Subject"] = subject or reply_subject(original.subject)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=address.split("@")[1])
    msg["In-Reply-To"] = original.message_id
    msg["References"] = " ".join([*original.references, original.message_id])
    return msg


def _quoted(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def outlook(
    original: Original, name: str, address: str, to: str, when: datetime, answer: str
) -> bytes:
    """Outlook desktop: HTML + text, the From:/Sent:/To:/Subject: block, no '>' quoting."""
    msg = _base(original, name, address, to, when)
    msg["X-Mailer"] = "Microsoft Outlook 16.0"
    msg["Thread-Index"] = "AdtGx1x2Y3Z4a5b6c7d8e9f0"
    header = (
        f"From: {original.sender}\nSent: {original.date}\nTo: {name} <{address}>\n"
        f"Subject: {original.subject}"
    )
    msg.set_content(f"{answer}\n\n________________________________\n{header}\n\n{original.text}")
    quoted_html = html.escape(original.text).replace("\n", "<br>")
    msg.add_alternative(
        f"<html><body><div>{html.escape(answer).replace(chr(10), '<br>')}</div>"
        f'<div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> '
        f"{html.escape(original.sender)}<br><b>Sent:</b> {original.date}</div>"
        f"<div>{quoted_html}</div></body></html>",
        subtype="html",
    )
    return msg.as_bytes()


def gmail(
    original: Original,
    name: str,
    address: str,
    to: str,
    when: datetime,
    answer: str,
    header: str = "On {date}, {sender} wrote:",
) -> bytes:
    """Gmail web: HTML + text, 'On ... wrote:' then '>' quoting; the header may be localised."""
    msg = _base(original, name, address, to, when)
    head = header.format(date=original.date, sender=original.sender)
    msg.set_content(f"{answer}\n\n{head}\n\n{_quoted(original.text)}\n")
    msg.add_alternative(
        f'<div dir="ltr">{html.escape(answer).replace(chr(10), "<br>")}</div><br>'
        f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{html.escape(head)}</div>'
        f'<blockquote class="gmail_quote">{html.escape(original.text)}</blockquote></div>',
        subtype="html",
    )
    return msg.as_bytes()


def apple_mail(
    original: Original,
    name: str,
    address: str,
    to: str,
    when: datetime,
    answer: str,
    footer: str = "Sent from my iPhone",
) -> bytes:
    """Apple Mail / iPhone: plain text, format=flowed, footer, 'On ..., at ..., X wrote:'."""
    msg = _base(original, name, address, to, when)
    msg["X-Mailer"] = "iPhone Mail (21F90)"
    head = f"On {original.date}, {original.sender} wrote:"
    body = f"{answer}\n\n{footer}\n\n> {head}\n>\n{_quoted(original.text)}\n"
    msg.set_content(body)
    msg.set_param("format", "flowed")
    return msg.as_bytes()


def html_only(
    original: Original, name: str, address: str, to: str, when: datetime, answer: str
) -> bytes:
    """A web client that sends only HTML, with the original in a blockquote."""
    msg = _base(original, name, address, to, when)
    msg.set_content(
        f'<html><body><p>{html.escape(answer)}</p><blockquote type="cite">'
        f"{html.escape(original.text)}</blockquote></body></html>",
        subtype="html",
    )
    return msg.as_bytes()


def command(name: str, address: str, to: str, when: datetime, subject: str, body: str) -> bytes:
    """A new mail (not a reply), as the Secretariat writes a command to the bot."""
    msg = EmailMessage()
    msg["From"] = formataddr((name, address))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=address.split("@")[1])
    msg.set_content(body)
    return msg.as_bytes()


def calendar_answer(
    original: Original, name: str, address: str, to: str, when: datetime, partstat: str, note: str
) -> bytes:
    """Outlook's Accept/Decline: a new message (no In-Reply-To), a text/calendar REPLY naming
    the invitation's UID, no ORGANIZER, the attendee in upper-case MAILTO:."""
    uid = re.search(rb"^UID:(.+?)\r?$", _calendar_of(original.raw), re.M)
    assert uid is not None, "the original carries no invitation"
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nPRODID:Microsoft Exchange Server 2010\r\n"
        "VERSION:2.0\r\nBEGIN:VEVENT\r\n"
        f"ATTENDEE;PARTSTAT={partstat};CN={name}:MAILTO:{address.upper()}\r\n"
        f"COMMENT;LANGUAGE=en-GB:{note}\r\nUID:{uid.group(1).decode()}\r\n"
        "SEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    msg = EmailMessage()
    msg["From"] = formataddr((name, address))
    msg["To"] = to
    msg["Subject"] = f"{partstat.title()}: {original.subject}"
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=address.split("@")[1])
    msg.set_content(note)
    msg.add_alternative(
        ics.encode(), maintype="text", subtype="calendar", params={"method": "REPLY"}
    )
    return msg.as_bytes()


def _calendar_of(raw: bytes) -> bytes:
    msg = BytesParser(policy=default).parsebytes(raw)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    return b""


def with_attachment(raw: bytes, name: str, content: bytes, mime_type: str) -> bytes:
    """The same mail with a file attached (a paper the Secretariat sends)."""
    msg = BytesParser(policy=default).parsebytes(raw)
    maintype, _, subtype = mime_type.partition("/")
    msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)  # type: ignore[attr-defined]
    return msg.as_bytes()


def out_of_office(original: Original, name: str, address: str, to: str, when: datetime) -> bytes:
    """An Exchange-style automatic reply (RFC 3834 Auto-Submitted: auto-replied)."""
    msg = _base(original, name, address, to, when, subject=f"Automatic reply: {original.subject}")
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(f"I am out of the office until Monday with limited access to email.\n\n{name}")
    return msg.as_bytes()


Writer = Callable[["Original", str, str, str, datetime, str], bytes]


# Client styles by name, for labelled reply sets (tests/fixtures/ballot-replies.json).
CLIENTS: dict[str, Writer] = {
    "outlook": outlook,
    "gmail": gmail,
    "gmail_fr": partial(gmail, header="Le {date}, {sender} a écrit :"),
    "gmail_es": partial(gmail, header="El {date}, {sender} escribió:"),
    "gmail_pt": partial(gmail, header="Em {date}, {sender} escreveu:"),
    "apple_mail": apple_mail,
    "apple_mail_fr": partial(apple_mail, footer="Envoyé de mon iPhone"),
    "apple_mail_pt": partial(apple_mail, footer="Enviado do meu iPhone"),
    "html_only": html_only,
}
