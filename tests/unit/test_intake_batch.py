"""A catch-up batch: stored in one transaction, applied in another, each message in its own
savepoint, so one message that breaks the code is rolled back alone and quarantined."""

from __future__ import annotations

from collections import Counter
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.app.enact import Cause, Enactor
from bot.demo import clients
from bot.domain.types import Fetched
from bot.inbound.parse import id_and_sender
from bot.store import repo
from bot.store.db import session
from bot.store.models import Inbound, Outbox, Response
from tests.conftest import BOT, MEMBERS, SECRETARIAT, T0, mail_to, make_app, open_ballot

SOURCE = "imap:batch-test"


@pytest.fixture
def app(tmp_path: Path) -> App:
    app = make_app(tmp_path)
    open_ballot(app)
    return app


def reply(app: App, member: int, words: str) -> bytes:
    name, address = MEMBERS[member][0], MEMBERS[member][1]
    return clients.gmail(mail_to(app, address), name, address, BOT, T0, words)


def confirmations(app: App) -> Counter[str]:
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).where(Outbox.purpose == "confirm")).all()
    return Counter(address for r in rows for address in r.recipients)


def test_one_broken_message_is_rolled_back_alone(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    amina, bruno, chloe = (reply(app, i, "Agree") for i in range(3))
    broken_sha = repo.sha256(bruno)
    original = Enactor.enact
    broke: list[Cause] = []

    def enact_then_break(self: Enactor, s, effects, sit, cause: Cause) -> None:  # type: ignore[no-untyped-def]
        original(self, s, effects, sit, cause)  # Bruno's answer and confirmation are written...
        if cause.message_sha256 == broken_sha and not broke:  # (not its quarantine after)
            broke.append(cause)
            raise RuntimeError("a bug after the effects were written")  # ...then the code breaks

    monkeypatch.setattr(Enactor, "enact", enact_then_break)
    replayed = amina.replace(b"Agree", b"Object", 1)  # Amina's Message-ID again, other words
    batch = [amina, amina, bruno, replayed, chloe]
    fetched = [Fetched(SOURCE, raw, 7, uid) for uid, raw in enumerate(batch, start=10)]

    states = app.handle_batch(fetched)

    assert states == ["processed", "processed", "quarantined", "duplicate", "processed"]
    with session(app.engine) as s:
        answered = {r.person_id for r in s.exec(select(Response)).all()}
        people = {p.email: p.id for p in repo.directory(s, {}).people}
        crashed = s.exec(select(Inbound).where(Inbound.state == "quarantined")).one()
        checkpoint = repo.get_checkpoint(s, SOURCE)
        stored = len(s.exec(select(Inbound)).all())
    assert answered == {people[MEMBERS[0][1]], people[MEMBERS[2][1]]}  # not Bruno's
    assert "a bug after the effects were written" in crashed.detail
    assert confirmations(app) == Counter({MEMBERS[0][1]: 1, MEMBERS[2][1]: 1})
    assert checkpoint is not None and (checkpoint.uidvalidity, checkpoint.last_uid) == (7, 14)
    assert stored == 4  # Amina's twice-fetched bytes are one archived message


def test_a_batch_read_again_applies_nothing_twice(app: App) -> None:
    batch = [Fetched(SOURCE, reply(app, i, "Agree"), 7, 20 + i) for i in range(2)]
    assert app.handle_batch(batch) == ["processed", "processed"]
    assert app.handle_batch(batch) == ["processed", "processed"]
    assert confirmations(app) == Counter({MEMBERS[0][1]: 1, MEMBERS[1][1]: 1})


def test_messages_stored_but_never_applied_are_applied_from_the_archive(app: App) -> None:
    # An interrupted run stored three replies and applied none (and the mailbox no longer has
    # them): applied from the archive in bounded batches, each once, the checkpoint left alone.
    raws = [reply(app, i, "Agree") for i in range(3)]
    with session(app.engine) as s:
        repo.set_checkpoint(s, SOURCE, 7, 40)
        repo.archive_all(
            s,
            [
                repo.Arriving(raw, id_and_sender(raw)[0], SOURCE, 7, 41 + n)
                for n, raw in enumerate(raws)
            ],
            T0,
        )
        s.commit()

    batches = app.intake.stranded(max_messages=2)
    assert [len(b) for b in batches] == [2, 1]
    assert [app.intake.apply_archived(b) for b in batches] == [["processed"] * 2, ["processed"]]
    assert app.intake.stranded() == []
    with session(app.engine) as s:
        checkpoint = repo.get_checkpoint(s, SOURCE)
        states = [r.state for r in s.exec(select(Inbound).order_by(Inbound.id)).all()]
    assert checkpoint is not None and checkpoint.last_uid == 40  # the mailbox's, untouched
    assert states == ["processed"] * 3
    assert app.intake.apply_archived(batches[0]) == ["processed"] * 2  # applied again: no-op
    assert app.handle_batch([Fetched(SOURCE, raws[0], 7, 41)]) == ["processed"]  # read again
    assert confirmations(app) == Counter(m[1] for m in MEMBERS[:3])


def command(subject: str) -> bytes:
    """An unproven command from the Secretariat (no Authentication-Results header)."""
    msg = EmailMessage()
    msg["From"] = f"Executive Secretariat <{SECRETARIAT}>"
    msg["To"] = BOT
    msg["Date"] = format_datetime(T0)
    msg["Message-ID"] = make_msgid(domain="cg.example")
    msg["Subject"] = subject
    msg.set_content("Do you agree that the shortlist goes to the Board?\n")
    return msg.as_bytes()


def outcome(app: App) -> tuple[list[str], list[str]]:
    status = app.status()
    return (
        sorted(i["kind"] for i in status["items"]),
        sorted(r["reason"] for r in status["review_queue"]),
    )


def test_each_message_of_a_batch_reads_what_the_one_before_it_wrote(tmp_path: Path) -> None:
    # People and items are read once per batch, and again after a message writes them: three
    # unproven commands end as they do one by one. The first waits for the Secretariat's OK;
    # the others find their sender already awaiting one, and go to review.
    one_by_one, batched = make_app(tmp_path / "one"), make_app(tmp_path / "batch")
    raws = [command(f"BALLOT: Forged {n}") for n in range(3)]
    for uid, raw in enumerate(raws, start=1):
        assert one_by_one.handle(Fetched(SOURCE, raw, 7, uid)) == "processed"
    fetched = [Fetched(SOURCE, raw, 7, uid) for uid, raw in enumerate(raws, start=1)]
    assert batched.handle_batch(fetched) == ["processed"] * 3
    expected = (["confirmation"], ["unproven-command", "unproven-command"])
    assert outcome(one_by_one) == expected
    assert outcome(batched) == expected
