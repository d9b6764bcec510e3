"""Consensus ballots by email (ToR 4.3): open, read replies, remind, close, escalate, determine."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from enum import StrEnum

from bot.inbound.intent import read_position
from bot.rules import Position
from bot.workflows.effects import (
    Effect,
    ItemView,
    Mail,
    PersonView,
    Record,
    ResponseView,
    Schedule,
    SetState,
    ToReview,
)
from bot.workflows.situation import Reply, Situation


class BallotState(StrEnum):
    OPEN = "open"
    CONSENSUS = "consensus"
    ESCALATED = "escalated"
    DETERMINED = "determined"
    CLOSED = "closed"


# Which deadline events move a ballot from which state; anything else is ignored.
TRANSITIONS: dict[tuple[BallotState, str], tuple[BallotState, ...]] = {
    (BallotState.OPEN, "close"): (BallotState.CONSENSUS, BallotState.ESCALATED, BallotState.CLOSED),
    (BallotState.ESCALATED, "determination"): (BallotState.DETERMINED,),
}


def move(item: ItemView, event: str, to: BallotState, **data: str) -> SetState:
    """The state change for `event`, checked against the transition table."""
    allowed = TRANSITIONS.get((BallotState(item.state), event), ())
    if to not in allowed:
        raise ValueError(f"ballot {item.id}: {item.state} -> {to} on {event!r} is not allowed")
    return SetState(item.id, to, data)


def _everyone(sit: Situation) -> tuple[PersonView, ...]:
    return (*sit.members, *sit.secretariat)


def offered(sit: Situation, item: ItemView) -> dict[str, Position]:
    """The positions this ballot offers: its own options, or every position in the rules."""
    keys = item.options or tuple(sit.rules.positions)
    return {k: sit.rules.positions[k] for k in keys if k in sit.rules.positions}


def _offered(sit: Situation, item: ItemView) -> dict[str, dict[str, Position]]:
    return {"positions": offered(sit, item)}


def on_open(sit: Situation, item: ItemView) -> list[Effect]:
    """Personal ballot mails, reminders and the closing deadline, and word to the Secretariat."""
    assert item.deadline is not None, "a ballot needs a deadline"
    effects: list[Effect] = [
        Mail("ballot", sit.members, "ballot", {"item": item, **_offered(sit, item)}, item.id),
        Schedule(item.id, "close", item.deadline),
    ]
    for before in sit.rules.reminders.before_deadline:
        due = item.deadline - before
        if due > sit.now:
            effects.append(Schedule(item.id, "reminder", due))
    return effects


def on_reply(sit: Situation, reply: Reply) -> list[Effect]:
    """Read one reply to a ballot: record it, and always tell its writer what was recorded."""
    item, person = reply.item, reply.person
    if person.kind == "chair":
        return _on_chair_reply(sit, reply)
    if person.kind != "member":
        return [
            ToReview(
                "not-a-member", f"{person.email} replied to ballot {item.id}", item.id, person.id
            )
        ]
    reading = read_position(reply.text, sit.rules, offered(sit, item))
    ctx = {
        "item": item,
        "reading": reading,
        "label": _label(sit, reading.position),
        **_offered(sit, item),
    }
    if item.state != BallotState.OPEN:
        return [
            Record(
                item.id, person.id, reading.position, reply.text, "late", f"ballot {item.state}"
            ),
            Mail("late", (person,), "late", ctx, item.id, reply_to=reply.message),
        ]
    if not reply.trusted:
        why = "the reply did not answer the member's own ballot mail"
        return [
            Record(item.id, person.id, reading.position, reply.text, "review", why),
            ToReview("untrusted-reply", why, item.id, person.id),
            Mail(
                "clarify",
                (person,),
                "clarify",
                {**ctx, "why": why},
                item.id,
                reply_to=reply.message,
            ),
        ]
    if reading.position is None:
        return [
            Record(item.id, person.id, None, reply.text, "review", reading.why),
            ToReview("ambiguous", f"{reading.why}: {reply.text[:200]}", item.id, person.id),
            Mail(
                "clarify",
                (person,),
                "clarify",
                {**ctx, "why": reading.why},
                item.id,
                reply_to=reply.message,
            ),
        ]
    asks_reason = sit.rules.positions[reading.position].asks_reason and not reading.reason
    return [
        Record(item.id, person.id, reading.position, reading.reason, "counted", reading.why),
        Mail(
            "confirm",
            (person,),
            "confirm",
            {**ctx, "asks_reason": asks_reason},
            item.id,
            reply_to=reply.message,
        ),
    ]


def _label(sit: Situation, position: str | None) -> str:
    return sit.rules.positions[position].label if position else ""


def missing_members(sit: Situation) -> tuple[PersonView, ...]:
    return tuple(
        m for m in sit.members if not (r := sit.responses.get(m.id)) or r.status != "counted"
    )


def on_deadline(sit: Situation, item: ItemView, kind: str) -> list[Effect]:
    """Reminders to those who have not answered; at the deadline, the outcome."""
    if kind == "reminder" and item.state == BallotState.OPEN:
        if item.deadline is not None and item.deadline <= sit.now:
            return []  # found late after downtime: the close that follows says it all
        waiting = missing_members(sit)
        ctx = {"item": item, **_offered(sit, item)}
        return [Mail("reminder", waiting, "reminder", ctx, item.id)] if waiting else []
    if kind == "close" and item.state == BallotState.OPEN:
        return _close(sit, item)
    if kind == "chair-reminder" and item.state == BallotState.ESCALATED:
        ctx = {"item": item, "chair_due": datetime.fromisoformat(str(item.data["chair_due"]))}
        return [Mail("chair_reminder", (sit.chair,), "chair-reminder", ctx, item.id)]
    return []


def _objections(sit: Situation) -> list[tuple[PersonView, ResponseView]]:
    out = []
    for member in sit.members:
        resp = sit.responses.get(member.id)
        if resp is None or resp.status != "counted" or resp.position is None:
            continue
        if sit.rules.positions[resp.position].kind == "objection":
            out.append((member, resp))
    return out


def tally(sit: Situation) -> dict[str, list[str]]:
    """Member names by position label (and 'no answer')."""
    out: dict[str, list[str]] = {}
    for member in sit.members:
        resp = sit.responses.get(member.id)
        key = _label(sit, resp.position) if resp and resp.status == "counted" else "no answer"
        out.setdefault(key or "no answer", []).append(member.name)
    return out


_STATUS_NOTE = {"counted": "", "review": " (not counted: asked to confirm)", "late": " (late)"}


def timeline(sit: Situation, item: ItemView) -> list[tuple[datetime, str]]:
    """The round as it happened: opening, every reply, reminders, the deadline."""
    names = {p.id: p.name for p in (*sit.members, sit.chair)}
    events = [(item.created_at, f"opened; ballot mailed to {len(sit.members)} members")]
    reminders = Counter(s.at for s in sit.sent if s.purpose == "reminder")
    events += [(at, f"reminder to {n} member(s) yet to answer") for at, n in reminders.items()]
    for r in sit.history:
        label = _label(sit, r.position) or "no clear position"
        note = _STATUS_NOTE.get(r.status, f" ({r.status})")
        events.append((r.received_at, f"{names.get(r.person_id, 'someone')}: {label}{note}"))
    if item.deadline is not None:
        events.append((item.deadline, "deadline"))
    return sorted(events)


def standing(sit: Situation) -> list[tuple[PersonView, str, str]]:
    """Each member's counted position at the deadline, with their own words."""
    out = []
    for member in sit.members:
        resp = sit.responses.get(member.id)
        if resp is not None and resp.status == "counted":
            out.append((member, _label(sit, resp.position), resp.text))
        else:
            out.append((member, "no answer", ""))
    return out


def _close(sit: Situation, item: ItemView) -> list[Effect]:
    objections = _objections(sit)
    missing = missing_members(sit)
    ctx = {
        "item": item,
        "tally": tally(sit),
        "objections": objections,
        "missing": missing,
        "standing": standing(sit),
        "timeline": timeline(sit, item),
    }
    if objections:
        due = sit.now + sit.rules.consensus.chair_response
        effects: list[Effect] = [
            move(
                item, "close", BallotState.ESCALATED, outcome="escalated", chair_due=due.isoformat()
            ),
            Mail(
                "escalation",
                (sit.chair,),
                "escalation",
                {**ctx, "chair_due": due, "attach_thread": True},
                item.id,
            ),
            Mail("outcome", _everyone(sit), "outcome", {**ctx, "outcome": "escalated"}, item.id),
        ]
        for before in sit.rules.consensus.chair_reminders:
            if due - before > sit.now:
                effects.append(Schedule(item.id, "chair-reminder", due - before))
        return effects
    if missing and not sit.rules.consensus.silence_is_consent:
        return [
            move(item, "close", BallotState.CLOSED, outcome="incomplete"),
            Mail("outcome", _everyone(sit), "outcome", {**ctx, "outcome": "incomplete"}, item.id),
            ToReview(
                "incomplete", f"ballot {item.id} closed without every member's answer", item.id
            ),
        ]
    return [
        move(item, "close", BallotState.CONSENSUS, outcome="consensus"),
        Mail("outcome", _everyone(sit), "outcome", {**ctx, "outcome": "consensus"}, item.id),
    ]


def _on_chair_reply(sit: Situation, reply: Reply) -> list[Effect]:
    """The Board Chair determines an escalated matter by replying (ToR 4.3.b)."""
    item, chair = reply.item, reply.person
    if item.state != BallotState.ESCALATED or not reply.trusted:
        why = (
            "not awaiting a determination"
            if reply.trusted
            else "not a reply to the escalation mail"
        )
        return [ToReview("chair-reply", f"{why}: {reply.text[:200]}", item.id, chair.id)]
    determination = reply.text.strip()
    if not determination:
        return [
            ToReview("chair-reply", "the Chair's reply has no text of its own", item.id, chair.id)
        ]
    ctx = {"item": item, "determination": determination, "tally": tally(sit)}
    return [
        Record(item.id, chair.id, "determination", determination, "counted", "Board Chair"),
        move(
            item,
            "determination",
            BallotState.DETERMINED,
            outcome="determined",
            determination=determination,
        ),
        Mail("determination_confirm", (chair,), "confirm", ctx, item.id, reply_to=reply.message),
        Mail("determination", _everyone(sit), "outcome", ctx, item.id),
    ]
