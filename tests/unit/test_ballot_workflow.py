"""The ballot workflow as a pure state machine: hand-made situations in, effects out, no
database, no mail, no clock (the tier below the app tests; each runs in milliseconds)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.effects import Mail, Record, Schedule, SetState, ToReview
from bot.domain.message import InboundMessage
from bot.domain.types import Directory, ItemView, PersonView, ResponseView
from bot.rules import Rules, load_rules, resolve_rules_path
from bot.workflows import ballot
from bot.workflows.base import Reply, Situation

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=10)
MEMBERS = tuple(
    PersonView(i, f"m{i}@members.example", f"Member {i}", "member", "governing-board")
    for i in (1, 2, 3, 4)
)
CHAIR = PersonView(5, "chair@board.example", "Chair", "chair", "board-chair")
SECRETARIAT = PersonView(6, "secretariat@cg.example", "Secretariat", "secretariat")


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(resolve_rules_path("ciwp-coordination-group"))


def situation(rules: Rules, now: datetime = NOW, **answers: str) -> Situation:
    """`m1="agree"` gives member 1 a counted AGREE."""
    responses = {
        int(key[1:]): ResponseView(int(key[1:]), pos, pos, f"<{key}@x>", NOW, "counted")
        for key, pos in answers.items()
    }
    people = Directory((*MEMBERS, CHAIR, SECRETARIAT))
    return Situation(rules, now, "CG", "CG", "Europe/London", people, responses)


def item(state: str = "open") -> ItemView:
    return ItemView(1, "ballot", "Shortlist", "Agree?", state, NOW, DEADLINE)


def message() -> InboundMessage:
    return InboundMessage("<r@x>", "m1@members.example", "", (), (), "Re", (), (), "", "", {})


def reply(text: str, person: PersonView = MEMBERS[0], trusted: bool = True, **kw: str) -> Reply:
    return Reply(item(**kw), person, message(), text, trusted, "token")


def test_opening_mails_every_member_and_schedules_close_and_reminders(rules: Rules) -> None:
    effects = ballot.on_open(situation(rules), item())
    mails = [e for e in effects if isinstance(e, Mail)]
    assert [m.template for m in mails] == ["ballot/ballot"] and mails[0].to == MEMBERS
    schedules = {(e.kind, e.due_at) for e in effects if isinstance(e, Schedule)}
    assert ("close", DEADLINE) in schedules
    reminders = {due for kind, due in schedules if kind == "reminder"}
    assert reminders == {DEADLINE - d for d in rules.reminders.before_deadline}


def test_a_clear_answer_to_ones_own_mail_is_counted_and_confirmed(rules: Rules) -> None:
    effects = ballot.on_reply(situation(rules), reply("Agree, good list."))
    record = next(e for e in effects if isinstance(e, Record))
    assert (record.position, record.status) == ("agree", "counted")
    assert [e.template for e in effects if isinstance(e, Mail)] == ["ballot/confirm"]


def test_an_answer_not_to_ones_own_mail_goes_to_review(rules: Rules) -> None:
    effects = ballot.on_reply(situation(rules), reply("Agree", trusted=False))
    assert {type(e) for e in effects} == {Record, ToReview, Mail}
    assert next(e for e in effects if isinstance(e, Record)).status == "review"


def test_a_reply_after_the_close_is_recorded_as_late(rules: Rules) -> None:
    effects = ballot.on_reply(situation(rules), reply("Object", state="escalated"))
    assert next(e for e in effects if isinstance(e, Record)).status == "late"
    assert not any(isinstance(e, SetState) for e in effects)


def test_a_standing_objection_escalates_to_the_chair_with_the_thread(rules: Rules) -> None:
    sit = situation(rules, DEADLINE, m1="agree", m2="object", m3="agree", m4="agree")
    effects = ballot.on_deadline(sit, item(), "close")
    state = next(e for e in effects if isinstance(e, SetState))
    assert state.state == "escalated" and state.data and state.data["outcome"] == "escalated"
    packet = next(e for e in effects if isinstance(e, Mail) and e.template == "ballot/escalation")
    assert packet.to == (CHAIR,) and packet.attach_thread
    assert any(isinstance(e, Schedule) and e.kind == "chair-reminder" for e in effects)


def test_everyone_agreeing_is_consensus(rules: Rules) -> None:
    sit = situation(rules, DEADLINE, m1="agree", m2="agree", m3="agree", m4="agree")
    effects = ballot.on_deadline(sit, item(), "close")
    assert next(e for e in effects if isinstance(e, SetState)).state == "consensus"


def test_a_missing_answer_without_silence_as_consent_closes_for_review(rules: Rules) -> None:
    assert not rules.consensus.silence_is_consent
    sit = situation(rules, DEADLINE, m1="agree", m2="agree", m3="agree")
    effects = ballot.on_deadline(sit, item(), "close")
    assert next(e for e in effects if isinstance(e, SetState)).state == "closed"
    assert any(isinstance(e, ToReview) and e.reason == "incomplete" for e in effects)


def test_a_transition_outside_the_table_is_refused() -> None:
    with pytest.raises(ValueError, match="determined"):
        ballot.move(item("open"), "determination", ballot.BallotState.DETERMINED)


def test_the_chairs_reply_is_read_back_and_recorded_on_confirm(rules: Rules) -> None:
    # Issue 8: a reply proposes; only CONFIRM to the read-back determines.
    effects = ballot.on_reply(situation(rules), reply("Adopt it.", CHAIR, state="escalated"))
    state = next(e for e in effects if isinstance(e, SetState))
    assert state.state == "escalated" and state.data == {"proposed_determination": "Adopt it."}
    assert [e.template for e in effects if isinstance(e, Mail)] == ["ballot/determination_readback"]
    assert [e.purpose for e in effects if isinstance(e, Mail)] == [
        ballot.readback_purpose("Adopt it.")
    ]
    pending = replace(item("escalated"), data={"proposed_determination": "Adopt it."})
    answered = ballot.readback_purpose("Adopt it.")
    confirm = Reply(pending, CHAIR, message(), "CONFIRM", True, "token", None, answered)
    effects = ballot.on_reply(situation(rules), confirm)
    assert next(e for e in effects if isinstance(e, SetState)).state == "determined"
    record = next(e for e in effects if isinstance(e, Record))
    assert (record.position, record.text) == ("determination", "Adopt it.")
    templates = [e.template for e in effects if isinstance(e, Mail)]
    assert templates == ["ballot/determination_confirm", "ballot/determination"]


def test_confirm_sent_to_the_packet_rather_than_the_read_back_determines_nothing(
    rules: Rules,
) -> None:
    # Whoever holds a forwarded packet cannot confirm: the reply must answer the read-back.
    pending = replace(item("escalated"), data={"proposed_determination": "Adopt it."})
    forged = Reply(pending, CHAIR, message(), "CONFIRM", True, "token", None, "escalation")
    effects = ballot.on_reply(situation(rules), forged)
    assert all(e.state == "escalated" for e in effects if isinstance(e, SetState))
    assert not any(isinstance(e, Record) and e.position == "determination" for e in effects)


@pytest.mark.parametrize(
    "text",
    [
        "I am travelling until 12 January with limited access to email.",
        "Could you first send me the annex?",
        "Je suis absente du bureau jusqu'au 5 janvier.",
        "¿Podrían enviarme el informe completo?",
    ],
)
def test_an_absence_notice_or_a_question_from_the_chair_goes_to_review(
    rules: Rules, text: str
) -> None:
    effects = ballot.on_reply(situation(rules), reply(text, CHAIR, state="escalated"))
    assert [type(e) for e in effects] == [ToReview]
