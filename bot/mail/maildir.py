"""A local Maildir behind the same pipeline: the demo's mailbox, no server needed.

New mail is taken from new/ in delivery order and moved to cur/ once handled, which is this
source's checkpoint (the archive's content hash makes a repeat harmless)."""

from __future__ import annotations

import mailbox
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from bot.domain.types import Fetched


class MaildirSource:
    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly  # a rehearsal: read new/, move nothing
        self.box = mailbox.Maildir(str(path), create=True)

    uidvalidity: int | None = None
    idle_capable = False

    @property
    def name(self) -> str:
        return f"maildir:{self.path}"

    async def connect(self) -> None:
        """Nothing to connect to; present so the daemon treats every source alike."""

    async def close(self) -> None:
        """Nothing to close."""

    def deliver(self, raw: bytes) -> str:
        """Drop a message into new/ as a mail server would."""
        return self.box.add(mailbox.MaildirMessage(raw))

    async def fetch_batches(
        self, last_uid: int = 0, size: int = 50
    ) -> AsyncIterator[list[Fetched]]:
        """New mail in delivery order, `size` messages at a time, each moved to cur/ once the
        batch is handled."""
        new = sorted((self.path / "new").iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
        for first in range(0, len(new), size):
            files = new[first : first + size]
            yield [
                # st_mtime is its delivery
                Fetched(self.name, f.read_bytes(), arrived_at=_mtime(f))
                for f in files
            ]
            if self.readonly:
                continue
            for file in files:
                file.rename(self.path / "cur" / f"{file.name}:2,S")


def _mtime(file: Path) -> datetime:
    return datetime.fromtimestamp(file.stat().st_mtime, UTC)
