"""Finding a time for an ad hoc meeting (issue 9, item 2): slots in each member's own time zone,
answers by reply, the tally and the best slot, and the chosen slot turned into a meeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched, ItemKind
from bot.store.db import session
from bot.store.models import Outbox
from bot.workflows.poll import read_slots
from tests.conftest import BOT, MEMBERS, SECRETARIAT, T0, mail_to, make_app

SLOTS = [
    datetime(2026, 12, 14, 14, tzinfo=UTC),
    datetime(2026, 12, 15, 9, tzinfo=UTC),
    datetime(2026, 12, 16, 16, tzinfo=UTC),
]


@pytest.mark.parametrize(
    ("text", "picked"),
    [
        ("1 and 3", (1, 3)),
        # A second line may take the first back ("Actually, 3 doesn't work"): a person reads it.
        ("1, 3.\nThe second clashes with a board call.", None),
        ("2 and 3\nActually, 3 doesn't work for me after all.", None),
        ("1 and 3\nBest regards,", (1, 3)),
        ("2", (2,)),
        ("1 et 2", (1, 2)),
        ("Any", (1, 2, 3)),
        ("Toutes me conviennent", (1, 2, 3)),
        ("None of these, sorry", ()),
        ("Ninguna", ()),
        ("Maybe the first one?", None),
        ("4", None),
        ("I can do Tuesday", None),
        # The words members put around the numbers (each went to review before).
        ("Option 2", (2,)),
        ("Slots 1 and 2", (1, 2)),
        ("Les options 1 et 3", (1, 3)),
        ("Opción 2", (2,)),
        ("Opções 1 e 3", (1, 3)),
        ("#2", (2,)),
        ("2 only", (2,)),
        ("Only 2, sorry", (2,)),
        ("2 works for me", (2,)),
        ("2 me va bien", (2,)),
        ("1 or 3", (1, 3)),
        ("1 and 3, thanks", (1, 3)),
        # ... but not a tail that takes back or qualifies them.
        ("2 but not 3", None),
        ("2 works, not 3", None),
        ("Slot 1, I can't do 3", None),
        ("3 (2 also possible)", None),
        ("I prefer 3", None),
        ("1-3", None),
        ("2?", None),
        # A review found each of these read as slot numbers: dates, times, negations.
        ("3 December works", None),
        ("2pm works", None),
        ("14:00", None),
        ("2 hours", None),
        ("2/12", None),
        ("2 doesn’t work", None),
        ("1 and 3 are impossible", None),
        ("2 is out", None),
        ("1 - no", None),
        ("1. No, 2. Yes", None),
        ("2 me va mal", None),
        ("Any except 2", None),
        ("Toutes sauf la 2", None),
        ("None except 3", None),
        ("Todas me vienen mal.", None),
        ("All are impossible for me, sorry.", None),
        ("Any of the morning slots.", None),
        ("Aucun problème pour moi, toutes les options me conviennent.", None),
        ("None of them is a problem for me.", None),
        ("Ninguna, solo la tercera.", None),
        ("Any of them works", (1, 2, 3)),
        ("Aucune, désolée", ()),
        ("Les 3 me conviennent.", None),  # all three, not slot 3 (a fourth review)
        ("The 3 of them are fine.", None),
        ("All of them are fine", (1, 2, 3)),
        ("+1", None),  # agreeing with a colleague in a reply to all, not slot 1
    ],
)
def test_reading_which_slots_suit(text: str, picked: tuple[int, ...] | None) -> None:
    assert read_slots(text, 3) == picked


def test_a_poll_from_question_to_the_meeting_it_calls(app: App) -> None:
    data = {"slots": [s.isoformat() for s in SLOTS], "minutes": 60, "where": "Room 2"}
    poll_id = app.open_item(
        ItemKind.POLL, "Budget follow-up", "", T0 + timedelta(days=5), "test", data
    )
    answers = ["1 and 3", "Any", "Aucune, désolée", "Hmm, not sure"]
    for (name, address, _, _), words in zip(MEMBERS, answers, strict=True):
        raw = clients.gmail(mail_to(app, address, "poll"), name, address, BOT, T0, words)
        assert app.handle(Fetched("test", raw)) == "processed"
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id))).all()
    assert [r.purpose for r in rows if r.recipients == [MEMBERS[3][1]]][-1] == "clarify"
    app.clock.jump_to(T0 + timedelta(days=5, minutes=1))
    app.run_due()
    poll = next(i for i in app.status()["items"] if i["id"] == poll_id)
    assert poll["state"] == "closed"
    assert [len(slot["can"]) for slot in poll["slots"]] == [2, 1, 2]
    with session(app.engine) as s:
        result = s.exec(select(Outbox).where(Outbox.purpose == "outcome")).one()
    assert result.recipients == [SECRETARIAT] and b"from-poll" in result.raw
    app.act(poll_id, "schedule", {"slot": None})  # the best: slot 1 (two can come, earliest)
    meeting = next(i for i in app.status()["items"] if i["kind"] == "meeting")
    assert meeting["starts_at"] == SLOTS[0].isoformat()
    with session(app.engine) as s:
        calls = s.exec(select(Outbox).where(Outbox.purpose == "call")).all()
    assert {c.recipients[0] for c in calls} == {m[1] for m in MEMBERS}
    with pytest.raises(ValueError, match="already scheduled"):
        app.act(poll_id, "schedule", {"slot": 2})


def test_a_poll_opened_by_mail(tmp_path_factory: pytest.TempPathFactory) -> None:
    # A proven POLL: mail with Slots:, Answer by: and Duration: lines.
    trusted = '[security]\ntrusted_authserv_ids = ["mx.cg.example"]\n'
    app = make_app(tmp_path_factory.mktemp("poll"), change=lambda t: t + trusted)
    body = "Slots: 2026-12-14 14:00; 2026-12-15 09:00\nAnswer by: 2026-12-08\nDuration: 45\n"
    command = clients.command("Secretariat", SECRETARIAT, BOT, T0, "POLL: Budget call", body)
    vouched = b"Authentication-Results: mx.cg.example; dmarc=pass header.from=cg.example\r\n"
    assert app.handle(Fetched("test", vouched + command)) == "processed"
    (poll,) = [i for i in app.status()["items"] if i["kind"] == "poll"]
    assert [s["start"] for s in poll["slots"]] == [
        "2026-12-14T14:00:00+00:00",
        "2026-12-15T09:00:00+00:00",
    ]
