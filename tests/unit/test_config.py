"""Configuration and rules validation: errors name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_config, parse_config, secret_file_problems
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


def _written(tmp_path: Path, text: str, mode: int) -> Settings:
    """Load a config as the bot does, from a file on disk with the given mode."""
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return load_config(path)


def test_a_readable_config_with_an_inline_password_is_one_problem(tmp_path: Path) -> None:
    # The common slip: config.toml left at the umask's 0644 with the IMAP password inside.
    settings = _written(tmp_path, config_text(1, "u", "p", 1, tmp_path / "db"), 0o644)
    assert secret_file_problems(settings) == [
        "config.toml holds an inline password (mailbox.password) and is readable by others "
        f"(mode 0644): run chmod 600 {tmp_path / 'config.toml'}"
    ]


def test_a_private_config_with_an_inline_password_is_no_problem(tmp_path: Path) -> None:
    # chmod 600 is the documented fix, so it must clear the problem.
    settings = _written(tmp_path, config_text(1, "u", "p", 1, tmp_path / "db"), 0o600)
    assert secret_file_problems(settings) == []


def test_a_group_readable_password_file_is_a_problem(tmp_path: Path) -> None:
    # A private config does not help when the password it points at is readable by the group.
    (tmp_path / "smtp.pw").write_text("from-file\n")
    (tmp_path / "smtp.pw").chmod(0o640)
    text = config_text(1, "u", "p", 1, tmp_path / "db").replace(
        'security = "none"\nfrom_address',
        'security = "none"\npassword_file = "smtp.pw"\nfrom_address',
    )
    settings = _written(tmp_path, text, 0o600)
    assert secret_file_problems(settings) == [
        "smtp.pw (smtp.password_file) is readable by its group (mode 0640): "
        f"run chmod 600 {tmp_path / 'smtp.pw'}"
    ]


def test_a_readable_secret_file_is_a_problem(tmp_path: Path) -> None:
    # The token secret lets anyone forge a member's reply key, so its file counts like a password.
    (tmp_path / "token.key").write_text("s3cret\n")
    (tmp_path / "token.key").chmod(0o644)
    text = config_text(1, "u", "p", 1, tmp_path / "db") + '[security]\nsecret_file = "token.key"\n'
    problems = secret_file_problems(_written(tmp_path, text, 0o600))
    assert len(problems) == 1 and problems[0].startswith("token.key (security.secret_file) ")


def test_an_inline_token_secret_is_named_with_the_password(tmp_path: Path) -> None:
    # [security] secret = ... is a secret in the config file just like a password.
    text = config_text(1, "u", "p", 1, tmp_path / "db", secret="s3cret")
    problems = secret_file_problems(_written(tmp_path, text, 0o604))
    assert problems == [
        "config.toml holds inline secrets (mailbox.password, security.secret) and is readable "
        f"by others (mode 0604): run chmod 600 {tmp_path / 'config.toml'}"
    ]


def test_a_password_from_the_environment_leaves_no_secret_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # password_env is the way to keep a world-readable config: nothing secret is in the file.
    monkeypatch.setenv("CG_IMAP_PW", "from-env")
    text = config_text(1, "u", "p", 1, tmp_path / "db").replace(
        'password = "p"', 'password_env = "CG_IMAP_PW"'
    )
    assert secret_file_problems(_written(tmp_path, text, 0o644)) == []


def test_a_config_without_secrets_may_be_readable(tmp_path: Path) -> None:
    # Only secrets make a mode a problem; a config without any is fine at 0644.
    text = config_text(1, "u", "p", 1, tmp_path / "db").replace('password = "p"\n', "")
    assert secret_file_problems(_written(tmp_path, text, 0o644)) == []
