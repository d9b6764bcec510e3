"""The register (ToR 6.2.h): decision-relevant events, appended only, each row hash-chained.

A row's `hash` is the SHA-256 (hex) of the canonical JSON of all its other fields, `prev_hash`
included: keys sorted, no whitespace, UTF-8, `at` in ISO 8601 UTC. `prev_hash` is the previous
row's hash ("" for the first). A row edited after it was written no longer matches its hash; a
row removed breaks the link of the row after it. Anyone holding the export can recompute it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from bot.store.models import RegisterEntry

_STREAM = 500  # rows fetched at a time when reading the whole register
FIELDS = (
    "id",
    "at",
    "event",
    "item_id",
    "person_id",
    "detail",
    "message_sha256",
    "prev_hash",
    "hash",
)  # the export's columns, in this order


def canonical(fields: dict[str, Any]) -> bytes:
    """The one byte form hashed and exported: sorted keys, no whitespace, UTF-8. A value JSON
    has no form for is written as its text (an effect is never refused for its register entry)."""
    text = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return text.encode()


def entry_hash(fields: dict[str, Any]) -> str:
    """The hash of a row given as exported (every field but `hash`, `at` as ISO text)."""
    return hashlib.sha256(canonical({k: v for k, v in fields.items() if k != "hash"})).hexdigest()


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


_INSERT = insert(RegisterEntry)
_LAST = select(RegisterEntry.id, RegisterEntry.hash).order_by(col(RegisterEntry.id).desc()).limit(1)


def append(
    session: Session,
    event: str,
    *,
    at: datetime,
    item_id: int | None,
    person_id: int | None,
    detail: dict[str, Any],
    message_sha256: str,
) -> None:
    """Write the next row in the caller's transaction; one indexed read finds the last one.

    Two writers cannot fork the chain: both would claim the same id, and SQLite lets only one
    transaction write at a time."""
    last = session.exec(_LAST).first()
    last_id, prev_hash = last if last is not None else (0, "")
    assert last_id is not None
    at = at.astimezone(UTC)
    fields: dict[str, Any] = {
        "id": last_id + 1,
        "at": _iso(at),
        "event": event,
        "item_id": item_id,
        "person_id": person_id,
        # Kept as it reads back (tuples become lists, keys text): the hash still matches.
        "detail": json.loads(canonical(detail)),
        "message_sha256": message_sha256,
        "prev_hash": prev_hash,
    }
    # On the session's connection, after the read above flushed what the session held (the
    # item a row names may have been created in this transaction).
    session.connection().execute(_INSERT, {**fields, "at": at, "hash": entry_hash(fields)})


def rows(session: Session) -> Iterator[dict[str, Any]]:
    """Every row in id order, as exported and hashed, read a few hundred at a time (plain
    columns, so nothing piles up in the session however long the register grows)."""
    columns = [getattr(RegisterEntry, name) for name in FIELDS]
    query = select(*columns).order_by(col(RegisterEntry.id)).execution_options(yield_per=_STREAM)
    for values in session.exec(query):
        fields = dict(zip(FIELDS, values, strict=True))
        fields["at"] = _iso(fields["at"])
        yield fields


def verify(session: Session) -> int | None:
    """The id of the first row that does not match its hash or its predecessor's, or None."""
    prev_hash = ""
    for fields in rows(session):
        if fields["prev_hash"] != prev_hash or entry_hash(fields) != fields["hash"]:
            return int(fields["id"])
        prev_hash = fields["hash"]
    return None


def count(session: Session) -> int:
    """How many rows the register holds."""
    return int(session.exec(select(func.count()).select_from(RegisterEntry)).one())
