"""The sender loop: deliver committed outbox rows in order, at most once, with backoff."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, or_, select

from bot.clock import Clock
from bot.faults import crash_point
from bot.mail.transport import PermanentFailure, TransientFailure, Transport
from bot.store.db import session
from bot.store.models import Outbox, OutboxState, Review

log = logging.getLogger("cgbot.outbox")

BACKOFF = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
)


def backoff(attempts: int) -> timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def _sent_last_hour(engine: Engine, address: str, now: datetime) -> int:
    with session(engine) as s:
        rows = s.exec(
            select(Outbox.recipients).where(
                Outbox.state == OutboxState.SENT, col(Outbox.sent_at) >= now - timedelta(hours=1)
            )
        )
        return sum(1 for recipients in rows if address in recipients)


def _claim(engine: Engine, now: datetime) -> Outbox | None:
    """The oldest due row, marked SENDING and committed before any byte goes out."""
    with session(engine) as s:
        row = s.exec(
            select(Outbox)
            .where(
                Outbox.state == OutboxState.PENDING,
                or_(col(Outbox.next_attempt_at).is_(None), col(Outbox.next_attempt_at) <= now),
            )
            .order_by(col(Outbox.id))
        ).first()
        if row is None:
            return None
        crash_point("before-send")
        row.state = OutboxState.SENDING
        row.attempts += 1
        s.add(row)
        s.commit()
        return row


def _finish(engine: Engine, row_id: int, now: datetime, error: Exception | None) -> None:
    with session(engine) as s:
        row = s.get(Outbox, row_id)
        assert row is not None
        if error is None:
            row.state, row.sent_at, row.last_error = OutboxState.SENT, now, ""
        elif isinstance(error, PermanentFailure):
            row.state, row.last_error = OutboxState.FAILED, str(error)[:1000]
            s.add(
                Review(
                    item_id=row.item_id,
                    person_id=row.person_id,
                    reason="delivery-failed",
                    detail=f"{row.message_id} to {', '.join(row.recipients)}: {error}",
                    created_at=now,
                )
            )
        else:
            row.state, row.last_error = OutboxState.PENDING, str(error)[:1000]
            row.next_attempt_at = now + backoff(row.attempts)
        s.add(row)
        s.commit()


def _defer(engine: Engine, row_id: int, until: datetime) -> None:
    """Back to the queue untouched (a rate limit is not a failed attempt)."""
    with session(engine) as s:
        row = s.get(Outbox, row_id)
        assert row is not None
        row.state, row.attempts, row.next_attempt_at = OutboxState.PENDING, row.attempts - 1, until
        row.last_error = "held: hourly limit for a recipient reached"
        s.add(row)
        s.commit()


def _held_by_rate_limit(engine: Engine, row: Outbox, limit: int, now: datetime) -> bool:
    return any(_sent_last_hour(engine, addr, now) >= limit for addr in row.recipients)


async def flush(
    engine: Engine, transport: Transport, clock: Clock, sender: str, per_hour: int = 1000
) -> int:
    """Send every due row once; returns how many went out. Stops at the first transient error
    so that mail leaves in order when the server comes back."""
    sent = 0
    while True:
        now = clock.now()
        row = await asyncio.to_thread(_claim, engine, now)
        if row is None:
            return sent
        assert row.id is not None
        if await asyncio.to_thread(_held_by_rate_limit, engine, row, per_hour, now):
            await asyncio.to_thread(_defer, engine, row.id, now + timedelta(minutes=10))
            continue
        error: Exception | None = None
        try:
            await transport.send(sender, list(row.recipients), row.raw)
            crash_point("sent")
        except (PermanentFailure, TransientFailure) as exc:
            error = exc
            log.warning("sending %s failed: %s", row.message_id, exc)
        await asyncio.to_thread(_finish, engine, row.id, clock.now(), error)
        if isinstance(error, TransientFailure):
            return sent
        sent += error is None
