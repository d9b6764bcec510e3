"""Raw bytes -> InboundMessage, through mail-parser; severe damage becomes a typed refusal."""

from __future__ import annotations

import email
import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from typing import Any

import mailparser

from bot.domain.message import DeliveryStatus, InboundMessage
from bot.domain.refusals import Malformed
from bot.inbound.htmltext import html_to_text

# Defects after which we cannot trust what we would read as the member's words.
SEVERE_DEFECTS = (
    "StartBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "NoBoundaryInMultipartDefect",
    "MissingHeaderBodySeparatorDefect",
    "CharsetDecodeDefect",
)

# A Message-ID as RFC 5322 writes it: printable ASCII, one @, no quoting, and never an encoded
# word: it is copied into the In-Reply-To of the bot's answers, where Python 3.11 before 3.11.10
# would decode `=?...?=` into real header lines (CVE-2024-6923).
_MSGID = re.compile(r"<[!#-'*-9;=?-Z^-~]{1,250}@[!#-'*-9;=?-Z^-~]{1,250}>")
_ENCODED = re.compile(r"=\?")
DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")


def _delivery(msg: Message) -> tuple[DeliveryStatus, ...]:
    out = []
    for part in msg.walk():
        if part.get_content_type() not in DSN_TYPES:
            continue
        payload = part.get_payload()
        blocks = payload if isinstance(payload, list) else []
        for block in blocks:
            if not isinstance(block, Message):
                continue
            recipient = str(block.get("final-recipient") or block.get("original-recipient") or "")
            if not recipient:
                continue
            out.append(
                DeliveryStatus(
                    recipient.split(";")[-1].strip().strip("<>").lower(),
                    str(block.get("action", "")).strip().lower(),
                    str(block.get("status", "")).strip(),
                )
            )
    return tuple(out)


def message_ids(value: str) -> tuple[str, ...]:
    """Every <id> in a header value, in order, lower-cased on nothing (ids are case-sensitive)."""
    return tuple(m for m in _MSGID.findall(value or "") if not _ENCODED.search(m))


# The first empty line, as the email package splits lines (CRLF, lone CR, lone LF): where the
# headers end. A CR directly before an LF is one line end, never an empty line of its own.
_EMPTY_LINE = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?:\r\n|\r(?!\n)|\n)")


def header_block(raw: bytes) -> bytes:
    """The bytes up to and including the empty line that ends the headers (all of `raw` when
    there is none): what a headers-only parse reads, without walking a large body line by
    line to reach its end."""
    end = _EMPTY_LINE.search(raw)
    return raw if end is None else raw[: end.end()]


def read_headers(raw: bytes) -> Message:
    """The headers alone, as `BytesHeaderParser(policy=compat32)` reads them from the whole
    message (tests/unit/test_header_block.py holds the two equal)."""
    return BytesHeaderParser(policy=compat32).parsebytes(header_block(raw))


def id_and_sender(raw: bytes) -> tuple[str, str]:
    """The Message-ID and the From address, read from the headers alone in one pass (works on
    mail too broken to parse); "" for what cannot be read."""
    try:
        headers = read_headers(raw)
    except Exception:
        return "", ""
    try:
        found = message_ids(str(headers.get("message-id", "")))
    except Exception:
        found = ()
    try:
        sender = parseaddr(str(headers.get("from", "")))[1]
    except Exception:
        sender = ""
    return (found[0] if found else ""), sender


def _defect_names(parsed: Any) -> list[str]:
    names: list[str] = []
    for entry in parsed.defects or []:
        for messages in entry.values():
            names.extend(m.split(":", 1)[0] for m in messages)
    return names


def _headers(msg: Message) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in msg.items():
        out.setdefault(name.lower(), str(value))
    return out


def _addresses(msg: Message, name: str) -> tuple[str, ...]:
    values = [str(v) for v in msg.get_all(name, [])]
    return tuple(addr.lower() for _, addr in getaddresses(values) if "@" in addr)


def _from_count(msg: Message) -> int:
    """How many From headers and addresses: one of each is the only unambiguous sender."""
    values = [str(v) for v in msg.get_all("from", [])]
    if len(values) != 1:
        return len(values)
    return len([a for _, a in getaddresses(values) if a])


def _problems(
    defects: list[str], headers: dict[str, str], has_id: bool, addr: str
) -> list[Malformed]:
    severe = sorted({d for d in defects if d in SEVERE_DEFECTS})
    problems = []
    if "CharsetDecodeDefect" in severe:
        problems.append(Malformed("bad-charset", "text that cannot be decoded in its charset"))
    elif severe:
        problems.append(Malformed("broken-mime", ", ".join(severe)))
    if not has_id:
        problems.append(Malformed("no-message-id", "the message has no Message-ID header"))
    if "@" not in addr:
        problems.append(Malformed("no-sender", f"From {headers.get('from', '')!r} has no address"))
    return problems


def _build(
    msg: Message,
    subject: str,
    text: str,
    html: str,
    problems: list[Malformed],
    defects: tuple[str, ...] = (),
    attachments: tuple[str, ...] = (),
) -> InboundMessage:
    """The fields every reading of a message shares, from its (stdlib) Message tree."""
    headers = _headers(msg)
    mid = message_ids(headers.get("message-id", ""))
    name, addr = parseaddr(headers.get("from", ""))
    return InboundMessage(
        message_id=mid[0] if mid else "",
        from_addr=addr.strip().lower() if "@" in addr else "",
        from_name=name,
        to=_addresses(msg, "to"),
        cc=_addresses(msg, "cc"),
        subject=subject,
        in_reply_to=message_ids(headers.get("in-reply-to", "")),
        references=message_ids(headers.get("references", "")),
        text=text,
        html=html,
        headers=headers,
        content_type=msg.get_content_type(),
        defects=defects,
        attachments=attachments,
        part_types=tuple(part.get_content_type() for part in msg.walk()),
        delivery=_delivery(msg),
        auth_results=tuple(str(v) for v in msg.get_all("authentication-results", [])),
        from_count=_from_count(msg),
        problems=(*problems, *_problems(list(defects), headers, bool(mid), addr)),
    )


def parse_message(raw: bytes) -> InboundMessage:
    """Parse raw bytes as far as they go; what makes the words untrustworthy is in `problems`.

    Never raises on bad input: a damaged bounce must still be recognised as a bounce, since
    automatic mail is sorted out before integrity is judged. When mail-parser fails, what the
    standard library can still read (headers, structure) is kept, with the failure as problem."""
    try:
        parsed = mailparser.parse_from_bytes(raw)
    except Exception as exc:  # mail-parser raises several types on hostile input
        msg = email.message_from_bytes(raw, policy=compat32)
        failure = Malformed("unparseable", f"{type(exc).__name__}: {exc}")
        return _build(msg, str(msg.get("subject", "")), "", "", [failure])
    plain = "\n".join(parsed.text_plain or [])
    html = "\n".join(parsed.text_html or [])
    return _build(
        parsed.message,
        str(parsed.subject or ""),
        plain if plain.strip() else html_to_text(html),
        html,
        [],
        tuple(_defect_names(parsed)),
        tuple(str(a.get("filename", "")) for a in parsed.attachments or []),
    )
