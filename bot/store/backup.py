"""Online backup and restore of the SQLite database (sqlite3's backup API: safe while running)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from bot.store.db import LEGACY_REVISIONS, head_revision, known_revision


def backup(database: Path, target: Path) -> int:
    """Copy a consistent snapshot of `database` to `target` (mode 0600); returns its size."""
    if target.exists():
        raise FileExistsError(f"{target} exists; give a new file name")
    os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    with sqlite3.connect(database) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
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
