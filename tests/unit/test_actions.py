"""Agreed actions followed up by email (issue 10, item 2): told, reminded, chased until done;
more time by reply, which the Secretariat can refuse; a meeting's record creates them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched, ItemKind
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, MEMBERS, SECRETARIAT, T0, mail_to, make_app

NAME, OWNER = MEMBERS[2][0], MEMBERS[2][1]
DUE = datetime(2026, 12, 20, 17, tzinfo=UTC)


def action_record(app: App, item_id: int) -> dict[str, object]:
    return next(i for i in app.status()["items"] if i["id"] == item_id)


def purposes_to(app: App, address: str) -> list[str]:
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id))).all()
    return [r.purpose for r in rows if address in r.recipients]


def test_an_action_is_reminded_chased_and_done_by_reply(app: App) -> None:
    item_id = app.open_item(
        ItemKind.ACTION, "Draft the Board note", "Two pages.", DUE, "test", {"owner": OWNER}
    )
    record = action_record(app, item_id)
    assert (record["kind"], record["state"], record["owner"]) == ("action", "open", OWNER)
    assert record["due"] == DUE.isoformat() and record["title"] == "Draft the Board note"
    assert purposes_to(app, OWNER) == ["action"]
    app.clock.jump_to(DUE - timedelta(days=2))
    app.run_due()
    app.clock.jump_to(DUE + timedelta(minutes=1))
    app.run_due()
    assert action_record(app, item_id)["state"] == "overdue"
    app.clock.jump_to(DUE + timedelta(days=7, minutes=2))
    app.run_due()
    assert purposes_to(app, OWNER) == ["action", "reminder", "reminder", "reminder"]
    raw = clients.gmail(
        mail_to(app, OWNER, "reminder"),
        NAME,
        OWNER,
        BOT,
        app.clock.now(),
        "Done, see attached.",
    )
    assert app.handle(Fetched("test", raw)) == "processed"
    assert action_record(app, item_id)["state"] == "done"
    with session(app.engine) as s:
        told = s.exec(select(Outbox).where(Outbox.purpose == "notice")).all()
    assert any(SECRETARIAT in r.recipients and "Action done" in r.subject for r in told)
    app.clock.jump_to(DUE + timedelta(days=15))
    app.run_due()
    assert purposes_to(app, OWNER)[-1] == "confirm"  # no more chasing once done


def test_more_time_by_reply_and_the_secretariat_refusing_it(app: App) -> None:
    item_id = app.open_item(ItemKind.ACTION, "Collect comments", "", DUE, "test", {"owner": OWNER})
    raw = clients.gmail(
        mail_to(app, OWNER, "action"),
        NAME,
        OWNER,
        BOT,
        T0,
        "J'ai besoin jusqu'au 2027-01-10, désolée.",
    )
    assert app.handle(Fetched("test", raw)) == "processed"
    # 10 January 2027 is a Sunday: the group's rules move a date alone to the Monday (issue 11).
    assert action_record(app, item_id)["due"] == "2027-01-11T17:00:00+00:00"
    notice = mail_to(app, SECRETARIAT, "notice")
    raw = clients.gmail(
        notice, "Secretariat", SECRETARIAT, BOT, T0, "REFUSE: the Board meets first."
    )
    assert app.handle(Fetched("test", raw)) == "processed"
    assert action_record(app, item_id)["due"] == DUE.isoformat()
    assert purposes_to(app, OWNER)[-1] == "action"  # told that the date stands


def test_an_unknown_owner_is_refused(app: App) -> None:
    try:
        app.open_item(ItemKind.ACTION, "X", "", DUE, "test", {"owner": "nobody@elsewhere.example"})
    except ValueError as exc:
        assert "is not a member" in str(exc)
    else:
        raise AssertionError("an action for a stranger was opened")


def test_a_meeting_record_creates_its_actions(app: App) -> None:
    meeting_id = app.schedule_meeting("Budget", datetime(2026, 12, 2, 10, tzinfo=UTC), 60, "")
    args = {"actions": [("Revise the travel line", OWNER, DUE)], "decisions": ["Adopted."]}
    app.clock.jump_to(datetime(2026, 12, 2, 12, tzinfo=UTC))
    app.act(meeting_id, "record", args)
    (item,) = [i for i in app.status()["items"] if i["kind"] == "action"]
    assert (item["title"], item["owner"], item["due"]) == (
        "Revise the travel line",
        OWNER,
        DUE.isoformat(),
    )
    assert "action" in purposes_to(app, OWNER)


def test_an_action_assigned_by_mail(tmp_path_factory: pytest.TempPathFactory) -> None:
    # A proven ACTION: mail with Owner: and Due: lines.
    trusted = '[security]\ntrusted_authserv_ids = ["mx.cg.example"]\n'
    app = make_app(tmp_path_factory.mktemp("act"), change=lambda t: t + trusted)
    # A Friday: the rules' weekend rule would move a Saturday or Sunday to the Monday.
    body = f"Owner: {OWNER}\nDue: 2026-12-18\n\nTwo pages for the Board."
    command = clients.command("Secretariat", SECRETARIAT, BOT, T0, "ACTION: Draft the note", body)
    vouched = b"Authentication-Results: mx.cg.example; dmarc=pass header.from=cg.example\r\n"
    assert app.handle(Fetched("test", vouched + command)) == "processed"
    (item,) = [i for i in app.status()["items"] if i["kind"] == "action"]
    due = datetime(2026, 12, 18, 17, tzinfo=UTC).isoformat()  # the group's end of business
    assert (item["title"], item["owner"], item["due"]) == ("Draft the note", OWNER, due)
    assert purposes_to(app, OWNER) == ["action"]
