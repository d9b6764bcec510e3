"""Every state change of an outgoing mail, in one place: queue, claim (or hold back), finish,
recover, resend, queue again without the thread archive. A row is marked `sending` and
committed before any byte goes out, so a crash mid-send leaves it `sending`: delivery
uncertain, never sent twice without a person deciding."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Concatenate, ParamSpec

from sqlalchemy import Engine, bindparam, func, insert, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, or_, select

from bot.domain.types import Composed, PersonView
from bot.faults import crash_point
from bot.store.db import session, unhurried
from bot.store.models import Outbox, OutboxState, Review

log = logging.getLogger("cgbot.outbox")
P = ParamSpec("P")

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


def queue(s: Session, mail: Composed, now: datetime) -> None:
    """Add the mail in the caller's transaction: it exists once the cause is committed.

    One prepared INSERT on the session's connection, after what the session holds is flushed
    (the item the mail is about may have been created in this transaction)."""
    s.flush()
    s.connection().execute(
        _QUEUE,
        {
            "message_id": mail.message_id,
            "item_id": mail.item_id,
            "person_id": mail.person_id,
            "purpose": mail.purpose,
            "recipients": list(mail.recipients),
            "subject": mail.subject,
            "raw": mail.raw,
            "created_at": now,
            "priority": mail.priority,
            "cap_key": mail.cap_key,
        },  # state, attempts and last_error: the model's column defaults
    )


_HEAD_BYTES = 32_768  # a root's headers are read from this much of it, never its attachments


def thread_root(s: Session, item_id: int, people: Sequence[PersonView]) -> tuple[str, ...]:
    """The thread a new mail of an item joins for these recipients: the first mail of the item
    any of them got, in person or in a notice to a group (an outcome to the Secretariat follows
    the notice that the item was opened), as that mail's References and its Message-ID; empty
    when they have had none."""
    addresses = {p.email for p in people}
    firsts = (  # each one's first by ix_outbox_thread, not by reading the item's history
        s.exec(
            select(func.min(Outbox.id)).where(Outbox.item_id == item_id, Outbox.person_id == p.id)
        ).one()
        for p in people
    )
    found = min((i for i in firsts if i is not None), default=None)
    notices = s.exec(
        select(Outbox.id, Outbox.recipients)
        .where(Outbox.item_id == item_id, col(Outbox.person_id).is_(None))
        .order_by(col(Outbox.id))
    )
    shared = next((row_id for row_id, to in notices if addresses & set(to)), None)
    first = min((i for i in (found, shared) if i is not None), default=None)
    if first is None:
        return ()
    head = s.exec(select(func.substr(Outbox.raw, 1, _HEAD_BYTES)).where(Outbox.id == first)).one()
    headers = BytesHeaderParser(policy=compat32).parsebytes(bytes(head))
    refs = str(headers.get("references", "")).split()
    return (*refs, str(headers.get("message-id", "")).strip())


MARK_PATIENCE = 300.0  # seconds a send's outcome is written again while the database is busy
HELD_FOR = timedelta(minutes=10)  # a mail whose hourly budget is spent waits this long
UNCERTAIN_REASON = "delivery-uncertain"  # the review of a mail found mid-send at a start

# Run for every mail sent, so built once with bound parameters (building a statement and its
# cache key costs several times what the database takes to run it).
_QUEUE = insert(Outbox)
_MARK_SENDING = (
    update(Outbox)
    .where(col(Outbox.id) == bindparam("row_id"))
    .values(state=OutboxState.SENDING, attempts=Outbox.attempts + 1)
)
_NEXT_DUE = (
    select(Outbox)
    .where(
        Outbox.state == OutboxState.PENDING,
        or_(
            col(Outbox.next_attempt_at).is_(None),
            col(Outbox.next_attempt_at) <= bindparam("now"),
        ),
    )
    .order_by(col(Outbox.priority), col(Outbox.id))
    .limit(1)  # in queue order from ix_outbox_queue, whatever the queue's length
)
_SENT_ON_BUDGET = (
    select(func.count())
    .select_from(Outbox)
    .where(
        Outbox.state == OutboxState.SENT,
        Outbox.cap_key == bindparam("cap_key"),
        col(Outbox.sent_at) >= bindparam("since"),
    )
)
# Sent, whatever the row says now: another daemon's start may have reported it uncertain (or
# someone queued it again) while it went; the review that says it may not have gone is closed.
_MARK_SENT_AFTER_ALL = (
    update(Outbox)
    .where(col(Outbox.id) == bindparam("row_id"))
    .values(state=OutboxState.SENT, sent_at=bindparam("now"), last_error="")
)
_MARK_SENT = _MARK_SENT_AFTER_ALL.where(col(Outbox.state) == OutboxState.SENDING)
_CLOSE_UNCERTAIN = (
    update(Review)
    .where(
        col(Review.outbox_id) == bindparam("row_id"),
        col(Review.reason) == UNCERTAIN_REASON,
        col(Review.resolved_at).is_(None),
    )
    .values(resolved_at=bindparam("now"))
)


def claim(engine: Engine, now: datetime, per_hour: int | None = None) -> Outbox | None:
    """The oldest due row, marked SENDING and committed before any byte goes out.

    A due row whose hourly budget (`per_hour` mails, see Outbox.cap_key) is spent waits
    HELD_FOR in the same transaction, untouched otherwise (a rate limit is not a failed
    attempt), and the next due row is taken: one transaction per mail sent."""
    with session(engine) as s:
        while True:
            row = s.exec(_NEXT_DUE, params={"now": now}).first()
            if row is None:
                s.commit()  # the rows held back, if any
                return None
            if per_hour is not None and _spent(s, row, per_hour, now):
                row.next_attempt_at = now + HELD_FOR
                row.last_error = "held: hourly limit for a recipient reached"
                s.add(row)
                s.flush()
                continue
            crash_point("before-send")
            s.connection().execute(_MARK_SENDING, {"row_id": row.id})
            s.commit()
            set_committed_value(row, "state", OutboxState.SENDING)
            set_committed_value(row, "attempts", row.attempts + 1)
            return row


def _spent(s: Session, row: Outbox, per_hour: int, now: datetime) -> bool:
    """The row's budget (the sender whose mail caused it, else its recipient) is spent."""
    key = row.cap_key or (row.recipients[0] if row.recipients else "")
    return _sent_last_hour(s, key, now) >= per_hour


def _change(engine: Engine, row_id: int, now: datetime) -> tuple[Session, Outbox]:
    """The row whose send attempt just ended, in a session to record how. If another daemon's
    start reported it uncertain meanwhile, that review is closed: its fate is known now."""
    s = session(engine)
    row = s.get(Outbox, row_id)
    assert row is not None, f"outbox row {row_id} vanished"
    if row.state == OutboxState.UNCERTAIN:
        s.connection().execute(_CLOSE_UNCERTAIN, {"row_id": row_id, "now": now})
    return s, row


def _outcome(
    write: Callable[Concatenate[Engine, int, P], None],
) -> Callable[Concatenate[Engine, int, P], None]:
    """A write that records how a send attempt ended, done again while the database is busy
    or unavailable (up to MARK_PATIENCE): the attempt has happened, and a row left `sending`
    would be reported as uncertain after a restart. A catch-up's intake can hold SQLite's
    write lock for longer than the busy timeout, batch after batch (seen once in a 10,000-
    message catch-up: a delivered confirmation left `sending`)."""

    @functools.wraps(write)
    def patiently(engine: Engine, row_id: int, /, *args: P.args, **kwargs: P.kwargs) -> None:
        deadline = time.monotonic() + MARK_PATIENCE
        pause = 0.05
        while True:
            try:
                write(engine, row_id, *args, **kwargs)
                return
            except OperationalError as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning(
                    "outbox row %s, %s: database busy (%s); writing it again",
                    row_id, write.__name__, exc.orig,
                )  # fmt: skip
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    return patiently


@_outcome
def sent(engine: Engine, row_id: int, now: datetime) -> None:
    """Accepted by the server: one UPDATE by key (the mail's bytes are not read again),
    committed without waiting for the disk. Safe for at-most-once: a power cut that undoes it
    leaves the row `sending`, which the restart reports as uncertain and never resends; and
    the next claim's commit, which does wait, makes it durable before the next mail goes."""
    params = {"row_id": row_id, "now": now}
    with unhurried(engine) as conn:
        if conn.execute(_MARK_SENT, params).rowcount == 1:
            return
        done = conn.execute(_MARK_SENT_AFTER_ALL, params)
        assert done.rowcount == 1, f"outbox row {row_id} vanished"
        conn.execute(_CLOSE_UNCERTAIN, params)


@_outcome
def failed(engine: Engine, row_id: int, now: datetime, error: str) -> None:
    """Refused for good: kept, and shown to the Secretariat."""
    s, row = _change(engine, row_id, now)
    with s:
        row.state, row.last_error = OutboxState.FAILED, error[:1000]
        s.add(row)
        s.add(
            Review(
                item_id=row.item_id,
                person_id=row.person_id,
                reason="delivery-failed",
                detail=f"{row.message_id} to {', '.join(row.recipients)}: {error}",
                created_at=now,
            )
        )
        s.commit()


@_outcome
def without_archive(engine: Engine, row_id: int, raw: bytes, now: datetime, error: str) -> None:
    """Refused for good with the thread archive: `raw` is the same mail (same Message-ID)
    without it, queued again at once, and the Secretariat's review queue says so."""
    s, row = _change(engine, row_id, now)
    with s:
        row.raw, row.state, row.next_attempt_at = raw, OutboxState.PENDING, None
        row.last_error = f"refused with the thread archive, queued again without it: {error}"[:1000]
        s.add(row)
        s.add(
            Review(
                item_id=row.item_id,
                person_id=row.person_id,
                reason="packet-without-archive",
                detail=f"{row.message_id} to {', '.join(row.recipients)} was refused with the "
                f"thread archive ({error}); it goes again without the .mbox, and the thread "
                "stays in the bot's archive",
                created_at=now,
            )
        )
        s.commit()


@_outcome
def retry_later(engine: Engine, row_id: int, now: datetime, error: str) -> None:
    """Not accepted for now: pending again after a back-off."""
    s, row = _change(engine, row_id, now)
    with s:
        row.state, row.last_error = OutboxState.PENDING, error[:1000]
        row.next_attempt_at = now + backoff(row.attempts)
        s.add(row)
        s.commit()


def _sent_last_hour(s: Session, cap_key: str, now: datetime) -> int:
    """Mail sent in the last hour on one budget (see Outbox.cap_key), by ix_outbox_budget."""
    found = s.exec(_SENT_ON_BUDGET, params={"cap_key": cap_key, "since": now - timedelta(hours=1)})
    return int(found.one())


def recover_uncertain(engine: Engine, now: datetime) -> int:
    """Mail found mid-send after a crash is not resent (at most once): it goes to review."""
    with session(engine) as s:
        rows = list(s.exec(select(Outbox).where(Outbox.state == OutboxState.SENDING)))
        for row in rows:
            row.state = OutboxState.UNCERTAIN
            s.add(row)
            s.add(
                Review(
                    item_id=row.item_id,
                    person_id=row.person_id,
                    outbox_id=row.id,
                    reason=UNCERTAIN_REASON,
                    detail=f"mail {row.message_id} to {', '.join(row.recipients)} was being "
                    "sent "
                    "when the bot stopped; it may or may not have gone out (resend with "
                    f"`cgbot outbox resend {row.id}`)",
                    created_at=now,
                )
            )
        s.commit()
    return len(rows)


class NotResendable(ValueError):
    """Only uncertain or failed mail is queued again."""


def resend(engine: Engine, row_id: int) -> None:
    """Queue an uncertain or failed mail again, with the same Message-ID."""
    with session(engine) as s:
        row = s.get(Outbox, row_id)
        if row is None:
            raise NotResendable(f"no outbox row {row_id}")
        if row.state not in (OutboxState.UNCERTAIN, OutboxState.FAILED):
            raise NotResendable(
                f"outbox row {row_id} is {row.state}; only uncertain or failed mail is resent"
            )
        row.state, row.next_attempt_at = OutboxState.PENDING, None
        s.add(row)
        s.commit()
