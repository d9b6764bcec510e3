"""The outbox sender: in order, at most once, never more than the hourly limit per address."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import col, select

from bot.app import App, sender
from bot.mail.transport import FolderTransport, PermanentFailure
from bot.store import db, outbox
from bot.store.db import session
from bot.store.models import Outbox, Review
from tests.conftest import BOT, MEMBERS, T0, make_app


def test_hourly_limit_per_address_holds_the_rest(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    for n in range(3):  # three ballots: three mails to each member within the hour
        app.open_item("ballot", f"Question {n}", "?", T0 + timedelta(days=10), "test")
    sent = FolderTransport(tmp_path / "sent")
    count = asyncio.run(sender.flush(app.engine, sent, app.clock, "bot@cg.example", per_hour=2))
    to_amina = [r for r, _, _ in sent.written if r == [MEMBERS[0][1]]]
    assert len(to_amina) == 2 and count == len(sent.written)
    with session(app.engine) as s:
        held = s.exec(select(Outbox).where(Outbox.state == "pending")).all()
    assert held and all("hourly limit" in r.last_error for r in held)
    app.clock.jump_to(T0 + timedelta(hours=1, minutes=11))
    asyncio.run(sender.flush(app.engine, sent, app.clock, "bot@cg.example", per_hour=2))
    assert len([r for r, _, _ in sent.written if r == [MEMBERS[0][1]]]) == 3


def test_a_mail_sent_is_counted_and_marked_when_claiming_the_next_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sent mark and the next claim share one trip to the worker thread; a database
    # failure in the claim must not swallow the count or the mark of the mail that went.
    app = make_app(tmp_path)
    app.open_item("ballot", "Question", "?", T0 + timedelta(days=10), "test")
    claims = 0
    real_claim = outbox.claim

    def failing_second(*args: Any, **kwargs: Any) -> Outbox | None:
        nonlocal claims
        claims += 1
        if claims == 2:
            raise OperationalError("SELECT", {}, Exception("disk I/O error"))
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(outbox, "claim", failing_second)
    sent = FolderTransport(tmp_path / "sent")
    counted: list[int] = []
    with pytest.raises(OperationalError, match="disk I/O"):
        asyncio.run(
            sender.flush(app.engine, sent, app.clock, BOT, on_sent=lambda: counted.append(1))
        )
    assert len(sent.written) == 1 and counted == [1]
    with session(app.engine) as s:
        states = [r.state for r in s.exec(select(Outbox).order_by(col(Outbox.id)))]
    assert states[0] == "sent" and set(states[1:]) == {"pending"}


class Refusing:
    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        raise PermanentFailure("550 5.1.1 no such user")


def test_a_permanent_refusal_is_final_and_reviewed(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    app.open_item("ballot", "Question", "?", T0 + timedelta(days=10), "test")
    asyncio.run(sender.flush(app.engine, Refusing(), app.clock, "bot@cg.example"))
    with session(app.engine) as s:
        states = {r.state for r in s.exec(select(Outbox).order_by(col(Outbox.id)))}
        reviews = s.exec(select(Review)).all()
    assert states == {"failed"}
    assert {r.reason for r in reviews} == {"delivery-failed"}


def _claimed(tmp_path: Path) -> tuple[App, int]:
    """A ballot's first mail, claimed: marked `sending`, as just before its first byte."""
    app = make_app(tmp_path)
    app.open_item("ballot", "Question", "?", T0 + timedelta(days=10), "test")
    row = outbox.claim(app.engine, app.clock.now())
    assert row is not None and row.id is not None
    return app, row.id


@contextlib.contextmanager
def _write_lock_held(db_file: Path, seconds: float) -> Iterator[None]:
    """Another writer (the intake's batch, or another process) holding SQLite's write lock for
    `seconds` from the start of the block, on a thread of its own."""
    held = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(db_file, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(seconds)
            conn.execute("COMMIT")
        finally:
            conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5)
        yield
    finally:
        holder.join()


@pytest.mark.parametrize("ending", ["sent", "failed", "retry_later"])
def test_how_a_send_ended_is_written_even_past_a_busy_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, ending: str
) -> None:
    """Seen in a 10,000-message catch-up: the intake held the write lock past SQLite's busy
    timeout, and a delivered confirmation stayed `sending` (uncertain after a restart)."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 100)  # before the engine's first connection
    app, row_id = _claimed(tmp_path)
    with _write_lock_held(tmp_path / "cg.db", 0.6):
        if ending == "sent":
            outbox.sent(app.engine, row_id, app.clock.now())
        elif ending == "failed":
            outbox.failed(app.engine, row_id, app.clock.now(), "550 no such user")
        else:
            outbox.retry_later(app.engine, row_id, app.clock.now(), "421 try later")
    with session(app.engine) as s:
        after = s.get(Outbox, row_id)
    assert after is not None
    assert after.state == {"sent": "sent", "failed": "failed", "retry_later": "pending"}[ending]
    assert "database busy" in caplog.text  # it did meet the lock, and waited it out


def test_a_database_busy_for_longer_than_the_patience_still_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(outbox, "MARK_PATIENCE", 0.3)
    app, row_id = _claimed(tmp_path)
    with _write_lock_held(tmp_path / "cg.db", 1.5), pytest.raises(OperationalError, match="locked"):
        outbox.sent(app.engine, row_id, app.clock.now())


def test_only_the_claim_waits_for_the_disk_before_a_mail_goes(tmp_path: Path) -> None:
    """The claim must be on disk before the first byte goes (at most once); the sent mark need
    not be: lost in a power cut it reads as uncertain, and the next claim's commit syncs it."""
    app, row_id = _claimed(tmp_path)
    seen: list[int] = []

    def at_commit(conn: Connection) -> None:  # SQLite: 2 = FULL (fsync), 1 = NORMAL
        seen.append(conn.connection.dbapi_connection.execute("PRAGMA synchronous").fetchone()[0])

    event.listen(app.engine, "commit", at_commit)
    outbox.sent(app.engine, row_id, app.clock.now())
    after = outbox.claim(app.engine, app.clock.now())  # the next mail
    assert after is not None and after.id != row_id
    assert seen == [1, 2]
    with session(app.engine) as s:
        row = s.get(Outbox, row_id)
        assert row is not None and row.state == "sent" and row.sent_at is not None


def test_a_failed_restore_neither_hides_the_error_nor_pools_a_connection_without_fsync(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    with pytest.raises(DBAPIError), db.unhurried(app.engine) as conn:
        conn.connection.dbapi_connection.close()  # the restore after the commit fails too
    with app.engine.connect() as fresh:  # the next one is a new connection, fsync on
        assert fresh.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def _uncertain_reviews(app: App) -> list[Review]:
    with session(app.engine) as s:
        return list(s.exec(select(Review).where(Review.reason == outbox.UNCERTAIN_REASON)))


@pytest.mark.parametrize("ended", ["sent", "retry_later", "failed"])
def test_a_mail_reported_uncertain_while_it_went_is_settled_and_its_review_closed(
    tmp_path: Path, ended: str
) -> None:
    # A second daemon starting on the same database while the first sends reports the mail in
    # hand as uncertain ("may or may not have gone out; resend it"). When the first learns how
    # the send ended, the row says so and that review is closed: no one resends a mail that
    # went, and the Secretariat is not asked about a fate that is known.
    app, row_id = _claimed(tmp_path)
    assert outbox.recover_uncertain(app.engine, app.clock.now()) == 1  # the second daemon
    (review,) = _uncertain_reviews(app)
    assert review.outbox_id == row_id and review.resolved_at is None

    now = app.clock.now()
    if ended == "sent":
        outbox.sent(app.engine, row_id, now)
    elif ended == "retry_later":
        outbox.retry_later(app.engine, row_id, now, "451 try later")
    else:
        outbox.failed(app.engine, row_id, now, "550 no such user")

    (review,) = _uncertain_reviews(app)
    assert review.resolved_at is not None
    with session(app.engine) as s:
        row = s.get(Outbox, row_id)
        assert row is not None
        assert row.state == {"sent": "sent", "retry_later": "pending", "failed": "failed"}[ended]
    if ended == "sent":
        with pytest.raises(outbox.NotResendable):
            outbox.resend(app.engine, row_id)


def test_an_uncertain_mail_of_a_dead_sender_keeps_its_review_open(tmp_path: Path) -> None:
    # The usual case: the process that was sending died. Nothing settles the row; the review
    # stays open until the Secretariat decides, and another mail's outcome does not touch it.
    app, row_id = _claimed(tmp_path)
    outbox.recover_uncertain(app.engine, app.clock.now())
    other = outbox.claim(app.engine, app.clock.now())
    assert other is not None and other.id is not None and other.id != row_id
    outbox.sent(app.engine, other.id, app.clock.now())
    (review,) = _uncertain_reviews(app)
    assert review.resolved_at is None
