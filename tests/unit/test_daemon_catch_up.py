"""A catch-up answers members while it reads (issue 12): what one batch queued goes out while
the next batch is read, not after the last of thousands of messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from bot.daemon import Daemon
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
