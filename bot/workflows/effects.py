"""What a workflow asks the shell to do, and the read-only views it decides on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.inbound.parse import InboundMessage


@dataclass(frozen=True)
class PersonView:
    id: int
    email: str
    name: str
    kind: str  # member | chair | secretariat | facilitator
    role: str = ""
    timezone: str = "UTC"
    language: str = "en"
    failing: bool = False  # mail to this address has bounced


@dataclass(frozen=True)
class ResponseView:
    person_id: int
    position: str | None
    text: str
    message_id: str
    received_at: datetime
    status: str


@dataclass(frozen=True)
class SentView:
    """A mail the bot sent about an item (for timelines)."""

    at: datetime
    purpose: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class ItemView:
    id: int
    kind: str
    title: str
    body: str
    state: str
    created_at: datetime
    deadline: datetime | None
    options: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Mail:
    """A mail to render from `template` and queue in the outbox, in the same transaction."""

    template: str
    to: tuple[PersonView, ...]
    purpose: str
    context: dict[str, Any]
    item_id: int | None = None
    personal: bool = True  # one mail per recipient, each with its own signed token
    reply_to: InboundMessage | None = None  # thread under this received message
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Record:
    """Keep one reply's reading in the item's history."""

    item_id: int
    person_id: int
    position: str | None
    text: str
    status: str  # counted | late | review
    note: str = ""


@dataclass(frozen=True)
class SetState:
    item_id: int
    state: str
    data: dict[str, Any] | None = None  # merged into the item's data


@dataclass(frozen=True)
class Schedule:
    item_id: int
    kind: str
    due_at: datetime


@dataclass(frozen=True)
class ToReview:
    """A line in the Secretariat's review queue."""

    reason: str
    detail: str
    item_id: int | None = None
    person_id: int | None = None


@dataclass(frozen=True)
class OpenItem:
    """Create an item and run its workflow's opening, confirming to the Secretariat."""

    kind: str
    title: str
    body: str
    deadline: datetime | None
    opened_by: str
    options: tuple[str, ...] = ()
    reply_to: InboundMessage | None = None  # the command mail the confirmation answers


@dataclass(frozen=True)
class AddressHealth:
    """Mail to a person's address bounced (failing=True) or they wrote to us again (False)."""

    person_id: int
    failing: bool
    detail: str = ""


Effect = Mail | Record | SetState | Schedule | ToReview | OpenItem | AddressHealth
