"""The shared nouns: people, items, responses, attachments and a fetched message, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class PersonKind(StrEnum):
    MEMBER = "member"
    CHAIR = "chair"
    SECRETARIAT = "secretariat"
    FACILITATOR = "facilitator"


class ItemKind(StrEnum):
    """The item kinds cgbot ships; a workflow registered elsewhere may bring its own."""

    BALLOT = "ballot"
    MEETING = "meeting"
    FEEDBACK = "feedback"
    ACTION = "action"
    DIGEST = "digest"
    POLL = "poll"  # finding a time for an ad hoc meeting
    CONFIRMATION = "confirmation"  # a Secretariat command waiting for its sender's OK
    REPORT = "report"  # the monthly progress report to the Governing Board


class ResponseStatus(StrEnum):
    COUNTED = "counted"
    LATE = "late"
    REVIEW = "review"
    NOTED = "noted"  # kept with the item (an agenda proposal, papers), not a position


@dataclass(frozen=True)
class PersonView:
    id: int
    email: str
    name: str
    kind: str  # a PersonKind
    role: str = ""
    timezone: str = "UTC"
    language: str = "en"
    failing: bool = False  # mail to this address has bounced
    salutation: str = ""  # how mail to them opens; empty: their language's own


@dataclass(frozen=True)
class FileView:
    """A file that came with a reply: its name and the SHA-256 it is kept under."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ResponseView:
    person_id: int
    position: str | None
    text: str
    message_id: str
    received_at: datetime
    status: str  # a ResponseStatus
    files: tuple[FileView, ...] = ()  # what came with it (feedback on a draft), in order


@dataclass(frozen=True)
class SentView:
    """A mail the bot sent about an item (for timelines)."""

    at: datetime
    purpose: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class ItemView:
    id: int
    kind: str  # the registry key of its workflow
    title: str
    body: str
    state: str  # a member of its workflow's state enum
    created_at: datetime
    deadline: datetime | None
    data: dict[str, Any] = field(default_factory=dict)  # per-kind data, owned by the workflow
    opened_by: str = ""


@dataclass(frozen=True)
class MeetingSeries:
    """A regular meeting of the group: its rules (ToR 4.1) and when the config says it meets."""

    name: str  # the rules' key: "monthly", "quarterly"
    label: str
    rrule: str  # RFC 5545, in `zone`
    time: str  # "14:00"
    duration_minutes: int
    zone: str
    call_notice: timedelta  # the call goes out this long before
    agenda_notice: timedelta = timedelta(days=5)  # the final agenda and papers, this long before
    with_facilitators: bool = False
    where: str = ""
    dial_in: str = ""
    replaces: str = ""


@dataclass(frozen=True)
class Invitation:
    """An iCalendar invitation to attach to a mail (built by mail/ical.py)."""

    method: str  # REQUEST or CANCEL
    uid: str
    sequence: int
    summary: str
    description: str
    start: datetime
    end: datetime
    zone: str
    location: str
    attendees: tuple[PersonView, ...]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    content_id: str = ""  # shown inside the HTML part (an <img src="cid:...">), not as a file


@dataclass(frozen=True)
class Composed:
    """One outgoing mail, rendered and given its Message-ID, ready for the outbox."""

    message_id: str
    item_id: int | None
    person_id: int | None
    purpose: str
    recipients: tuple[str, ...]
    subject: str
    raw: bytes
    priority: int = 0  # 1: a batched notice, sent after answers and outcomes
    cap_key: str = ""  # whose hourly budget it uses (see Outbox.cap_key)


@dataclass(frozen=True)
class Fetched:
    """One message as a mailbox source hands it over."""

    source: str
    raw: bytes
    uidvalidity: int | None = None
    uid: int | None = None
    arrived_at: datetime | None = None  # when the server received it (IMAP INTERNALDATE)


@dataclass(frozen=True)
class Directory:
    """The active people, with their configured aliases: who is who, read once per message."""

    people: tuple[PersonView, ...]
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> configured address

    def by_email(self, address: str) -> PersonView | None:
        address = address.lower()
        address = self.aliases.get(address, address)
        return next((p for p in self.people if p.email == address), None)

    def by_id(self, person_id: int) -> PersonView | None:
        return next((p for p in self.people if p.id == person_id), None)

    def of_kind(self, kind: str) -> tuple[PersonView, ...]:
        return tuple(p for p in self.people if p.kind == kind)

    @property
    def members(self) -> tuple[PersonView, ...]:
        return self.of_kind(PersonKind.MEMBER)

    @property
    def secretariat(self) -> tuple[PersonView, ...]:
        return self.of_kind(PersonKind.SECRETARIAT)

    @property
    def facilitators(self) -> tuple[PersonView, ...]:
        return self.of_kind(PersonKind.FACILITATOR)

    @property
    def chair(self) -> PersonView:
        found = self.of_kind(PersonKind.CHAIR)
        assert found, "the configuration always names a Board Chair"
        return found[0]


def standing(history: list[ResponseView]) -> dict[int, ResponseView]:
    """Each person's standing reply: their latest counted one (a later answer replaces an
    earlier one; an unclear or late reply does not), else simply their latest."""
    latest: dict[int, ResponseView] = {}
    for r in history:
        current = latest.get(r.person_id)
        if current is None or r.status == ResponseStatus.COUNTED or current.status != "counted":
            latest[r.person_id] = r
    return latest
