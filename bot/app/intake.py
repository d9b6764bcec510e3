"""Messages in, a bounded batch at a time: archive them raw, read what each needs once, run the
pipeline, commit the effects.

Store first, decide second, act last: the raw bytes are committed before interpretation; the
interpretation, the state change, the outgoing mail and the mailbox checkpoint are committed
together; a message that breaks the code is rolled back alone and quarantined with the
traceback, never lost."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.app.enact import Cause, Enactor
from bot.clock import Clock
from bot.domain.batches import BATCH_BYTES, BATCH_MESSAGES, plan_batches
from bot.domain.refusals import Crashed
from bot.domain.types import Fetched, PersonKind, PersonView
from bot.faults import crash_point
from bot.inbound.parse import id_and_sender
from bot.mail import dkim_keys
from bot.pipeline import (
    Handled,
    Ignored,
    Inspection,
    ItemRecord,
    Outcome,
    Quarantined,
    Result,
    World,
    inspect,
    quarantine_effects,
)
from bot.store import repo
from bot.store.db import StoreUnavailable, session, written_since_asked
from bot.store.models import InboundState, Item, Person
from bot.store.repo import Arriving, Stored, Stranded

log = logging.getLogger("cgbot")


def load_item(s: Session) -> Callable[[int, str], ItemRecord | None]:
    """The pipeline's one read of an item: the item, its standing responses, and what the
    bot's mail that the reply answers was for (a mail's purpose never changes, so it is read
    once for the session: a batch's replies mostly answer the same few mails)."""
    purposes: dict[str, str] = {}

    def load(item_id: int, token_message_id: str) -> ItemRecord | None:
        item = repo.item(s, item_id)
        if item is None:
            return None
        responses, streaks, latest = repo.standing_and_streaks(s, item_id)
        answered = purposes.get(token_message_id) or repo.purpose_of(s, token_message_id)
        if answered:  # none yet may still come (a mail queued later in this session)
            purposes[token_message_id] = answered
        return ItemRecord(item, responses, answered, streaks, latest)

    return load


@dataclass(frozen=True)
class Archived:
    """One message of a batch once stored: its archive row's identity and state."""

    fetched: Fetched
    stored: Stored  # its archive row: id, Message-ID, SHA-256, state
    arrived: datetime | None
    sender: str  # the From address, as the headers alone say ("" when unreadable)


@dataclass
class _BatchWorld:
    """The World a batch's messages are read against: read once, and again after a message
    wrote what it is read from (people, items), so each message sees what it would have seen
    had it been read alone, for a fraction of the reads."""

    build: Callable[[Session], World]
    s: Session
    _world: World | None = None

    def now(self, now: datetime) -> World:
        if written_since_asked(self.s, Person, Item) or self._world is None:
            self._world = self.build(self.s)
        return replace(self._world, now=now)


def _from_archive(row: Stranded) -> Archived:
    """An archived message as the apply step takes a fetched one (its sender from its bytes)."""
    _, sender = id_and_sender(row.raw)
    return Archived(Fetched(row.source, row.raw), row.stored, row.arrived_at, sender)


def _first_copies(stored: list[Archived]) -> list[Archived]:
    """The stored messages still to apply, each once even if the batch holds its bytes twice."""
    seen: set[int] = set()
    fresh = []
    for archived in stored:
        row = archived.stored
        if row.state == InboundState.NEW and row.id not in seen:
            seen.add(row.id)
            fresh.append(archived)
    return fresh


@dataclass(frozen=True)
class Intake:
    engine: Engine
    clock: Clock
    enactor: Enactor
    world: Callable[[Session], World]  # what the stages read, built in the message's session

    def explain(self, raw: bytes) -> Result:
        """What the pipeline would do with this message; nothing is written."""
        with session(self.engine) as s:
            return inspect(raw, self.world(s))

    def handle(self, fetched: Fetched) -> str:
        """Archive, interpret and apply one message; returns the archive state it ends in."""
        return self.handle_batch([fetched])[0]

    def handle_batch(self, batch: Sequence[Fetched]) -> list[str]:
        """Archive, interpret and apply a bounded batch of messages in mailbox order; returns
        the archive state each ends in.

        Two transactions for the whole batch, not two per message: one stores every raw
        message, one applies them all (each inside its own savepoint) with the checkpoint at
        the batch's last UID. A crash between or during them leaves the checkpoint where it
        was, so the batch is fetched again: the stored copies are recognised by their content
        and applied then, and nothing was sent, because the outbox rows commit with the
        effects. Raises only when the database itself fails: the caller then leaves the
        messages on the server and the checkpoint where it was, to try again later."""
        try:
            return self._handle_batch(batch)
        except OperationalError as exc:
            raise StoreUnavailable(
                f"database {self.engine.url.database}: {exc.orig}; the messages stay on the "
                "server and are read again next time"
            ) from exc

    def _handle_batch(self, batch: Sequence[Fetched]) -> list[str]:
        if not batch:
            return []
        with session(self.engine) as s:
            stored = self._archive(s, batch)
            s.commit()
        for _ in _first_copies(stored):
            crash_point("archived")
        return self._apply_stored(stored, batch[-1])

    def stranded(
        self, max_messages: int = BATCH_MESSAGES, max_bytes: int = BATCH_BYTES
    ) -> list[list[int]]:
        """The archived messages still `new` (stored by a run that died or lost its database
        before applying them), oldest first, in batches bounded as a fetch's are. One deleted
        from the mailbox meanwhile is never read again: it is applied from the archive."""
        with session(self.engine) as s:
            return plan_batches(repo.stranded(s), max_messages, max_bytes)

    def apply_archived(self, inbound_ids: list[int]) -> list[str]:
        """Apply archived messages from their stored bytes, as a fetched batch would be, but
        without moving any mailbox checkpoint; returns the state each ends in."""
        try:
            with session(self.engine) as s:
                rows = repo.stranded_rows(s, inbound_ids)
            return self._apply_stored([_from_archive(row) for row in rows], None)
        except OperationalError as exc:
            raise StoreUnavailable(
                f"database {self.engine.url.database}: {exc.orig}; the stored messages are "
                "applied at the next try"
            ) from exc

    def _apply_stored(self, stored: list[Archived], last: Fetched | None) -> list[str]:
        """Apply the stored messages still `new`, each in its savepoint, in one transaction
        that also moves the mailbox checkpoint to `last` (when read from a mailbox)."""
        fresh = _first_copies(stored)
        states: dict[int, str] = {a.stored.id: a.stored.state for a in stored}
        with session(self.engine, keep_loaded=True) as s:
            # Read again in this transaction: another daemon may have applied some meanwhile.
            now_in = repo.inbound_states(s, [a.stored.id for a in fresh])
            twins = repo.handled_twins(s, {a.stored.message_id for a in fresh})
            worlds = _BatchWorld(self.world, s)
            for archived in fresh:
                row = archived.stored
                if now_in[row.id] != InboundState.NEW:
                    states[row.id] = now_in[row.id]
                    continue
                states[row.id] = self._apply(s, archived, worlds, twins)
                if row.message_id:  # handled now: a later copy in the batch is its repeat
                    twins.setdefault(row.message_id, row.id)
            if last is not None:
                _advance(s, last)
            s.commit()
        for _ in fresh:
            crash_point("applied")
        return [states[a.stored.id] for a in stored]

    def _archive(self, s: Session, batch: Sequence[Fetched]) -> list[Archived]:
        heads = [id_and_sender(fetched.raw) for fetched in batch]
        # The server's clock says when it arrived; read on the bot's (possibly moved) clock.
        arrived = [self.clock.from_real(f.arrived_at) if f.arrived_at else None for f in batch]
        rows = repo.archive_all(
            s,
            [
                Arriving(f.raw, message_id, f.source, f.uidvalidity, f.uid, when)
                for f, (message_id, _), when in zip(batch, heads, arrived, strict=True)
            ],
            self.clock.now(),
        )
        return [
            Archived(f, row, when, sender)
            for f, row, when, (_, sender) in zip(batch, rows, arrived, heads, strict=True)
        ]

    def _apply(
        self, s: Session, archived: Archived, worlds: _BatchWorld, twins: dict[str, int]
    ) -> str:
        """Interpret and apply one stored message inside a savepoint of the batch's
        transaction: a message that breaks the code is rolled back alone and quarantined.
        `twins`: the first handled message of each Message-ID (this one is a repeat of it)."""
        stored = archived.stored
        twin = twins.get(stored.message_id) if stored.message_id else None
        if twin is not None:
            repo.mark_duplicate(s, stored.id, twin, self.clock.now())
            return InboundState.DUPLICATE
        raw, ids = archived.fetched.raw, (stored.id, stored.message_id, stored.sha256)
        try:
            with s.begin_nested():
                world = _with_dkim_keys(worlds.now(self.clock.now()), raw, archived.sender)
                result = inspect(raw, world, archived.arrived)
                return self._settle(s, world, result.outcome, *ids, result)
        except OperationalError:
            raise  # the database, not the message, is at fault: leave it on the server
        except Exception as exc:  # a bug must not stop the daemon or lose the message
            log.exception("message #%s could not be handled", stored.id)
            detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
            with s.begin_nested():
                crashed = Quarantined(Crashed(detail=detail))
                return self._settle(s, worlds.now(self.clock.now()), crashed, *ids, None)

    def _settle(
        self,
        s: Session,
        world: World,
        outcome: Outcome,
        inbound_id: int,
        message_id: str,
        sha256: str,
        result: Result | None,
    ) -> str:
        insp = result.inspection if result else None
        item = insp.item if insp else None
        person_id = insp.person.id if insp and insp.person else None
        item_id = item.id if item else None
        now = world.now
        if isinstance(outcome, Handled):
            state, reason, detail, effects = InboundState.PROCESSED, "", "", outcome.effects
        elif isinstance(outcome, Ignored):
            state, reason, detail = InboundState.IGNORED, outcome.reason, outcome.detail
            effects = outcome.effects
        else:
            state, reason = InboundState.QUARANTINED, outcome.refusal.code
            detail = outcome.refusal.detail
            writer = _writer(insp, world)
            if writer is not None and person_id is None:
                person_id = writer.id
            told = writer is not None and repo.told_held(s, writer.id, item_id, now)
            effects = quarantine_effects(
                outcome.refusal,
                result.inspection.raw if result else repo.raw_of(s, inbound_id),
                item_id,
                person_id,
                tell=None if told else writer,
                message=insp.message if insp else None,
            )
        repo.settle_inbound(s, inbound_id, state, now, reason, detail, item_id, person_id)
        record = insp.record if insp else None
        cause = Cause(
            item.kind if item else "",
            inbound_id,
            message_id,
            insp.arrived_at if insp else None,
            message_sha256=sha256,
            raw=insp.raw if insp else None,
        )
        self.enactor.enact(s, effects, world.situation(record), cause)
        return state


def _with_dkim_keys(world: World, raw: bytes, sender: str) -> World:
    """Fetch the DKIM keys a Secretariat's or the Chair's mail may be proven with (DNS, here in
    the shell), so that the pipeline reads them as data. `sender`: its From address."""
    person = world.person(sender) if "@" in sender else None
    if person is None or person.kind not in (PersonKind.SECRETARIAT, PersonKind.CHAIR):
        return world
    keys = dkim_keys.fetch(raw)
    return replace(world, dkim_dns=keys.get) if keys else world


def _writer(insp: Inspection | None, world: World) -> PersonView | None:
    """The member or Chair whose mail is held (they are told); not a stranger, not a robot."""
    if insp is None or insp.message is None:
        return None
    person = insp.person or world.person(insp.message.from_addr)
    if person is None or person.kind not in (PersonKind.MEMBER, PersonKind.CHAIR):
        return None
    return person


def _advance(s: Session, fetched: Fetched) -> None:
    if fetched.uidvalidity is not None and fetched.uid is not None:
        repo.set_checkpoint(s, fetched.source, fetched.uidvalidity, fetched.uid)
