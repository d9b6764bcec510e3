"""The register (issue 10 item 5, ToR 6.2.h): a ballot's decision-relevant events in order, each
chained to the one before, so that an edit or a removal made directly in SQLite is found and
named, by `verify` and by `cgbot register verify`."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store import register
from bot.store.db import session
from bot.store.models import Outbox, Person, RegisterEntry
from tests.conftest import BOT, CHAIR, MEMBERS, T0, config_text, make_app, open_ballot
from tests.unit.test_bounded_reads import statements_for_one_reply
from tests.unit.test_migration import schema_one_database

SECRET = "register-test-secret"


def last_mail_to(app: App, address: str, purpose: str) -> clients.Original:
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id)))
        raws = [r.raw for r in rows if address in r.recipients and r.purpose == purpose]
    return clients.Original(raws[-1])


def answer(app: App, who: tuple[str, str], purpose: str, text: str, outlook: bool = False) -> str:
    """One reply handled in process; returns the SHA-256 of its raw bytes."""
    write = clients.outlook if outlook else clients.gmail
    raw = write(last_mail_to(app, who[1], purpose), who[0], who[1], BOT, app.clock.now(), text)
    assert app.handle(Fetched("test", raw)) == "processed"
    return hashlib.sha256(raw).hexdigest()


def at_day(app: App, days: float, minutes: int = 1) -> None:
    app.clock.jump_to(T0 + timedelta(days=days, minutes=minutes))
    app.run_due()


def escalated_and_determined(folder: Path) -> tuple[App, dict[str, str]]:
    """A ballot from opening to the Chair's determination: two replies, the members'
    reminders, an objection that escalates, the Chair's reminder, read-back and CONFIRM."""
    app = make_app(folder, secret=SECRET)
    open_ballot(app)
    shas = {}
    app.clock.jump_to(T0 + timedelta(days=1))
    shas["amina"] = answer(app, MEMBERS[0][:2], "ballot", "Agree")
    app.clock.jump_to(T0 + timedelta(days=2))
    shas["bruno"] = answer(app, MEMBERS[1][:2], "ballot", "Object: the annex is not ready.")
    at_day(app, 7)  # the P3D reminder to the two who have not answered
    at_day(app, 9)  # the P1D one
    at_day(app, 10)  # the close: Bruno's objection goes to the Chair
    # The Chair's first reminder: P7D before the P14D asked, which are whole days from the day
    # of the close, ending at 17:00 in the group's zone (London, UTC in December; issue 11),
    # on a working day: Friday 25 December is a holiday of the rules, so Monday 28 December.
    at_day(app, 20, minutes=8 * 60 + 2)
    chair = (CHAIR[0], CHAIR[1])
    shas["proposal"] = answer(app, chair, "escalation", "Adopted as proposed.", outlook=True)
    readback = next(
        o.purpose
        for o in _outbox(app)
        if o.purpose.startswith("readback") and CHAIR[1] in o.recipients
    )
    shas["confirm"] = answer(app, chair, readback, "CONFIRM", outlook=True)
    return app, shas


def _outbox(app: App) -> list[Outbox]:
    with session(app.engine) as s:
        return list(s.exec(select(Outbox).order_by(col(Outbox.id))))


def entries(app: App) -> list[RegisterEntry]:
    with session(app.engine) as s:
        return list(s.exec(select(RegisterEntry).order_by(col(RegisterEntry.id))))


def person_ids(app: App) -> dict[str, int]:
    with session(app.engine) as s:
        return {p.email: p.id for p in s.exec(select(Person)) if p.id is not None}


def verify(app: App) -> int | None:
    with session(app.engine) as s:
        return register.verify(s)


def test_a_ballot_leaves_its_events_in_order_each_reply_with_its_message_hash(
    tmp_path: Path,
) -> None:
    # Acceptance: every decision-relevant event of a ballot is in the register, in the order
    # it happened, and a recorded position names the archived mail it came from.
    app, shas = escalated_and_determined(tmp_path)
    rows = entries(app)
    ids = person_ids(app)
    assert [r.event for r in rows] == [
        "item-opened",
        "position-recorded",  # Amina
        "position-recorded",  # Bruno
        "reminder-sent",  # P3D
        "reminder-sent",  # P1D
        "escalated",
        "reminder-sent",  # to the Chair
        "position-recorded",  # the Chair's proposal, read back
        "state-changed",  # the proposal pending
        "position-recorded",  # the Chair's CONFIRM: the determination
        "determined",
    ]
    opened, amina, bruno, remind, _, escalated, chair_reminder, *_, determination, determined = rows
    assert opened.detail["kind"] == "ballot" and opened.message_sha256 == ""
    assert (amina.person_id, amina.detail["position"]) == (ids[MEMBERS[0][1]], "agree")
    assert amina.message_sha256 == shas["amina"]
    assert (bruno.detail["position"], bruno.detail["status"]) == ("object", "counted")
    assert bruno.message_sha256 == shas["bruno"]
    assert remind.detail["to"] == [ids[MEMBERS[2][1]], ids[MEMBERS[3][1]]]
    assert remind.detail["purpose"] == "reminder" and remind.message_sha256 == ""
    assert escalated.detail["outcome"] == "escalated" and escalated.detail["from"] == "open"
    assert chair_reminder.person_id == ids[CHAIR[1]]
    assert rows[7].message_sha256 == shas["proposal"] and rows[7].detail["status"] == "review"
    assert determination.detail["position"] == "determination"
    assert determination.message_sha256 == shas["confirm"]
    assert (
        determined.detail["state"] == "determined" and "determination" in determined.detail["keys"]
    )
    assert determined.message_sha256 == shas["confirm"]  # the CONFIRM decided it
    assert all(r.item_id == opened.item_id for r in rows)
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert verify(app) is None


def test_an_edited_row_is_named_and_a_removed_row_names_the_next(tmp_path: Path) -> None:
    # Acceptance: editing one register row directly in SQLite makes verify fail on that row;
    # deleting one breaks the link of the row after it.
    app, _ = escalated_and_determined(tmp_path)
    rows = entries(app)
    bruno = rows[2]
    with sqlite3.connect(tmp_path / "cg.db") as db:
        db.execute(
            "UPDATE registerentry SET detail = json_set(detail, '$.position', 'agree') "
            "WHERE id = ?",
            (bruno.id,),
        )
    assert verify(app) == bruno.id
    with sqlite3.connect(tmp_path / "cg.db") as db:
        was = json.dumps(bruno.detail)
        db.execute("UPDATE registerentry SET detail = ? WHERE id = ?", (was, bruno.id))
    assert verify(app) is None  # put back as it was: the chain holds again
    middle = rows[5]
    with sqlite3.connect(tmp_path / "cg.db") as db:
        db.execute("DELETE FROM registerentry WHERE id = ?", (middle.id,))
    assert verify(app) == rows[6].id


def cgbot(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_register_verify_exits_0_when_the_chain_holds_and_1_naming_an_edited_row(
    tmp_path: Path,
) -> None:
    # The contract other tools drive: exit 0 on a sound database, non-zero naming the row.
    app, _ = escalated_and_determined(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(config_text(1, "u", "p", 1, tmp_path / "cg.db", secret=SECRET))
    config.chmod(0o600)
    total = len(entries(app))
    sound = cgbot(config, "register", "verify")
    assert sound.returncode == 0, sound.stderr
    assert sound.stdout.strip() == f"register: {total} entries, the chain holds"
    with sqlite3.connect(tmp_path / "cg.db") as db:
        db.execute("UPDATE registerentry SET at = '2026-12-02 10:00:00.000000' WHERE id = 4")
    edited = cgbot(config, "register", "verify")
    assert edited.returncode == 1
    assert "register: entry #4 does not match its hash" in edited.stderr


def test_a_reply_costs_the_same_statements_with_a_long_register(tmp_path: Path) -> None:
    # Appending reads only the last row (by its primary key): a member's reply costs the same
    # statements and about the same SQLite work after 5 register rows as after 2,000.
    def with_register(folder: Path, rows: int) -> App:
        app = make_app(folder)
        open_ballot(app)
        with session(app.engine) as s:
            for n in range(rows):
                register.append(
                    s,
                    "state-changed",
                    at=T0,
                    item_id=1,
                    person_id=None,
                    detail={"n": n},
                    message_sha256="",
                )
            s.commit()
        return app

    def measured(app: App) -> tuple[list[str], int, list[str]]:
        touching: list[str] = []

        def keep(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if "registerentry" in statement:
                touching.append(statement.split()[0])

        event.listen(app.engine, "before_cursor_execute", keep)
        try:
            seen, work = statements_for_one_reply(app)
        finally:
            event.remove(app.engine, "before_cursor_execute", keep)
        return seen, work, touching

    small, small_work, small_register = measured(with_register(tmp_path / "small", 5))
    large, large_work, large_register = measured(with_register(tmp_path / "large", 2000))
    assert small_register == large_register == ["SELECT", "INSERT"]  # the reply's one entry
    assert small == large, f"{small}\n{large}"
    assert large_work <= 2 * small_work + 5, (small_work, large_work)
    print(
        f"one reply: {len(small)} SQL statements and {small_work} / {large_work} hundred "
        "SQLite instructions with 5 / 2,000 register rows"
    )


def test_a_schema_one_database_gains_an_empty_register_that_then_chains(tmp_path: Path) -> None:
    # Schema 2 adds the register to an upgraded database too: it starts empty (schema 1 kept
    # none) and the first event after the upgrade starts the chain.
    schema_one_database(tmp_path / "cg.db")
    app = make_app(tmp_path, secret="v1-fixture-secret", now=datetime.now(UTC))
    assert entries(app) == [] and verify(app) is None
    app.open_item(
        "ballot", "After the upgrade", "Agree?", app.clock.now() + timedelta(days=10), "t"
    )
    rows = entries(app)
    assert [(r.id, r.event, r.prev_hash) for r in rows] == [(1, "item-opened", "")]
    assert verify(app) is None
