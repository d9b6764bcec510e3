"""The tables. Every datetime is aware UTC; JSON columns hold small lists and dicts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class InboundState(StrEnum):
    NEW = "new"  # archived, not yet interpreted
    PROCESSED = "processed"  # interpreted and acted on
    IGNORED = "ignored"  # automatic or own mail: archived, deliberately not acted on
    QUARANTINED = "quarantined"  # could not be handled: kept and shown to the Secretariat
    DUPLICATE = "duplicate"  # same Message-ID or content as one already archived


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # DATA was about to be sent; a crash here leaves delivery uncertain
    SENT = "sent"
    UNCERTAIN = "uncertain"  # found SENDING after a restart: not resent, shown for review
    FAILED = "failed"  # permanently refused by the server


class Meta(SQLModel, table=True):
    key: str = Field(primary_key=True)
    value: str


class Person(SQLModel, table=True):
    """A member, the Board Chair, a Secretariat address or a facilitator, synced from config."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True)
    name: str
    kind: str  # a PersonKind
    role: str = ""
    timezone: str = "UTC"
    language: str = "en"
    salutation: str = Field(default="", sa_column_kwargs={"server_default": ""})  # config's
    active: bool = True
    failing_since: datetime | None = None


class Item(SQLModel, table=True):
    """Something the group is asked about; `kind` names its workflow, `data` its per-kind data."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    title: str
    body: str = ""
    state: str = Field(index=True)
    created_at: datetime
    deadline: datetime | None = None
    opened_by: str = ""
    key: str | None = Field(default=None, unique=True)  # opened once only (a meeting's date)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Blob(SQLModel, table=True):
    """A file kept once by its SHA-256, however many replies carried it."""

    sha256: str = Field(primary_key=True)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ResponseFile(SQLModel, table=True):
    """A file that came with one reply (feedback on a draft), in the order it was attached."""

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="response.id", index=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    name: str
    content_type: str
    sha256: str = Field(foreign_key="blob.sha256")
    size: int


class Response(SQLModel, table=True):
    """One reply's reading. History is kept: the latest counted row per person is the position."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    inbound_id: int | None = Field(default=None, foreign_key="inbound.id")
    position: str | None = None
    text: str = ""
    message_id: str = ""
    received_at: datetime
    status: str = "counted"  # counted | late | review
    note: str = ""


class Standing(SQLModel, table=True):
    """Each person's standing response to an item, kept as replies are recorded, so that
    reading who answered what costs the same however long the item's history grows."""

    item_id: int = Field(foreign_key="item.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    latest_id: int = Field(foreign_key="response.id")
    counted_id: int | None = Field(default=None, foreign_key="response.id")
    # Unclear replies since the last clear one: a robot answering every mail is stopped by it.
    unclear_in_a_row: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Deadline(SQLModel, table=True):
    """A moment at which something is due; `done_at` makes running it idempotent.

    Most belong to an item; one without an item is recurring work of a whole kind (a digest,
    a meeting cadence), named by `workflow` and `kind`."""

    __table_args__ = (UniqueConstraint("item_id", "workflow", "kind", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int | None = Field(default=None, foreign_key="item.id", index=True)
    workflow: str = ""
    kind: str
    due_at: datetime = Field(index=True)
    done_at: datetime | None = None


class Outbox(SQLModel, table=True):
    """An outgoing mail, written in the transaction that caused it; its Message-ID never changes."""

    # Read on every send and every mail composed, so by index, never by reading the whole
    # queue or history (each made a long catch-up quadratic): the hourly budget, the next due
    # mail in queue order, the first mail of an item to a person (the thread new mail joins).
    __table_args__ = (
        Index("ix_outbox_budget", "cap_key", "state", "sent_at"),
        Index("ix_outbox_queue", "state", "priority", "id"),
        Index("ix_outbox_thread", "item_id", "person_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(index=True, unique=True)
    item_id: int | None = Field(default=None, foreign_key="item.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    purpose: str
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime
    state: str = Field(default=OutboxState.PENDING, index=True)
    # 0: answers, item mail and outcomes; 1: batched notices of held mail, sent after them.
    priority: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Whose hourly budget it uses: the sender whose mail caused it, else its recipient.
    cap_key: str = Field(default="", sa_column_kwargs={"server_default": "''"})
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str = ""
    sent_at: datetime | None = None


class Inbound(SQLModel, table=True):
    """The raw archive: every fetched message, stored before it is interpreted."""

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(index=True, unique=True)
    message_id: str = Field(default="", index=True)
    source: str  # "imap:host/folder" or "maildir:path"
    uidvalidity: int | None = None
    uid: int | None = None
    fetched_at: datetime
    arrived_at: datetime | None = None  # when the mail server received it (INTERNALDATE)
    size: int
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(default=InboundState.NEW, index=True)
    reason: str = ""
    detail: str = ""
    item_id: int | None = Field(default=None, foreign_key="item.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    processed_at: datetime | None = None


class Checkpoint(SQLModel, table=True):
    """How far a mailbox folder has been read: survives restarts, reset on UIDVALIDITY change."""

    source: str = Field(primary_key=True)
    uidvalidity: int
    last_uid: int = 0


class Review(SQLModel, table=True):
    """The Secretariat's review queue: quarantined mail and replies the bot would not guess at."""

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int | None = Field(default=None, foreign_key="inbound.id")
    item_id: int | None = Field(default=None, foreign_key="item.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    reason: str
    detail: str = ""
    created_at: datetime
    resolved_at: datetime | None = None
    outbox_id: int | None = Field(default=None, index=True)  # the mail a delivery review is about
    # A held message the Secretariat is told about in the next hourly notice (then notified_at).
    notify: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    notified_at: datetime | None = None


class RegisterEntry(SQLModel, table=True):
    """One decision-relevant event, hash-chained to the one before it (ToR 6.2.h): editing or
    removing a row afterwards breaks the chain at that row (store/register.py)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    event: str  # item-opened, position-recorded, state-changed, reminder-sent, determined, ...
    item_id: int | None = Field(default=None, foreign_key="item.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message_sha256: str = ""  # the raw inbound message that caused it; "" when none did
    prev_hash: str
    hash: str
