"""Reads and writes on the tables, one small function per question the shell asks."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.store.models import (
    Checkpoint,
    Deadline,
    Inbound,
    InboundState,
    Item,
    Meta,
    Outbox,
    Person,
    Response,
)
from bot.workflows.effects import ItemView, PersonView, ResponseView, SentView


def sync_people(session: Session, settings: Settings) -> None:
    """Make the person table match the configuration (config is the source of truth)."""
    cfg = settings.model
    wanted: dict[str, dict[str, str]] = {}
    for m in cfg.members:
        wanted[m.email.lower()] = {
            "name": m.name,
            "kind": "member",
            "role": m.role,
            "timezone": m.timezone,
            "language": m.language,
        }
    wanted[cfg.chair.email.lower()] = {
        "name": cfg.chair.name,
        "kind": "chair",
        "role": "board-chair",
        "timezone": cfg.chair.timezone,
    }
    for addr in cfg.group.secretariat:
        wanted.setdefault(
            addr.lower(),
            {
                "name": "Executive Secretariat",
                "kind": "secretariat",
                "timezone": cfg.group.timezone,
            },
        )
    for f in cfg.facilitators:
        wanted.setdefault(f.email.lower(), {"name": f.name, "kind": "facilitator"})
    existing = {p.email: p for p in session.exec(select(Person))}
    for email, fields in wanted.items():
        person = existing.get(email) or Person(
            email=email, name=fields["name"], kind=fields["kind"]
        )
        for key, value in fields.items():
            setattr(person, key, value)
        person.active = True
        session.add(person)
    for email, person in existing.items():
        if email not in wanted:
            person.active = False
            session.add(person)


def person_view(p: Person) -> PersonView:
    assert p.id is not None
    return PersonView(
        p.id, p.email, p.name, p.kind, p.role, p.timezone, p.language, p.failing_since is not None
    )


def item_view(i: Item) -> ItemView:
    assert i.id is not None
    return ItemView(
        i.id,
        i.kind,
        i.title,
        i.body,
        i.state,
        i.created_at,
        i.deadline,
        tuple(i.options),
        dict(i.data),
    )


def active_people(session: Session) -> list[PersonView]:
    rows = session.exec(select(Person).where(Person.active == True).order_by(col(Person.id)))  # noqa: E712
    return [person_view(p) for p in rows]


def response_views(session: Session, item_id: int) -> list[ResponseView]:
    """Every reply to the item, oldest first."""
    return [
        ResponseView(r.person_id, r.position, r.text, r.message_id, r.received_at, r.status)
        for r in response_history(session, item_id)
    ]


def latest_responses(history: list[ResponseView]) -> dict[int, ResponseView]:
    """Each person's standing reply: their latest counted one (a later answer replaces an
    earlier one; an unclear or late reply does not), else simply their latest."""
    latest: dict[int, ResponseView] = {}
    for r in history:
        current = latest.get(r.person_id)
        if current is None or r.status == "counted" or current.status != "counted":
            latest[r.person_id] = r
    return latest


def sent_views(session: Session, item_id: int) -> list[SentView]:
    rows = session.exec(select(Outbox).where(Outbox.item_id == item_id).order_by(col(Outbox.id)))
    return [SentView(o.created_at, o.purpose, tuple(o.recipients)) for o in rows]


def response_history(session: Session, item_id: int) -> list[Response]:
    return list(
        session.exec(select(Response).where(Response.item_id == item_id).order_by(col(Response.id)))
    )


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def archive(
    session: Session,
    raw: bytes,
    message_id: str,
    source: str,
    uidvalidity: int | None,
    uid: int | None,
    now: datetime,
) -> Inbound:
    """Store the raw message once. The same bytes again return the existing row; another copy
    of a Message-ID already handled is kept but marked as a duplicate."""
    digest = sha256(raw)
    existing = session.exec(select(Inbound).where(Inbound.sha256 == digest)).first()
    if existing is not None:
        return existing
    row = Inbound(
        sha256=digest,
        message_id=message_id,
        source=source,
        uidvalidity=uidvalidity,
        uid=uid,
        fetched_at=now,
        size=len(raw),
        raw=raw,
    )
    if message_id:
        twin = session.exec(
            select(Inbound).where(
                Inbound.message_id == message_id, Inbound.state != InboundState.NEW
            )
        ).first()
        if twin is not None:
            row.state = InboundState.DUPLICATE
            row.reason = "duplicate"
            row.detail = f"same Message-ID as archived message #{twin.id}"
            row.processed_at = now
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


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
            .where(Deadline.done_at == None, Deadline.due_at <= now)  # noqa: E711
            .order_by(col(Deadline.due_at), col(Deadline.id))
        )
    )


def next_deadline(session: Session) -> datetime | None:
    row = session.exec(
        select(Deadline).where(Deadline.done_at == None).order_by(col(Deadline.due_at))  # noqa: E711
    ).first()
    return row.due_at if row else None


def meta_get(session: Session, key: str) -> str | None:
    row = session.get(Meta, key)
    return row.value if row else None


def meta_set(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key) or Meta(key=key, value=value)
    row.value = value
    session.add(row)
