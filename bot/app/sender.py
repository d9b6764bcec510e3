"""The sender: deliver committed outbox rows in order, at most once, with backoff.

Every row change goes through store/outbox.py; this loop only decides what an SMTP answer means."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import Engine

from bot.clock import Clock
from bot.faults import crash_point
from bot.mail.transport import PermanentFailure, TransientFailure, Transport
from bot.store import outbox
from bot.store.models import Outbox

log = logging.getLogger("cgbot.outbox")


def _held_by_rate_limit(engine: Engine, row: Outbox, limit: int, clock: Clock) -> bool:
    now = clock.now()
    return any(outbox.sent_last_hour(engine, addr, now) >= limit for addr in row.recipients)


async def flush(
    engine: Engine, transport: Transport, clock: Clock, sender: str, per_hour: int = 1000
) -> int:
    """Send every due row once; returns how many went out. Stops at the first transient error
    so that mail leaves in order when the server comes back."""
    sent = 0
    while True:
        row = await asyncio.to_thread(outbox.claim, engine, clock.now())
        if row is None:
            return sent
        assert row.id is not None
        if await asyncio.to_thread(_held_by_rate_limit, engine, row, per_hour, clock):
            until = clock.now() + timedelta(minutes=10)
            await asyncio.to_thread(outbox.defer, engine, row.id, until)
            continue
        try:
            await transport.send(sender, list(row.recipients), row.raw)
            crash_point("sent")
        except PermanentFailure as exc:
            log.warning("sending %s failed for good: %s", row.message_id, exc)
            await asyncio.to_thread(outbox.failed, engine, row.id, clock.now(), str(exc))
            continue
        except TransientFailure as exc:
            log.warning("sending %s failed for now: %s", row.message_id, exc)
            await asyncio.to_thread(outbox.retry_later, engine, row.id, clock.now(), str(exc))
            return sent
        await asyncio.to_thread(outbox.sent, engine, row.id, clock.now())
        sent += 1
