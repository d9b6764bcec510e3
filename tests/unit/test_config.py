"""Configuration and rules validation: errors name the file and the key."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import (
    Settings,
    check_config_text,
    load_config,
    parse_config,
    secret_file_problems,
)
from bot.errors import ConfigError
from bot.render import languages
from bot.resources import data_dir
from bot.rules import composition_warnings, load_rules, resolve_rules_path, shipped_rules
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


def test_trusted_arc_sealers_are_domain_names_compared_as_written(tmp_path: Path) -> None:
    base = config_text(1, "u", "p", 1, tmp_path / "db")
    ok = parse_config(
        base + '[security]\ntrusted_arc_sealers = ["Microsoft.COM."]\n', tmp_path / "c"
    )
    assert ok.model.security.trusted_arc_sealers == ["microsoft.com"]
    bad = base + '[security]\ntrusted_arc_sealers = ["mx.microsoft.com 1"]\n'
    with pytest.raises(ConfigError, match=r"trusted_arc_sealers.*'mx.microsoft.com 1'"):
        parse_config(bad, tmp_path / "config.toml")


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


# --- check-config as strict as it says (issue 11, part 6) ---------------------------------------

CHLOE = "members[2] (Chloé Martin <chloe@members.example>)"


def _config(tmp_path: Path, change: Callable[[str], str] = lambda t: t) -> Path:
    """The tests' config, changed, written private (so no permission problem adds a line)."""
    path = tmp_path / "config.toml"
    path.write_text(change(config_text(1, "u", "p", 1, tmp_path / "cg.db")))
    path.chmod(0o600)
    return path


def _check_config(path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """The real command line, as the Secretariat runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "check-config", *flags],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _chloe(key_value: str) -> Callable[[str], str]:
    """Give the third member (Chloé Martin) one more key."""
    return lambda t: t.replace(
        'timezone = "Europe/Paris"', f'timezone = "Europe/Paris"\n{key_value}'
    )


def test_four_faults_are_four_errors_in_one_run(tmp_path: Path) -> None:
    # Acceptance: fixing one error must not uncover the next; each names its key and a member
    # by name and address, and the run exits non-zero.
    path = _config(
        tmp_path,
        lambda t: t.replace("port = 1\n", 'port = "993"\nidle = 0\n', 1).replace(
            'timezone = "Europe/Paris"', 'timezone = "Mars/Olympus"\nlanguage = "xx"'
        ),
    )
    out = _check_config(path)
    assert out.returncode != 0
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 4, out.stderr
    for expected in (
        'mailbox.port: expected a whole number, got the string "993" (write it without quotes)',
        "mailbox.idle: expected true or false, got the number 0",
        f"{CHLOE}.timezone: unknown time zone 'Mars/Olympus'",
        f"{CHLOE}.language: 'xx' is not a language cgbot writes (choices: "
        f"{', '.join(languages())})",
    ):
        assert any(expected in line for line in errors), (expected, out.stderr)
    assert f"{path}: 4 errors" in out.stderr
    assert "OK" not in out.stdout


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("port = 1\n", 'port = "993"\n', 1), "mailbox.port: expected a whole"),
        (lambda t: t.replace('folder = "INBOX"', 'folder = "INBOX"\nidle = "yes"'), "mailbox.idle"),
        (lambda t: t.replace('folder = "INBOX"', 'folder = "INBOX"\nidle = 0'), "mailbox.idle"),
        (lambda t: t.replace("timeout_seconds = 10", 'timeout_seconds = "10"'), "timeout_seconds"),
        (lambda t: t.replace('name = "CIWP Coordination Group"', "name = 7"), "group.name"),
    ],
)
def test_no_value_is_coerced_from_another_type(
    tmp_path: Path, change: Callable[[str], str], expected: str
) -> None:
    # TOML has real numbers and booleans: a quoted port or an integer for a switch is a slip that
    # must be refused, not quietly converted ("yes" would have been read as true).
    with pytest.raises(ConfigError, match=expected):
        parse_config(change(config_text(1, "u", "p", 1, tmp_path / "db")), tmp_path / "c.toml")


def test_a_whole_number_is_a_number_of_seconds(tmp_path: Path) -> None:
    # Strict is about types, not pedantry: `poll_seconds = 60` is a fine float, as the example has.
    text = config_text(1, "u", "p", 1, tmp_path / "db").replace(
        "poll_seconds = 30.0", "poll_seconds = 60"
    )
    assert parse_config(text, tmp_path / "c.toml").model.mailbox.poll_seconds == 60.0


def test_a_language_without_templates_is_refused_with_the_choices(tmp_path: Path) -> None:
    # A member given a language the bot does not write would silently get English.
    for unknown in ("de", "xx"):
        if unknown in languages():
            continue  # a translator has added it since this test was written
        checked = check_config_text(
            _chloe(f'language = "{unknown}"')(config_text(1, "u", "p", 1, tmp_path / "db")),
            tmp_path / "config.toml",
        )
        assert checked.errors == (
            f"{tmp_path / 'config.toml'}: {CHLOE}.language: {unknown!r} is not a language cgbot "
            f"writes (choices: {', '.join(languages())})",
        )


@pytest.mark.parametrize("language", languages())
def test_every_language_the_bot_writes_is_accepted(tmp_path: Path, language: str) -> None:
    # The choices the error lists are exactly those a member may be given.
    text = _chloe(f'language = "{language}"')(config_text(1, "u", "p", 1, tmp_path / "db"))
    assert parse_config(text, tmp_path / "c.toml").model.members[2].language == language


def test_a_misspelled_rules_name_lists_the_shipped_choices(tmp_path: Path) -> None:
    # The path the name would have meant lies inside the installed package: useless to a reader.
    path = _config(
        tmp_path,
        lambda t: t.replace(
            'rules = "ciwp-coordination-group"', 'rules = "ciwp-coordinaton-group"'
        ),
    )
    out = _check_config(path)
    assert out.returncode != 0
    assert (
        f"group.rules: 'ciwp-coordinaton-group' is not a shipped rules name "
        f"(choices: {', '.join(shipped_rules())}; or the path of your own .toml)"
    ) in out.stderr
    assert str(data_dir("rules")) not in out.stderr


def test_type_errors_and_cross_field_errors_come_in_one_run(tmp_path: Path) -> None:
    # The cross-field checks read the raw file, so a wrong type elsewhere does not hide them:
    # a role that is no seat, an address given twice, a series that is no meeting of the rules.
    text = (
        config_text(1, "u", "p", 1, tmp_path / "db")
        .replace("port = 1\n", 'port = "993"\n', 1)
        .replace('role = "expert-panel-co-chair"', 'role = "expert"')
        .replace('email = "daniel@members.example"', 'email = "Amina@members.example"')
        + '[meetings.weekly]\nrrule = "FREQ=WEEKLY"\ntime = "09:00"\n'
    )
    path = tmp_path / "config.toml"
    errors = check_config_text(text, path).errors
    seats = "governing-board, expert-panel-co-chair, ipslc-engagement-forum"
    assert set(errors) == {
        f'{path}: mailbox.port: expected a whole number, got the string "993" '
        "(write it without quotes)",
        f"{path}: members[2] (Chloé Martin <chloe@members.example>).role: 'expert' is not a "
        f"seat in the rules (choices: {seats})",
        f"{path}: members[3] (Daniel Tupa <Amina@members.example>).email: Amina@members.example "
        "is also given for members[0] (Amina Diallo <amina@members.example>)",
        f"{path}: meetings.weekly: not a meeting in the rules (choices: monthly, quarterly)",
    }
    with pytest.raises(ConfigError) as raised:
        parse_config(text, path)  # what `run` and every other command report: the same lines
    assert str(raised.value).splitlines() == list(errors)


def test_a_missing_seat_is_a_warning_and_strict_makes_it_fail(tmp_path: Path) -> None:
    # A group may work with a seat vacant (ToR 3.1), so it is no error; --strict is for the
    # installer who wants the composition complete before going live.
    path = _config(
        tmp_path, lambda t: t.replace('role = "expert-panel-co-chair"', 'role = "governing-board"')
    )
    relaxed = _check_config(path)
    assert relaxed.returncode == 0, relaxed.stderr
    assert "OK" in relaxed.stdout
    assert "warning: composition (3.1.b)" in relaxed.stderr
    strict = _check_config(path, "--strict")
    assert strict.returncode != 0
    assert "warning: composition (3.1.b)" in strict.stderr and "OK" not in strict.stdout


def test_a_valid_config_passes_strict(tmp_path: Path) -> None:
    # Every seat filled, every type right, the file private: nothing to warn about.
    out = _check_config(_config(tmp_path), "--strict")
    assert out.returncode == 0, out.stderr
    assert out.stderr == "" and "OK" in out.stdout


def test_a_readable_inline_password_is_an_error_with_the_others(tmp_path: Path) -> None:
    # `run` refuses a readable secret, so check-config must not call that config fine; it is
    # listed with the other errors, not after they are fixed.
    path = _config(tmp_path)
    path.chmod(0o644)
    out = _check_config(path)
    assert out.returncode != 0
    assert "error: config.toml holds an inline password (mailbox.password)" in out.stderr
    insecure = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(path),
            "--insecure-permissions",
            "check-config",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert insecure.returncode == 0 and "warning: config.toml holds" in insecure.stderr


def test_the_demo_config_is_private_and_its_hint_runs_without_a_warning(tmp_path: Path) -> None:
    # The demo ends with "try: cgbot --config .../config.toml status"; that must not greet the
    # reader with a warning about the demo's own (inline) password.
    from bot.demo.script import Demo

    Demo(tmp_path, echo=lambda _: None)
    config = tmp_path / "config.toml"
    assert config.stat().st_mode & 0o777 == 0o600
    out = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "status"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and out.stderr == "", out.stderr
