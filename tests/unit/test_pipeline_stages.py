"""The pipeline's stages with a hand-made World: no database, no server, milliseconds each.

Each test says which stage ends the run and why; the `load` stage is the one read of the store
a message costs, so the tests also count how often it is asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from bot.demo import clients
from bot.domain.effects import Mail, OpenItem, Record
from bot.domain.types import Directory, ItemView, PersonView
from bot.inbound.match import mint_message_id
from bot.pipeline import Handled, Ignored, ItemRecord, Quarantined, World, inspect
from bot.rules import load_rules, resolve_rules_path
from bot.workflows.registry import STANDARD

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
SECRET = "stage-test-secret"
BOT = "cg-bot@cg.example"
AMINA = PersonView(1, "amina@members.example", "Amina Diallo", "member", "governing-board")
BRUNO = PersonView(2, "bruno@members.example", "Bruno Carvalho", "member", "governing-board")
CHAIR = PersonView(3, "chair@board.example", "Grace Okafor", "chair", "board-chair")
SECRETARIAT = PersonView(4, "secretariat@cg.example", "Executive Secretariat", "secretariat")
BALLOT = ItemView(7, "ballot", "Shortlist", "Agree?", "open", NOW, NOW + timedelta(days=10))
RULES = load_rules(resolve_rules_path("ciwp-coordination-group"))


class Store:
    """Stands in for the database: one item, and a count of how often it is read."""

    def __init__(self) -> None:
        self.reads: list[int] = []

    def load(self, item_id: int, token_message_id: str) -> ItemRecord | None:
        self.reads.append(item_id)
        return ItemRecord(BALLOT, {}) if item_id == BALLOT.id else None


def world(store: Store) -> World:
    return World(
        secret=SECRET,
        tag="CG",
        zone="Europe/London",
        group_name="CIWP Coordination Group",
        rules=RULES,
        now=NOW,
        trusted_authserv_ids=frozenset({"mx.cg.example"}),
        own_addresses=frozenset({BOT}),
        people=Directory((AMINA, BRUNO, CHAIR, SECRETARIAT)),
        registry=STANDARD,
        load_item=store.load,
    )


def ballot_mail(to: PersonView, item_id: int = BALLOT.id) -> clients.Original:
    msg = EmailMessage()
    msg["From"] = BOT
    msg["To"] = to.email
    msg["Subject"] = f"[CG-{item_id}] Ballot: Shortlist"
    msg["Message-ID"] = mint_message_id(SECRET, "cg.example", item_id, to.id)
    msg["Date"] = "Tue, 01 Dec 2026 09:00:00 +0000"
    msg.set_content("Do you agree?")
    return clients.Original(msg.as_bytes())


def answer(by: PersonView, to: PersonView, text: str = "Agree", item_id: int = BALLOT.id) -> bytes:
    return clients.gmail(ballot_mail(to, item_id), by.name, by.email, BOT, NOW, text)


def test_a_members_answer_runs_every_stage_and_reads_the_item_once() -> None:
    store = Store()
    result = inspect(answer(AMINA, AMINA), world(store))
    assert result.stages_run[-3:] == ("authenticate", "extract", "interpret")
    assert store.reads == [BALLOT.id]
    assert isinstance(result.outcome, Handled)
    record = next(e for e in result.outcome.effects if isinstance(e, Record))
    assert (record.person_id, record.position, record.status) == (AMINA.id, "agree", "counted")


def test_the_bots_own_mail_is_dropped_before_anything_is_read() -> None:
    store = Store()
    result = inspect(_own_copy(), world(store))
    assert isinstance(result.outcome, Ignored) and result.outcome.reason == "own-mail"
    assert store.reads == []


def _own_copy() -> bytes:
    msg = EmailMessage()
    msg["From"] = BOT
    msg["To"] = BOT
    msg["Subject"] = "copy"
    msg["Message-ID"] = "<copy@cg.example>"
    msg.set_content("x")
    return msg.as_bytes()


def test_an_out_of_office_is_ignored_at_the_automatic_stage() -> None:
    raw = clients.out_of_office(ballot_mail(AMINA), AMINA.name, AMINA.email, BOT, NOW)
    result = inspect(raw, world(Store()))
    assert result.stages_run[-1] == "automatic" and isinstance(result.outcome, Ignored)


def test_a_stranger_is_held_at_the_sender_stage() -> None:
    raw = clients.gmail(ballot_mail(AMINA), "Mallory", "mallory@evil.example", BOT, NOW, "Object")
    result = inspect(raw, world(Store()))
    assert result.stages_run[-1] == "sender"
    assert isinstance(result.outcome, Quarantined)
    assert result.outcome.refusal.code == "unknown-sender"


def test_a_token_for_someone_else_is_held_at_authenticate() -> None:
    result = inspect(answer(BRUNO, AMINA), world(Store()))
    assert result.stages_run[-1] == "authenticate"
    assert isinstance(result.outcome, Quarantined)
    assert result.outcome.refusal.code == "not-theirs"


def test_a_token_for_an_item_that_is_gone_is_held_at_load() -> None:
    store = Store()
    result = inspect(answer(AMINA, AMINA, item_id=99), world(store))
    assert result.stages_run[-1] == "load" and store.reads == [99]
    assert isinstance(result.outcome, Quarantined)
    assert result.outcome.refusal.code == "item-gone"


VOUCHED = b"Authentication-Results: mx.cg.example; dmarc=pass header.from=cg.example\n"


@pytest.mark.parametrize(
    ("body", "opens"),
    [("Deadline: 2026-12-11\n\nDo you agree?", True), ("Deadline: 2020-01-01\n\nQ?", False)],
)
def test_the_secretariats_command_is_dispatched_through_the_registry(
    body: str, opens: bool
) -> None:
    # The trusted receiving server vouches for the sender: the command runs at once.
    command = clients.command("Secretariat", SECRETARIAT.email, BOT, NOW, "BALLOT: Shortlist", body)
    raw = VOUCHED + command
    store = Store()
    result = inspect(raw, world(store))
    assert result.stages_run[-1] == "command" and store.reads == []
    assert isinstance(result.outcome, Handled)
    effect = result.outcome.effects[0]
    if opens:
        assert isinstance(effect, OpenItem) and effect.kind == "ballot"
        assert effect.deadline == datetime(2026, 12, 11, 17, tzinfo=UTC)
    else:
        assert isinstance(effect, Mail) and effect.template == "common/command_refused"
        assert "not in the future" in " ".join(effect.context["problems"])


def test_an_unproven_command_only_asks_the_secretariat_to_confirm() -> None:
    # No verdict from the trusted server: the command becomes a confirmation request.
    body = "Deadline: 2026-12-11\n\nDo you agree?"
    raw = clients.command("Secretariat", SECRETARIAT.email, BOT, NOW, "BALLOT: Shortlist", body)
    result = inspect(raw, world(Store()))
    assert isinstance(result.outcome, Handled)
    (effect,) = result.outcome.effects
    assert isinstance(effect, OpenItem) and effect.kind == "confirmation"
    assert effect.data["sender_id"] == SECRETARIAT.id


def test_a_member_cannot_give_commands() -> None:
    raw = clients.command("Amina", AMINA.email, BOT, NOW, "BALLOT: Mine", "Do you agree?")
    result = inspect(raw, world(Store()))
    assert isinstance(result.outcome, Quarantined)
    assert result.outcome.refusal.code == "unmatched"
