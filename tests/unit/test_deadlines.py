"""Deadlines through the shell, in process, with the clock moved: each due run happens once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.app import App
from bot.store.db import session
from bot.store.models import Deadline, Item, Outbox
from tests.conftest import MEMBERS, T0, WITHOUT_DIGEST, make_app


def purposes(app: App) -> list[str]:
    with session(app.engine) as s:
        return [row.purpose for row in s.exec(select(Outbox).order_by(Outbox.id))]  # type: ignore[arg-type]


def test_missed_ticks_run_once_after_downtime(tmp_path: Path) -> None:
    # The daemon was down through both reminders and the deadline: on restart the reminders are
    # not sent after the fact, the ballot closes once, and running again does nothing.
    app = make_app(tmp_path, registry=WITHOUT_DIGEST)
    app.open_item("ballot", "Shortlist", "Agree?", T0 + timedelta(days=10), "test")
    opened = len(purposes(app))
    app.clock.jump_to(T0 + timedelta(days=30))
    assert app.run_due() == 2  # one coalesced reminder (which finds it too late) and the close
    sent = purposes(app)[opened:]
    assert "reminder" not in sent
    assert sent.count("outcome") == len(MEMBERS) + 1  # members and the Secretariat
    assert app.run_due() == 0
    with session(app.engine) as s:
        assert all(d.done_at is not None for d in s.exec(select(Deadline)))
        item = s.exec(select(Item)).one()
    assert item.state == "closed" and item.data["outcome"] == "incomplete"


def test_reminders_go_only_to_members_who_have_not_answered(tmp_path: Path) -> None:
    app = make_app(tmp_path, registry=WITHOUT_DIGEST)
    app.open_item("ballot", "Shortlist", "Agree?", T0 + timedelta(days=10), "test")
    app.clock.jump_to(T0 + timedelta(days=7, minutes=1))  # the 3-day reminder is due
    assert app.run_due() == 1
    with session(app.engine) as s:
        reminders = s.exec(select(Outbox).where(Outbox.purpose == "reminder")).all()
    assert sorted(r.recipients[0] for r in reminders) == sorted(m[1] for m in MEMBERS)


def test_a_deadline_in_the_past_is_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path, registry=WITHOUT_DIGEST)
    try:
        app.open_item("ballot", "Late", "?", T0 - timedelta(days=1), "test")
    except ValueError as exc:
        assert "not in the future" in str(exc)
    else:
        raise AssertionError("a ballot with a past deadline was opened")
