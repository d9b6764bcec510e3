"""An owner reports an agreed action done, and the Secretariat refuses a new date (ToR 6.2.b)."""

from __future__ import annotations

import pytest

from bot.workflows.action import refuses, reports_done

DONE = [
    "Done",
    "Done, the paper is on the shared drive.",
    "Completed.",
    "Fait.",
    "C'est fait",
    "Hecho",
    "Listo, enviado.",
    "Feito.",
    # Went to review before.
    "All done.",
    "This is done.",
    "I've done it.",
    "I’ve done it.",
    "Yes, done.",
    "Ya está hecho.",
    "Já está feito.",
]

NOT_DONE = [
    # Each of these was recorded as done, and the action closed.
    "Done? Not yet, I need until Friday.",
    "Done with part 1; part 2 needs another week.",
    "Done, but the annex follows next week.",
    "Pronto lo enviaré.",  # Spanish "pronto" is "soon"
    # And these never were.
    "Not done yet.",
    "I need until 2026-12-20.",
]


@pytest.mark.parametrize("text", DONE)
def test_an_action_reported_done(text: str) -> None:
    assert reports_done(text)


@pytest.mark.parametrize("text", NOT_DONE)
def test_a_question_or_a_part_done_is_not_done(text: str) -> None:
    assert not reports_done(text)


@pytest.mark.parametrize("text", ["REFUSE", "Refused.", "No", "Non.", "I refuse.", "Rechazado"])
def test_the_secretariat_refuses_a_new_date(text: str) -> None:
    assert refuses(text)


@pytest.mark.parametrize(
    "text", ["Noted, thanks.", "No problem, fine.", "Non-urgent, accept.", "November is fine"]
)
def test_a_reply_that_only_starts_like_no_refuses_nothing(text: str) -> None:
    # "Noted, thanks." to an extension notice refused the extension: it began with "no".
    assert not refuses(text)
