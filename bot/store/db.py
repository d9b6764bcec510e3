"""Engine, pragmas and schema migrations (Alembic) for the database."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, create_engine

from bot.store import models  # noqa: F401  (the tables SQLModel's metadata describes)

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"  # Alembic's revisions (one per schema change)
SCHEMA_HEAD = "0006"  # the newest of them (tests/unit/test_migration.py holds the two equal)
# Before Alembic the schema version lived in SQLite's `PRAGMA user_version`: 1, 2 or 3 is the
# revision such a database is at.
LEGACY_REVISIONS = {1: "0001", 2: "0002", 3: "0003"}


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


BUSY_TIMEOUT_MS = 5000  # how long SQLite waits for another writer before it says busy


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    # The sqlite3 module only opens a transaction before DML, so a schema change (CREATE,
    # ALTER) would commit on its own and a failed migration would leave half a schema. We open
    # every transaction ourselves instead (SQLAlchemy's documented pysqlite recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


def _begin(conn: Any) -> None:
    # IMMEDIATE: a transaction takes the write lock when it begins, so two writers (the
    # daemon's intake and sender threads, or two processes) wait their turn (busy_timeout), as
    # PostgreSQL's advisory lock below makes them. A deferred BEGIN would read first and fail
    # at its first write if another had committed meanwhile (SQLITE_BUSY_SNAPSHOT: no timeout
    # waits that out). Readers elsewhere are not blocked (WAL); they wait at most a batch here.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# PostgreSQL: every transaction first takes this transaction-level advisory lock, so that two
# daemons on one database decide one at a time, as SQLite's single writer makes them: a reply
# is applied, a deadline run and a mail claimed once, and the register's hash chain never
# forks. (A committee's mail is a few messages a minute; the lock is held for a batch.)
DECISIONS_LOCK = 0x6367626F74  # "cgbot"
LOCK_WAIT = "60s"  # a transaction waiting longer than this fails (and is retried), never hangs


def _pg_begin(conn: Any) -> None:
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({DECISIONS_LOCK})")


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (SQLAlchemy's default driver would be psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Open (creating if needed) the database and bring its schema to the current version."""
    url = normalise_url(url)
    path = _sqlite_path(url)
    if path is not None:
        _create_private(path)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "postgresql":
            event.listen(engine, "begin", _pg_begin)
    if not _at_head(engine):
        migrate(engine)
    _private_journal(engine)
    return engine


def _at_head(engine: Engine) -> bool:
    """Already at this release's newest schema: Alembic is not loaded at all (it and what it
    imports cost a tenth of a second on every start)."""
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no alembic_version yet: a new database, or one from before Alembic
        return False
    return found == SCHEMA_HEAD


def migrate(engine: Engine, location: Path = MIGRATIONS) -> None:
    """Bring the schema to Alembic's head, in one transaction (a step that fails leaves the
    database as it was). A new database is created from the models and stamped at the head;
    one made before Alembic is stamped at the revision its user_version names, then upgraded."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(location))
        config.attributes["connection"] = conn
        if MigrationContext.configure(conn).get_current_revision() is None:
            if not inspect(conn).get_table_names():
                SQLModel.metadata.create_all(conn)
                command.stamp(config, "head")
            else:
                command.stamp(config, _legacy_revision(conn, engine))
        command.upgrade(config, "head")
    _private_journal(engine)


def _private_journal(engine: Engine) -> None:
    """SQLite's journal files hold the same data as the database: owner only, like it."""
    path = _sqlite_path(str(engine.url))
    for suffix in ("-wal", "-shm"):
        if path is not None and Path(f"{path}{suffix}").exists():
            os.chmod(f"{path}{suffix}", 0o600)


def _legacy_revision(conn: Any, engine: Engine) -> str:
    """The revision of a database that has tables but no alembic_version: an SQLite one made
    before Alembic, whose schema version is its user_version."""
    if engine.dialect.name != "sqlite":
        raise RuntimeError(
            f"database {engine.url.render_as_string()}: it has tables but no alembic_version; "
            "not a cgbot database (or one from a newer release)"
        )
    version = conn.execute(text("PRAGMA user_version")).scalar_one()
    if version not in LEGACY_REVISIONS:
        raise RuntimeError(
            f"database {engine.url.database}: schema version {version} is not one this "
            f"release can upgrade ({', '.join(map(str, LEGACY_REVISIONS))})"
        )
    return LEGACY_REVISIONS[version]


def _scripts(location: Path = MIGRATIONS) -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(location))
    return ScriptDirectory.from_config(config)


def head_revision(location: Path = MIGRATIONS) -> str:
    head = _scripts(location).get_current_head()
    assert head is not None, f"{location}: no revisions"
    return head


def known_revision(revision: str, location: Path = MIGRATIONS) -> bool:
    """Whether this release has `revision` (a database from a newer one is at a revision it
    has never heard of)."""
    try:
        return _scripts(location).get_revision(revision) is not None
    except Exception:  # alembic raises its own ResolutionError/CommandError kinds
        return False


@contextmanager
def unhurried(engine: Engine) -> Iterator[Connection]:
    """A transaction whose commit does not wait for the disk: it survives the process being
    killed, and a power cut may undo it, until the next ordinary commit makes it (and all
    before it) durable. Only for a write whose loss is safe: a sent mark lost reads as
    uncertain, never as unsent (SQLite: synchronous NORMAL for this commit, one fsync
    fewer; PostgreSQL: synchronous_commit off for this transaction)."""
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            with conn.begin():
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield conn
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA synchronous=NORMAL")  # not allowed inside a transaction
        try:
            with conn.begin():
                yield conn
        finally:
            try:  # the pooled connection as _on_connect left it, or out of the pool
                raw.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error:
                conn.invalidate()


_KEPT = "cgbot.kept"  # Session.info: the rows loaded in a session that holds them
_WRITTEN = "cgbot.written"  # Session.info: the mapped classes flushed since last asked


def session(engine: Engine, *, keep_loaded: bool = False) -> Session:
    """A session whose objects outlive its commits. `keep_loaded`: it also holds every row it
    loads until it closes (the identity map holds them weakly, so a row read again for each
    message of a batch would be read from the database each time)."""
    s = Session(engine, expire_on_commit=False)
    if keep_loaded:
        s.info[_KEPT] = []
    return s


@event.listens_for(Session, "loaded_as_persistent")
def _keep(s: Session, instance: object) -> None:
    kept = s.info.get(_KEPT)
    if kept is not None:
        kept.append(instance)


@event.listens_for(Session, "after_flush")
def _note_written(s: Session, _context: object) -> None:
    written = s.info.setdefault(_WRITTEN, set())
    written.update(type(row) for row in (*s.new, *s.dirty, *s.deleted))


def written_since_asked(s: Session, *kinds: type) -> bool:
    """Whether rows of these classes were added, changed or deleted in this session (pending
    changes flushed first) since the last time it was asked."""
    s.flush()
    written = s.info.pop(_WRITTEN, set())
    return any(kind in written for kind in kinds)
