"""Databases written by earlier releases are brought up to date by Alembic, keeping every record:
a schema-1 database (a dump made by the first release: a ballot offering two positions, four
replies, two of them unclear, and their confirmations) and the whole `cgbot demo` database of
the release before Alembic (schema 3, made by commit 574b6dc: four items of every kind, replies
with a file, the register, the outbox, a review)."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event
from sqlmodel import SQLModel, select

from bot.store import db as store_db
from bot.store.db import SCHEMA_HEAD, head_revision, session
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
        revision = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        assert revision == head_revision()
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


def test_a_migration_that_fails_part_way_changes_nothing(tmp_path: Path) -> None:
    # Schema changes run in one transaction (sqlite3 would commit each CREATE on its own): a
    # revision that fails after the schema-2 step leaves the schema-1 database as it was.
    path = tmp_path / "cg.db"
    schema_one_database(path)
    location = tmp_path / "migrations"
    shutil.copytree(store_db.MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    head = head_revision()
    (location / "versions" / "9999_fails.py").write_text(
        f'revision = "9999"\ndown_revision = "{head}"\n\n\n'
        "def upgrade() -> None:\n    raise RuntimeError('a later step fails')\n"
    )
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", store_db._on_connect)
    event.listen(engine, "begin", store_db._begin)
    with pytest.raises(RuntimeError, match="a later step fails"):
        store_db.migrate(engine, location)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "standing" not in tables and "alembic_version" not in tables and "deadline" in tables


def rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in primary-key order, by column name."""
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = {}
        for name in names:
            cursor = db.execute(f'SELECT * FROM "{name}" ORDER BY 1')
            columns = [c[0] for c in cursor.description]
            out[name] = [tuple(zip(columns, row, strict=True)) for row in cursor]
        return out


def test_the_previous_release_database_upgrades_with_every_record_kept(tmp_path: Path) -> None:
    path = tmp_path / "cg.db"
    path.write_bytes(gzip.decompress((FIXTURES / "cgbot-0.1.0-demo.db.gz").read_bytes()))
    before = rows(path)
    assert sum(len(r) for r in before.values()) > 200 and len(before["outbox"]) == 69

    store_db.make_engine(f"sqlite:///{path}").dispose()  # what opening it does first

    after = rows(path)
    assert after.pop("alembic_version") == [(("version_num", head_revision()),)]
    for table, records in before.items():
        kept = {tuple(pair for pair in row if pair[0] in dict(records[0])) for row in after[table]}
        assert set(records) <= kept, f"{table}: records lost or changed"
    assert set(after) == set(before)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


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


def test_the_migrations_build_what_the_models_describe(tmp_path: Path) -> None:
    # A model changed without a revision would show here: the oldest database upgraded to
    # the head has the tables, columns, types and indexes a new database gets from the models.
    schema_one_database(tmp_path / "cg.db")
    engine = store_db.make_engine(f"sqlite:///{tmp_path / 'cg.db'}")
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    described = sorted(str(d[0]) for d in differences)
    # Schema 2 made item.key unique with a unique index, the model with a unique constraint:
    # the same rule for SQLite, so the one difference allowed.
    assert described == ["add_constraint", "remove_index"], differences
    assert all("'key'" in repr(d) and "table=<item>" in repr(d) for d in differences)


def test_the_head_a_start_checks_is_alembics_head() -> None:
    # make_engine skips Alembic when the database is at SCHEMA_HEAD: a new revision must move it.
    assert head_revision() == SCHEMA_HEAD


def test_a_start_on_a_current_database_does_not_load_alembic(tmp_path: Path) -> None:
    # Alembic and what it imports cost a tenth of a second on every start; a database already
    # at the head needs none of it. The first start creates and stamps; the second only reads.
    url = f"sqlite:///{tmp_path / 'cg.db'}"
    check = (
        "import sys; from bot.store.db import make_engine; make_engine(sys.argv[1]); "
        "print('alembic' in sys.modules)"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", check, url], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["True", "False"]
