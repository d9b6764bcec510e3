"""Online backup and restore: SQLite with sqlite3's backup API, PostgreSQL with pg_dump and
pg_restore (custom format); both safe while the daemon runs (a consistent snapshot)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from bot.store.db import LEGACY_REVISIONS, head_revision, known_revision


def backup(database: Path, target: Path) -> int:
    """Copy a consistent snapshot of `database` to `target` (mode 0600); returns its size."""
    if target.exists():
        raise FileExistsError(f"{target} exists; give a new file name")
    os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    # Read-only: a backup (or a rehearsal's copy) never writes to the database it copies.
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target.stat().st_size


CGBOT_TABLES = frozenset({"inbound", "item", "outbox"})


def check_tables(source: Path, tables: set[str]) -> None:
    """Refuse a snapshot that is not a cgbot database."""
    missing = CGBOT_TABLES - tables
    if missing:
        raise ValueError(
            f"{source} is not a cgbot database (no table {', '.join(sorted(missing))})"
        )


def check_revision(source: Path, revision: str | None) -> None:
    """Refuse a snapshot that a newer release made (this one would run on tables it does not
    know). An older one is fine: the next start migrates it."""
    if revision is None:
        raise ValueError(f"{source} has no schema revision (alembic_version): not a cgbot backup")
    if not known_revision(revision):
        raise ValueError(
            f"{source} is at schema revision {revision}, which this cgbot does not know (its "
            f"newest is {head_revision()}): a newer release made it"
        )


def restore(source: Path, database: Path) -> None:
    """Replace `database` with the snapshot in `source`. Stop the daemon first."""
    with sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True) as src:
        try:
            listed = src.execute("SELECT name FROM sqlite_master WHERE type='table'")
            tables = {row[0] for row in listed}
            check_tables(source, tables)
            if "alembic_version" in tables:
                row = src.execute("SELECT version_num FROM alembic_version").fetchone()
                check_revision(source, str(row[0]) if row else None)
            else:
                version = src.execute("PRAGMA user_version").fetchone()[0]
                if version not in LEGACY_REVISIONS:
                    raise ValueError(f"{source} has schema {version}, unknown to this cgbot")
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{source} is not a readable SQLite database ({exc})") from exc
        if not database.exists():
            os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
        with sqlite3.connect(database) as dst:
            src.backup(dst)


class ToolMissing(Exception):
    """pg_dump or pg_restore is not installed (Debian: postgresql-client)."""


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq connection string for the PostgreSQL tools, the password in the environment
    (never on a command line that `ps` shows)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str, args: list[str], env: dict[str, str]) -> str:
    """Run a PostgreSQL client tool; what it printed."""
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run([found, *args], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise ValueError(f"{name} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


# A table in `pg_restore --list`: "215; 1259 16390 TABLE public inbound owner" (its rows are
# listed apart, as "TABLE DATA public inbound owner").
_LISTED_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )\S+ (\S+)(?: |$)", re.MULTILINE)
# The row of alembic_version in the dump's data, as `pg_restore --file=-` writes it.
_COPIED_REVISION = re.compile(r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(.*)$", re.M)


def dump_tables(listing: str) -> set[str]:
    """The tables a custom-format dump holds, from its table of contents."""
    return set(_LISTED_TABLE.findall(listing))


def dump_revision(script: str) -> str | None:
    """The schema revision in alembic_version's data, from the SQL pg_restore writes."""
    found = _COPIED_REVISION.search(script)
    value = found.group(1).strip() if found else ""
    return value if value and value != "\\." else None  # "\." ends the rows: none


def _check_dump(source: Path, env: dict[str, str]) -> None:
    """Read the dump's tables and schema revision without touching any database."""
    try:
        listing = _tool("pg_restore", ["--list", str(source)], env)
    except ValueError as exc:
        raise ValueError(f"{source} is not a pg_dump custom-format archive ({exc})") from exc
    tables = dump_tables(listing)
    check_tables(source, tables)
    script = _tool(
        "pg_restore", ["--data-only", "--table=alembic_version", "--file=-", str(source)], env
    )
    check_revision(source, dump_revision(script))


def backup_postgres(url: URL, target: Path) -> int:
    """pg_dump's custom format to `target` (mode 0600); returns its size."""
    if target.exists():
        raise FileExistsError(f"{target} exists; give a new file name")
    os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    database, env = _libpq(url)
    try:
        _tool("pg_dump", ["--format=custom", "--no-owner", f"--file={target}", database], env)
    except Exception:
        target.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def restore_postgres(source: Path, url: URL) -> None:
    """Replace every cgbot table with the dump's (pg_restore --clean, one transaction), once
    the dump is known to be a cgbot database this release can run on."""
    database, env = _libpq(url)
    _check_dump(source, env)
    _tool(
        "pg_restore",
        ["--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={database}",
         str(source)],
        env,
    )  # fmt: skip
