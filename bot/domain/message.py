"""A received mail as the core reads it (built by inbound/parse.py from the raw bytes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.refusals import Malformed


@dataclass(frozen=True)
class DeliveryStatus:
    """One recipient block of a delivery status notification."""

    recipient: str
    action: str  # failed | delayed | delivered | relayed | expanded
    status: str  # e.g. 5.1.1


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
    part_types: tuple[str, ...] = ()  # content types of every MIME part (DSN and ARF parts)
    delivery: tuple[DeliveryStatus, ...] = ()  # per-recipient blocks of an RFC 3464 report
    problems: tuple[Malformed, ...] = ()  # why its words cannot be trusted, if they cannot
    auth_results: tuple[str, ...] = ()  # every Authentication-Results header, topmost first
    from_count: int = 1  # From headers x addresses in them: anything but 1 is refused

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")
