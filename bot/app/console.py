"""The Secretariat's console as plain data: items, one item in full (who answered what, who
still owes an answer, the mails sent, the next step), the people, review entries with the
message behind them, and settling an entry. The CLI prints it, or gives it as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.app.enact import Cause, Enactor
from bot.app.status import item_record, open_reviews, review_record, since_record
from bot.domain.effects import Effect, Mail, Record
from bot.domain.message import InboundMessage
from bot.domain.types import ItemView, PersonKind, PersonView
from bot.inbound.parse import parse_message
from bot.inbound.reply import extract_reply
from bot.store import console, register, repo
from bot.store.models import Inbound, Person, Review
from bot.workflows import digest
from bot.workflows.base import Registry, Situation

DISMISS = "dismiss"
_ORDER = (PersonKind.MEMBER, PersonKind.CHAIR, PersonKind.SECRETARIAT, PersonKind.FACILITATOR)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def person_record(p: PersonView) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "kind": p.kind,
        "role": p.role,
        "timezone": p.timezone,
        "language": p.language,
        "failing": p.failing,
        "salutation": p.salutation,  # empty: their language's own opening
    }


def members(sit: Situation) -> list[dict[str, Any]]:
    """The people the bot writes to: members first, then the Chair, Secretariat, facilitators."""
    people = sorted(sit.people.people, key=lambda p: (_ORDER.index(PersonKind(p.kind)), p.id))
    return [person_record(p) for p in people]


def _label(sit: Situation, position: str | None) -> str:
    """A position as a reader knows it (the rules' label), or the word the kind keeps."""
    if position is None:
        return ""
    found = sit.rules.positions.get(position)
    return found.label if found else position


def owing(sit: Situation, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The members who still owe this item an answer, and by when (the digest's reading)."""
    out = []
    for entry in digest.owed(sit, [record]):
        person: PersonView = entry["person"]
        by, _ = entry["things"][0]  # the soonest thing they owe
        when = by.isoformat() if isinstance(by, datetime) else by
        out.append({"name": person.name, "email": person.email, "by": when})
    return out


def items(
    s: Session, sit: Situation, registry: Registry, states: set[str], kinds: set[str]
) -> list[dict[str, Any]]:
    """Every item as status shows it, with who still owes an answer; filtered by state, kind."""
    people = repo.all_people(s)
    out = []
    for item in repo.items(s):
        if (states and item.state not in states) or (kinds and item.kind not in kinds):
            continue
        record = item_record(s, item, people, sit, registry)
        record["owing"] = owing(sit, record)
        record["members_asked"] = len(sit.members)
        out.append(record)
    return out


def item_detail(
    s: Session, sit: Situation, registry: Registry, item_id: int
) -> dict[str, Any] | None:
    """One item in full: its record as status shows it, plus the question, who answered what
    (names first), every reading with its note, who still owes an answer, the mails sent and
    the next scheduled steps."""
    item = repo.item(s, item_id)
    if item is None:
        return None
    people = repo.all_people(s)
    record = item_record(s, item, people, sit, registry)

    def who(person_id: int | None) -> dict[str, Any]:
        p = people.get(person_id or 0)
        if p is None:
            return {"name": "?", "email": "", "member": False}
        return {"name": p.name, "email": p.email, "member": p.kind == PersonKind.MEMBER}

    standing = repo.standing(s, item.id)
    record.update(
        body=item.body,
        opened_by=item.opened_by,
        answers=[
            {
                **who(pid),
                "position": r.position,
                "label": _label(sit, r.position),
                "status": r.status,
                "at": _iso(r.received_at),
                "text": r.text,
            }
            for pid, r in sorted(standing.items())
        ],
        replies=[
            {
                **who(r.person_id),
                "position": r.position,
                "label": _label(sit, r.position),
                "status": r.status,
                "at": _iso(r.at),
                "text": r.text,
                "note": r.note,
            }
            for r in console.replies(s, item.id)
        ],
        owing=owing(sit, record),
        members_asked=len(sit.members),
        sent=[_sent(m, people) for m in console.sent(s, item.id)],
        next=[
            {"step": kind, "at": _iso(due)}
            for kind, due in console.pending(s, item.id)
            if not _settled(registry, item)
        ],
    )
    return record


def _settled(registry: Registry, item: ItemView) -> bool:
    """An item in a state its kind moves out of on no event (a ballot cancelled, determined):
    steps still scheduled for it will find nothing to do, so none is shown as next."""
    workflow = registry.get(item.kind)
    return workflow is not None and all(
        str(state) != item.state for state, _ in workflow.transitions
    )


def _sent(mail: console.SentMail, people: dict[int, PersonView]) -> dict[str, Any]:
    by_email = {p.email: p for p in people.values()}
    return {
        "id": mail.id,
        "at": _iso(mail.at),
        "purpose": mail.purpose,
        "subject": mail.subject,
        "state": mail.state,
        "to": [
            {"name": by_email[a].name if a in by_email else "", "email": a} for a in mail.recipients
        ],
    }


def queued(s: Session, item_id: int) -> list[dict[str, Any]]:
    """What opening an item queued, as `ballot open` shows it (before or instead of sending)."""
    people = repo.all_people(s)
    return [_sent(m, people) for m in console.sent(s, item_id)]


def reviews(s: Session) -> list[dict[str, Any]]:
    """The open review queue, each entry with the names of its item and person."""
    people, overtaken = repo.all_people(s), console.overtaken(s)
    return [_review(s, r, people, overtaken.get(r.id or 0)) for r in open_reviews(s)]


def _review(
    s: Session, r: Review, people: dict[int, PersonView], since: console.Reply | None
) -> dict[str, Any]:
    """An entry with its item's and person's names, and what the person answered since."""
    item = repo.item(s, r.item_id) if r.item_id else None
    person = people.get(r.person_id) if r.person_id else None
    return {
        **review_record(r),
        "item_title": item.title if item else None,
        "item_kind": item.kind if item else None,
        "person_name": person.name if person else None,
        "person_email": person.email if person else None,
        "resolved_at": _iso(r.resolved_at),
        "answered_since": since_record(since),
    }


def _message(raw: bytes) -> InboundMessage | None:
    try:
        return parse_message(raw)
    except Exception:  # too broken to read: the entry is shown without it
        return None


def review_detail(s: Session, n: int) -> dict[str, Any] | None:
    """One entry and the message behind it, as a person reads mail: who, when, what it says."""
    row = s.get(Review, n)
    if row is None:
        return None
    out = _review(s, row, repo.all_people(s), console.overtaken(s, n).get(n))
    inbound = s.get(Inbound, row.inbound_id) if row.inbound_id else None
    message = _message(inbound.raw) if inbound else None
    out["message"] = None
    if inbound is not None:
        out["message"] = {
            "id": inbound.id,
            "arrived_at": _iso(inbound.arrived_at or inbound.fetched_at),
            "message_id": inbound.message_id,
            "size": inbound.size,
            "from_name": message.from_name if message else "",
            "from": message.from_addr if message else "",
            "to": list(message.to) if message else [],
            "subject": message.subject if message else "",
            "date": message.header("date") if message else "",
            "new_text": extract_reply(message.text) if message else "",
            "text": message.text if message else inbound.raw.decode("utf-8", "replace"),
            "attachments": list(message.attachments) if message else [],
        }
    return out


def resolve(
    s: Session,
    sit: Situation,
    enactor: Enactor,
    n: int,
    answer: str,
    note: str,
    by: str,
    command_sha256: str = "",
) -> dict[str, Any]:
    """Settle review entry `n`: `dismiss`, or record the position the member clearly meant
    (their item kind's `resolve` action: counted, noted with `by` and `note`, confirmed to
    them). Entries the same message caused go with it. Raises ValueError naming the entry.
    `command_sha256`: the mail that asked for it, when asked by mail (kept in the register)."""
    row = s.get(Review, n)
    if row is None:
        raise ValueError(f"no review entry {n}")
    if row.resolved_at is not None:
        when = row.resolved_at.astimezone(ZoneInfo(sit.zone))
        raise ValueError(f"review entry {n} was settled on {when:%Y-%m-%d %H:%M} ({sit.zone})")
    settled = console.siblings(s, row)
    detail: dict[str, Any] = {"reviews": [r.id for r in settled], "note": note, "by": by}
    if command_sha256:
        detail["command_sha256"] = command_sha256
    done: list[Effect] = []
    sha = ""
    if answer.strip().lower() == DISMISS:
        event = "review-dismissed"
    else:
        if row.item_id is None or row.person_id is None:
            raise ValueError(
                f"review entry {n} ({row.reason}) is no reply of a member to an item: "
                "it can only be dismissed (--as dismiss; by mail, As: dismiss)"
            )
        since = console.overtaken(s, n).get(n)
        if since is not None:
            person = s.get(Person, row.person_id)
            when = since.at.astimezone(ZoneInfo(sit.zone))
            kept = sit.rules.positions.get(since.position or "")
            raise ValueError(
                f"review entry {n}: {person.name if person else 'the member'}'s answer "
                f"{kept.label if kept else since.position} of {when:%Y-%m-%d %H:%M} "
                f"({sit.zone}) came "
                "after the message behind this entry and is what counts: dismiss the entry "
                "instead (--as dismiss; by mail, As: dismiss)"
            )
        inbound = s.get(Inbound, row.inbound_id) if row.inbound_id else None
        message = _message(inbound.raw) if inbound else None
        words = extract_reply(message.text) if message else _latest_words(s, row)
        args = {
            "person_id": row.person_id,
            "position": answer,
            "note": note,
            "by": by,
            "text": words,
            "reply_to": message,
        }
        cause = Cause(
            inbound_id=inbound.id if inbound else None,
            message_id=message.message_id if message else "",
            arrived_at=(inbound.arrived_at or inbound.fetched_at) if inbound else None,
            message_sha256=inbound.sha256 if inbound else "",
        )
        done = enactor.act(s, row.item_id, "resolve", args, sit, cause)
        detail["as"] = next((e.position for e in done if isinstance(e, Record)), answer)
        event, sha = "review-resolved", cause.message_sha256
    console.mark_resolved(s, settled, sit.now)
    register.append(
        s,
        event,
        at=sit.now,
        item_id=row.item_id,
        person_id=row.person_id,
        detail=detail,
        message_sha256=sha,
    )
    return {
        "review": n,
        "settled": [r.id for r in settled],
        "event": event,
        "item_id": row.item_id,
        "person_id": row.person_id,
        "position": detail.get("as"),
        "mailed": [p.email for e in done if isinstance(e, Mail) for p in e.to],
    }


def _latest_words(s: Session, row: Review) -> str:
    """The member's latest words to the item, when the entry kept no message."""
    history = [r for r in console.replies(s, row.item_id or 0) if r.person_id == row.person_id]
    return history[-1].text if history else ""
