"""A rehearsal (`cgbot run --dry-run`): the real pipeline over the real mailbox, with nothing
real changed. The mailbox is opened read-only (EXAMINE), decisions go into a throwaway copy
of the database (so the real checkpoint, record and outbox stay as they are), and each mail
that would have gone out is written to a folder instead.

The copy is `cgbot backup`'s (SQLite's online backup from a read-only connection): a consistent
snapshot even while a daemon writes, and never a write to the original."""

from __future__ import annotations

from dataclasses import replace
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.app.setup import database_url
from bot.config import Settings
from bot.errors import ConfigError
from bot.store.backup import backup


def throwaway_copy(settings: Settings, folder: Path) -> Settings:
    """The settings, pointed at a copy of their SQLite database made in `folder` (an empty
    database when there is none yet)."""
    url = make_url(database_url(settings))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ConfigError(
            f"database.url {settings.model.database.url!r}: a rehearsal copies an SQLite "
            "database; point it at a copy of this one"
        )
    original, copy = Path(url.database), folder / "rehearsal.db"
    if original.exists():
        backup(original, copy)
    database = settings.model.database.model_copy(update={"url": f"sqlite:///{copy}"})
    return replace(settings, model=settings.model.model_copy(update={"database": database}))


def mail_rows(written: list[tuple[list[str], bytes, Path]]) -> list[tuple[str, str, str]]:
    """(to, subject, file) of each mail a rehearsal wrote instead of sending."""
    rows = []
    for recipients, raw, path in written:
        headers = BytesHeaderParser(policy=default).parsebytes(raw)
        rows.append((", ".join(recipients), str(headers.get("subject", "")), path.name))
    return rows
