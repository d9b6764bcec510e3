"""Reads and writes on the tables, one small function per question the shell asks.

The reads a message costs are bounded: people (the group's size), one item, its standing
responses (one row per person) and a thread root; none grows with history or the archive."""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Row, bindparam, case, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.domain.types import (
    Directory,
    FileView,
    ItemView,
    PersonKind,
    PersonView,
    ResponseStatus,
    ResponseView,
    SentView,
)
from bot.inbound.address import normalise
from bot.store.models import (
    Blob,
    Checkpoint,
    Deadline,
    Inbound,
    InboundState,
    Item,
    Meta,
    Outbox,
    Person,
    Response,
    ResponseFile,
    Standing,
)


def sync_people(session: Session, settings: Settings) -> None:
    """Make the person table match the configuration (config is the source of truth)."""
    cfg = settings.model
    wanted: dict[str, dict[str, str]] = {}
    for m in cfg.members:
        wanted[m.email.lower()] = {
            "name": m.name,
            "kind": PersonKind.MEMBER,
            "role": m.role,
            "timezone": m.timezone,
            "language": m.language,
            "salutation": m.salutation,
        }
    wanted[cfg.chair.email.lower()] = {
        "name": cfg.chair.name,
        "kind": PersonKind.CHAIR,
        "role": "board-chair",
        "timezone": cfg.chair.timezone,
        "language": cfg.chair.language,
        "salutation": cfg.chair.salutation,
    }
    for addr in cfg.group.secretariat:
        wanted.setdefault(
            addr.lower(),
            {
                "name": "Executive Secretariat",
                "kind": PersonKind.SECRETARIAT,
                "timezone": cfg.group.timezone,
                "language": cfg.group.secretariat_language,
                "salutation": "",
            },
        )
    for f in cfg.facilitators:
        wanted.setdefault(
            f.email.lower(),
            {
                "name": f.name,
                "kind": PersonKind.FACILITATOR,
                "timezone": f.timezone,
                "language": f.language,
                "salutation": f.salutation,
            },
        )
    wanted = {normalise(email): fields for email, fields in wanted.items()}
    existing = {p.email: p for p in session.exec(select(Person))}
    for email, fields in wanted.items():
        person = existing.get(email) or Person(
            email=email, name=fields["name"], kind=fields["kind"]
        )
        for key, value in fields.items():
            setattr(person, key, str(value))
        person.active = True
        session.add(person)
    for email, person in existing.items():
        if email not in wanted:
            person.active = False
            session.add(person)


# -- views: rows become plain domain values ---------------------------------------------------


def person_view(p: Person) -> PersonView:
    assert p.id is not None
    return PersonView(
        p.id,
        p.email,
        p.name,
        p.kind,
        p.role,
        p.timezone,
        p.language,
        p.failing_since is not None,
        p.salutation,
    )


def item_view(i: Item) -> ItemView:
    assert i.id is not None
    return ItemView(
        i.id, i.kind, i.title, i.body, i.state, i.created_at, i.deadline, dict(i.data), i.opened_by
    )


def response_view(r: Response | Row[*tuple[Any, ...]]) -> ResponseView:
    """A reply's reading, from its ORM row or from a row of its columns (`_RESPONSES`)."""
    return ResponseView(r.person_id, r.position, r.text, r.message_id, r.received_at, r.status)


def directory(session: Session, aliases: dict[str, str]) -> Directory:
    """The active people, for one message or one deadline run."""
    rows = session.exec(select(Person).where(col(Person.active).is_(True)).order_by(col(Person.id)))
    return Directory(tuple(person_view(p) for p in rows), aliases)


def all_people(session: Session) -> dict[int, PersonView]:
    return {p.id: person_view(p) for p in session.exec(select(Person)) if p.id is not None}


def item(session: Session, item_id: int) -> ItemView | None:
    row = session.get(Item, item_id)
    return item_view(row) if row else None


def item_by_key(session: Session, key: str) -> ItemView | None:
    row = session.exec(select(Item).where(Item.key == key)).first()
    return item_view(row) if row else None


def items(session: Session, kind: str | None = None) -> list[ItemView]:
    query = select(Item).order_by(col(Item.id))
    if kind is not None:
        query = query.where(Item.kind == kind)
    return [item_view(i) for i in session.exec(query)]


def standing(session: Session, item_id: int) -> dict[int, ResponseView]:
    """Each person's standing response: latest counted, else latest (one row per person)."""
    return standing_and_streaks(session, item_id)[0]


# The statements read or written for every message are built once, with bound parameters:
# building a statement and its cache key costs several times what SQLite takes to run it.
# A reply's standing is read and moved as plain columns: the ORM's load, identity map and unit
# of work cost more than the two indexed statements themselves.
_STANDING = select(
    Standing.person_id, Standing.latest_id, Standing.counted_id, Standing.unclear_in_a_row
).where(Standing.item_id == bindparam("item_id"))
_RESPONSES = sa_select(  # (sqlmodel's select is typed for up to four columns)
    col(Response.id),
    col(Response.person_id),
    col(Response.position),
    col(Response.text),
    col(Response.message_id),
    col(Response.received_at),
    col(Response.status),
).where(col(Response.id).in_(bindparam("ids", expanding=True)))
_MOVE_STANDING = (
    update(Standing)
    .where(col(Standing.item_id) == bindparam("of_item"))
    .where(col(Standing.person_id) == bindparam("of_person"))
    .values(
        latest_id=bindparam("response_id"),
        counted_id=case(
            (bindparam("counted", type_=Boolean), bindparam("response_id")),
            else_=Standing.counted_id,
        ),
        unclear_in_a_row=case(
            (bindparam("unclear", type_=Boolean), Standing.unclear_in_a_row + 1), else_=0
        ),
    )
)
_FIRST_STANDING = insert(Standing)
_PURPOSE = select(Outbox.purpose).where(Outbox.message_id == bindparam("message_id")).limit(1)
_TWINS = (
    select(Inbound.message_id, func.min(Inbound.id))
    .where(
        col(Inbound.message_id).in_(bindparam("message_ids", expanding=True)),
        Inbound.state != InboundState.NEW,
    )
    .group_by(col(Inbound.message_id))
)
_SETTLE = (
    update(Inbound)
    .where(col(Inbound.id) == bindparam("inbound_id"))
    .values(
        state=bindparam("state"),
        reason=bindparam("reason"),
        detail=bindparam("detail"),
        processed_at=bindparam("now"),
        item_id=bindparam("item_id"),
        person_id=bindparam("person_id"),
    )
)


def standing_and_streaks(
    session: Session, item_id: int
) -> tuple[dict[int, ResponseView], dict[int, int], dict[int, ResponseView]]:
    """Per person: the standing response, unclear replies in a row, and the latest reply of
    any status (two queries, one row per person each)."""
    rows = list(session.exec(_STANDING, params={"item_id": item_id}))
    ids = {latest for _, latest, _, _ in rows} | {counted for _, _, counted, _ in rows if counted}
    found: dict[int, ResponseView] = {}
    if ids:  # on the connection: replies are written as plain statements, none waits in the
        # session to be flushed first
        replies = session.connection().execute(_RESPONSES, {"ids": list(ids)})
        found = {r.id: response_view(r) for r in replies}
    standing = {person: found[counted or latest] for person, latest, counted, _ in rows}
    latest_of = {person: found[latest] for person, latest, _, _ in rows}
    return standing, {person: unclear for person, _, _, unclear in rows}, latest_of


def opened_by_in_state(session: Session, kind: str, state: str, key: str) -> set[int]:
    """The `data[key]` person ids of the items of one kind in one state (a few rows)."""
    rows = session.exec(select(Item.data).where(Item.kind == kind, Item.state == state))
    return {int(data[key]) for data in rows if key in data}


def purpose_of(session: Session, message_id: str) -> str:
    """What the bot's mail with this Message-ID was for ("ballot", "readback", ...)."""
    if not message_id:
        return ""
    found = session.exec(_PURPOSE, params={"message_id": message_id}).first()
    return found or ""


def told_held(session: Session, person_id: int, item_id: int | None, now: datetime) -> bool:
    """Whether this person was already told a mail of theirs was held: about this item, or
    (for mail about no item) in the last day."""
    query = select(Outbox.id).where(Outbox.person_id == person_id, Outbox.purpose == "held")
    if item_id is None:
        query = query.where(
            col(Outbox.item_id).is_(None), Outbox.created_at >= now - timedelta(days=1)
        )
    else:
        query = query.where(Outbox.item_id == item_id)
    return session.exec(query.limit(1)).first() is not None


def history(session: Session, item_id: int) -> list[ResponseView]:
    """Every reply to the item, oldest first, with the files that came with each (for
    timelines and compilations, at deadlines and in status only)."""
    rows = session.exec(
        select(Response).where(Response.item_id == item_id).order_by(col(Response.id))
    )
    files: dict[int, list[FileView]] = {}
    for f in session.exec(
        select(ResponseFile).where(ResponseFile.item_id == item_id).order_by(col(ResponseFile.id))
    ):
        files.setdefault(f.response_id, []).append(FileView(f.name, f.sha256, f.size))
    return [replace(response_view(r), files=tuple(files.get(r.id or 0, ()))) for r in rows]


def keep_file(
    session: Session, response_id: int, item_id: int, name: str, content_type: str, content: bytes
) -> FileView:
    """Keep a reply's file once by its SHA-256 (the same file twice is stored once)."""
    digest = sha256(content)
    if session.get(Blob, digest) is None:
        session.add(Blob(sha256=digest, size=len(content), content=content))
    session.add(
        ResponseFile(
            response_id=response_id,
            item_id=item_id,
            name=name,
            content_type=content_type,
            sha256=digest,
            size=len(content),
        )
    )
    return FileView(name, digest, len(content))


def reply_files(
    session: Session, item_id: int, response_id: int | None = None
) -> list[tuple[int, str, str, bytes]]:
    """(person id, file name, content type, bytes) of the replies' files, in order."""
    query = (
        select(Response.person_id, ResponseFile.name, ResponseFile.content_type, Blob.content)
        .join(Response, col(Response.id) == ResponseFile.response_id)
        .join(Blob, col(Blob.sha256) == ResponseFile.sha256)
        .where(ResponseFile.item_id == item_id)
        .order_by(col(ResponseFile.id))
    )
    if response_id:
        query = query.where(ResponseFile.response_id == response_id)
    return [(p, n, t, c) for p, n, t, c in session.exec(query)]


def history_size(session: Session, item_id: int) -> int:
    query = select(func.count()).select_from(Response).where(Response.item_id == item_id)
    return int(session.exec(query).one())


def sent_views(session: Session, item_id: int) -> list[SentView]:
    rows = session.exec(select(Outbox).where(Outbox.item_id == item_id).order_by(col(Outbox.id)))
    return [SentView(o.created_at, o.purpose, tuple(o.recipients)) for o in rows]


# -- writes that effects cause ----------------------------------------------------------------


def create_item(
    session: Session,
    kind: str,
    state: str,
    title: str,
    body: str,
    deadline: datetime | None,
    opened_by: str,
    data: dict[str, Any],
    now: datetime,
    key: str | None = None,
) -> ItemView:
    row = Item(
        kind=kind,
        title=title,
        body=body,
        state=state,
        created_at=now,
        deadline=deadline,
        opened_by=opened_by,
        data=data,
        key=key,
    )
    session.add(row)
    session.flush()
    return item_view(row)


def record_response(
    session: Session,
    *,
    item_id: int,
    person_id: int,
    inbound_id: int | None,
    position: str | None,
    text: str,
    message_id: str,
    received_at: datetime,
    status: str,
    note: str,
) -> int:
    """Add one reply's reading and move the person's standing to it; returns its id.

    Prepared statements on the session's connection, run for every reply without an ORM object
    to build and flush: the reply's INSERT, then the standing's UPDATE (an INSERT for the
    person's first reply to the item); after what the session holds is flushed (the item may
    be new)."""
    session.flush()
    conn = session.connection()
    added = conn.execute(
        _RECORD,
        {
            "item_id": item_id,
            "person_id": person_id,
            "inbound_id": inbound_id,
            "position": position,
            "text": text,
            "message_id": message_id,
            "received_at": received_at,
            "status": status,
            "note": note,
        },
    )
    key_of = added.inserted_primary_key
    assert key_of is not None
    response_id = int(key_of[0])
    counted = status == ResponseStatus.COUNTED
    unclear = status == ResponseStatus.REVIEW and position is None
    moved = conn.execute(
        _MOVE_STANDING,
        {
            "of_item": item_id,
            "of_person": person_id,
            "response_id": response_id,
            "counted": counted,
            "unclear": unclear,
        },
    )
    if moved.rowcount == 0:  # their first reply to the item
        conn.execute(
            _FIRST_STANDING,
            {
                "item_id": item_id,
                "person_id": person_id,
                "latest_id": response_id,
                "counted_id": response_id if counted else None,
                "unclear_in_a_row": 1 if unclear else 0,
            },
        )
    return response_id


def set_item_state(
    session: Session,
    item_id: int,
    state: str,
    data: dict[str, Any],
    deadline: datetime | None = None,
) -> None:
    row = session.get(Item, item_id)
    assert row is not None, f"item {item_id} vanished"
    row.state = state
    if deadline is not None:
        row.deadline = deadline
    if data:
        row.data = {**row.data, **data}
    session.add(row)


def schedule(
    session: Session, item_id: int | None, workflow: str, kind: str, due_at: datetime
) -> None:
    """Add a deadline unless the same one is already there."""
    exists = session.exec(
        select(Deadline.id).where(
            Deadline.item_id == item_id,
            Deadline.workflow == workflow,
            Deadline.kind == kind,
            Deadline.due_at == due_at,
        )
    ).first()
    if exists is None:
        session.add(Deadline(item_id=item_id, workflow=workflow, kind=kind, due_at=due_at))


def drop_pending(
    session: Session, item_id: int, workflow: str, kind: str, keep: datetime, now: datetime
) -> None:
    """Mark an item's pending runs of one kind done, but the one at `keep` (a new deadline
    replaces the old one's close and reminders)."""
    rows = session.exec(
        select(Deadline).where(
            Deadline.item_id == item_id,
            Deadline.workflow == workflow,
            Deadline.kind == kind,
            col(Deadline.done_at).is_(None),
            Deadline.due_at != keep,
        )
    )
    for row in rows:
        row.done_at = now
        session.add(row)


def pending_job(session: Session, workflow: str, job: str) -> Deadline | None:
    """The next run of a kind's recurring job that has not run yet."""
    return session.exec(
        select(Deadline).where(
            col(Deadline.item_id).is_(None),
            Deadline.workflow == workflow,
            Deadline.kind == job,
            col(Deadline.done_at).is_(None),
        )
    ).first()


def set_failing(session: Session, person_id: int, failing: bool, now: datetime) -> None:
    person = session.get(Person, person_id)
    assert person is not None, f"person {person_id} vanished"
    person.failing_since = (person.failing_since or now) if failing else None
    session.add(person)


# -- the archive ------------------------------------------------------------------------------


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Arriving:
    """A fetched message to store: its bytes and where and when it was read."""

    raw: bytes
    message_id: str
    source: str
    uidvalidity: int | None
    uid: int | None
    arrived_at: datetime | None = None


_RECORD = insert(Response)
_ARCHIVE = insert(Inbound)  # a batch's new messages, one executemany


@dataclass(frozen=True)
class Stored:
    """An archived message's identity and state, without its bytes."""

    id: int
    message_id: str
    sha256: str
    state: str


def archive_all(session: Session, batch: Sequence[Arriving], now: datetime) -> list[Stored]:
    """Store each raw message once, in one write for the batch: the same bytes again (in the
    batch or the archive) are the existing row. Another copy of a Message-ID is stored too;
    applying it finds its handled twin (`handled_twins`).

    One read finds the bytes already stored; the new rows go in as one executemany INSERT (the
    model's column defaults fill the rest: state `new`), and a second read gives their ids by
    their digests, which are unique."""
    digests = [sha256(m.raw) for m in batch]
    known = _stored(session, digests)
    new: dict[str, Arriving] = {}
    for m, digest in zip(batch, digests, strict=True):
        if digest not in known:
            new.setdefault(digest, m)
    if new:
        rows = [
            {
                "sha256": digest,
                "message_id": m.message_id,
                "source": m.source,
                "uidvalidity": m.uidvalidity,
                "uid": m.uid,
                "fetched_at": now,
                "arrived_at": m.arrived_at,
                "size": len(m.raw),
                "raw": m.raw,
            }
            for digest, m in new.items()
        ]
        session.flush()  # the caller's session writes first, in its order
        session.connection().execute(_ARCHIVE, rows)
        known.update(_stored(session, list(new)))
    return [known[digest] for digest in digests]


@dataclass(frozen=True)
class Stranded:
    """An archived message still `new`: what applying it from the archive needs."""

    stored: Stored
    raw: bytes
    source: str
    arrived_at: datetime | None


def stranded(session: Session) -> list[tuple[int, int]]:
    """The id and size of each archived message still `new`, oldest first (by the index on
    the state: none is the usual answer)."""
    found = session.exec(
        select(Inbound.id, Inbound.size)
        .where(Inbound.state == InboundState.NEW)
        .order_by(col(Inbound.id))
    )
    return [(int(row_id or 0), size) for row_id, size in found]


def stranded_rows(session: Session, inbound_ids: list[int]) -> list[Stranded]:
    """Archived messages with their bytes, by id, oldest first."""
    found = session.connection().execute(
        sa_select(
            col(Inbound.id),
            col(Inbound.message_id),
            col(Inbound.sha256),
            col(Inbound.state),
            col(Inbound.raw),
            col(Inbound.source),
            col(Inbound.arrived_at),
        )
        .where(col(Inbound.id).in_(inbound_ids))
        .order_by(col(Inbound.id))
    )
    return [
        Stranded(Stored(int(row_id or 0), message_id, digest, state), raw, source, arrived)
        for row_id, message_id, digest, state, raw, source, arrived in found
    ]


def _stored(session: Session, digests: list[str]) -> dict[str, Stored]:
    found = session.exec(
        select(Inbound.id, Inbound.message_id, Inbound.sha256, Inbound.state).where(
            col(Inbound.sha256).in_(set(digests))
        )
    )
    return {
        digest: Stored(int(row_id or 0), message_id, digest, state)
        for row_id, message_id, digest, state in found
    }


def handled_twins(session: Session, message_ids: Collection[str]) -> dict[str, int]:
    """For each Message-ID, the first archived message with it that was already handled (a
    copy of it still to apply is a repeat), in one query for a batch."""
    ids = [m for m in message_ids if m]
    if not ids:
        return {}
    rows = session.exec(_TWINS, params={"message_ids": ids})
    return {message_id: int(first) for message_id, first in rows if first is not None}


def mark_duplicate(session: Session, inbound_id: int, twin: int, now: datetime) -> None:
    settle_inbound(
        session, inbound_id, InboundState.DUPLICATE, now, "duplicate",
        f"same Message-ID as archived message #{twin}",
    )  # fmt: skip


def inbound_states(session: Session, inbound_ids: list[int]) -> dict[int, str]:
    """The archive state of each message, in one query (a batch's)."""
    if not inbound_ids:
        return {}
    rows = session.exec(
        select(Inbound.id, Inbound.state).where(col(Inbound.id).in_(inbound_ids))
    ).all()
    return {int(row_id): str(state) for row_id, state in rows if row_id is not None}


def raw_of(session: Session, inbound_id: int) -> bytes:
    row = session.get(Inbound, inbound_id)
    assert row is not None, f"archived message #{inbound_id} vanished"
    return row.raw


def settle_inbound(
    session: Session,
    inbound_id: int,
    state: str,
    now: datetime,
    reason: str = "",
    detail: str = "",
    item_id: int | None = None,
    person_id: int | None = None,
) -> None:
    """One UPDATE by key, on the session's connection: the row (and its raw bytes) is not
    read to change its state, and the session's objects are not searched for it (no code
    reads an Inbound object's state after settling it; a batch's session holds many)."""
    done = session.connection().execute(
        _SETTLE,
        {
            "inbound_id": inbound_id,
            "state": state,
            "reason": reason,
            "detail": detail,
            "now": now,
            "item_id": item_id,
            "person_id": person_id,
        },
    )
    assert done.rowcount == 1, f"archived message #{inbound_id} vanished"


def secretariat_mail(session: Session, item_id: int) -> list[bytes]:
    """The Secretariat's mails about an item, oldest first (their attachments are papers)."""
    rows = session.exec(
        select(Inbound.raw)
        .join(Person, col(Person.id) == Inbound.person_id)
        .where(
            Inbound.item_id == item_id,
            Inbound.state == InboundState.PROCESSED,
            Person.kind == PersonKind.SECRETARIAT,
        )
        .order_by(col(Inbound.id))
    )
    return list(rows)


ARCHIVE_FIELDS = (
    "at",
    "direction",
    "id",
    "sha256",
    "message_id",
    "state",
    "item_id",
    "purpose",
    "reason",
)  # one line of the archive index, in this order


def archive_index(session: Session, batch: int = 200) -> Iterator[dict[str, Any]]:
    """Every message in (archived) and out (outbox) as one line each, the two merged by time,
    for the export: read `batch` rows at a time, in flat memory however large the archive."""
    # More columns than sqlmodel's typed select() takes: they are passed as a list.
    received_columns: list[Any] = [
        Inbound.id,
        Inbound.arrived_at,
        Inbound.fetched_at,
        Inbound.sha256,
        Inbound.message_id,
        Inbound.state,
        Inbound.item_id,
        Inbound.reason,
    ]
    sent_columns: list[Any] = [
        Outbox.id,
        Outbox.created_at,
        Outbox.raw,
        Outbox.message_id,
        Outbox.state,
        Outbox.item_id,
        Outbox.purpose,
    ]
    inbound = session.exec(
        select(*received_columns).order_by(col(Inbound.id)).execution_options(yield_per=batch)
    )
    outbound = session.exec(
        select(*sent_columns).order_by(col(Outbox.id)).execution_options(yield_per=batch)
    )
    received = (
        (
            arrived or fetched,
            {
                "at": (arrived or fetched).isoformat(),
                "direction": "in",
                "id": row_id,
                "sha256": digest,
                "message_id": message_id,
                "state": state,
                "item_id": item_id,
                "purpose": "",
                "reason": reason,
            },
        )
        for row_id, arrived, fetched, digest, message_id, state, item_id, reason in inbound
    )
    sent = (
        (
            created,
            {
                "at": created.isoformat(),
                "direction": "out",
                "id": row_id,
                "sha256": sha256(raw),
                "message_id": message_id,
                "state": state,
                "item_id": item_id,
                "purpose": purpose,
                "reason": "",
            },
        )
        for row_id, created, raw, message_id, state, item_id, purpose in outbound
    )
    for _, line in heapq.merge(received, sent, key=lambda pair: pair[0]):
        yield line


def thread_entries(session: Session, item_id: int) -> list[tuple[datetime, bytes]]:
    """Every mail of an item, sent and received, in time order (for the thread .mbox)."""
    sent = session.exec(select(Outbox.created_at, Outbox.raw).where(Outbox.item_id == item_id))
    got = session.exec(
        select(Inbound.fetched_at, Inbound.raw).where(
            Inbound.item_id == item_id, Inbound.state == InboundState.PROCESSED
        )
    )
    return sorted([(at, raw) for at, raw in sent] + [(at, raw) for at, raw in got])


# -- checkpoints, deadlines, meta -------------------------------------------------------------


def get_checkpoint(session: Session, source: str) -> Checkpoint | None:
    return session.get(Checkpoint, source)


def set_checkpoint(session: Session, source: str, uidvalidity: int, last_uid: int) -> None:
    cp = session.get(Checkpoint, source) or Checkpoint(source=source, uidvalidity=uidvalidity)
    if cp.uidvalidity != uidvalidity:
        cp.uidvalidity, cp.last_uid = uidvalidity, 0
    cp.last_uid = max(cp.last_uid, last_uid)
    session.add(cp)


def due_deadlines(session: Session, now: datetime) -> list[Deadline]:
    return list(
        session.exec(
            select(Deadline)
            .where(col(Deadline.done_at).is_(None), Deadline.due_at <= now)
            .order_by(col(Deadline.due_at), col(Deadline.id))
        )
    )


def next_deadline(session: Session) -> datetime | None:
    row = session.exec(
        select(Deadline)
        .where(col(Deadline.done_at).is_(None))
        .order_by(col(Deadline.due_at))
        .limit(1)
    ).first()
    return row.due_at if row else None


def meta_get(session: Session, key: str) -> str | None:
    row = session.get(Meta, key)
    return row.value if row else None


def meta_prefixed(session: Session, prefix: str) -> dict[str, str]:
    """The facts kept under one prefix, the prefix taken off."""
    rows = session.exec(select(Meta).where(col(Meta.key).startswith(prefix)))
    return {row.key.removeprefix(prefix): row.value for row in rows}


def meta_set(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key) or Meta(key=key, value=value)
    row.value = value
    session.add(row)
