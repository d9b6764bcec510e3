"""How mail to a person opens: their configured salutation, else their language's own (French
has no neutral "Cher/Chère": a person whose title the bot does not know gets "Madame,
Monsieur,", as French institutions write)."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.config import parse_config
from bot.errors import ConfigError
from bot.render import data_dir
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import MEMBERS, config_text, make_app, open_ballot

CHLOE, DANIEL = MEMBERS[2][1], MEMBERS[3][1]


def _languages_and_salutations(text: str) -> str:
    """Chloé writes in French and is addressed as she asked; Daniel in French with no title
    given; Bruno in Portuguese; Amina stays in English."""
    text = text.replace(
        f'email = "{CHLOE}"\n',
        f'email = "{CHLOE}"\nlanguage = "fr"\nsalutation = "Madame la Coprésidente"\n',
    )
    text = text.replace(f'email = "{DANIEL}"\n', f'email = "{DANIEL}"\nlanguage = "fr"\n')
    bruno = MEMBERS[1][1]
    return text.replace(f'email = "{bruno}"\n', f'email = "{bruno}"\nlanguage = "pt"\n')


def _openings(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """The first line of each member's ballot mail, as text and as HTML."""
    app = make_app(tmp_path, change=_languages_and_salutations)
    open_ballot(app)
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).where(Outbox.purpose == "ballot").order_by(col(Outbox.id)))
        mails = {r.recipients[0]: message_from_bytes(r.raw, policy=default) for r in rows}
    out = {}
    for address, mail in mails.items():
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
        out[address] = (text.splitlines()[0], html)
    return out


def test_each_member_is_addressed_as_configured_or_as_their_language_does(
    tmp_path: Path,
) -> None:
    openings = _openings(tmp_path)
    assert openings[CHLOE][0] == "Madame la Coprésidente,"
    assert "<p>Madame la Coprésidente,</p>" in openings[CHLOE][1]
    assert openings[DANIEL][0] == "Madame, Monsieur,"
    assert "<p>Madame, Monsieur,</p>" in openings[DANIEL][1]
    assert openings[MEMBERS[1][1]][0] == "Prezado(a) Bruno Carvalho,"
    assert openings[MEMBERS[0][1]][0] == "Dear Amina Diallo,"
    app = make_app(tmp_path, change=_languages_and_salutations)
    shown = {p["email"]: p["salutation"] for p in app.members()}
    assert shown[CHLOE] == "Madame la Coprésidente" and shown[DANIEL] == ""  # `cgbot members`


def test_a_salutation_is_one_printable_line(tmp_path: Path) -> None:
    def configured(salutation: str) -> str:
        text = config_text(1, "u", "p", 1, tmp_path / "cg.db")
        return text.replace(
            f'email = "{CHLOE}"\n', f'email = "{CHLOE}"\nsalutation = {salutation}\n'
        )

    parse_config(configured('"  Dear Dr Martin  "'), tmp_path / "config.toml")
    parse_config(configured('"Madame\u00a0la Coprésidente"'), tmp_path / "config.toml")
    for bad in ('"Dear Dr Martin\\nBcc: x@evil.example"', f'"{"x" * 121}"'):
        with pytest.raises(ConfigError, match="salutation: '"):  # naming the value
            parse_config(configured(bad), tmp_path / "config.toml")


def test_every_personal_template_opens_with_the_salutation() -> None:
    # 36 templates in each of four languages open by naming the person: all through the
    # salutation, none with a form of its own any more (the French "Cher/Chère" among them).
    templates = [p for p in sorted(data_dir("templates").glob("*/*.*.*")) if p.is_file()]
    texts = {p: p.read_text(encoding="utf-8") for p in templates}
    opening = {p for p, text in texts.items() if "{{ recipient.salutation or " in text}
    assert len(opening) == 36 * 2 * 4
    old = ("Cher/Chère", "Dear {{ recipient.name", "Estimado/a {{", "Prezado(a) {{")
    assert [p for p, text in texts.items() if any(form in text for form in old)] == []
