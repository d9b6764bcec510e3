"""Composing, not storing: a Mail effect becomes finished mails, each rendered in its reader's
language, given a signed Message-ID, threaded, and built as MIME with anti-loop headers."""

from __future__ import annotations

import mailbox
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from bot.domain.effects import Mail
from bot.domain.types import Attachment, Composed
from bot.inbound.match import mint_message_id
from bot.render import Rendered, Renderer
from bot.textsafe import header_text

SUBJECT_LIMIT = 250  # characters; a subject is one line a reader scans, not a document
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
    msg["Subject"] = header_text(body.subject, SUBJECT_LIMIT)  # titles are senders' words
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


def from_header(name: str, address: str) -> str:
    """The bot's From: its configured name (trusted, so kept as written), cleaned of controls."""
    return formataddr((header_text(name), address))


def thread_mbox(item_id: int, entries: list[tuple[datetime, bytes]]) -> Attachment:
    """Every mail of the round, sent and received, in time order, as one mbox file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "thread.mbox"
        box = mailbox.mbox(str(path))
        for _, raw in entries:
            box.add(raw)
        box.close()
        content = path.read_bytes()
    return Attachment(f"item-{item_id}-thread.mbox", content, "application/mbox")


@dataclass(frozen=True)
class Composer:
    """Turns a Mail effect into finished mails, one per recipient (or one for a group)."""

    renderer: Renderer
    secret: str
    sender: str
    sender_addr: str

    @property
    def domain(self) -> str:
        return self.sender_addr.rpartition("@")[2]

    def compose(
        self,
        mail: Mail,
        base: dict[str, Any],
        now: datetime,
        thread_root: Callable[[int | None], str | None],
        extra: tuple[Attachment, ...] = (),
    ) -> list[Composed]:
        """`thread_root(person_id)`: the first mail of this item to them, to thread under."""
        attachments = (*mail.attachments, *extra)
        groups = [(p,) for p in mail.to] if mail.personal else [mail.to]
        out = []
        for people in groups:
            if not people:
                continue
            person_id = people[0].id if mail.personal else None
            context = {**base, **mail.context, "recipient": people[0]}
            body = self.renderer.render(mail.template, context, people[0].language)
            mid = mint_message_id(self.secret, self.domain, mail.item_id, person_id)
            in_reply_to, refs = self._thread(mail, person_id, thread_root)
            env = Envelope(
                self.sender,
                self.sender_addr,
                tuple(p.email for p in people),
                mid,
                now,
                in_reply_to,
                refs,
            )
            out.append(
                Composed(
                    message_id=mid,
                    item_id=mail.item_id,
                    person_id=person_id,
                    purpose=mail.purpose,
                    recipients=tuple(p.email for p in people),
                    subject=body.subject,
                    raw=build_message(env, body, attachments),
                )
            )
        return out

    @staticmethod
    def _thread(
        mail: Mail, person_id: int | None, thread_root: Callable[[int | None], str | None]
    ) -> tuple[str, tuple[str, ...]]:
        """Reply under the received message, else under the first mail of this item to them."""
        if mail.reply_to is not None:
            refs = (*mail.reply_to.references, mail.reply_to.message_id)
            return mail.reply_to.message_id, tuple(dict.fromkeys(refs))
        if mail.item_id is None:
            return "", ()
        root = thread_root(person_id)
        return (root, (root,)) if root else ("", ())
