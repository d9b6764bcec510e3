"""Composing, not storing: a Mail effect becomes finished mails, each rendered in its reader's
language, given a signed Message-ID, threaded, and built as MIME with anti-loop headers."""

from __future__ import annotations

import hashlib
import io
import mailbox
import random
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email import policy, quoprimime
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from email.policy import Compat32, compat32, default
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any

from bot.domain.effects import Mail
from bot.domain.types import Attachment, Composed, PersonView
from bot.inbound.match import mint_message_id, stable_token
from bot.mail.ical import calendar_part, invitation
from bot.render import Rendered, Renderer
from bot.textsafe import header_text

SUBJECT_LIMIT = 250  # characters; a subject is one line a reader scans, not a document
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|ref|rif|res|r|antw|odp)\s*(\[\d+\])?\s*:\s*)+", re.I)
_BLANK_LINE = re.compile(rb"\n\r?\n")  # where a MIME part's headers end


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


_SAFE_ID = re.compile(r"<[!#-'*-9;=?-Z^-~]{1,250}@[!#-'*-9;=?-Z^-~]{1,250}>")


def safe_id(message_id: str) -> bool:
    """A Message-ID that can go into a header as it is: no encoded word, nothing to decode."""
    return bool(_SAFE_ID.fullmatch(message_id)) and "=?" not in message_id


def _headers(env: Envelope, subject: str) -> list[tuple[str, str]]:
    """The top headers of every mail the bot sends, in order, as text."""
    headers = [
        ("From", env.sender),
        ("To", ", ".join(env.to)),
        ("Subject", header_text(subject, SUBJECT_LIMIT)),  # titles are senders' words
        ("Date", format_datetime(env.date)),
        ("Message-ID", env.message_id),
    ]
    references = [r for r in env.references[-20:] if safe_id(r)]
    if env.in_reply_to and safe_id(env.in_reply_to):
        headers.append(("In-Reply-To", env.in_reply_to))
    if references:
        headers.append(("References", " ".join(references)))
    # RFC 3834: we are a robot; ask others' robots (Exchange OOF too) not to answer us.
    headers.append(("Auto-Submitted", "auto-generated"))
    headers.append(("X-Auto-Response-Suppress", "OOF, AutoReply, DR, RN, NRN"))
    headers.append(("Reply-To", env.sender))
    return headers


def build_message(
    env: Envelope,
    body: Rendered,
    attachments: tuple[Attachment, ...] = (),
    calendar: tuple[bytes, str] | None = None,
) -> bytes:
    """The bytes to send; generated once and stored in the outbox, so a retry is the same mail.

    `calendar` (an iCalendar body and its METHOD) goes in as a third alternative, after the
    text and the HTML, which is where Outlook and Gmail look for Accept/Decline."""
    if not attachments and calendar is None:
        return _text_and_html(env, body)
    return _with_parts(env, body, attachments, calendar)


def _with_parts(
    env: Envelope,
    body: Rendered,
    attachments: tuple[Attachment, ...],
    calendar: tuple[bytes, str] | None,
) -> bytes:
    """A mail with files, inline images or a calendar: the email package's EmailMessage."""
    msg = EmailMessage()
    for name, value in _headers(env, body.subject):
        msg[name] = value
    msg.set_content(body.text, cte="quoted-printable")
    msg.add_alternative(body.html, subtype="html", cte="quoted-printable")
    html_part = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html")
    for att in (a for a in attachments if a.content_id):  # images the HTML shows inline
        maintype, _, subtype = att.mime_type.partition("/")
        html_part.add_related(
            att.content,
            maintype=maintype,
            subtype=subtype,
            cid=f"<{att.content_id}>",
            filename=att.filename,
            disposition="inline",
        )
    if calendar is not None:
        msg.attach(calendar_part(*calendar))
    for att in (a for a in attachments if not a.content_id):
        maintype, _, subtype = att.mime_type.partition("/")
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype, filename=att.filename)
    return msg.as_bytes()


def _quoted_printable(text: str, subtype: str) -> Message:
    """A UTF-8 text part in quoted-printable, encoded as EmailMessage.set_content encodes it:
    lines split on CR and LF only, then q-p at 78 columns."""
    lines = text.encode("utf-8").splitlines()
    part = Message(policy=compat32)
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), 78))
    return part


class _ShortLinesAsIs(Compat32):
    """compat32, except that a header line of printable ASCII that fits in 78 columns is
    written as it is: folding it through an email.header.Header returns the same line
    (tests/unit/test_compose_fast.py checks this against compat32 for any such value) at
    several times the cost, and a confirmation has a dozen such lines."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if (
            isinstance(value, str)
            and len(name) + 2 + len(value) <= (self.max_line_length or 0)
            and value.isascii()
            and value.isprintable()
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_SHORT_LINES_AS_IS = _ShortLinesAsIs()
_TOKEN_WIDTH = len(repr(sys.maxsize - 1))


def _boundary() -> str:
    """A boundary as the email package draws one. It is never checked against the parts: they
    are quoted-printable, where "=" is always "=3D" or a soft line break, so no line of theirs
    can hold the "==" of the boundary (the generator would compile a regex per mail to check)."""
    return "=" * 15 + str(random.randrange(sys.maxsize)).zfill(_TOKEN_WIDTH) + "=="


def _text_and_html(env: Envelope, body: Rendered) -> bytes:
    """A mail that is its text and its HTML only (most of what the bot sends: every
    confirmation), built from the email package's plain Message and compat32 generator:
    the same MIME as EmailMessage builds (tests/unit/test_compose_fast.py compares them),
    without parsing each header back into an object, at a quarter of the cost."""
    msg = Message(policy=compat32)
    for name, value in _headers(env, body.subject):
        # Only a subject can hold more than ASCII (From is encoded by formataddr): RFC 2047.
        if value.isascii():
            msg[name] = value
        else:  # Message stores a Header as it is, and the generator folds it as RFC 2047 words
            msg[name] = Header(value, "utf-8", header_name=name)  # type: ignore[assignment]
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = "multipart/alternative"
    msg.set_boundary(_boundary())
    msg.set_payload([_quoted_printable(body.text, "plain"), _quoted_printable(body.html, "html")])
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=_SHORT_LINES_AS_IS).flatten(msg)
    return out.getvalue()


def from_header(name: str, address: str) -> str:
    """The bot's From: its configured name (trusted, so kept as written), cleaned of controls."""
    return formataddr((header_text(name), address))


def archive_budget(max_message_bytes: int) -> int:
    """The largest .mbox that fits a mail of `max_message_bytes`: base64 turns 57 bytes into a
    78-byte line, and a tenth of the mail stays for its own text and HTML."""
    return max_message_bytes * 9 // 10 * 57 // 78


@dataclass
class _Spot:
    """One attachment of an archived mail: its headers and payload are raw[start:end]."""

    start: int
    end: int
    part: Message
    note: bytes | None = None  # what stands in its place once it is left out

    @property
    def saved(self) -> int:
        return self.end - self.start - len(self.note or b"")


def _is_attachment(part: Message) -> bool:
    """A file rather than the text of the mail: named, marked as one, or not text at all."""
    return (
        part.get_content_disposition() == "attachment"
        or part.get_filename() is not None
        or part.get_content_maintype() != "text"
    )


def _attachment_parts(msg: Message) -> Iterator[tuple[Message, str]]:
    """Each attachment directly inside a multipart, with that multipart's boundary, in the
    order of the bytes (forwarded mails included; the root of a mail never: its headers stay)."""
    payload = msg.get_payload()
    if not isinstance(payload, list):
        return
    boundary = msg.get_boundary() if msg.get_content_maintype() == "multipart" else None
    for part in payload:
        if not isinstance(part, Message):
            continue
        if part.is_multipart():
            yield from _attachment_parts(part)
        elif boundary and _is_attachment(part):
            yield part, boundary


def _spots(raw: bytes) -> list[_Spot]:
    """Where each attachment sits in the raw bytes, found by structure (delimiter line, blank
    line) and checked against the parsed payload; a part that cannot be placed is not touched."""
    spots: list[_Spot] = []
    cursor = 0
    for part, boundary in _attachment_parts(BytesParser(policy=compat32).parsebytes(raw)):
        payload = part.get_payload()
        try:
            if not isinstance(payload, str):
                continue
            data = payload.encode("ascii", "surrogateescape")
            delimiter = b"\n--" + boundary.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:  # not as it came in bytes: leave the part alone
            continue
        at = raw.find(delimiter, cursor)
        while at >= 0:
            start = raw.find(b"\n", at + 1) + 1
            blank = _BLANK_LINE.search(raw, start - 1) if start else None
            whole_line = start and not raw[at + len(delimiter) : start].strip()
            if whole_line and blank and raw.startswith(data, blank.end()):
                cursor = blank.end() + len(data)
                spots.append(_Spot(start, cursor, part))
                break
            at = raw.find(delimiter, at + 1)
    return spots


def _left_out_note(part: Message, linesep: bytes) -> bytes:
    """The text/plain part that stands in for an attachment: its name, size and SHA-256."""
    content = part.get_payload(decode=True)
    if not isinstance(content, bytes):
        content = b""
    name = part.get_filename()
    shown = f'"{header_text(name)}"' if name else "(no name)"
    note = MIMEPart(policy=default)
    note.set_content(
        "Left out of this archive to keep the mail deliverable:\n"
        f"File:    {shown}, {header_text(part.get_content_type())}\n"
        f"Size:    {len(content):,} bytes\n"
        f"SHA-256: {hashlib.sha256(content).hexdigest()}\n"
        "The original mail, with the file, is kept in the bot's archive.\n",
        cte="8bit",  # read as it stands in the .mbox; a long file name may not become q-p
    )
    return note.as_bytes(policy=default.clone(linesep=linesep.decode())).rstrip(b"\r\n")


def _mbox_cost(raw: bytes) -> int:
    """An upper bound on what one mail adds to an mbox: its bytes, the From_ line, the
    separating newlines and a '>' for each body line that starts with 'From '."""
    return len(raw) + raw.count(b"\nFrom ") + 64


def _leave_out(raw: bytes, spots: list[_Spot]) -> bytes:
    """The mail with each chosen attachment replaced by its note; headers byte for byte."""
    for spot in sorted(spots, key=lambda s: s.start, reverse=True):
        if spot.note is not None:
            raw = raw[: spot.start] + spot.note + raw[spot.end :]
    return raw


def attachments_of(raw: bytes) -> list[Attachment]:
    """The files attached to a received mail, as they were sent (a paper for a meeting).

    Only a part with a file name is a file, and a file name is a `name` or `filename`
    parameter (RFC 2045, 2183, 2231) in some part's headers: a mail without those four
    letters anywhere has no files, and is not parsed a second time to learn it."""
    if b"name" not in raw.lower():
        return []
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:  # a mail too broken to read has no papers to give
        return []
    out = []
    for part in msg.iter_attachments():
        name = part.get_filename()
        content: object = part.get_payload(decode=True)
        if name and isinstance(content, bytes):
            out.append(Attachment(header_text(name, 120), content, part.get_content_type()))
    return out


def thread_mbox(
    item_id: int, entries: list[tuple[datetime, bytes]], *, max_bytes: int, part_bytes: int
) -> Attachment:
    """Every mail of the round, sent and received, in time order, as one mbox file.

    Every mail stays, with its headers; an attachment over `part_bytes` is replaced by a note
    naming it (the original stays in the bot's archive), then the largest others, until the
    file is at most `max_bytes`. A thread that is too large without any attachment stays so."""
    raws = [raw for _, raw in entries]
    found = [_spots(raw) for raw in raws]
    total = sum(map(_mbox_cost, raws))
    queue = sorted(
        ((spot, raw) for raw, spots in zip(raws, found, strict=True) for spot in spots),
        key=lambda pair: pair[0].end - pair[0].start,
        reverse=True,
    )
    for spot, raw in queue:
        if spot.end - spot.start <= part_bytes and total <= max_bytes:
            break
        linesep = raw[spot.start - 2 : spot.start] if raw[spot.start - 2] == 13 else b"\n"
        spot.note = _left_out_note(spot.part, linesep)
        if spot.saved <= 0:  # only tiny files are left: a note would not make the file smaller
            spot.note = None
            break
        total -= spot.saved
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "thread.mbox"
        box = mailbox.mbox(str(path))
        for raw, spots in zip(raws, found, strict=True):
            box.add(_leave_out(raw, spots))
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
        thread_root: Callable[[tuple[PersonView, ...]], tuple[str, ...]],
        extra: tuple[Attachment, ...] = (),
    ) -> list[Composed]:
        """`thread_root(recipients)`: the References and Message-ID of the first mail of this
        item they got, to thread under (empty: this one starts their thread)."""
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
            in_reply_to, refs = self._thread(mail, people, thread_root)
            env = Envelope(
                self.sender,
                self.sender_addr,
                tuple(p.email for p in people),
                mid,
                now,
                in_reply_to,
                refs,
            )
            calendar = self._calendar(mail, now)
            out.append(
                Composed(
                    message_id=mid,
                    item_id=mail.item_id,
                    person_id=person_id,
                    purpose=mail.purpose,
                    recipients=tuple(p.email for p in people),
                    subject=body.subject,
                    raw=build_message(env, body, attachments, calendar),
                    priority=1 if mail.batched else 0,
                    # The sender of the trouble pays for answers to it; else the recipient.
                    cap_key=mail.cap_key
                    or (mail.reply_to.from_addr if mail.reply_to else people[0].email),
                )
            )
        return out

    def _calendar(self, mail: Mail, now: datetime) -> tuple[bytes, str] | None:
        """The invitation as iCalendar: our address organises, the item's signed UID names it."""
        inv = mail.invitation
        if inv is None or mail.item_id is None:
            return None
        uid = inv.uid or stable_token(self.secret, self.domain, mail.item_id)
        ics = invitation(
            method=inv.method,
            uid=uid,
            sequence=inv.sequence,
            summary=inv.summary,
            description=inv.description,
            start=inv.start,
            end=inv.end,
            tz=inv.zone,
            location=inv.location,
            organizer=(self.sender_name, self.sender_addr),  # (name, address)
            attendees=[(p.name, p.email) for p in inv.attendees],
            stamp=now,
        )
        return ics, inv.method

    @property
    def sender_name(self) -> str:
        return parseaddr(self.sender)[0] or self.sender_addr

    @staticmethod
    def _thread(
        mail: Mail,
        people: tuple[PersonView, ...],
        thread_root: Callable[[tuple[PersonView, ...]], tuple[str, ...]],
    ) -> tuple[str, tuple[str, ...]]:
        """Reply under the received message, else under the first mail of this item to them,
        whoever they are: a notice to the Secretariat joins the item's thread as a member's
        mail does."""
        if mail.reply_to is not None:
            refs = (*mail.reply_to.references, mail.reply_to.message_id)
            return mail.reply_to.message_id, tuple(dict.fromkeys(refs))
        if mail.item_id is None:
            return "", ()
        chain = tuple(dict.fromkeys(r for r in thread_root(people) if r))
        return (chain[-1], chain) if chain else ("", ())
