"""Settling the review queue (issue 11, part 4): the Secretariat records what a member clearly
meant, with its name and note in the history, and the member is confirmed; or dismisses it.

Acceptance: "`review resolve` records a position with the Secretariat's note in the history and
confirms it to the member."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import col, select

from bot.app import App
from bot.cli import cli
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store.db import session
from bot.store.models import Outbox, RegisterEntry
from tests.conftest import BOT, MEMBERS, SECRETARIAT, T0, config_text, make_app, open_ballot

NAME, EMAIL = MEMBERS[1][0], MEMBERS[1][1]  # Bruno Carvalho
NOTE = "Confirmed by phone: para 3 is a drafting point, not an objection."


def _mails_to(app: App, address: str) -> list[Outbox]:
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id)))
        return [r for r in rows if address in r.recipients]


def _unclear(tmp_path: Path) -> tuple[App, int, bytes]:
    """A ballot and Bruno's hedged reply to it, in review; returns the reply."""
    app = make_app(tmp_path)
    item_id = open_ballot(app)
    app.clock.jump_to(T0 + timedelta(days=1))
    ballot_mail = next(r for r in _mails_to(app, EMAIL) if r.purpose == "ballot")
    raw = clients.gmail(
        clients.Original(ballot_mail.raw),
        NAME,
        EMAIL,
        BOT,
        app.clock.now(),
        "Agree in principle, but not with para 3.",
    )
    assert app.handle(Fetched("test", raw)) == "processed"
    return app, item_id, raw


def _entry(app: App) -> int:
    (entry,) = [r for r in app.reviews() if r["reason"] == "ambiguous"]
    return int(entry["id"])


def test_resolve_records_the_position_with_the_note_and_confirms_it_to_the_member(
    tmp_path: Path,
) -> None:
    app, item_id, reply = _unclear(tmp_path)
    app.clock.jump_to(T0 + timedelta(days=2))
    done = app.resolve_review(_entry(app), "AGREE", NOTE, "Marie Dupont")
    assert done["position"] == "agree" and done["mailed"] == [EMAIL]

    record = app.item_detail(item_id)
    bruno = next(a for a in record["answers"] if a["email"] == EMAIL)
    assert (bruno["position"], bruno["status"]) == ("agree", "counted")
    assert bruno["text"] == "Agree in principle, but not with para 3."  # their words kept
    # As of when the reply arrived (in time), not when the Secretariat read it.
    assert bruno["at"].startswith((T0 + timedelta(days=1)).isoformat()[:16])
    last = record["replies"][-1]
    assert last["note"] == f"recorded by Marie Dupont: {NOTE}"  # name and note in the history
    assert record["replies"][0]["status"] == "review"  # the unclear reading stays
    assert EMAIL not in [o["email"] for o in record["owing"]]
    assert app.reviews() == []

    confirm = _mails_to(app, EMAIL)[-1]
    assert confirm.purpose == "confirm"
    sent = message_from_bytes(confirm.raw, policy=default)
    assert sent["In-Reply-To"] == message_from_bytes(reply, policy=default)["Message-ID"]
    text = sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "the Secretariat has recorded\nyour answer as:\n\n  AGREE" in text
    assert f"Note from the Secretariat: {NOTE}" in text

    with session(app.engine) as s:
        events = {e.event: e.detail for e in s.exec(select(RegisterEntry))}
    assert events["review-resolved"]["as"] == "agree"
    assert events["review-resolved"]["by"] == "Marie Dupont"


def test_dismiss_counts_nothing_and_is_in_the_register(tmp_path: Path) -> None:
    app, item_id, _ = _unclear(tmp_path)
    before = len(_mails_to(app, EMAIL))
    done = app.resolve_review(_entry(app), "dismiss", "Spoke to him; he will reply.", "Secretariat")
    assert done["event"] == "review-dismissed" and app.reviews() == []
    bruno = next(a for a in app.item_detail(item_id)["answers"] if a["email"] == EMAIL)
    assert bruno["status"] == "review"
    assert len(_mails_to(app, EMAIL)) == before  # nobody is mailed
    with session(app.engine) as s:
        events = [e.event for e in s.exec(select(RegisterEntry))]
    assert "review-dismissed" in events


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("maybe", "'maybe' is not a position ballot 1 offers (AGREE, OBJECT, ABSTAIN)"),
        ("object", None),
    ],
)
def test_a_position_must_be_one_the_ballot_offers(
    tmp_path: Path, answer: str, problem: str | None
) -> None:
    app, _, _ = _unclear(tmp_path)
    if problem is None:
        assert app.resolve_review(_entry(app), answer, "", "Secretariat")["position"] == answer
        return
    with pytest.raises(ValueError) as err:
        app.resolve_review(_entry(app), answer, "", "Secretariat")
    assert str(err.value) == problem
    assert len(app.reviews()) == 1  # nothing was settled


def test_what_cannot_be_resolved_says_so(tmp_path: Path) -> None:
    app, item_id, _ = _unclear(tmp_path)
    n = _entry(app)
    app.resolve_review(n, "agree", "", "Secretariat")
    with pytest.raises(
        ValueError, match=f"review entry {n} was settled on 2026-12-02 09:00 \\(Europe/London\\)"
    ):
        app.resolve_review(n, "agree", "", "Secretariat")
    with pytest.raises(ValueError, match="no review entry 99"):
        app.resolve_review(99, "dismiss", "", "Secretariat")
    # The ballot closes without every answer: an entry about the item, no member's reply.
    app.clock.jump_to(T0 + timedelta(days=11))
    app.run_due()
    (closed,) = [r for r in app.reviews() if r["reason"] == "incomplete"]
    with pytest.raises(ValueError, match="it can only be dismissed"):
        app.resolve_review(closed["id"], "agree", "", "Secretariat")
    assert app.item_detail(item_id)["state"] == "closed"


def test_the_cli_shows_the_message_and_resolves_it(tmp_path: Path) -> None:
    app, _, _ = _unclear(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(config_text(1, "u", "p", 1, tmp_path / "cg.db"))
    config.chmod(0o600)
    n = _entry(app)

    def cgbot(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), "--now", "2026-12-02", *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    listed = cgbot("review")
    assert "Bruno Carvalho" in listed and "ambiguous" in listed and "2026-12-02 09:00" in listed
    shown = cgbot("review", "show", str(n))
    assert "From     Bruno Carvalho <bruno@members.example>" in shown
    assert "What they wrote (quotes and signature left out):\n    Agree in principle" in shown
    assert f"cgbot review resolve {n} --as POSITION|dismiss" in shown
    said = cgbot("review", "resolve", str(n), "--as", "agree", "--note", NOTE)
    assert "Bruno Carvalho <bruno@members.example> recorded as AGREE" in said
    assert "by Executive Secretariat" in said and "confirmation queued to bruno@" in said
    assert "the review queue is empty" in cgbot("review")


def test_entries_one_message_caused_are_settled_together(tmp_path: Path) -> None:
    # The same hedged words again: one entry for the reading, one for the answer not sent.
    app, _, reply = _unclear(tmp_path)
    again = reply.replace(b"Message-ID: <", b"Message-ID: <again.")
    assert app.handle(Fetched("test", again)) == "processed"
    entries = app.reviews()
    assert [e["reason"] for e in entries] == ["ambiguous", "ambiguous", "no-answer-sent"]
    done = app.resolve_review(entries[1]["id"], "agree", "", "Secretariat")
    assert done["settled"] == [entries[1]["id"], entries[2]["id"]]
    assert [e["id"] for e in app.reviews()] == [entries[0]["id"]]  # another message: kept


def _reply(app: App, words: str) -> None:
    """Bruno replies to his ballot mail, now."""
    ballot_mail = next(r for r in _mails_to(app, EMAIL) if r.purpose == "ballot")
    original = clients.Original(ballot_mail.raw)
    raw = clients.gmail(original, NAME, EMAIL, BOT, app.clock.now(), words)
    assert app.handle(Fetched("test", raw)) == "processed"


def _objects_since(app: App) -> None:
    """Bruno, whose hedged reply is in review, objects plainly six hours later."""
    app.clock.jump_to(T0 + timedelta(days=1, hours=6))
    _reply(app, "Object. Para 3 must go.")


def _digest_text(app: App) -> str:
    from tests.unit.test_digest import body, digests

    app.run_due()  # arms the jobs
    app.clock.jump_to(T0 + timedelta(days=3, hours=-1, minutes=1))
    app.run_due()
    return body(digests(app)[-1])


def test_an_entry_the_member_answered_since_is_not_resolved_over_their_answer(
    tmp_path: Path,
) -> None:
    # Resolving it as a position put the unclear message's older reading over the objection
    # Bruno sent since (the standing read AGREE): refused, and the entry says why everywhere
    # the Secretariat reads it; dismissing it settles it.
    app, item_id, _ = _unclear(tmp_path)
    _objects_since(app)
    (listed,) = app.reviews()
    assert listed["answered_since"]["position"] == "object"
    assert app.review_detail(listed["id"])["answered_since"] == listed["answered_since"]
    assert "(the member's answer since is what counts: dismiss the entry)" in _digest_text(app)

    with pytest.raises(ValueError, match=r"answer OBJECT of .* is what counts: dismiss the entry"):
        app.resolve_review(listed["id"], "AGREE", NOTE, "Marie Dupont")
    bruno = next(a for a in app.item_detail(item_id)["answers"] if a["email"] == EMAIL)
    assert (bruno["position"], bruno["status"]) == ("object", "counted")
    assert [r["id"] for r in app.reviews()] == [listed["id"]]  # still open, nothing written
    done = app.resolve_review(listed["id"], "dismiss", "he objected since", "Marie Dupont")
    assert done["event"] == "review-dismissed" and app.reviews() == []


def test_an_answer_older_than_the_unclear_message_does_not_overtake_it(tmp_path: Path) -> None:
    # Bruno agreed, then wrote an unclear second reply: that one is what the Secretariat settles.
    app = make_app(tmp_path)
    item_id = open_ballot(app)
    app.clock.jump_to(T0 + timedelta(hours=6))
    _reply(app, "Agree.")
    app.clock.jump_to(T0 + timedelta(days=1))
    _reply(app, "Agree in principle, but not with para 3.")
    (listed,) = app.reviews()
    assert listed["answered_since"] is None
    digest = _digest_text(app)
    assert "REVIEW QUEUE (1)" in digest and "answer since" not in digest
    done = app.resolve_review(listed["id"], "OBJECT", NOTE, "Marie Dupont")
    assert done["position"] == "object"
    bruno = next(a for a in app.item_detail(item_id)["answers"] if a["email"] == EMAIL)
    assert bruno["position"] == "object"


def test_the_cli_marks_an_entry_answered_since_and_refuses_to_resolve_it(tmp_path: Path) -> None:
    app, _, _ = _unclear(tmp_path)
    _objects_since(app)
    config = tmp_path / "config.toml"
    config.write_text(config_text(1, "u", "p", 1, tmp_path / "cg.db"))
    config.chmod(0o600)
    n = _entry(app)

    def cgbot(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), "--now", "2026-12-03", *args])
        assert result.exit_code == code, result.output
        return result.output

    listed = cgbot("review")
    assert "ambiguous*" in listed
    assert "* the member's answer since is what counts: `--as dismiss` settles the entry." in listed
    shown = cgbot("review", "show", str(n))
    assert "since   Bruno Carvalho's answer OBJECT of 2026-12-02 15:00 is what counts now" in shown
    assert f"cgbot review resolve {n} --as dismiss --note TEXT" in shown
    refused = cgbot("review", "resolve", str(n), "--as", "agree", code=2)
    assert "Bruno Carvalho's answer OBJECT of 2026-12-02 15:00 (Europe/London) came" in refused


def _unclear_with_commands(tmp_path: Path) -> tuple[App, int, int]:
    """Bruno's hedged reply in review, in an installation whose receiving server vouches for
    the Secretariat's mail (its commands take effect at once); the item and the entry."""
    from tests.unit.test_ballot_console import TRUSTED

    app = make_app(tmp_path, change=lambda text: text + TRUSTED)
    item_id = open_ballot(app)
    app.clock.jump_to(T0 + timedelta(days=1))
    _reply(app, "Agree in principle, but not with para 3.")
    return app, item_id, _entry(app)


def test_the_secretariat_settles_an_entry_by_mail_as_on_the_command_line(
    tmp_path: Path,
) -> None:
    from tests.unit.test_ballot_console import _mails, _send, _text

    app, item_id, n = _unclear_with_commands(tmp_path)
    app.clock.jump_to(T0 + timedelta(days=2))
    assert _send(app, f"RESOLVE: {n}", f"As: agree\nNote: {NOTE}") == "processed"
    bruno = next(a for a in app.item_detail(item_id)["answers"] if a["email"] == EMAIL)
    assert (bruno["position"], bruno["status"]) == ("agree", "counted")
    last = app.item_detail(item_id)["replies"][-1]
    assert last["note"] == f"recorded by Executive Secretariat (by email): {NOTE}"
    assert app.reviews() == []
    assert _mails_to(app, EMAIL)[-1].purpose == "confirm"  # Bruno is told, in his thread
    (answer,) = _mails(app, "command")
    assert answer.recipients == [SECRETARIAT] and answer.subject == f"Re: RESOLVE: {n}"
    said = _text(answer)
    assert "The entry is settled: AGREE is recorded" in said and f"[CG-{item_id}]" in said
    assert f"Mail sent to: {EMAIL}" in said
    with session(app.engine) as s:
        entry = s.exec(select(RegisterEntry).where(RegisterEntry.event == "review-resolved")).one()
    command = _mails(app, "command")[0]  # the register names the mail that asked for it
    assert entry.detail["command_sha256"] and entry.detail["by"].endswith("(by email)")
    assert command.recipients == [SECRETARIAT]


def test_a_settlement_by_mail_that_fails_midway_leaves_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The register entry comes last, after the reading, the standing, the entry's settling and
    # Bruno's confirmation: refused there, none of them stays.
    from bot.store import register
    from tests.unit.test_ballot_console import _mails, _send, _text

    app, item_id, n = _unclear_with_commands(tmp_path)
    before = app.item_detail(item_id)
    append = register.append

    def refuse_the_settling(s: object, event: str, **kw: object) -> None:
        if event == "review-resolved":
            raise ValueError("the register refused it")
        append(s, event, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(register, "append", refuse_the_settling)
    assert _send(app, f"RESOLVE: {n}", "As: agree") == "processed"
    assert "the register refused it" in _text(_mails(app, "command")[-1])
    after = app.item_detail(item_id)
    assert after["answers"] == before["answers"] and after["replies"] == before["replies"]
    assert [r["id"] for r in app.reviews()] == [n]
    assert [m.purpose for m in _mails_to(app, EMAIL)] == ["ballot", "clarify"]


def test_a_settlement_by_mail_that_cannot_be_done_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    from tests.unit.test_ballot_console import _mails, _send, _text

    app, item_id, n = _unclear_with_commands(tmp_path)
    _objects_since(app)
    for subject, body, why in (
        (
            f"RESOLVE: {n}",
            "As: agree",
            "dismiss the entry instead (--as dismiss; by mail, As: dismiss)",
        ),
        ("RESOLVE: 99", "As: agree", "no review entry 99"),
        (f"RESOLVE: {n}", "Agreed on the phone.", "says nothing to record"),
        ("RESOLVE: four", "As: dismiss", "names no review entry"),
        ("RESOLVE: \u00b2", "As: dismiss", "names no review entry"),  # a digit, not a number
    ):
        assert _send(app, subject, body) == "processed"
        assert why in _text(_mails(app, "command")[-1]), subject
    bruno = next(a for a in app.item_detail(item_id)["answers"] if a["email"] == EMAIL)
    assert bruno["position"] == "object"
    assert [r["id"] for r in app.reviews()] == [n]
    assert _send(app, f"RESOLVE: {n}", "As: dismiss\nNote: he objected since") == "processed"
    assert "The entry is dismissed; nothing was counted." in _text(_mails(app, "command")[-1])
    assert app.reviews() == []


def test_an_unproven_settlement_waits_for_the_secretariats_ok(tmp_path: Path) -> None:
    # Anyone can forge the Secretariat's From: the entry stays open until the OK.
    from tests.unit.test_ballot_console import _mails, _send

    app, item_id, n = _unclear_with_commands(tmp_path)
    assert _send(app, f"RESOLVE: {n}", "As: object", proven=False) == "processed"
    assert [r["id"] for r in app.reviews()] == [n]
    bruno = next(a for a in app.item_detail(item_id)["answers"] if a["email"] == EMAIL)
    assert bruno["status"] == "review"
    (request,) = _mails(app, "confirmation")  # the configured address is asked for its OK
    original = clients.Original(request.raw)
    ok = clients.gmail(original, "Secretariat", SECRETARIAT, BOT, app.clock.now(), "OK")
    assert app.handle(Fetched("test", ok)) == "processed"
    bruno = next(a for a in app.item_detail(item_id)["answers"] if a["email"] == EMAIL)
    assert (bruno["position"], bruno["status"]) == ("object", "counted")
    assert app.reviews() == []
