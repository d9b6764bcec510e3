"""The asyncio main loop: inbound (IDLE or polling), deadlines (APScheduler), the sender loop.

`run_once` is the burst mode (fetch, process, run what is due, send, exit); `run_forever`
keeps the three loops going until SIGTERM/SIGINT, reconnecting with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Protocol, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.app import App
from bot.app.sender import flush
from bot.domain.effects import Mail
from bot.domain.types import Fetched
from bot.mail.imap import ImapAuthFailed, ImapDown
from bot.mail.transport import Transport
from bot.store import repo
from bot.store.db import session
from bot.store.models import Outbox

log = logging.getLogger("cgbot.daemon")
T = TypeVar("T")


class Source(Protocol):
    uidvalidity: int | None
    idle_capable: bool

    @property
    def name(self) -> str: ...

    async def connect(self) -> None: ...
    async def close(self) -> None: ...
    def fetch_batches(self, last_uid: int) -> AsyncIterator[list[Fetched]]: ...


async def one_ahead(batches: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """The same batches, each next one fetched while the caller handles the current one: the
    server's work and the network overlap the bot's. Two batches in memory at the most; one
    fetched but not begun when the caller stops is dropped (it stays on the server)."""
    source = aiter(batches)
    ahead = asyncio.ensure_future(anext(source))
    try:
        while True:
            try:
                current = await ahead
            except StopAsyncIteration:
                return
            ahead = asyncio.ensure_future(anext(source))
            yield current
    finally:
        if not ahead.done():
            ahead.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await ahead
        close = getattr(source, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


# The intake's batch and the sender's mail are what runs at once (a deadline run waits for the
# intake's lock). Each thread that allocates may get a malloc arena of its own: with Python's
# default (up to six here) a 10,000-message catch-up peaked at 142 MB, with two at 133 MB.
WORKER_THREADS = 2
STOP_SECONDS = 20.0  # after SIGTERM: the batch in hand ends, then mail is sent this long
IDLE_END_SECONDS = 5.0  # how long a stop waits for the server to end an IDLE
DRAIN_SECONDS = 2.0  # how long a pass waits for its confirmations before its bookkeeping


class Daemon:
    def __init__(
        self, app: App, source: Source, transport: Transport, stop_seconds: float = STOP_SECONDS
    ) -> None:
        self.app = app
        self.source = source
        self.transport = transport
        self.stop_seconds = stop_seconds
        self.counters: Counter[str] = Counter()
        self._stop = asyncio.Event()
        self._stop_by: float | None = None  # monotonic: when sending stops after a SIGTERM
        self._outbox_wake = asyncio.Event()
        # The sender ended a flush with no wake since: it sent what it could (a transient
        # failure, the hourly cap or a stop may leave mail waiting for later).
        self._outbox_drained = asyncio.Event()
        self._scheduler: AsyncIOScheduler | None = None
        self._mail_read_until: datetime | None = None  # closes wait until mail is read to here
        self._deadlines_lock = asyncio.Lock()

    # -- one pass ----------------------------------------------------------------------------

    def _last_uid(self) -> int:
        with session(self.app.engine) as s:
            cp = repo.get_checkpoint(s, self.source.name)
        if cp is None or self.source.uidvalidity is None:
            return 0
        if cp.uidvalidity != self.source.uidvalidity:
            log.warning(
                "%s: UIDVALIDITY changed (%s -> %s); rereading the folder, archived "
                "messages are recognised by content and Message-ID",
                self.source.name,
                cp.uidvalidity,
                self.source.uidvalidity,
            )
            return 0
        return cp.last_uid

    async def sync(self) -> int:
        """Handle every message above the checkpoint; returns how many were new. Then run what
        fell due: after downtime the mailbox is caught up first, then the closes run."""
        started = self.app.clock.now()
        handled = 0
        batches = one_ahead(self.source.fetch_batches(self._last_uid()))
        async with contextlib.aclosing(batches):
            async for batch in batches:
                if self._stop.is_set():  # stopping: a batch not begun stays on the server
                    return handled
                async with self._deadlines_lock:  # a reply and a deadline never decide at once
                    states = await asyncio.to_thread(self.app.handle_batch, batch)
                self.counters.update(f"inbound {state}" for state in states)
                handled += len(states)
                if states:  # what this batch queued goes out while the next is read
                    self._wake_sender()
        if handled:  # the confirmations go out first, the bookkeeping after them
            await self._sender_drained(DRAIN_SECONDS)
        self._mail_read_until = started  # everything the server had by then has been read
        await asyncio.to_thread(self.app.mark_polled, self.source.name)
        await self.run_due()
        return handled

    def _wake_sender(self) -> None:
        self._outbox_drained.clear()
        self._outbox_wake.set()

    async def _sender_drained(self, bound: float) -> None:
        """Wait (at most `bound` seconds, or until a stop) until the sender has ended a flush
        begun after it was woken: a member's confirmation then goes out alone, not beside the
        deadline run and the poll mark, which would share the interpreter and the database's
        write lock with it. With a backlog in the outbox the wait runs to its bound."""
        drained = asyncio.ensure_future(self._outbox_drained.wait())
        stopping = asyncio.ensure_future(self._stop.wait())  # the sender stops sending too
        await asyncio.wait({drained, stopping}, timeout=bound, return_when=asyncio.FIRST_COMPLETED)
        drained.cancel()
        stopping.cancel()

    async def run_due(self) -> int:
        async with self._deadlines_lock:  # the scheduler, the safety net and a sync may meet
            ran = await asyncio.to_thread(self.app.run_due, self._mail_read_until, True)
        self.counters["deadlines run"] += ran
        if ran:
            self._wake_sender()
        self._rearm()
        return ran

    async def flush(self) -> int:
        """Send what is due; a packet that had to go without its thread archive is told to the
        Secretariat by mail, in its own transaction."""
        cfg = self.app.settings.model.smtp
        app = self.app

        def tell_secretariat(row: Outbox, refusal: str) -> None:
            with session(app.engine) as s:
                sit = app.situation(s)
                context = {
                    "subject": row.subject,
                    "recipients": list(row.recipients),
                    "message_id": row.message_id,
                    "refusal": refusal[:1000],
                    "item_id": row.item_id,
                }
                notice = Mail(
                    "common/packet_without_archive",
                    sit.secretariat,
                    "notice",
                    context,
                    row.item_id,
                    personal=False,
                )
                app.enactor.queue_mail(s, notice, sit)
                s.commit()

        sent = await flush(
            self.app.engine,
            self.transport,
            self.app.clock,
            cfg.from_address,
            cfg.max_per_address_per_hour,
            on_stripped=tell_secretariat,
            stop=self._sending_over,
            on_sent=lambda: self.counters.update(("mail sent",)),
        )
        return sent

    def _sending_over(self) -> bool:
        """After a stop, sending goes on (mail by mail, never cut mid-mail) for stop_seconds."""
        return self._stop_by is not None and time.monotonic() > self._stop_by

    def stop(self) -> None:
        """SIGTERM/SIGINT: finish the batch in hand, send for up to stop_seconds, exit."""
        if not self._stop.is_set():
            log.info(
                "stopping: the batch in hand ends, then mail goes out for up to %.0f s",
                self.stop_seconds,
            )
            self._stop_by = time.monotonic() + self.stop_seconds
        self._stop.set()

    def _on_start(self) -> None:
        """Signals stop the daemon; database and DNS work runs on WORKER_THREADS threads."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="cgbot")
        )

    async def _apply_stranded(self) -> None:
        """Apply what an interrupted run stored but never applied, from the archive, before the
        mailbox is read (it may no longer be there). A failure leaves it for the next try."""
        applied = 0
        try:
            async with self._deadlines_lock:
                for batch in await asyncio.to_thread(self.app.stranded):
                    states = await asyncio.to_thread(self.app.apply_archived, batch)
                    self.counters.update(f"inbound {state}" for state in states)
                    applied += len(states)
        except Exception:  # the mailbox is still read; the rows stay stored for the next try
            log.exception("archived messages left unapplied could not be applied now")
        if applied:
            log.warning("%d archived message(s) left unapplied before, applied now", applied)
            self._wake_sender()

    async def run_once(self) -> Counter[str]:
        """Fetch, process, run what is due, send, and return the counters."""
        self._on_start()
        self.counters["uncertain after crash"] += self.app.recover_uncertain()
        await self._apply_stranded()
        await self.source.connect()
        read = asyncio.Event()
        # What each batch queues goes out while the next is read: members are answered in
        # minutes, not after the last of thousands of messages, and the SMTP round trips
        # overlap the reading.
        sending = asyncio.create_task(self._sender_loop(read, every=None))
        try:
            await self.sync()  # reads the mailbox, then runs what fell due
        finally:
            read.set()
            await self.source.close()
            await sending
        await self.flush()  # what the closes queued, and what the last batch did
        return self.counters

    # -- forever -----------------------------------------------------------------------------

    def _rearm(self) -> None:
        """Derive the one scheduler job from the database: the next open deadline."""
        if self._scheduler is None:
            return
        with session(self.app.engine) as s:
            due = repo.next_deadline(s)
        if due is None or due <= self.app.clock.now():
            return  # already due: the next sync (or the minute's safety net) runs it
        self._scheduler.add_job(
            self.run_due,
            DateTrigger(run_date=self.app.clock.to_real(due)),
            id="next-deadline",
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=None,
        )

    async def _inbound_loop(self) -> None:
        delay = 1.0
        poll = self.app.settings.model.mailbox.poll_seconds
        while not self._stop.is_set():
            try:
                await self._apply_stranded()  # at the start, and after a pass that failed
                await self.source.connect()
                log.info(
                    "watching %s (%s)",
                    self.source.name,
                    "IDLE" if self.source.idle_capable else f"polling every {poll:g}s",
                )
                delay = 1.0
                while not self._stop.is_set():
                    await self.sync()
                    await self._wait_for_mail(poll)
            except ImapAuthFailed as exc:
                log.error("%s; retrying in 5 minutes", exc)
                delay = 300.0
            except ImapDown as exc:
                self.counters["reconnects"] += 1
                log.warning("mailbox unavailable (%s); retrying in %.0fs", exc, delay)
            except Exception:  # the database failed: nothing advanced, try the batch again
                log.exception("inbound pass failed; messages stay on the server")
            finally:
                await self.source.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            delay = min(delay * 2, 60.0)  # back within a minute of the server

    async def _wait_for_mail(self, poll: float) -> None:
        waiter = getattr(self.source, "wait_for_change", None)
        stop = asyncio.ensure_future(self._stop.wait())
        change = asyncio.ensure_future(waiter(poll) if waiter else asyncio.sleep(poll))
        try:
            await asyncio.wait({stop, change}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not change.done():
                change.cancel()
                # Let the wait end its IDLE (DONE, then the server's OK) before the mailbox
                # is closed: closing sent a second DONE, which Dovecot answered BAD, and
                # aioimaplib logged a traceback at every stop.
                await asyncio.wait({change}, timeout=IDLE_END_SECONDS)
        if change.done() and not change.cancelled():
            error = change.exception()
            if error is not None and not self._stop.is_set():
                raise error  # ImapDown from the wait: reconnect

    async def _sender_loop(self, until: asyncio.Event, every: float | None = 15) -> None:
        """Send what is due, then wait until a batch or a deadline queues more (or `every`
        seconds pass), until `until` is set. A failure leaves the mail in the outbox."""
        while not until.is_set():
            self._outbox_wake.clear()  # a wake from now on means mail queued after this flush
            try:
                await self.flush()
            except Exception:
                log.exception("sending failed; the outbox keeps the mail")
            if not self._outbox_wake.is_set():
                self._outbox_drained.set()
            wake = asyncio.ensure_future(self._outbox_wake.wait())
            over = asyncio.ensure_future(until.wait())
            await asyncio.wait({wake, over}, timeout=every, return_when=asyncio.FIRST_COMPLETED)
            wake.cancel()
            over.cancel()

    async def run_forever(self) -> Counter[str]:
        self._on_start()
        self.counters["uncertain after crash"] += self.app.recover_uncertain()
        self._scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "misfire_grace_time": None}
        )
        self._scheduler.start()
        self._scheduler.add_job(self.run_due, "interval", seconds=60, id="safety-net")
        await self.run_due()  # what needs no mail runs now; closes wait for the first sync
        tasks = [
            asyncio.create_task(self._inbound_loop()),
            asyncio.create_task(self._sender_loop(self._stop)),
        ]
        await self._stop.wait()
        self._scheduler.shutdown(wait=False)
        # The inbound loop ends after the batch in hand (committed whole or not begun), the
        # sender after the mail in hand; then what is queued goes out until the bound.
        # (The sender stops claiming mail at the bound; the one in hand gets its SMTP timeout.)
        bound = self.stop_seconds + self.app.settings.model.smtp.timeout_seconds
        _, late = await asyncio.wait(tasks, timeout=bound)
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.source.close()
        if not self._sending_over():
            try:
                await self.flush()
            except Exception:  # stopping anyway: the outbox keeps what did not go
                log.exception("sending on the way out failed; the outbox keeps the mail")
        log.info("stopped: %s", dict(self.counters))
        return self.counters
