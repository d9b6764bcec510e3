"""Labelled ballot replies as full MIME messages, for the tests and bench/."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from bot.app import App
from bot.demo import clients
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, FIXTURES, MEMBERS, T0, make_app, open_ballot

Case = dict[str, str | None]


def labelled() -> list[Case]:
    data = json.loads((FIXTURES / "ballot-replies.json").read_text(encoding="utf-8"))
    return list(data["cases"])


def replies(folder: Path) -> tuple[App, list[tuple[Case, bytes]]]:
    """An App with one open ballot, and each labelled case as the raw reply of a member."""
    app = make_app(folder, secret="bench")
    open_ballot(app, question="Do you agree?")
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
