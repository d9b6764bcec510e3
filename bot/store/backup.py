"""Online backup and restore: SQLite with sqlite3's backup API, PostgreSQL with pg_dump and
pg_restore (custom format); both safe while the daemon runs (a consistent snapshot)."""

from __future__ import annotations

import os
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


def restore(source: Path, database: Path) -> None:
    """Replace `database` with the snapshot in `source`. Stop the daemon first."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src:
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"inbound", "item", "outbox"} <= tables:
            raise ValueError(f"{source} is not a cgbot database (tables: {sorted(tables)})")
        if "alembic_version" in tables:
            revision = src.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            if not known_revision(revision):
                raise ValueError(
                    f"{source} is at schema revision {revision}, which this cgbot does not "
                    f"know (its newest is {head_revision()}): a newer release made it"
                )
        else:
            version = src.execute("PRAGMA user_version").fetchone()[0]
            if version not in LEGACY_REVISIONS:
                raise ValueError(f"{source} has schema {version}, unknown to this cgbot")
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


def _tool(name: str, args: list[str], env: dict[str, str]) -> None:
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    done = subprocess.run([found, *args], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise ValueError(f"{name} failed: {done.stderr.strip()[-500:]}")


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
    """Replace every cgbot table with the dump's (pg_restore --clean, one transaction)."""
    database, env = _libpq(url)
    _tool(
        "pg_restore",
        ["--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={database}",
         str(source)],
        env,
    )  # fmt: skip
