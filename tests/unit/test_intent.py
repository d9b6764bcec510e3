"""Reading a position: clear answers in four languages are counted, unclear ones never guessed."""

from __future__ import annotations

import pytest

from bot.inbound.intent import read_position
from bot.rules import Rules, load_rules, resolve_rules_path


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(resolve_rules_path("ciwp-coordination-group"))


CLEAR = [
    ("Agree", "agree"),
    ("AGREE.\n\nThanks for the paper.", "agree"),
    ("I agree with the proposal.", "agree"),
    ("Hi all,\n\nI agree with the proposal.", "agree"),
    ("+1", "agree"),
    ("No objection", "agree"),
    ("No objection from me.", "agree"),
    ("Pas d'objection", "agree"),
    ("D’accord", "agree"),
    ("Estoy de acuerdo", "agree"),
    ("Sin objeciones.", "agree"),
    ("Concordo.", "agree"),
    ("Sim", "agree"),
    ("Object - para 3 overlaps the existing programme.", "object"),
    ("I do not agree", "object"),
    ("I don't agree: the budget is missing.", "object"),
    ("-1", "object"),
    ("Je ne suis pas d'accord, voir para 3.", "object"),
    ("No estoy de acuerdo", "object"),
    ("Não concordo com o parágrafo 3", "object"),
    ("nao concordo", "object"),
    ("Discordo.", "object"),
    ("Abstain", "abstain"),
    ("I'll stand aside on this one.", "abstain"),
    ("Je m'abstiens.", "abstain"),
    ("Me abstengo", "abstain"),
    ("Abstenho-me.", "abstain"),
    ("Agree. We must guard against scope creep.", "agree"),
]


@pytest.mark.parametrize(("text", "position"), CLEAR)
def test_clear_answers(rules: Rules, text: str, position: str) -> None:
    assert read_position(text, rules).position == position


UNCLEAR = [
    "agree in principle but object to para 3",
    "Agree, but only if the budget is approved.",
    "I don't really agree",
    "Agree. But I object to para 3.",
    "Object.\nI agree with the goal but para 3 is wrong",
    "What is this about?",
    "Je suis d'accord mais pas sur le point 2",
    "Concordo em princípio, mas o ponto 2 precisa de revisão",
    "",
    "Yes and no",
]


@pytest.mark.parametrize("text", UNCLEAR)
def test_unclear_answers_are_never_guessed(rules: Rules, text: str) -> None:
    reading = read_position(text, rules)
    assert reading.position is None and reading.why


def test_reason_is_the_members_own_words(rules: Rules) -> None:
    reading = read_position("Object - para 3 overlaps the existing programme.", rules)
    assert reading.reason == "para 3 overlaps the existing programme."
