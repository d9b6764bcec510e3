"""Configuration and rules validation: errors name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import parse_config
from bot.errors import ConfigError
from bot.rules import composition_warnings, load_rules, resolve_rules_path
from tests.conftest import config_text


def test_secrets_from_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "smtp.pw").write_text("from-file\n")
    monkeypatch.setenv("CG_IMAP_PW", "from-env")
    text = (
        config_text(1, "u", "p", 1, tmp_path / "db")
        .replace('password = "p"', 'password_env = "CG_IMAP_PW"')
        .replace(
            'security = "none"\nfrom_address',
            'security = "none"\npassword_file = "smtp.pw"\nfrom_address',
        )
    )
    settings = parse_config(text, tmp_path / "config.toml")
    assert (settings.mailbox_password, settings.smtp_password) == ("from-env", "from-file")
    assert "from-env" not in repr(settings.model)


def test_missing_env_secret_names_the_key(tmp_path: Path) -> None:
    text = config_text(1, "u", "p", 1, tmp_path / "db").replace(
        'password = "p"', 'password_env = "CG_NOT_SET_ANYWHERE"'
    )
    with pytest.raises(ConfigError, match=r"mailbox\.password_env: .*CG_NOT_SET_ANYWHERE"):
        parse_config(text, tmp_path / "config.toml")


def test_two_password_sources_are_refused(tmp_path: Path) -> None:
    text = config_text(1, "u", "p", 1, tmp_path / "db").replace(
        'password = "p"', 'password = "p"\npassword_env = "X"'
    )
    with pytest.raises(ConfigError, match="mailbox"):
        parse_config(text, tmp_path / "config.toml")


def test_shipped_rules_encode_the_terms_of_reference() -> None:
    rules = load_rules(resolve_rules_path("ciwp-coordination-group"))
    assert {(s.role, s.count) for s in rules.composition} == {
        ("governing-board", 2),
        ("expert-panel-co-chair", 1),
        ("ipslc-engagement-forum", 1),
    }
    assert rules.consensus.path == ["meeting", "email", "chair"]
    assert {m.every for m in rules.meetings.values()} == {"month", "quarter"}
    assert composition_warnings(rules, ["governing-board"]) == [
        "composition (3.1.a): 2 Governing Board representative seat(s), 1 configured "
        "(role 'governing-board')",
        "composition (3.1.b): 1 Expert Panel Co-Chair seat(s), 0 configured "
        "(role 'expert-panel-co-chair')",
        "composition (3.1.c): 1 IPs and LCs Engagement Forum member seat(s), 0 configured "
        "(role 'ipslc-engagement-forum')",
    ]


def test_a_broken_rules_file_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "body.toml"
    shipped = resolve_rules_path("ciwp-coordination-group").read_text()
    path.write_text(shipped.replace('email_round = "P10D"', 'email_round = "ten days"'))
    with pytest.raises(ConfigError, match=r"body.toml: consensus.email_round"):
        load_rules(path)
