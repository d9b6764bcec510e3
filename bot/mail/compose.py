"""Build the outgoing MIME message: text + HTML alternative, threading and anti-loop headers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from bot.render import Rendered
from bot.workflows.effects import Attachment

_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|ref|rif|res|r|antw|odp)\s*(\[\d+\])?\s*:\s*)+", re.I)


@dataclass(frozen=True)
class Envelope:
    sender: str  # "Name <addr>"
    sender_addr: str
    to: tuple[str, ...]
    message_id: str
    date: datetime
    in_reply_to: str = ""
    references: tuple[str, ...] = ()


def reply_subject(subject: str) -> str:
    """'Re: ' once, whatever prefixes the clients added in their languages."""
    return "Re: " + _REPLY_PREFIX.sub("", subject).strip()


def build_message(env: Envelope, body: Rendered, attachments: tuple[Attachment, ...] = ()) -> bytes:
    """The bytes to send; generated once and stored in the outbox, so a retry is the same mail."""
    msg = EmailMessage()
    msg["From"] = env.sender
    msg["To"] = ", ".join(env.to)
    msg["Subject"] = body.subject
    msg["Date"] = format_datetime(env.date)
    msg["Message-ID"] = env.message_id
    if env.in_reply_to:
        msg["In-Reply-To"] = env.in_reply_to
    if env.references:
        msg["References"] = " ".join(env.references[-20:])
    # RFC 3834: we are a robot; ask others' robots (Exchange OOF too) not to answer us.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply, DR, RN, NRN"
    msg["Reply-To"] = env.sender
    msg.set_content(body.text, cte="quoted-printable")
    msg.add_alternative(body.html, subtype="html", cte="quoted-printable")
    for att in attachments:
        maintype, _, subtype = att.mime_type.partition("/")
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype, filename=att.filename)
    return msg.as_bytes()


def sender(name: str, address: str) -> str:
    return formataddr((name, address))
