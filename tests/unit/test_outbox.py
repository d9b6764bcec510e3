"""The outbox sender: in order, at most once, never more than the hourly limit per address."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.app import sender
from bot.mail.transport import FolderTransport, PermanentFailure
from bot.store.db import session
from bot.store.models import Outbox, Review
from tests.conftest import MEMBERS, T0, make_app


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
