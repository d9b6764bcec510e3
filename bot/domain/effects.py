"""What a workflow asks the shell to do: plain values, carried out in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.message import InboundMessage
from bot.domain.types import Attachment, Invitation, PersonView


@dataclass(frozen=True)
class Mail:
    """A mail to render from `template` ("kind/name") and queue in the outbox."""

    template: str
    to: tuple[PersonView, ...]
    purpose: str
    context: dict[str, Any]
    item_id: int | None = None
    personal: bool = True  # one mail per recipient, each with its own signed token
    reply_to: InboundMessage | None = None  # thread under this received message
    attachments: tuple[Attachment, ...] = ()
    attach_thread: bool = False  # add the item's whole thread as an .mbox file
    batched: bool = False  # a notice gathered over an hour: sent after everything else
    cap_key: str = ""  # whose hourly budget it uses, when not the usual (see Outbox.cap_key)
    invitation: Invitation | None = None  # a calendar invitation, as an alternative part
    attach_papers: bool = False  # add the files the Secretariat sent for the item (its papers)
    # Add the files of the item's replies: "all", or "this-reply" (the one this message made).
    attach_replies_files: str = ""


@dataclass(frozen=True)
class Record:
    """Keep one reply's reading in the item's history."""

    item_id: int
    person_id: int
    position: str | None
    text: str
    status: str  # a ResponseStatus
    note: str = ""
    keep_files: bool = False  # keep the files that came with the reply (feedback on a draft)


@dataclass(frozen=True)
class SetState:
    item_id: int
    state: str
    data: dict[str, Any] | None = None  # merged into the item's data
    deadline: datetime | None = None  # a new deadline (a meeting moved to another time)


@dataclass(frozen=True)
class Schedule:
    """Run `kind` at `due_at`: for an item, or (item_id None) for its workflow as a whole."""

    item_id: int | None
    kind: str
    due_at: datetime
    workflow: str = ""  # the item kind that runs it; needed when item_id is None
    replaces: bool = False  # the item's pending runs of this kind are dropped (a new deadline)


@dataclass(frozen=True)
class ToReview:
    """A line in the Secretariat's review queue."""

    reason: str
    detail: str
    item_id: int | None = None
    person_id: int | None = None
    notify: bool = False  # a held message: the Secretariat hears of it in the hourly notice


@dataclass(frozen=True)
class OpenItem:
    """Create an item of `kind`, run its workflow's opening and confirm to the Secretariat."""

    kind: str
    title: str
    body: str
    deadline: datetime | None
    opened_by: str
    data: dict[str, Any] = field(default_factory=dict)  # per-kind data (a ballot's options, ...)
    reply_to: InboundMessage | None = None  # the command mail the confirmation answers
    key: str = ""  # an item with this key is opened once only (a meeting's "monthly:2027-01-05")
    # data["keep_mail_files"]: the command mail's attachments go with the item (a draft)


@dataclass(frozen=True)
class Act:
    """Carry out one of an item kind's actions (a ballot's extend, cancel, remind) on the item
    an email command names: a command sees no item, so the shell loads it and runs the action
    in the same transaction. What the item objects to goes back to `by` as a refused command,
    and what was done is confirmed to `by` in the thread of `reply_to`."""

    item_id: int
    action: str
    args: dict[str, Any]
    by: PersonView
    reply_to: InboundMessage | None = None
    command: str = ""  # the command as written ("EXTEND: 12"), for the answer


@dataclass(frozen=True)
class Remember:
    """A small fact a kind keeps between runs of its recurring work (the last digest's
    fingerprint, so that a day with nothing new sends nothing)."""

    key: str
    value: str


@dataclass(frozen=True)
class AddressHealth:
    """Mail to a person's address bounced (failing=True) or they wrote to us again (False)."""

    person_id: int
    failing: bool
    detail: str = ""


@dataclass(frozen=True)
class Report:
    """Compile the progress report for `period` ("YYYY-MM") and mail it to `to` as a draft."""

    period: str
    to: tuple[PersonView, ...]


@dataclass(frozen=True)
class Settle:
    """Settle a review entry by email (`RESOLVE: 4`): record the position the member clearly
    meant, or dismiss it, as `cgbot review resolve` does; the shell does it and answers `by` in
    the thread of `reply_to` with what was done or why not."""

    review_id: int
    answer: str  # a position the item offers, or "dismiss"
    note: str
    by: PersonView
    reply_to: InboundMessage | None = None
    command: str = ""  # the command as written ("RESOLVE: 4"), for the answer


Effect = (
    Mail
    | Record
    | SetState
    | Schedule
    | ToReview
    | OpenItem
    | AddressHealth
    | Remember
    | Report
    | Act
    | Settle
)
