"""Raw bytes -> InboundMessage, through mail-parser; severe damage becomes a typed refusal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr
from typing import Any

import mailparser

from bot.inbound.htmltext import html_to_text
from bot.refusals import Malformed

# Defects after which we cannot trust what we would read as the member's words.
SEVERE_DEFECTS = (
    "StartBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "NoBoundaryInMultipartDefect",
    "MissingHeaderBodySeparatorDefect",
    "CharsetDecodeDefect",
)

_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class InboundMessage:
    """What the rest of the core needs to know about one received mail."""

    message_id: str
    from_addr: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str  # the plain body, or text made from the HTML body when there is none
    html: str
    headers: dict[str, str] = field(repr=False)  # lower-cased names, first value
    content_type: str = "text/plain"
    defects: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()  # file names, for reports

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def message_ids(value: str) -> tuple[str, ...]:
    """Every <id> in a header value, in order, lower-cased on nothing (ids are case-sensitive)."""
    return tuple(_MSGID.findall(value or ""))


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


def parse_message(raw: bytes) -> InboundMessage:
    """Parse raw bytes; raise Malformed when the message cannot be read with confidence."""
    try:
        parsed = mailparser.parse_from_bytes(raw)
    except Exception as exc:  # mail-parser raises several types on hostile input
        raise Malformed("unparseable", f"{type(exc).__name__}: {exc}") from exc
    msg: Message = parsed.message
    headers = _headers(msg)
    defects = _defect_names(parsed)
    severe = sorted({d for d in defects if d in SEVERE_DEFECTS})
    if "CharsetDecodeDefect" in severe:
        raise Malformed("bad-charset", "text that cannot be decoded in its declared charset")
    if severe:
        raise Malformed("broken-mime", ", ".join(severe))
    mid = message_ids(headers.get("message-id", ""))
    if not mid:
        raise Malformed("no-message-id", "the message has no Message-ID header")
    name, addr = parseaddr(headers.get("from", ""))
    if "@" not in addr:
        raise Malformed("no-sender", f"From header {headers.get('from', '')!r} has no address")
    plain = "\n".join(parsed.text_plain or [])
    html = "\n".join(parsed.text_html or [])
    return InboundMessage(
        message_id=mid[0],
        from_addr=addr.strip().lower(),
        from_name=name,
        to=_addresses(msg, "to"),
        cc=_addresses(msg, "cc"),
        subject=str(parsed.subject or ""),
        in_reply_to=message_ids(headers.get("in-reply-to", "")),
        references=message_ids(headers.get("references", "")),
        text=plain if plain.strip() else html_to_text(html),
        html=html,
        headers=headers,
        content_type=msg.get_content_type(),
        defects=tuple(defects),
        attachments=tuple(str(a.get("filename", "")) for a in parsed.attachments or []),
    )
