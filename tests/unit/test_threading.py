"""Every mail about an item threads under that item's thread for its recipient (issue 11,
part 5): what was seen was the escalation notice to the Secretariat starting a new thread,
because the Secretariat's first mail of a ballot (the notice that it opened) went to it as a
group and the outcome went to it in person."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from pathlib import Path

from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, MEMBERS, SECRETARIAT, T0, make_app, open_ballot

TRUSTED = '[security]\ntrusted_authserv_ids = ["mx.cg.example"]\n'
VOUCHED = b"Authentication-Results: mx.cg.example; dmarc=pass header.from=cg.example\r\n"


def _to(app: App, address: str) -> list[tuple[str, Message]]:
    """(purpose, headers) of every mail to `address`, in order."""
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id)))
        found = [(r.purpose, r.raw) for r in rows if address in r.recipients]
    return [(purpose, message_from_bytes(raw, policy=compat32)) for purpose, raw in found]


def _reply(app: App, member: int, text: str) -> None:
    name, email = MEMBERS[member][0], MEMBERS[member][1]
    ballot = next(m for p, m in _to(app, email) if p == "ballot")
    original = clients.Original(ballot.as_bytes())
    raw = clients.gmail(original, name, email, BOT, app.clock.now(), text)
    assert app.handle(Fetched("test", raw)) == "processed"


def _escalate(app: App) -> None:
    app.clock.jump_to(T0 + timedelta(days=1))
    _reply(app, 0, "Object: point 2 overlaps the work programme.")
    for member in (1, 2, 3):
        _reply(app, member, "Agree")
    app.clock.jump_to(T0 + timedelta(days=12))
    app.run_due()


def test_the_secretariats_notices_of_a_ballot_opened_by_mail_are_one_thread(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, change=lambda t: t + TRUSTED)
    body = "Deadline: 2026-12-11 17:00\n\nDo you agree?"
    command = clients.command("Secretariat", SECRETARIAT, BOT, T0, "BALLOT: Shortlist", body)
    assert app.handle(Fetched("test", VOUCHED + command)) == "processed"
    command_id = message_from_bytes(command, policy=compat32)["Message-ID"]
    _escalate(app)

    notices = _to(app, SECRETARIAT)
    assert [p for p, _ in notices] == ["notice", "outcome"]
    (_, opened), (_, outcome) = notices
    assert opened["In-Reply-To"] == command_id  # the answer to the command
    assert outcome["In-Reply-To"] == opened["Message-ID"]  # no new thread for the escalation
    assert outcome["References"].split() == [command_id, opened["Message-ID"]]


def test_every_mail_of_an_item_to_one_person_follows_their_first(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    item_id = open_ballot(app)
    app.act(item_id, "remind", {})
    _escalate(app)
    for address in (SECRETARIAT, MEMBERS[3][1]):
        (_, first), *later = _to(app, address)
        assert first["In-Reply-To"] is None  # the first mail starts the recipient's thread
        for purpose, mail in later:
            refs = str(mail["References"]).split()
            assert first["Message-ID"] in refs, (address, purpose)
    chair = _to(app, "chair@board.example")
    assert [p for p, _ in chair] == ["escalation"]
