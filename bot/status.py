"""Read-only views for `cgbot status` and `cgbot review`: the record as the Secretariat sees it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import Session, col, select

from bot.store import repo
from bot.store.models import Checkpoint, Inbound, Item, Outbox, Person, Review


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _response(r: Any) -> dict[str, Any]:
    return {
        "position": r.position,
        "status": r.status,
        "at": _iso(r.received_at),
        "message_id": r.message_id,
        "text": r.text,
    }


def item_record(s: Session, item: Item, people: dict[int, Person]) -> dict[str, Any]:
    """An item with each member's standing response (keyed by email) and the Chair's word."""
    assert item.id is not None
    history = repo.response_views(s, item.id)
    responses: dict[str, Any] = {}
    determination = None
    for person_id, r in repo.latest_responses(history).items():
        person = people.get(person_id)
        if person is not None and person.kind == "member":
            responses[person.email] = _response(r)
        elif r.position == "determination":
            determination = {"by": person.email if person else None, **_response(r)}
    return {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "state": item.state,
        "deadline": _iso(item.deadline),
        "created_at": _iso(item.created_at),
        "outcome": item.data.get("outcome"),
        "responses": responses,
        "determination": determination,
        "history": len(history),
    }


def snapshot(s: Session) -> dict[str, Any]:
    """Items with each person's latest response, the review queue, the outbox and mailboxes."""
    people = {p.id: p for p in s.exec(select(Person)) if p.id is not None}
    items = [item_record(s, i, people) for i in s.exec(select(Item).order_by(col(Item.id)))]
    inbound = Counter(state for state in s.exec(select(Inbound.state)))
    outbox = Counter(state for state in s.exec(select(Outbox.state)))
    open_reviews = s.exec(select(Review).where(Review.resolved_at == None))  # noqa: E711
    return {
        "items": items,
        "review_queue": [review_record(r) for r in open_reviews],
        "inbound": dict(inbound),
        "outbox": dict(outbox),
        "mailboxes": [
            {"source": c.source, "uidvalidity": c.uidvalidity, "last_uid": c.last_uid}
            for c in s.exec(select(Checkpoint))
        ],
    }


def review_record(r: Review) -> dict[str, Any]:
    return {
        "id": r.id,
        "reason": r.reason,
        "detail": r.detail,
        "item_id": r.item_id,
        "person_id": r.person_id,
        "inbound_id": r.inbound_id,
        "at": _iso(r.created_at),
    }
