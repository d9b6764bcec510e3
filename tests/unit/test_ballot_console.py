"""A ballot extended, cancelled or chased by the Secretariat (issue 11, part 4): the pure
actions with hand-made situations, then their email twins EXTEND:, CANCEL:, REMIND: through
the real pipeline, proven and unproven."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.effects import Act, Mail, Schedule, SetState
from bot.domain.types import Directory, Fetched, ItemView, PersonView, ResponseView
from bot.inbound.parse import parse_message
from bot.rules import Rules, load_rules, resolve_rules_path
from bot.store.db import session
from bot.store.models import Deadline, Outbox, RegisterEntry
from bot.workflows import ballot
from bot.workflows.base import CommandError, CommandMail, Situation
from tests.conftest import BOT, MEMBERS, SECRETARIAT, T0, make_app, open_ballot

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=10)
PEOPLE = tuple(
    PersonView(i, f"m{i}@members.example", f"Member {i}", "member", timezone="Europe/Paris")
    for i in (1, 2, 3)
)
SEC = PersonView(9, "secretariat@cg.example", "Executive Secretariat", "secretariat")
CHAIR = PersonView(8, "chair@board.example", "Chair", "chair")


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(resolve_rules_path("ciwp-coordination-group"))


def situation(rules: Rules, **answers: str) -> Situation:
    responses = {
        int(k[1:]): ResponseView(int(k[1:]), v, v, f"<{k}@x>", NOW, "counted")
        for k, v in answers.items()
    }
    return Situation(
        rules, NOW, "CG", "CG", "Europe/London", Directory((*PEOPLE, SEC, CHAIR)), responses
    )


def item(state: str = "open") -> ItemView:
    return ItemView(1, "ballot", "Shortlist", "Agree?", state, NOW - timedelta(days=1), DEADLINE)


def test_an_extension_moves_the_close_and_the_reminders_and_tells_every_member(
    rules: Rules,
) -> None:
    new = DEADLINE + timedelta(days=7)
    effects = ballot.extend(situation(rules, m1="agree"), item(), {"deadline": new})
    state = next(e for e in effects if isinstance(e, SetState))
    assert (state.state, state.deadline) == ("open", new)
    assert state.data == {"previous_deadline": DEADLINE.isoformat()}
    (mail,) = [e for e in effects if isinstance(e, Mail)]
    assert (mail.template, mail.to) == ("ballot/extended", PEOPLE)
    assert mail.context["answers"] == {1: "agree"}  # member 1 is told their answer stands
    close = next(e for e in effects if isinstance(e, Schedule) and e.kind == "close")
    assert (close.due_at, close.replaces) == (new, True)  # the old close is dropped
    reminders = [e for e in effects if isinstance(e, Schedule) and e.kind == "reminder"]
    assert [r.due_at for r in reminders] == [new - d for d in rules.reminders.before_deadline]
    assert [r.replaces for r in reminders] == [True] + [False] * (len(reminders) - 1)


def test_an_extension_must_be_later_and_the_ballot_open(rules: Rules) -> None:
    with pytest.raises(
        ValueError,
        match=r"ballot 1: the new deadline 2026-12-10 09:00 \(Europe/London\) is not after",
    ):
        ballot.extend(situation(rules), item(), {"deadline": DEADLINE - timedelta(days=1)})
    with pytest.raises(ValueError, match="ballot 1 is escalated: it cannot be extended"):
        later = {"deadline": DEADLINE + timedelta(days=1)}
        ballot.extend(situation(rules), item("escalated"), later)


def test_a_cancellation_needs_a_reason_and_tells_members_and_secretariat(rules: Rules) -> None:
    with pytest.raises(ValueError, match="give the reason"):
        ballot.cancel(situation(rules), item(), {"reason": "  "})
    effects = ballot.cancel(situation(rules), item(), {"reason": "Superseded."})
    state = next(e for e in effects if isinstance(e, SetState))
    assert state.state == "cancelled" and state.data == {
        "outcome": "cancelled",
        "cancel_reason": "Superseded.",
    }
    (mail,) = [e for e in effects if isinstance(e, Mail)]
    assert mail.to == (*PEOPLE, SEC) and mail.context["reason"] == "Superseded."
    # A close that comes after it does nothing: the ballot is no longer open.
    assert ballot.on_deadline(situation(rules), item("cancelled"), "close") == []


def test_a_chase_goes_only_to_those_without_a_counted_answer(rules: Rules) -> None:
    (mail,) = ballot.remind(situation(rules, m1="agree"), item(), {})
    assert isinstance(mail, Mail) and mail.purpose == "reminder"
    assert mail.to == PEOPLE[1:]
    everyone = situation(rules, m1="agree", m2="object", m3="agree")
    with pytest.raises(ValueError, match="every member has answered; nobody to remind"):
        ballot.remind(everyone, item(), {})


def test_a_close_scheduled_before_an_extension_closes_nothing(rules: Rules) -> None:
    # Belt and braces beside the dropped deadline row: a close never runs before the deadline.
    extended = ItemView(1, "ballot", "S", "Q", "open", NOW, NOW + timedelta(days=3))
    assert ballot.on_deadline(situation(rules), extended, "close") == []


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("12", 12), ("#12", 12), ("[CG-12] Re: Ballot: x", 12), ("Re: [cg-7] x", 7), ("x", None)],
)
def test_the_item_a_command_names(subject: str, expected: int | None) -> None:
    assert ballot.item_named(subject, "CG") == expected


def _command(prefix: str, argument: str, text: str, rules: Rules) -> list[object]:
    command = next(c for c in ballot.COMMANDS if c.prefix == prefix)
    message = clients.command("Secretariat", SECRETARIAT, BOT, NOW, f"{prefix}: x", text)
    mail = CommandMail(argument, text, SEC, parse_message(message))
    return list(command.run(mail, situation(rules)))


def test_each_command_reads_its_body_and_names_every_problem(rules: Rules) -> None:
    (act,) = _command("EXTEND", "1", "Deadline: 2026-12-18 17:00", rules)
    assert isinstance(act, Act) and (act.item_id, act.action) == (1, "extend")
    assert act.args["deadline"] == datetime(2026, 12, 18, 17, tzinfo=UTC)
    (act,) = _command("CANCEL", "1", "The Board settled it.", rules)
    assert isinstance(act, Act) and act.args == {"reason": "The Board settled it."}
    with pytest.raises(CommandError) as err:
        _command("EXTEND", "soon", "no date here", rules)
    assert len(err.value.problems) == 2  # no item named, no Deadline: line
    assert "EXTEND: 12" in err.value.problems[0]


# -- by mail, through the pipeline ----------------------------------------------------------

TRUSTED = '[security]\ntrusted_authserv_ids = ["mx.cg.example"]\n'
VOUCHED = b"Authentication-Results: mx.cg.example; dmarc=pass header.from=cg.example\r\n"


def _app(tmp_path: Path) -> tuple[App, int]:
    app = make_app(tmp_path, change=lambda t: t + TRUSTED)
    return app, open_ballot(app)


def _send(app: App, subject: str, body: str, proven: bool = True) -> str:
    return _send_raw(app, _raw(app, subject, body), proven)


def _raw(app: App, subject: str, body: str) -> bytes:
    return clients.command("Secretariat", SECRETARIAT, BOT, app.clock.now(), subject, body)


def _send_raw(app: App, raw: bytes, proven: bool = True) -> str:
    return app.handle(Fetched("test", (VOUCHED if proven else b"") + raw))


def _mails(app: App, purpose: str) -> list[Outbox]:
    with session(app.engine) as s:
        query = select(Outbox).where(Outbox.purpose == purpose).order_by(col(Outbox.id))
        return list(s.exec(query))


def _text(row: Outbox) -> str:
    body = message_from_bytes(row.raw, policy=default).get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_extend_by_mail_moves_the_deadline_and_answers_in_the_commands_thread(
    tmp_path: Path,
) -> None:
    app, item_id = _app(tmp_path)
    app.clock.jump_to(T0 + timedelta(days=2))
    command = _raw(app, f"EXTEND: {item_id}", "Deadline: 2026-12-18")
    assert _send_raw(app, command) == "processed"
    record = app.item_detail(item_id)
    assert record["deadline"] == "2026-12-18T17:00:00+00:00"
    extended = _mails(app, "extended")
    assert sorted(r.recipients[0] for r in extended) == sorted(m[1] for m in MEMBERS)
    assert "18 December 2026" in _text(extended[0])
    (answer,) = _mails(app, "command")
    assert answer.recipients == [SECRETARIAT] and answer.subject == f"Re: EXTEND: {item_id}"
    headers = message_from_bytes(answer.raw, policy=default)
    sent = message_from_bytes(command, policy=default)
    assert headers["In-Reply-To"] == sent["Message-ID"]  # in the command's own thread
    assert "Mail sent to: Amina Diallo, Bruno Carvalho" in _text(answer)
    # The old close and reminders were dropped; only the new deadline's steps are pending.
    assert [s["step"] for s in record["next"]] == ["reminder", "reminder", "close"]
    assert record["next"][-1]["at"] == "2026-12-18T17:00:00+00:00"
    app.clock.jump_to(T0 + timedelta(days=10, hours=9))  # past the old deadline
    app.run_due()
    assert app.item_detail(item_id)["state"] == "open"


def test_cancel_and_remind_by_mail(tmp_path: Path) -> None:
    app, item_id = _app(tmp_path)
    assert _send(app, f"REMIND: [CG-{item_id}]", "") == "processed"
    assert len(_mails(app, "reminder")) == len(MEMBERS)
    with session(app.engine) as s:
        events = [e.event for e in s.exec(select(RegisterEntry))]
    assert "reminder-sent" in events  # a chase by hand is in the register like any other
    assert _send(app, f"CANCEL: {item_id}", "Reason: the Board settled it.") == "processed"
    assert app.item_detail(item_id)["state"] == "cancelled"
    cancelled = _mails(app, "cancelled")
    assert SECRETARIAT in {r.recipients[0] for r in cancelled}
    assert "Reason: the Board settled it." in _text(cancelled[0])
    with session(app.engine) as s:
        pending = s.exec(
            select(Deadline).where(Deadline.item_id == item_id, col(Deadline.done_at).is_(None))
        ).all()
    assert pending  # the close still runs, and does nothing:
    app.clock.jump_to(T0 + timedelta(days=11))
    app.run_due()
    assert app.item_detail(item_id)["state"] == "cancelled"


def test_a_command_on_a_ballot_that_cannot_take_it_is_refused_by_mail(tmp_path: Path) -> None:
    app, item_id = _app(tmp_path)
    _send(app, f"CANCEL: {item_id}", "No longer needed.")
    assert _send(app, f"EXTEND: {item_id}", "Deadline: 2026-12-20") == "processed"
    refused = _mails(app, "command")[-1]
    assert f"ballot {item_id} is cancelled: it cannot be extended" in _text(refused)
    assert app.item_detail(item_id)["deadline"] == "2026-12-11T09:00:00+00:00"
    assert _send(app, "REMIND: 99", "") == "processed"
    assert "no item 99" in _text(_mails(app, "command")[-1])


def test_an_unproven_command_waits_for_the_secretariats_ok(tmp_path: Path) -> None:
    # Anyone can forge the Secretariat's From: nothing happens before the OK.
    app, item_id = _app(tmp_path)
    assert _send(app, f"CANCEL: {item_id}", "Forged.", proven=False) == "processed"
    assert app.item_detail(item_id)["state"] == "open"
    (request,) = _mails(app, "confirmation")
    original = clients.Original(request.raw)
    ok = clients.gmail(original, "Secretariat", SECRETARIAT, BOT, app.clock.now(), "OK")
    assert app.handle(Fetched("test", ok)) == "processed"
    assert app.item_detail(item_id)["state"] == "cancelled"
