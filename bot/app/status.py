"""Read-only views for `cgbot status`, `explain` and `review`: the record as the Secretariat sees
it. Each item kind adds what it alone knows (a ballot's outcome and determination)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from sqlmodel import Session, col, select

from bot.domain.effects import Mail
from bot.domain.types import ItemView, PersonKind, PersonView, ResponseView
from bot.pipeline import Handled, Ignored, Quarantined, Result
from bot.store import console, repo
from bot.store.models import Checkpoint, Inbound, Outbox, OutboxState, Person, Review
from bot.workflows.base import Registry, Situation


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _response(r: ResponseView) -> dict[str, Any]:
    return {
        "position": r.position,
        "status": r.status,
        "at": _iso(r.received_at),
        "message_id": r.message_id,
        "text": r.text,
    }


def item_record(
    s: Session, item: ItemView, people: dict[int, PersonView], sit: Situation, registry: Registry
) -> dict[str, Any]:
    """An item with each member's standing response (keyed by email) and its kind's summary."""
    standing = repo.standing(s, item.id)
    responses = {
        people[pid].email: _response(r)
        for pid, r in standing.items()
        if pid in people and people[pid].kind == PersonKind.MEMBER
    }
    record: dict[str, Any] = {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "state": item.state,
        "deadline": _iso(item.deadline),
        "created_at": _iso(item.created_at),
        "outcome": item.data.get("outcome"),
        "responses": responses,
        "determination": None,  # every item had the key before kinds brought their own
        "history": repo.history_size(s, item.id),
    }
    workflow = registry.get(item.kind)
    if workflow is not None:
        full = _with_history(s, _replace_responses(sit, standing), item.id)
        record.update(workflow.summary(item, full))
    return record


def _replace_responses(sit: Situation, standing: dict[int, ResponseView]) -> Situation:
    return replace(sit, responses=standing)


def _with_history(s: Session, sit: Situation, item_id: int) -> Situation:
    """The record a kind's summary may read: the whole history (status is no hot path)."""
    return replace(sit, history=tuple(repo.history(s, item_id)))


def snapshot(s: Session, sit: Situation, registry: Registry) -> dict[str, Any]:
    """Items with each person's latest response, the review queue, the outbox and mailboxes."""
    people = repo.all_people(s)
    items = [item_record(s, i, people, sit, registry) for i in repo.items(s)]
    inbound = Counter(state for state in s.exec(select(Inbound.state)))
    outbox = Counter(state for state in s.exec(select(Outbox.state)))
    overtaken = console.overtaken(s)  # entries the person has answered since
    return {
        "items": items,
        "review_queue": [
            {**review_record(r), "answered_since": since_record(overtaken.get(r.id or 0))}
            for r in open_reviews(s)
        ],
        "inbound": dict(inbound),
        "outbox": dict(outbox),
        "service": service_record(s, outbox, inbound),
        "mailboxes": [
            {"source": c.source, "uidvalidity": c.uidvalidity, "last_uid": c.last_uid}
            for c in s.exec(select(Checkpoint))
        ],
    }


WAITING = (OutboxState.PENDING, OutboxState.SENDING)  # outbox states of mail not yet out


def service_record(s: Session, outbox: Counter[str], inbound: Counter[str]) -> dict[str, Any]:
    """What whoever runs cgbot watches: when the mailbox was last read to its end, what
    waits to be sent, what is held, and which addresses keep failing."""
    failing = s.exec(select(Person).where(col(Person.failing_since).is_not(None)))
    return {
        "last_poll": repo.meta_get(s, "last_poll"),
        "mailbox": repo.meta_get(s, "last_poll_source"),
        "outbox_waiting": sum(outbox.get(state, 0) for state in WAITING),
        "quarantined": inbound.get("quarantined", 0),
        "failing_addresses": [{"email": p.email, "since": _iso(p.failing_since)} for p in failing],
    }


def open_reviews(s: Session) -> list[Review]:
    query = select(Review).where(col(Review.resolved_at).is_(None)).order_by(col(Review.id))
    return list(s.exec(query))


def since_record(since: console.Reply | None) -> dict[str, Any] | None:
    """What the person answered after the message behind a review entry, if anything."""
    return {"position": since.position, "at": _iso(since.at)} if since is not None else None


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


def explain_record(result: Result, registry: Registry) -> dict[str, Any]:
    """What `cgbot explain` shows: who wrote, which item, what the pipeline decided and why."""
    insp, outcome = result.inspection, result.outcome
    out: dict[str, Any] = {
        "message_id": insp.message.message_id if insp.message else None,
        "from": insp.message.from_addr if insp.message else None,
        "member": (
            {
                "name": insp.person.name,
                "email": insp.person.email,
                "kind": insp.person.kind,
                "role": insp.person.role,
            }
            if insp.person
            else None
        ),
        "item": (
            {
                "id": insp.item.id,
                "kind": insp.item.kind,
                "title": insp.item.title,
                "state": insp.item.state,
            }
            if insp.item
            else None
        ),
        "kind": insp.item.kind if insp.item else None,
        "matched_by": insp.matched_by or None,
        "extracted_text": insp.text,
        "text": insp.text,
        "stages": list(result.stages_run),
    }
    if isinstance(outcome, Handled):
        workflow = registry.get(insp.item.kind) if insp.item else None
        reading = workflow.explain(outcome.effects) if workflow else {}
        out["outcome"] = "handled"
        out["position"] = reading.get("position")
        out["status"] = reading.get("status")
        out["why"] = reading.get("why", "")
        out["effects"] = [
            type(e).__name__ + (f"({e.template})" if isinstance(e, Mail) else "")
            for e in outcome.effects
        ]
    elif isinstance(outcome, Ignored):
        out.update(outcome="ignored", reason=outcome.reason, why=outcome.detail, position=None)
    else:
        assert isinstance(outcome, Quarantined)
        out.update(
            outcome="quarantined",
            reason=outcome.refusal.code,
            why=f"{outcome.refusal.summary}: {outcome.refusal.detail}",
            position=None,
        )
    return out
