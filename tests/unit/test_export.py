"""`cgbot export --out DIR` (issue 10 item 5, ToR 6.2.b, 6.2.e): the register and the message
archive index as CSV and JSON, every row once, never over files already there."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from bot.app import App
from bot.store import register
from bot.store.db import session
from bot.store.models import Inbound, Outbox
from tests.conftest import config_text
from tests.unit.test_register import SECRET, cgbot, escalated_and_determined

FILES = ["register.csv", "register.json", "archive.csv", "archive.json"]


@dataclass
class Installation:
    """A database holding a whole ballot, its config file (0600), the replies' hashes, and how
    many register rows and messages in and out it holds."""

    app: App
    config: Path
    shas: dict[str, str]
    entries: int
    mails: dict[str, int]


def installation(folder: Path) -> Installation:
    app, shas = escalated_and_determined(folder)
    config = folder / "config.toml"
    config.write_text(config_text(1, "u", "p", 1, folder / "cg.db", secret=SECRET))
    config.chmod(0o600)
    with session(app.engine) as s:
        entries = register.count(s)
        mails = {
            "in": len(s.exec(select(Inbound.id)).all()),
            "out": len(s.exec(select(Outbox.id)).all()),
        }
    return Installation(app, config, shas, entries, mails)


def test_export_writes_the_register_and_the_archive_index_as_csv_and_json(
    tmp_path: Path,
) -> None:
    # Acceptance: the four files, one line per register row and per message in and out, the
    # paths printed; the register's JSON is enough to recompute its chain without cgbot.
    it = installation(tmp_path)
    out = tmp_path / "record" / "2026"
    done = cgbot(it.config, "export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(out / name) for name in FILES]
    with open(out / "register.csv", newline="", encoding="utf-8") as f:
        register_csv = list(csv.DictReader(f))
    register_json = json.loads((out / "register.json").read_text(encoding="utf-8"))
    assert len(register_csv) == len(register_json) == it.entries
    assert [r["event"] for r in register_csv] == [r["event"] for r in register_json]
    assert json.loads(register_csv[1]["detail"]) == register_json[1]["detail"]
    prev = ""
    for row in register_json:  # what a reader of the export can check on their own
        assert row["prev_hash"] == prev and register.entry_hash(row) == row["hash"]
        prev = row["hash"]
    with open(out / "archive.csv", newline="", encoding="utf-8") as f:
        archive_csv = list(csv.DictReader(f))
    archive_json = json.loads((out / "archive.json").read_text(encoding="utf-8"))
    assert len(archive_csv) == len(archive_json) == it.mails["in"] + it.mails["out"]
    directions = [line["direction"] for line in archive_json]
    assert (directions.count("in"), directions.count("out")) == (it.mails["in"], it.mails["out"])
    received = {line["sha256"]: line for line in archive_json if line["direction"] == "in"}
    assert set(it.shas.values()) <= set(received)
    assert {received[sha]["state"] for sha in it.shas.values()} == {"processed"}
    assert [line["at"] for line in archive_json] == sorted(line["at"] for line in archive_json)
    with session(it.app.engine) as s:
        first = s.exec(select(Outbox).where(Outbox.id == 1)).one()
    line = next(x for x in archive_json if x["direction"] == "out" and x["id"] == 1)
    assert line["sha256"] == hashlib.sha256(first.raw).hexdigest()
    assert line["purpose"] == first.purpose and line["message_id"] == first.message_id


def test_export_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    # An earlier export is part of the record: it is replaced only when asked (exit 2 otherwise).
    config = installation(tmp_path).config
    out = tmp_path / "record"
    assert cgbot(config, "export", "--out", str(out)).returncode == 0
    (out / "archive.json").write_text("kept")
    again = cgbot(config, "export", "--out", str(out))
    assert again.returncode == 2
    assert "archive.json" in again.stderr and "--force" in again.stderr
    assert (out / "archive.json").read_text() == "kept"
    forced = cgbot(config, "export", "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads((out / "archive.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)  # no partial file left
