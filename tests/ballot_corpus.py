"""Labelled ballot replies as full MIME messages, for the tests and bench/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.app import App
from bot.clock import Clock
from bot.config import parse_config
from bot.demo import clients
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, FIXTURES, MEMBERS, config_text

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
Case = dict[str, str | None]


def labelled() -> list[Case]:
    data = json.loads((FIXTURES / "ballot-replies.json").read_text(encoding="utf-8"))
    return list(data["cases"])


def replies(folder: Path) -> tuple[App, list[tuple[Case, bytes]]]:
    """An App with one open ballot, and each labelled case as the raw reply of a member."""
    text = config_text(1, "u", "p", 1, folder / "cg.db", secret="bench")
    app = App(parse_config(text, folder / "config.toml"), Clock.starting_at(T0))
    app.open_item("ballot", "Shortlist", "Do you agree?", T0 + timedelta(days=10), "bench")
    name, address = MEMBERS[0][0], MEMBERS[0][1]
    with session(app.engine) as s:
        ballot = s.exec(select(Outbox).where(Outbox.purpose == "ballot")).first()
        assert ballot is not None and ballot.recipients == [address]
        original = clients.Original(ballot.raw)
    out = []
    for case in labelled():
        write = clients.CLIENTS[str(case["client"])]
        out.append((case, write(original, name, address, BOT, T0, str(case["answer"]))))
    return app, out
