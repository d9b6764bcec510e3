"""Claiming the next mail to send reads one row, however many wait (issue 12): a catch-up
queues thousands of confirmations, and building every waiting row for each claim made sending
them quadratic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bot.app import App
from bot.domain.types import PersonView
from bot.store import outbox, repo
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import T0, make_app, open_ballot


def repo_people(app: App) -> tuple[PersonView, ...]:
    with session(app.engine) as s:
        return repo.directory(s, {}).people


def test_a_claim_builds_one_row_of_the_hundreds_waiting(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with session(app.engine) as s:
        for n in range(300):
            s.add(
                Outbox(
                    message_id=f"<{n}@cg.example>",
                    purpose="confirm",
                    recipients=["m@x.example"],
                    subject=f"{n}",
                    raw=b"x" * 2000,
                    created_at=T0,
                )
            )
        s.commit()
    built: list[object] = []

    def count(target: object, context: object) -> None:
        built.append(target)

    event.listen(Outbox, "load", count)
    try:
        first = outbox.claim(app.engine, T0)
        second = outbox.claim(app.engine, T0)
    finally:
        event.remove(Outbox, "load", count)
    assert first is not None and second is not None
    assert (first.subject, second.subject) == ("0", "1")  # in order, each once
    assert len(built) == 2


def plans(app: App, call: Callable[[], object]) -> dict[str, str]:
    """SQLite's query plan of each SELECT on the outbox that `call` runs, by statement."""
    seen: list[tuple[str, Any]] = []

    def note(conn: object, cursor: object, statement: str, params: Any, *_: object) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM outbox" in statement:
            seen.append((statement, params))

    event.listen(app.engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(app.engine, "before_cursor_execute", note)
    with app.engine.connect() as conn:
        return {
            statement: " / ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            )
            for statement, params in seen
        }


def test_the_next_mail_and_a_thread_are_found_by_index_however_long_the_queue(
    tmp_path: Path,
) -> None:
    # Sorting every pending row for each claim, or reading an item's whole history for each
    # mail composed, made a catch-up of 10,000 messages slower per message than one of 1,000.
    app = make_app(tmp_path)
    open_ballot(app)
    people = repo_people(app)

    def compose_and_claim() -> None:
        with session(app.engine) as s:
            outbox.thread_root(s, 1, people)
        outbox.claim(app.engine, T0, per_hour=1000)

    found = plans(app, compose_and_claim)
    claim = next(p for s, p in found.items() if "ORDER BY outbox.priority" in s)
    assert "ix_outbox_queue" in claim and "TEMP B-TREE" not in claim, claim
    thread = [p for s, p in found.items() if "outbox.item_id = ?" in s]
    assert len(thread) == 2 and all("ix_outbox_thread" in p for p in thread), thread
