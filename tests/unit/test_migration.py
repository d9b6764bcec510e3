"""A database written by the previous release (schema 1) is brought up to date, keeping every
record. The fixture is a dump of a real schema-1 database made by that release: a ballot
offering two positions, four replies (two of them unclear) and their confirmations."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bot.store.db import SCHEMA_VERSION, session
from bot.store.models import Deadline
from tests.conftest import FIXTURES, MEMBERS, make_app


def schema_one_database(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        db.executescript((FIXTURES / "cgbot-schema1.sql").read_text())
        db.execute("PRAGMA user_version = 1")
        tables = ("item", "response", "inbound", "outbox", "deadline", "person", "review")
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_schema_one_database_upgrades_with_every_record_kept(tmp_path: Path) -> None:
    before = schema_one_database(tmp_path / "cg.db")
    app = make_app(tmp_path, secret="v1-fixture-secret", now=datetime.now(UTC))
    with sqlite3.connect(tmp_path / "cg.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        tables = tuple(before)
        after = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    assert after == before
    item = app.status()["items"][0]
    # Standing positions are derived from the history: Amina's later unclear reply does not
    # replace her counted AGREE; Bruno's unclear one stands as his only answer.
    responses = {email: r["position"] for email, r in item["responses"].items()}
    assert responses == {MEMBERS[0][1]: "agree", MEMBERS[1][1]: None, MEMBERS[2][1]: "object"}
    assert item["responses"][MEMBERS[1][1]]["status"] == "review"
    assert item["history"] == 4 and item["options"] == ["AGREE", "OBJECT"]
    with session(app.engine) as s:
        deadlines = s.exec(select(Deadline)).all()
    assert deadlines and all(d.workflow == "ballot" and d.item_id for d in deadlines)
