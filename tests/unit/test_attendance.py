"""Apologies and attendance in a plain reply to a meeting call (ToR 2.2.c), as members write."""

from __future__ import annotations

import pytest

from bot.inbound.attendance import read_attendance

APOLOGIES = [
    # Most apologies are negated attendance; before this reader, the first five went to review.
    "Unfortunately I won't be able to attend.",
    "I will not be able to join this time.",
    "I won't be able to make it.",
    "I cannot make the meeting on 5 May.",
    "I have a conflict and will miss the meeting.",
    "I'm afraid I can't make it.",
    "I’m afraid I can’t make it.",  # typographic apostrophes, as phones write them
    "I'll be travelling and cannot join.",
    "Please send my apologies.",
    "Apologies",
    "Unable to attend, apologies.",
    "I can't, sorry.",
    "Je serai absente ce jour-là.",
    "Malheureusement, je ne pourrai pas assister à la réunion.",
    "Je ne vais pas pouvoir y assister.",
    "Je suis empêchée.",
    "Excuses",
    "Lamentablemente no podré asistir.",
    "Estaré de viaje y no podré conectarme.",
    "Disculpas",
    "Infelizmente não poderei participar.",
    "Desculpem, não poderei comparecer.",
    "Não vou poder participar, peço desculpas.",
    # "I confirm" with an absence is an apology, not attendance.
    "Je confirme mon absence.",
    "Confirmo mi ausencia.",
    "Confirmo a minha ausência.",
]

ATTENDING = [
    "Yes, I will attend.",
    "I can attend.",
    "Confirmed, I'll be there.",
    "I'll join remotely.",
    "I'll join but will be 10 minutes late.",
    "Count me in!",
    "Oui, je serai présente.",
    "J'y serai.",
    "Sí, asistiré.",
    "Cuenten conmigo.",
    "Sim, estarei presente.",
    "Contem comigo.",
]

NEITHER = [
    # Hedged, or about something else: the Secretariat reads these in review.
    "I might not make it.",
    "I'll be there but may have to leave early.",
    "Not sure yet, I will confirm next week.",
    "Peut-être, je vous confirme demain.",
    "Tal vez, depende del vuelo.",
    "Talvez, ainda não sei.",
    "Thanks for the agenda.",
    "Regarding item 2, could we add the SRN budget?",
    "See you on 5 May.",
    "No",
]


@pytest.mark.parametrize("text", APOLOGIES)
def test_apologies_in_the_members_languages(text: str) -> None:
    assert read_attendance(text) == "apology"


@pytest.mark.parametrize("text", ATTENDING)
def test_attendance_in_the_members_languages(text: str) -> None:
    assert read_attendance(text) == "attending"


@pytest.mark.parametrize("text", NEITHER)
def test_a_hedged_or_other_reply_is_left_to_review(text: str) -> None:
    assert read_attendance(text) is None


def test_only_the_first_lines_are_read() -> None:
    # The answer is on top; an apology quoted in the reasons further down is not the answer.
    text = "I'll be there.\n\nOn item 3:\nlast time two members sent apologies\nand we lacked"
    assert read_attendance(text) == "attending"
    assert read_attendance("Agenda item 4 please.\n\n\n\nApologies if this is late.") is None


def test_excuse_me_is_no_apology() -> None:
    assert read_attendance("Excuse me, is the meeting still on Tuesday?") is None
