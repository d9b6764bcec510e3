"""The record for others (ToR 6.2.b, 6.2.e, 6.2.h): the register and the message archive index
written as CSV and JSON, and the register's chain checked.

The register's files hold its rows exactly as hashed (store/register.py), so that whoever
receives them can recompute the chain without the database."""

from __future__ import annotations

import contextlib
import csv
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine

from bot.store import register, repo
from bot.store.db import session

FILES = ("register.csv", "register.json", "archive.csv", "archive.json")


@dataclass(frozen=True)
class RegisterCheck:
    entries: int
    first_bad: int | None  # the id of the first row that does not match; None: the chain holds


def check_register(engine: Engine) -> RegisterCheck:
    """Recompute the register's chain, in one read transaction."""
    with session(engine) as s:
        return RegisterCheck(register.count(s), register.verify(s))


def export(engine: Engine, out: Path, force: bool = False) -> list[Path]:
    """Write the four files into `out` (created if needed), all from one consistent reading of
    the database; returns their paths. Existing files are kept unless `force`."""
    paths = [out / name for name in FILES]
    found = [p.name for p in paths if p.exists()]
    if found and not force:
        raise FileExistsError(f"{out} already holds {', '.join(found)}: --force replaces them")
    out.mkdir(parents=True, exist_ok=True)
    with session(engine) as s:  # one read transaction: the register and archive agree
        _write_pair(paths[0], paths[1], register.FIELDS, register.rows(s))
        _write_pair(paths[2], paths[3], repo.ARCHIVE_FIELDS, repo.archive_index(s))
    return paths


def _write_pair(
    csv_path: Path, json_path: Path, fields: tuple[str, ...], lines: Iterable[dict[str, Any]]
) -> None:
    """Write the same lines as CSV and as a JSON array, in one pass, each file replaced whole
    only once it is complete (a failed export leaves no half-written file)."""
    with _replaced(csv_path) as csv_file, _replaced(json_path) as json_file:
        writer = csv.DictWriter(csv_file, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        json_file.write("[")
        for n, line in enumerate(lines):
            writer.writerow({k: _cell(line[k]) for k in fields})
            json_file.write(("," if n else "") + "\n" + json.dumps(line, ensure_ascii=False))
        json_file.write("\n]\n")


def _cell(value: Any) -> Any:
    """A CSV cell: a dict (the register's detail) as its canonical JSON, None as empty."""
    if isinstance(value, dict):
        return register.canonical(value).decode()
    return "" if value is None else value


@contextlib.contextmanager
def _replaced(path: Path) -> Iterator[IO[str]]:
    """A new private file at `path`'s side that takes its place when written in full."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as f:
            yield f
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
