"""Secrets and data: passwords never shown, files private, backup and restore that work."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.demo import clients
from tests.conftest import BOT, MATRIX, MEMBERS, Bot
from tests.pg import Postgres
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"


def test_passwords_never_appear_in_output_logs_or_status(bot: Bot, smtp: SmtpSink) -> None:
    # The IMAP password of this test user, with the daemon's debug logs on.
    bot.open_ballot("Shortlist", "Agree?", "2026-12-11T17:00:00Z", NOW)
    outputs = [
        bot.run("-vv", "run", "--once", now=NOW),
        bot.run("status", "--json"),
        bot.run("check-config"),
        bot.run("review"),
    ]
    text = bot.config.read_text().replace(f'password = "{bot.password}"', 'password = "wrong!"')
    bot.config.write_text(text)
    outputs.append(bot.run("run", "--once", now=NOW, check=False))  # a refused login
    for out in outputs:
        assert bot.password not in out.stdout + out.stderr
    assert "refused" in outputs[-1].stderr and outputs[-1].returncode != 0


def test_database_is_private_and_a_readable_config_with_a_password_is_refused(bot: Bot) -> None:
    # Issue 8 turned the earlier warning into a refusal that names the chmod to run; the
    # override runs with the warning the first trust issue asked for.
    bot.config.chmod(0o644)
    for command in ("check-config", "status"):
        out = bot.run(command, check=False)
        assert out.returncode != 0 and "readable by others" in out.stderr
        assert f"chmod 600 {bot.config}" in out.stderr
    out = bot.run("--insecure-permissions", "check-config")
    assert "readable by others" in out.stderr
    MATRIX.setdefault("secrets on disk (issue 8)", []).append(
        "config with an inline password at 0644: check-config and status refuse, naming the "
        "chmod; --insecure-permissions runs with a warning"
    )
    bot.run("--insecure-permissions", "status")  # creates the database
    if not bot.on_postgres:  # (a PostgreSQL database is no file of ours)
        files = list(bot.folder.glob("cg.db*"))
        assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files), files


def test_backup_and_restore(bot: Bot, smtp: SmtpSink) -> None:
    # A backup taken while things happen restores the record as it was at that moment.
    bot.open_and_send(smtp, NOW)
    name, email = MEMBERS[0][0], MEMBERS[0][1]
    original = clients.Original(smtp.to(email)[0].raw)
    bot.append(clients.gmail(original, name, email, BOT, datetime.now(UTC), "Agree"))
    bot.run("run", "--once", now="2026-12-02T09:00:00Z")
    backup = bot.folder / "backup.db"
    assert "backed up" in bot.run("backup", str(backup)).stdout
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert bot.run("backup", str(backup), check=False).returncode != 0  # never overwrites

    bot.append(clients.gmail(original, name, email, BOT, datetime.now(UTC), "Object: changed"))
    bot.run("run", "--once", now="2026-12-03T09:00:00Z")
    assert bot.status()["items"][0]["responses"][email]["position"] == "object"

    assert bot.run("restore", str(backup), check=False).returncode != 0  # needs --yes
    bot.run("restore", str(backup), "--yes")
    restored = bot.status()
    assert restored["items"][0]["responses"][email]["position"] == "agree"
    assert restored["items"][0]["history"] == 1


def _backup_in_process(bot: Bot, target: Path, url: str = "") -> None:
    """A backup taken as the command takes it, but of whatever the database holds now (the
    command itself would not open a database at a revision it does not know)."""
    from sqlalchemy.engine import make_url

    from bot.store.backup import backup, backup_postgres
    from bot.store.db import normalise_url

    url = url or bot.db_url
    if url.startswith("postgresql"):
        backup_postgres(make_url(normalise_url(url)), target)
    else:
        backup(bot.folder / "cg.db", target)


def _refused(bot: Bot, source: Path) -> str:
    out = bot.run("restore", str(source), "--yes", check=False)
    assert out.returncode != 0, out.stdout
    return out.stderr


def test_restore_refuses_a_backup_of_a_newer_release_or_of_another_database(
    bot: Bot, smtp: SmtpSink, request: pytest.FixtureRequest
) -> None:
    # The database stays as it was after each refusal: the ballot opened after the backups.
    bot.run("status")
    head = bot.sql("SELECT version_num FROM alembic_version")[0][0]
    newer = bot.folder / "newer.backup"
    bot.sql("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    try:
        _backup_in_process(bot, newer)
    finally:
        bot.sql(f"UPDATE alembic_version SET version_num = '{head}'")
    if bot.on_postgres:
        server: Postgres = request.getfixturevalue("postgres")
        foreign = bot.folder / "foreign.backup"
        _backup_in_process(bot, foreign, server.new_database())  # no cgbot table in it
    else:
        foreign = bot.folder / "foreign.db"
        with sqlite3.connect(foreign) as other:
            other.execute("CREATE TABLE notes (body TEXT)")
    garbage = bot.folder / "garbage.backup"
    garbage.write_bytes(b"not a backup at all\n" * 100)
    bot.open_ballot("Shortlist", "Agree?", "2026-12-11T17:00:00Z", NOW)

    assert "9999_from_the_future" in _refused(bot, newer)
    assert "a newer release made it" in _refused(bot, newer)
    assert "is not a cgbot database (no table inbound, item, outbox)" in _refused(bot, foreign)
    unreadable = "pg_dump custom-format archive" if bot.on_postgres else "readable SQLite database"
    assert f"{garbage} is not a {unreadable}" in _refused(bot, garbage)  # naming the file
    assert [item["title"] for item in bot.status()["items"]] == ["Shortlist"]
    assert bot.sql("SELECT version_num FROM alembic_version") == [(head,)]
