"""A database written by the previous release (schema 1) is brought up to date, keeping every
record. The fixture is a dump of a real schema-1 database made by that release: a ballot
offering two positions, four replies (two of them unclear) and their confirmations."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.store import db as store_db
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
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "ix_outbox_budget" in indexes  # schema 3 (issue 12)
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


def test_a_migration_that_fails_part_way_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Schema changes run in one transaction (sqlite3 would commit each CREATE on its own):
    # a step that fails after the schema-2 step leaves the schema-1 database as it was.
    path = tmp_path / "cg.db"
    schema_one_database(path)

    def fails(conn: object) -> None:
        raise RuntimeError("a later step fails")

    monkeypatch.setattr(store_db, "MIGRATIONS", [*store_db.MIGRATIONS, fails])
    with pytest.raises(RuntimeError):
        store_db.make_engine(f"sqlite:///{path}")
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "standing" not in tables and "deadline" in tables


def test_the_hourly_budget_is_counted_by_its_index_not_by_every_mail_sent(tmp_path: Path) -> None:
    # Issue 12: the count before every send scanned every mail ever sent (all of state 'sent'),
    # so a long catch-up slowed down with each mail it sent.
    make_app(tmp_path)
    with sqlite3.connect(tmp_path / "cg.db") as db:
        plan = " ".join(
            str(row[-1])
            for row in db.execute(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM outbox "
                "WHERE state = 'sent' AND cap_key = 'x' AND sent_at >= '2026-01-01'"
            )
        )
    assert "ix_outbox_budget" in plan, plan
