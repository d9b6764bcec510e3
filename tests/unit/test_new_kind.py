"""A new item kind is one workflow, its templates and one registry line (issue 7).

The kind below exists only in this file: a petition that members sign by replying, opened by a
`PETITION:` command, closed at its deadline, with a daily tick that belongs to no item. It goes
through the real pipeline, store and outbox without any change under bot/."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.effects import Effect, Mail, OpenItem, Record, Schedule
from bot.domain.types import Fetched, ItemView
from bot.store.db import session
from bot.store.models import Deadline, Outbox
from bot.workflows.base import CommandMail, Reply, Situation, Tick, Workflow
from tests.conftest import BOT, MEMBERS, SECRETARIAT, T0, WITHOUT_DIGEST, make_app


class PetitionState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def on_open(sit: Situation, item: ItemView) -> list[Effect]:
    assert item.deadline is not None
    return [
        Mail("petition/ask", sit.members, "ask", {"item": item}, item.id),
        Schedule(item.id, "close", item.deadline),
    ]


def on_reply(sit: Situation, reply: Reply) -> list[Effect]:
    signed = reply.text.strip().lower().startswith("sign")
    return [
        Record(reply.item.id, reply.person.id, "signed" if signed else None, reply.text, "counted"),
        Mail(
            "petition/thanks",
            (reply.person,),
            "confirm",
            {"item": reply.item},
            reply.item.id,
            reply_to=reply.message,
        ),
    ]


def on_deadline(sit: Situation, item: ItemView, kind: str) -> list[Effect]:
    if kind != "close" or item.state != PetitionState.OPEN:
        return []
    signers = [
        sit.member(pid).name
        for pid, r in sit.responses.items()  # type: ignore[union-attr]
        if r.position == "signed" and sit.member(pid)
    ]
    return [
        PETITION.move(item, "close", PetitionState.CLOSED, signers=len(signers)),
        Mail(
            "petition/closed",
            sit.secretariat,
            "outcome",
            {"item": item, "signers": signers},
            item.id,
            personal=False,
        ),
    ]


def schedule(sit: Situation) -> list[Tick]:
    """Every day at 08:00 UTC."""
    after = sit.now
    day = after.replace(hour=8, minute=0, second=0, microsecond=0)
    return [Tick("daily", day if day > after else day + timedelta(days=1))]


def on_tick(sit: Situation, job: str) -> list[Effect]:
    return [Mail("petition/tick", sit.secretariat, "digest", {"job": job}, personal=False)]


class PetitionCommand:
    prefix = "PETITION"
    description = "open a petition; the body is its text"

    def run(self, mail: CommandMail, sit: Situation) -> list[Effect]:
        return [
            OpenItem(
                "petition",
                mail.argument,
                mail.text,
                sit.now + timedelta(days=3),
                mail.sender.email,
                {"weight": 1},
                reply_to=mail.message,
            )
        ]


def summary(item: ItemView, sit: Situation) -> dict[str, Any]:
    return {"signers": sum(1 for r in sit.responses.values() if r.position == "signed")}


TEMPLATES = {
    "ask": ("Please sign: {{ item.title }}", "Dear {{ recipient.name }}, reply SIGN to sign."),
    "thanks": ("Re: {{ item.title }}", "Thank you, {{ recipient.name }}."),
    "closed": ("Closed: {{ item.title }}", "Signed by: {{ signers | join(', ') }}."),
    "tick": ("Daily tick", "Tick {{ job }} for {{ group_name }}."),
}

PETITION = Workflow(
    kind="petition",
    description="a petition members sign by replying",
    states=PetitionState,
    initial=PetitionState.OPEN,
    transitions={(PetitionState.OPEN, "close"): (PetitionState.CLOSED,)},
    on_open=on_open,
    on_reply=on_reply,
    on_deadline=on_deadline,
    templates=Path(),  # set per test: a folder of its own
    summary=summary,
    commands=(PetitionCommand(),),
    schedule=schedule,
    on_tick=on_tick,
)


@pytest.fixture
def app(tmp_path: Path) -> App:
    folder = tmp_path / "petition-templates"
    folder.mkdir()
    for name, (subject, text) in TEMPLATES.items():
        (folder / f"{name}.en.subject").write_text(subject)
        (folder / f"{name}.en.txt").write_text(text)
        (folder / f"{name}.en.html").write_text(f"<p>{text}</p>")
    kind = replace(PETITION, templates=folder)
    registry = WITHOUT_DIGEST.with_kinds(kind)  # its own item-less work alone is counted

    def trusting(text: str) -> str:
        return text + '[security]\ntrusted_authserv_ids = ["mx.cg.example"]\n'

    return make_app(tmp_path, registry=registry, change=trusting)


def mails(app: App, purpose: str | None = None) -> list[Outbox]:
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id))).all()
    return [r for r in rows if purpose is None or r.purpose == purpose]


def test_a_kind_defined_here_goes_through_open_reply_and_deadline(app: App) -> None:
    # Opened by its own email command, through the real pipeline's command stage.
    # The receiving server vouches for the Secretariat (DMARC pass): the command runs at once.
    verdict = b"Authentication-Results: mx.cg.example; dmarc=pass header.from=cg.example\n"
    command = verdict + clients.command(
        "Secretariat",
        SECRETARIAT,
        BOT,
        T0,
        "PETITION: Fund the workshop",
        "We ask the Board to fund the 2027 workshop.",
    )
    assert app.handle(Fetched("test", command)) == "processed"
    asks = mails(app, "ask")
    assert sorted(r.recipients[0] for r in asks) == sorted(m[1] for m in MEMBERS)
    notice = mails(app, "notice")[0]
    assert notice.recipients == [SECRETARIAT] and "Petition" in clients.Original(notice.raw).text

    # A member's reply to their own mail is matched by its token and handed to this kind.
    name, email = MEMBERS[0][0], MEMBERS[0][1]
    ask = next(r for r in asks if r.recipients == [email])
    app.clock.jump_to(T0 + timedelta(days=1))
    raw = clients.gmail(clients.Original(ask.raw), name, email, BOT, app.clock.now(), "Sign me up")
    assert app.handle(Fetched("test", raw)) == "processed"
    thanks = mails(app, "confirm")
    assert [t.recipients for t in thanks] == [[email]]
    assert f"Thank you, {name}." in clients.Original(thanks[0].raw).text

    # At its deadline the kind closes the item and reports to the Secretariat.
    app.clock.jump_to(T0 + timedelta(days=3, minutes=1))
    app.run_due()
    record = app.status()["items"][0]
    assert (record["kind"], record["state"], record["signers"]) == ("petition", "closed", 1)
    assert record["responses"][email]["position"] == "signed"
    closed = mails(app, "outcome")
    assert len(closed) == 1 and f"Signed by: {name}." in clients.Original(closed[0].raw).text


def test_recurring_work_of_a_kind_runs_once_after_downtime(app: App) -> None:
    # A job that belongs to no item has one pending row, derived from the kind's schedule;
    # four days of downtime run it once, then the next one is armed.
    app.run_due()
    with session(app.engine) as s:
        pending = s.exec(select(Deadline).where(col(Deadline.item_id).is_(None))).all()
    assert [(d.workflow, d.kind, d.due_at) for d in pending] == [
        ("petition", "daily", datetime(2026, 12, 2, 8, tzinfo=UTC))
    ]
    app.clock.jump_to(T0 + timedelta(days=4, hours=2))
    app.run_due()
    app.run_due()
    assert len(mails(app, "digest")) == 1
    with session(app.engine) as s:
        rows = s.exec(select(Deadline).where(col(Deadline.item_id).is_(None))).all()
    assert [(d.due_at, d.done_at is None) for d in rows] == [
        (datetime(2026, 12, 2, 8, tzinfo=UTC), False),
        (datetime(2026, 12, 6, 8, tzinfo=UTC), True),
    ]
