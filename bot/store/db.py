"""Engine, pragmas and schema versions for the SQLite database."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, create_engine

from bot.store import models

# Schema versions live in SQLite's `PRAGMA user_version`. A new database is created at the
# latest version from the models; an older one is brought up by running each step after its
# version, in order, in one transaction. A release that changes a table appends a step here.
Migration = Callable[[Any], None]


def _v2_kinds_own_their_data(conn: Any) -> None:
    """Standing responses kept as rows; deadlines that belong to no item; options into data;
    the hash-chained register (it starts empty: schema 1 kept no register)."""
    models.Standing.__table__.create(conn)  # type: ignore[attr-defined]
    models.RegisterEntry.__table__.create(conn)  # type: ignore[attr-defined]
    models.Blob.__table__.create(conn)  # type: ignore[attr-defined]
    models.ResponseFile.__table__.create(conn)  # type: ignore[attr-defined]
    conn.execute(
        text(
            "INSERT INTO standing (item_id, person_id, latest_id, counted_id) "
            "SELECT item_id, person_id, max(id), max(CASE WHEN status = 'counted' THEN id END) "
            "FROM response GROUP BY item_id, person_id"
        )
    )
    conn.execute(text("ALTER TABLE deadline RENAME TO deadline_v1"))
    for index in ("ix_deadline_item_id", "ix_deadline_due_at"):
        conn.execute(text(f"DROP INDEX IF EXISTS {index}"))
    models.Deadline.__table__.create(conn)  # type: ignore[attr-defined]
    conn.execute(
        text(
            "INSERT INTO deadline (id, item_id, workflow, kind, due_at, done_at) "
            "SELECT d.id, d.item_id, i.kind, d.kind, d.due_at, d.done_at "
            "FROM deadline_v1 d JOIN item i ON i.id = d.item_id"
        )
    )
    conn.execute(text("DROP TABLE deadline_v1"))
    conn.execute(
        text(
            "UPDATE item SET data = json_set(data, '$.options', json(options)) "
            "WHERE options IS NOT NULL AND options != '[]'"
        )
    )
    conn.execute(text("ALTER TABLE item DROP COLUMN options"))
    conn.execute(text("ALTER TABLE inbound ADD COLUMN arrived_at DATETIME"))
    conn.execute(text("ALTER TABLE item ADD COLUMN key VARCHAR"))
    conn.execute(text("CREATE UNIQUE INDEX ix_item_key ON item (key)"))
    conn.execute(text("ALTER TABLE review ADD COLUMN notify BOOLEAN NOT NULL DEFAULT 0"))
    conn.execute(text("ALTER TABLE review ADD COLUMN notified_at DATETIME"))
    conn.execute(text("ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0"))
    conn.execute(text("ALTER TABLE outbox ADD COLUMN cap_key VARCHAR NOT NULL DEFAULT ''"))
    conn.execute(text("UPDATE outbox SET cap_key = COALESCE(json_extract(recipients, '$[0]'), '')"))


def _v3_outbox_budget_index(conn: Any) -> None:
    """The index the sender counts an hour's mail on one budget with (issue 12)."""
    conn.execute(text("CREATE INDEX ix_outbox_budget ON outbox (cap_key, state, sent_at)"))


MIGRATIONS: list[Migration] = [_v2_kinds_own_their_data, _v3_outbox_budget_index]
SCHEMA_VERSION = 1 + len(MIGRATIONS)


class StoreUnavailable(Exception):
    """The database cannot be written (locked, disk full, read-only): retry later, lose nothing."""


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    # The sqlite3 module only opens a transaction before DML, so a schema change (CREATE,
    # ALTER) would commit on its own and a failed migration would leave half a schema. We open
    # every transaction ourselves instead (SQLAlchemy's documented pysqlite recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


def _begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    """Open (creating if needed) the database and bring its schema to the current version."""
    path = _sqlite_path(url)
    if path is not None:
        _create_private(path)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _begin)
    migrate(engine)
    return engine


def migrate(engine: Engine) -> None:
    """Create a new schema, or run the steps after the stored version."""
    with engine.begin() as conn:
        version = conn.execute(text("PRAGMA user_version")).scalar_one()
        query = text("SELECT count(*) FROM sqlite_master WHERE type='table'")
        tables = conn.execute(query).scalar_one()  # read it all: an open cursor locks DDL
        if version == 0 and tables == 0:
            SQLModel.metadata.create_all(conn)
        else:
            for step in MIGRATIONS[max(version - 1, 0) :]:
                step(conn)
        conn.execute(text(f"PRAGMA user_version = {SCHEMA_VERSION}"))
    for suffix in ("-wal", "-shm"):
        path = _sqlite_path(str(engine.url))
        if path is not None and Path(f"{path}{suffix}").exists():
            os.chmod(f"{path}{suffix}", 0o600)


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
