"""A catch-up answers members while it reads (issue 12): what one batch queued goes out while
the next batch is read, not after the last of thousands of messages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from bot.daemon import Daemon, one_ahead
from bot.demo import clients
from bot.domain.types import Fetched
from tests.conftest import BOT, MEMBERS, T0, mail_to, make_app, open_ballot


class TwoBatches:
    """A mailbox that hands over its second batch only once a mail has been sent."""

    uidvalidity = 7
    idle_capable = False
    name = "test:two-batches"

    def __init__(self, batches: list[list[Fetched]], sent: asyncio.Event) -> None:
        self.batches = batches
        self.sent = sent

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def fetch_batches(self, last_uid: int) -> AsyncIterator[list[Fetched]]:
        for n, batch in enumerate(self.batches):
            if n:  # fails (TimeoutError) if nothing is sent until the mailbox is read through
                await asyncio.wait_for(self.sent.wait(), timeout=20)
            yield batch


class Recording:
    def __init__(self, sent: asyncio.Event) -> None:
        self.sent = sent
        self.recipients: list[str] = []

    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        self.recipients.extend(recipients)
        self.sent.set()


def test_the_first_batchs_confirmations_go_out_before_the_next_batch_is_read(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    open_ballot(app)
    app.clock.jump_to(T0 + timedelta(hours=1))
    replies = [
        clients.gmail(mail_to(app, email), name, email, BOT, app.clock.now(), "Agree")
        for name, email, _, _ in MEMBERS[:2]
    ]

    async def run() -> tuple[Recording, dict[str, int]]:
        sent = asyncio.Event()
        transport = Recording(sent)
        batches = [[Fetched(TwoBatches.name, raw, 7, uid)] for uid, raw in enumerate(replies, 1)]
        daemon = Daemon(app, TwoBatches(batches, sent), transport)
        counters = await daemon.run_once()
        return transport, dict(counters)

    transport, counters = asyncio.run(run())
    assert counters["inbound processed"] == 2
    confirmed = [email for _, email, _, _ in MEMBERS[:2]]
    assert all(transport.recipients.count(email) >= 1 for email in confirmed), transport.recipients


def test_the_next_batch_is_fetched_while_this_one_is_handled() -> None:
    async def run() -> list[str]:
        log: list[str] = []

        async def mailbox() -> AsyncIterator[int]:
            for n in range(3):
                log.append(f"fetch {n}")
                await asyncio.sleep(0)
                yield n

        async for n in one_ahead(mailbox()):
            log.append(f"handle {n}")
            await asyncio.sleep(0.01)  # the bot's work on the batch (a thread, in the daemon)
            log.append(f"handled {n}")
        return log

    log = asyncio.run(run())
    assert [e for e in log if e.startswith("handled")] == ["handled 0", "handled 1", "handled 2"]
    assert log.index("fetch 1") < log.index("handled 0")
    assert log.index("fetch 2") < log.index("handled 1")


def test_a_stop_drops_the_batch_fetched_ahead_and_closes_the_mailbox_reading() -> None:
    async def run() -> tuple[list[int], bool]:
        closed = False
        handled: list[int] = []

        async def mailbox() -> AsyncIterator[int]:
            nonlocal closed
            try:
                for n in range(10):
                    yield n
            finally:
                closed = True

        async with contextlib.aclosing(one_ahead(mailbox())) as batches:
            async for n in batches:
                handled.append(n)
                if n == 1:
                    break  # stopping: batch 2, already fetched, is not begun
        return handled, closed

    assert asyncio.run(run()) == ([0, 1], True)


class SlowRecording:
    """An SMTP server that takes its time, and the order things happen in."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        await asyncio.sleep(0.05)
        self.events.append("sent")


def test_the_confirmations_of_a_pass_go_out_before_its_bookkeeping(tmp_path: Path) -> None:
    # A member's confirmation goes out alone: the poll mark and the deadline run after it wait
    # for it (beside it they shared the interpreter and the write lock: a reply's answer in
    # IDLE took +63-67 ms over the server's push instead of +43-48 ms on a slow machine).
    app = make_app(tmp_path)
    open_ballot(app)
    app.clock.jump_to(T0 + timedelta(hours=1))
    name, email, _, _ = MEMBERS[0]
    raw = clients.gmail(mail_to(app, email), name, email, BOT, app.clock.now(), "Agree")
    events: list[str] = []
    polled = app.mark_polled

    def mark_polled(source: str) -> None:
        events.append("polled")
        polled(source)

    app.mark_polled = mark_polled  # type: ignore[method-assign]

    async def run() -> None:
        batches = [[Fetched(TwoBatches.name, raw, 7, 1)]]
        daemon = Daemon(app, TwoBatches(batches, asyncio.Event()), SlowRecording(events))
        await daemon.run_once()

    asyncio.run(run())
    # (the ballot mails queued when it opened go out in the same flush, before the answer)
    assert events.count("sent") > 1 and events[-1] == "polled", events
