"""The one clock every time-dependent decision reads; `--now` or CGBOT_NOW moves it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ENV_VAR = "CGBOT_NOW"


def parse_instant(text: str) -> datetime:
    """ISO 8601 to an aware UTC datetime; a naive value is taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass
class Clock:
    """Real time shifted by a fixed offset, so a jump to `--now` keeps ticking from there."""

    offset: timedelta = timedelta(0)

    @classmethod
    def starting_at(cls, instant: datetime | None) -> Clock:
        if instant is None:
            return cls()
        return cls(offset=instant - datetime.now(UTC))

    @classmethod
    def from_env(cls, override: str | None = None) -> Clock:
        text = override or os.environ.get(ENV_VAR)
        return cls.starting_at(parse_instant(text) if text else None)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump_to(self, instant: datetime) -> None:
        """Move the clock (the demo and tests walk through weeks this way)."""
        self.offset = instant - datetime.now(UTC)

    def from_real(self, instant: datetime) -> datetime:
        """What this clock read at a wall-clock moment (a server's INTERNALDATE, say)."""
        return (instant + self.offset).astimezone(UTC)

    def to_real(self, instant: datetime) -> datetime:
        """The wall-clock moment at which this clock will read `instant`."""
        return instant - self.offset
