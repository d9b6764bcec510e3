"""The console's mails (extended, cancelled, recorded by the Secretariat, a command's answer)
exist in every language the bot writes, with no key missing and no English left in the
French, Spanish and Portuguese ones."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.types import ItemView, PersonView
from bot.render import Renderer
from bot.rules import load_rules, resolve_rules_path
from bot.workflows.registry import STANDARD

NOW = datetime(2026, 12, 4, 9, tzinfo=UTC)
RULES = load_rules(resolve_rules_path("ciwp-coordination-group"))
ITEM = ItemView(7, "ballot", "Shortlist", "Agree?", "open", NOW, NOW + timedelta(days=14))
TEMPLATES = ("ballot/extended", "ballot/cancelled", "ballot/resolved", "common/command_done")
# Words of the English versions that a translation must not keep.
ENGLISH = re.compile(
    r"\b(Dear|deadline|Reason|Note from|Done|Mail sent|has been|your answer|reply to this|"
    r"cancelled|extended|recorded)\b",
    re.IGNORECASE,
)


def _context(language: str, answered: bool) -> dict[str, Any]:
    reader = PersonView(3, "chloe@members.example", "Chloé Martin", "member", "", "Europe/Paris")
    reader = PersonView(**{**reader.__dict__, "language": language})
    return {
        "group_name": "CIWP Coordination Group",
        "tag": "CG",
        "rules": RULES,
        "now": NOW,
        "recipient": reader,
        "item": ITEM,
        "positions": dict(RULES.positions),
        "was": NOW + timedelta(days=7),
        "answers": {3: "agree"} if answered else {},
        "reason": "The Board settled it on 3 December.",
        "label": "OBJECT",
        "note": "Confirmed by phone.",
        "words": "",
        "asks_reason": True,
        "by": "Executive Secretariat",
        "command": "EXTEND: 7",
        "action": "extend",
        "told": ["Amina Diallo", "Bruno Carvalho"],
    }


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer({w.kind: w.templates for w in STANDARD.workflows})


@pytest.mark.parametrize("language", ["en", "fr", "es", "pt"])
@pytest.mark.parametrize("name", TEMPLATES)
def test_each_mail_is_written_in_the_readers_language(
    renderer: Renderer, name: str, language: str
) -> None:
    for answered in (False, True):
        mail = renderer.render(name, _context(language, answered), language)
        for part in (mail.subject, mail.text, mail.html):
            assert part.strip() and "{{" not in part and "{%" not in part
        assert f'<html lang="{language}">' in mail.html
        if language != "en":
            prose = re.sub(r"cgbot show \d+|EXTEND: 7|\(cgbot\)", "", mail.subject + mail.text)
            assert not ENGLISH.search(prose), (name, language, ENGLISH.search(prose))


def test_the_extension_tells_each_member_their_deadline_and_what_stands(
    renderer: Renderer,
) -> None:
    fresh = renderer.render("ballot/extended", _context("fr", False), "fr").text
    assert "reportée au vendredi 18 décembre 2026, 10:00 (Europe/Paris)" in fresh
    assert "Nous n'avons pas encore reçu votre réponse" in fresh
    stands = renderer.render("ballot/extended", _context("en", True), "en").text
    assert "Your answer, AGREE, stands." in stands
