"""The sender: deliver committed outbox rows in order, at most once, with backoff.

Every row change goes through store/outbox.py; this loop only decides what an SMTP answer means."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Callable
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from sqlalchemy import Engine

from bot.clock import Clock
from bot.faults import crash_point
from bot.mail.transport import PermanentFailure, TransientFailure, Transport, finish
from bot.store import outbox
from bot.store.models import Outbox

log = logging.getLogger("cgbot.outbox")

ARCHIVE_TYPE = "application/mbox"  # the thread archive the Chair's packet carries
_HEADERS_END = re.compile(rb"\r?\n\r?\n")


def _is_archive(part: Message | str) -> bool:
    return isinstance(part, Message) and part.get_content_type() == ARCHIVE_TYPE


def without_archive(raw: bytes) -> bytes | None:
    """The same mail without its thread archive, or None when it carries none. The headers
    (Message-ID too) are kept byte for byte; the text, HTML and other attachments stay."""
    msg = BytesParser(policy=compat32).parsebytes(raw)
    parts = msg.get_payload()
    head = _HEADERS_END.search(raw)
    if not msg.is_multipart() or not isinstance(parts, list) or head is None:
        return None
    kept = [p for p in parts if not _is_archive(p)]
    if len(kept) == len(parts):
        return None
    msg.set_payload(kept)
    out = io.BytesIO()
    linesep = "\r\n" if head.group().startswith(b"\r") else "\n"
    BytesGenerator(out, mangle_from_=False, policy=compat32.clone(linesep=linesep)).flatten(msg)
    generated = out.getvalue()
    body = _HEADERS_END.search(generated)
    assert body is not None  # a generated message always has its blank line
    return raw[: head.end()] + generated[body.end() :]


async def flush(
    engine: Engine,
    transport: Transport,
    clock: Clock,
    sender: str,
    per_hour: int = 1000,
    on_stripped: Callable[[Outbox, str], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
    on_sent: Callable[[], None] = lambda: None,
) -> int:
    """Send every due row once; returns how many went out (and calls `on_sent()` as each
    goes, so that a count survives a failure later in the batch). Stops at the first transient error
    so that mail leaves in order when the server comes back, and before the next mail once
    `stop()` says so (never in the middle of one: a mail cut off mid-send would be uncertain;
    it is asked on the worker thread, just before each claim).

    A mail refused for good with a thread archive goes again at once without it (the Chair
    gets the packet); `on_stripped(row, refusal)` then tells the Secretariat."""
    try:
        return await _flush(engine, transport, clock, sender, per_hour, on_stripped, stop, on_sent)
    finally:
        await finish(transport)  # one SMTP session per batch, closed when the batch ends


async def _flush(
    engine: Engine,
    transport: Transport,
    clock: Clock,
    sender: str,
    per_hour: int,
    on_stripped: Callable[[Outbox, str], None] | None,
    stop: Callable[[], bool],
    on_sent: Callable[[], None],
) -> int:
    def claim() -> Outbox | None:
        return None if stop() else outbox.claim(engine, clock.now(), per_hour)

    def sent_then_claim(row_id: int) -> Outbox | None:
        # Two transactions, one trip to the worker thread: the mark, then the next mail.
        outbox.sent(engine, row_id, clock.now())
        return claim()

    sent = 0
    row = await asyncio.to_thread(claim)
    while row is not None:
        row_id = row.id
        assert row_id is not None
        try:
            await transport.send(sender, list(row.recipients), row.raw)
            crash_point("sent")
        except PermanentFailure as exc:
            lighter = await asyncio.to_thread(without_archive, row.raw)
            if lighter is not None:
                log.warning("%s refused (%s): sending it without the archive", row.message_id, exc)
                await asyncio.to_thread(
                    outbox.without_archive, engine, row_id, lighter, clock.now(), str(exc)
                )
                if on_stripped is not None:
                    await asyncio.to_thread(on_stripped, row, str(exc))
            else:
                log.warning("sending %s failed for good: %s", row.message_id, exc)
                await asyncio.to_thread(outbox.failed, engine, row_id, clock.now(), str(exc))
            row = await asyncio.to_thread(claim)
            continue
        except TransientFailure as exc:
            log.warning("sending %s failed for now: %s", row.message_id, exc)
            await asyncio.to_thread(outbox.retry_later, engine, row_id, clock.now(), str(exc))
            return sent
        sent += 1  # it went: counted before its mark and the next claim, which may fail
        on_sent()
        row = await asyncio.to_thread(sent_then_claim, row_id)
    return sent
