"""The reads and writes of the Secretariat's console (`cgbot show`, `review show|resolve`): an
item's mails, its pending steps and its whole history with the notes, and review entries.

They are for a person at a terminal, one item or one entry at a time, never on a message's path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, select

from bot.store.models import Deadline, Outbox, Response, Review, Standing


@dataclass(frozen=True)
class SentMail:
    """One mail the bot queued about an item: when, what for, to whom, and how it went."""

    id: int
    at: datetime
    purpose: str
    person_id: int | None
    recipients: tuple[str, ...]
    subject: str
    state: str


@dataclass(frozen=True)
class Reply:
    """One reading in an item's history, with its note (why, or who recorded it)."""

    person_id: int
    position: str | None
    text: str
    at: datetime
    status: str
    note: str


def sent(s: Session, item_id: int) -> list[SentMail]:
    """Every mail of the item in the order it was queued (without the bytes)."""
    # More columns than sqlmodel's typed select() takes: they are passed as a list.
    columns: list[Any] = [
        Outbox.id,
        Outbox.created_at,
        Outbox.purpose,
        Outbox.person_id,
        Outbox.recipients,
        Outbox.subject,
        Outbox.state,
    ]
    query = select(*columns).where(Outbox.item_id == item_id).order_by(col(Outbox.id))
    return [
        SentMail(row_id or 0, at, purpose, person, tuple(to), subject, state)
        for row_id, at, purpose, person, to, subject, state in s.exec(query)
    ]


def pending(s: Session, item_id: int) -> list[tuple[str, datetime]]:
    """The item's scheduled steps that have not run, soonest first."""
    query = (
        select(Deadline.kind, Deadline.due_at)
        .where(Deadline.item_id == item_id, col(Deadline.done_at).is_(None))
        .order_by(col(Deadline.due_at), col(Deadline.id))
    )
    return [(kind, due) for kind, due in s.exec(query)]


def replies(s: Session, item_id: int) -> list[Reply]:
    """Every reading of the item, oldest first, with its note."""
    query = select(Response).where(Response.item_id == item_id).order_by(col(Response.id))
    return [_reply(r) for r in s.exec(query)]


def _reply(r: Response) -> Reply:
    return Reply(r.person_id, r.position, r.text, r.received_at, r.status, r.note)


def overtaken(s: Session, review_id: int | None = None) -> dict[int, Reply]:
    """The open entries (or entry `review_id`) whose person's counted answer to the item came
    from a message read after the one behind the entry, with that answer: settling such an
    entry as a position would put the older, unclear message's reading over what counts now.
    "After" is the archive's order (the order the bot read and counted them), not the mails'
    dates, which a sender's clock or a missing server date can put out of order. One query,
    through the standing answer, whatever the history."""
    query = (
        select(Review.id, Response)
        .join(
            Standing,
            and_(
                col(Standing.item_id) == col(Review.item_id),
                col(Standing.person_id) == col(Review.person_id),
            ),
        )
        .join(Response, col(Response.id) == col(Standing.counted_id))
        .where(
            col(Review.resolved_at).is_(None),
            col(Response.inbound_id) > col(Review.inbound_id),
        )
    )
    if review_id is not None:
        query = query.where(Review.id == review_id)
    return {rid: _reply(answer) for rid, answer in s.exec(query) if rid is not None}


def siblings(s: Session, review: Review) -> list[Review]:
    """The open entries one message caused about one item and person (an unclear reply is
    one entry for the reading and one for the answer not sent): settled together."""
    if review.inbound_id is None:
        return [review]
    query = select(Review).where(
        Review.inbound_id == review.inbound_id,
        Review.item_id == review.item_id,
        Review.person_id == review.person_id,
        col(Review.resolved_at).is_(None),
    )
    found = {r.id: r for r in s.exec(query.order_by(col(Review.id)))}
    return [review, *(r for rid, r in found.items() if rid != review.id)]


def mark_resolved(s: Session, reviews: list[Review], now: datetime) -> None:
    for review in reviews:
        review.resolved_at = now
        s.add(review)
