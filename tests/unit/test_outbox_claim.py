"""Claiming the next mail to send reads one row, however many wait (issue 12): a catch-up
queues thousands of confirmations, and building every waiting row for each claim made sending
them quadratic."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from bot.store import outbox
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import T0, make_app


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
