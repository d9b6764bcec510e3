"""Consensus ballots by email (ToR 4.3): open, read replies, remind, close, escalate, determine."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.effects import (
    Act,
    Effect,
    Mail,
    OpenItem,
    Record,
    Schedule,
    SetState,
    ToReview,
)
from bot.domain.types import (
    ItemKind,
    ItemView,
    PersonKind,
    PersonView,
    ResponseStatus,
    ResponseView,
)
from bot.inbound.assent import Assent, not_an_answer, read_assent
from bot.inbound.commands import parse_deadline, read_fields, whole_days_after
from bot.inbound.intent import read_position
from bot.resources import data_dir
from bot.rules import Position, Rules
from bot.workflows.base import (
    CommandError,
    CommandMail,
    Reply,
    Situation,
    Workflow,
    command_argument,
    explain_records,
)


class BallotState(StrEnum):
    OPEN = "open"
    CONSENSUS = "consensus"
    ESCALATED = "escalated"
    DETERMINED = "determined"
    CLOSED = "closed"
    CANCELLED = "cancelled"  # withdrawn by the Secretariat before its deadline


# Which deadline events move a ballot from which state; anything else is ignored.
TRANSITIONS: dict[tuple[StrEnum, str], tuple[StrEnum, ...]] = {
    (BallotState.OPEN, "close"): (BallotState.CONSENSUS, BallotState.ESCALATED, BallotState.CLOSED),
    (BallotState.ESCALATED, "propose"): (BallotState.ESCALATED,),  # a read-back pending
    (BallotState.ESCALATED, "determination"): (BallotState.DETERMINED,),
    (BallotState.OPEN, "extend"): (BallotState.OPEN,),  # a later deadline
    (BallotState.OPEN, "cancel"): (BallotState.CANCELLED,),
}


def move(item: ItemView, event: str, to: BallotState, **data: Any) -> SetState:
    """The state change for `event`, checked against the transition table."""
    return WORKFLOW.move(item, event, to, None, **data)


def _everyone(sit: Situation) -> tuple[PersonView, ...]:
    return (*sit.members, *sit.secretariat)


def offered(sit: Situation, item: ItemView) -> dict[str, Position]:
    """The positions this ballot offers: its own options, or every position in the rules."""
    keys = item.data.get("options") or tuple(sit.rules.positions)
    return {k: sit.rules.positions[k] for k in keys if k in sit.rules.positions}


def _offered(sit: Situation, item: ItemView) -> dict[str, dict[str, Position]]:
    return {"positions": offered(sit, item)}


def on_open(sit: Situation, item: ItemView) -> list[Effect]:
    """Personal ballot mails, reminders and the closing deadline, and word to the Secretariat."""
    assert item.deadline is not None, "a ballot needs a deadline"
    effects: list[Effect] = [
        Mail(
            "ballot/ballot", sit.members, "ballot", {"item": item, **_offered(sit, item)}, item.id
        ),
        Schedule(item.id, "close", item.deadline),
    ]
    for before in sit.rules.reminders.before_deadline:
        due = item.deadline - before
        if due > sit.now:
            effects.append(Schedule(item.id, "reminder", due))
    return effects


# After this many unclear replies in a row from one person, the bot stops answering them for a
# day (they go to review): a robot that answers every mail gets no endless conversation.
UNCLEAR_LIMIT = 3
# The bot's own answers: a reply to one of them never gets another unclear-answer mail.
_BOTS_ANSWERS = ("confirm", "clarify", "late", "held")


def on_reply(sit: Situation, reply: Reply) -> list[Effect]:
    """Read one reply to a ballot: record it, and tell its writer what was recorded, unless
    answering would feed a loop (see `_quiet`)."""
    item, person = reply.item, reply.person
    if person.kind == PersonKind.CHAIR:
        return _on_chair_reply(sit, reply)
    if person.kind != PersonKind.MEMBER:
        return [
            ToReview(
                "not-a-member", f"{person.email} replied to ballot {item.id}", item.id, person.id
            )
        ]
    # The views a member may join: the other members' and the Chair's, not the Secretariat's
    # (its proposal is the question itself).
    others = (
        p.name
        for p in sit.people.people
        if p.id != person.id and p.kind in (PersonKind.MEMBER, PersonKind.CHAIR)
    )
    reading = read_position(reply.text, sit.rules, offered(sit, item), others)
    ctx = {
        "item": item,
        "reading": reading,
        "label": _label(sit, reading.position),
        **_offered(sit, item),
    }

    def answer(template: str, purpose: str, **more: Any) -> list[Effect]:
        mail = Mail(template, (person,), purpose, {**ctx, **more}, item.id, reply_to=reply.message)
        return [mail]

    # Judged by when the mail server received it, not by when the bot got to read it.
    after_deadline = item.deadline is not None and reply.arrived(sit) > item.deadline
    if item.state == BallotState.CANCELLED:
        record = Record(
            item.id, person.id, reading.position, reply.text, "late", "ballot cancelled"
        )
        quiet = _repeated(sit, reply) or reply.answered in (*_BOTS_ANSWERS, "cancelled")
        reason = str(item.data.get("cancel_reason", ""))
        told = answer("ballot/cancelled", "late", reason=reason)
        return [record, *([] if quiet else told)]
    if item.state != BallotState.OPEN or after_deadline:
        note = "arrived after the deadline" if after_deadline else f"ballot {item.state}"
        record = Record(item.id, person.id, reading.position, reply.text, "late", note)
        quiet = _repeated(sit, reply) or reply.answered in _BOTS_ANSWERS
        return [record, *([] if quiet else answer("ballot/late", "late"))]
    if not reply.trusted or reply.held_because:
        why = reply.held_because or "the reply did not answer the member's own ballot mail"
        return [
            Record(item.id, person.id, reading.position, reply.text, "review", why),
            ToReview("untrusted-reply", why, item.id, person.id),
            *_unless_quiet(
                sit,
                reply,
                answer(
                    "ballot/clarify",
                    "clarify",
                    why=why,
                    code="automatic" if reply.held_because else "not-own-mail",
                    detail="",
                ),
            ),
        ]
    if reading.position is None:
        return [
            Record(item.id, person.id, None, reply.text, "review", reading.why),
            ToReview("ambiguous", f"{reading.why}: {reply.text[:200]}", item.id, person.id),
            *_unless_quiet(
                sit,
                reply,
                answer(
                    "ballot/clarify",
                    "clarify",
                    why=reading.why,
                    code=reading.code,
                    detail=reading.detail,
                ),
            ),
        ]
    standing = sit.responses.get(person.id)
    if (
        reply.answered in _BOTS_ANSWERS
        and standing is not None
        and standing.status == ResponseStatus.COUNTED
        and standing.position == reading.position
        and (not reading.reason or reading.reason == standing.text)
    ):
        return []  # the same position again, answering our own mail: nothing new to record
    asks_reason = sit.rules.positions[reading.position].asks_reason and not reading.reason
    return [
        Record(item.id, person.id, reading.position, reading.reason, "counted", reading.why),
        *answer("ballot/confirm", "confirm", asks_reason=asks_reason),
    ]


def _repeated(sit: Situation, reply: Reply) -> bool:
    """The same words as this person's latest reply (a robot, or a mail sent twice)."""
    latest = sit.latest.get(reply.person.id) or sit.responses.get(reply.person.id)
    return latest is not None and latest.text.strip() == reply.text.strip()


def _unless_quiet(sit: Situation, reply: Reply, mails: list[Effect]) -> list[Effect]:
    """An unclear reply gets one clarification per person and item until they write something
    new; never one in answer to the bot's own answer; none for a day after UNCLEAR_LIMIT."""
    if _quiet(sit, reply):
        return [ToReview("no-answer-sent", _quiet_why(sit, reply), reply.item.id, reply.person.id)]
    return mails


def _quiet(sit: Situation, reply: Reply) -> bool:
    return bool(_quiet_why(sit, reply))


def _quiet_why(sit: Situation, reply: Reply) -> str:
    person = reply.person
    if reply.answered in _BOTS_ANSWERS:
        return f"{person.name} answered the bot's own {reply.answered} mail: not answered again"
    if _repeated(sit, reply):
        return f"{person.name} sent the same words again: not answered again"
    latest = sit.latest.get(person.id) or sit.responses.get(person.id)
    recent = latest is not None and sit.now - latest.received_at < timedelta(days=1)
    if sit.unclear_in_a_row.get(person.id, 0) + 1 >= UNCLEAR_LIMIT and recent:
        return f"{person.name}: {UNCLEAR_LIMIT} unclear replies in a row; no more answers today"
    return ""


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
        return [Mail("ballot/reminder", waiting, "reminder", ctx, item.id)] if waiting else []
    if kind == "close" and item.state == BallotState.OPEN:
        if item.deadline is not None and item.deadline > sit.now:
            return []  # the close of the deadline before an extension: the new one is set
        return _close(sit, item)
    if kind == "chair-reminder" and item.state == BallotState.ESCALATED:
        ctx = {"item": item, "chair_due": datetime.fromisoformat(str(item.data["chair_due"]))}
        return [Mail("ballot/chair_reminder", (sit.chair,), "chair-reminder", ctx, item.id)]
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


def timeline(sit: Situation, item: ItemView) -> list[tuple[datetime, dict[str, Any]]]:
    """The round as it happened: opening, every reply, reminders, the deadline. Each event is
    data (what happened, to how many, whose answer), which each language's template says in its
    own words."""
    names = {p.id: p.name for p in (*sit.members, sit.chair)}
    events: list[tuple[datetime, dict[str, Any]]] = [
        (item.created_at, {"event": "opened", "count": len(sit.members)})
    ]
    reminders = Counter(s.at for s in sit.sent if s.purpose == "reminder")
    events += [(at, {"event": "reminder", "count": n}) for at, n in reminders.items()]
    for r in sit.history:
        name = names.get(r.person_id, "?")
        reply = {"event": "reply", "name": name, "position": r.position, "status": r.status}
        events.append((r.received_at, reply))
    if item.deadline is not None:
        events.append((item.deadline, {"event": "deadline"}))
    order = {"opened": 0, "reminder": 1, "reply": 2, "deadline": 3}
    return sorted(events, key=lambda e: (e[0], order[e[1]["event"]]))


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
        # Whole days at the end of business in the group's zone, off a weekend if the rules
        # say so: the Chair is not asked for "Saturday 09:01" because the close ran then.
        due = whole_days_after(
            sit.now, sit.rules.consensus.chair_response, sit.zone, sit.rules.deadlines
        )
        effects: list[Effect] = [
            move(
                item, "close", BallotState.ESCALATED, outcome="escalated", chair_due=due.isoformat()
            ),
            Mail(
                "ballot/escalation",
                (sit.chair,),
                "escalation",
                {**ctx, "chair_due": due},
                item.id,
                attach_thread=True,
            ),
            Mail(
                "ballot/outcome",
                _everyone(sit),
                "outcome",
                {**ctx, "outcome": "escalated"},
                item.id,
            ),
        ]
        for before in sit.rules.consensus.chair_reminders:
            if due - before > sit.now:
                effects.append(Schedule(item.id, "chair-reminder", due - before))
        return effects
    if missing and not sit.rules.consensus.silence_is_consent:
        return [
            move(item, "close", BallotState.CLOSED, outcome="incomplete"),
            Mail(
                "ballot/outcome",
                _everyone(sit),
                "outcome",
                {**ctx, "outcome": "incomplete"},
                item.id,
            ),
            ToReview(
                "incomplete", f"ballot {item.id} closed without every member's answer", item.id
            ),
        ]
    return [
        move(item, "close", BallotState.CONSENSUS, outcome="consensus"),
        Mail("ballot/outcome", _everyone(sit), "outcome", {**ctx, "outcome": "consensus"}, item.id),
    ]


def _on_chair_reply(sit: Situation, reply: Reply) -> list[Effect]:
    """The Board Chair determines an escalated matter by replying (ToR 4.3.b).

    The reply is read back to the Chair first ("you determined: ...; reply CONFIRM"), so that
    neither an absence notice, a question, nor a reply forged with a forwarded packet is ever
    circulated as the Chair's determination; only a CONFIRM to the read-back records it."""
    item, chair = reply.item, reply.person
    if item.state != BallotState.ESCALATED or not reply.trusted:
        why = (
            "not awaiting a determination"
            if reply.trusted
            else "not a reply to the escalation mail"
        )
        return [ToReview("chair-reply", f"{why}: {reply.text[:200]}", item.id, chair.id)]
    if reply.held_because:
        why = f"not taken as a determination: {reply.held_because}"
        return [ToReview("chair-reply", why, item.id, chair.id)]
    text = reply.text.strip()
    pending = str(item.data.get("proposed_determination") or "")
    if pending and reply.answered == readback_purpose(pending):
        assent = read_assent(text)
        if assent == Assent.YES:
            return _determine(sit, reply, pending)
        if assent == Assent.NO:
            return [
                move(item, "propose", BallotState.ESCALATED, proposed_determination=""),
                ToReview("chair-reply", "the Chair withdrew the proposed determination", item.id),
                Mail(
                    "ballot/determination_withdrawn",
                    (chair,),
                    "readback",
                    {"item": item},
                    item.id,
                    reply_to=reply.message,
                ),
            ]
    if reply.answered.startswith("readback") or (pending and text == pending):
        # Neither CONFIRM nor NO to the pending read-back (or an answer to an older one, whose
        # text is no longer the one pending), or the same words again: a person decides.
        why = f"not the answer to the pending read-back: {text[:200]}"
        return [ToReview("chair-reply", why, item.id, chair.id)]
    aside = not_an_answer(text)
    if aside is not None:
        why = f"not recorded, {aside}: {text[:200]}"
        return [ToReview("chair-reply", why, item.id, chair.id)]
    if sit.rules.consensus.chair_readback:
        return [
            Record(item.id, chair.id, None, text, "review", "proposed; read back to the Chair"),
            move(item, "propose", BallotState.ESCALATED, proposed_determination=text),
            Mail(
                "ballot/determination_readback",
                (chair,),
                readback_purpose(text),
                {"item": item, "determination": text},
                item.id,
                reply_to=reply.message,
            ),
        ]
    if reply.verified is None:
        why = "the sender is not proven by DKIM or DMARC and the rules ask for no read-back"
        return [ToReview("unverified-determination", why, item.id, chair.id)]
    return _determine(sit, reply, text)


def readback_purpose(text: str) -> str:
    """The read-back mail's purpose names the text it reads back, so that a CONFIRM confirms
    exactly that text and never one proposed (or forged) after it."""
    return f"readback:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _determine(sit: Situation, reply: Reply, determination: str) -> list[Effect]:
    """Record the Chair's determination, confirm it to the Chair and circulate it."""
    item, chair = reply.item, reply.person
    ctx = {"item": item, "determination": determination, "tally": tally(sit)}
    return [
        Record(item.id, chair.id, "determination", determination, "counted", "Board Chair"),
        move(
            item,
            "determination",
            BallotState.DETERMINED,
            outcome="determined",
            determination=determination,
            proposed_determination="",
        ),
        Mail(
            "ballot/determination_confirm",
            (chair,),
            "confirm",
            ctx,
            item.id,
            reply_to=reply.message,
        ),
        Mail("ballot/determination", _everyone(sit), "outcome", ctx, item.id),
    ]


# -- opening: the CLI and the BALLOT: command --------------------------------------------------


def _option_keys(values: list[str], rules: Rules) -> tuple[tuple[str, ...], list[str]]:
    """Position keys for words naming them (key or label, any case), and the words that do not."""
    by_name = {k.lower(): k for k in rules.positions}
    by_name.update({p.label.lower(): k for k, p in rules.positions.items()})
    keys, unknown = [], []
    for word in (w.strip().lower() for w in values if w.strip()):
        if word in by_name:
            keys.append(by_name[word])
        else:
            unknown.append(word)
    return tuple(dict.fromkeys(keys)), unknown


def validate(spec: OpenItem, sit: Situation) -> list[str]:
    """A ballot needs a deadline in the future, and only offers positions the rules know."""
    problems = []
    if spec.deadline is None:
        problems.append("a ballot needs a deadline")
    elif spec.deadline <= sit.now:
        problems.append(
            f"the deadline {spec.deadline.isoformat()} is not in the future "
            f"(now {sit.now.isoformat()})"
        )
    unknown = [o for o in spec.data.get("options", ()) if o not in sit.rules.positions]
    if unknown:
        known = ", ".join(sit.rules.positions)
        problems.append(f"--options: {', '.join(unknown)} not in the rules ({known})")
    return problems


@dataclass(frozen=True)
class OpenBallot:
    title: str
    question: str
    deadline: datetime
    options: tuple[str, ...]


def is_command(subject: str) -> bool:
    return command_argument(subject, BallotCommand.prefix) is not None


def parse_ballot(subject: str, text: str, rules: Rules, zone: str, now: datetime) -> OpenBallot:
    """Read `BALLOT: title` and its body; every problem found is reported at once.

    Body: `Deadline: 2026-12-11 17:00` (a date alone means 17:00, the group's zone unless one
    is named; no line: the rules' email round), `Options: agree, object` (optional), and the
    question, as many lines as needed, above or below the fields."""
    title = command_argument(subject, BallotCommand.prefix)
    assert title is not None, "call is_command first"
    problems = [] if title else ["the subject has no title after 'BALLOT:'"]
    fields, question = read_fields(text, ("deadline", "options", "by", "due"))
    options: tuple[str, ...] = ()
    if "options" in fields:
        options, unknown = _option_keys(re.split(r"[,;/]|\s+", fields["options"]), rules)
        labels = ", ".join(p.label for p in rules.positions.values())
        problems += [f"Options: {w!r} is not a position in the rules ({labels})" for w in unknown]
    deadline: datetime | None = now + rules.consensus.email_round
    written = fields.get("deadline") or fields.get("by") or fields.get("due")
    if written is not None:
        try:
            deadline = parse_deadline(written, zone, rules.deadlines)
        except ValueError as exc:
            deadline = None
            problems.append(
                f"Deadline: {written.strip()!r} is not a date ({exc}); write "
                "2026-12-11, 2026-12-11 17:00 or 2026-12-11 17:00 Europe/Paris"
            )
    if not question:
        problems.append("the body has no question after the Deadline/Options lines")
    if deadline is not None and deadline <= now:
        problems.append(f"Deadline: {deadline.isoformat()} is not in the future")
    if problems:
        raise CommandError(problems)
    assert deadline is not None
    return OpenBallot(title, question, deadline, options)


class BallotCommand:
    """`BALLOT: <title>` from the Secretariat opens a ballot."""

    prefix = "BALLOT"
    description = "open a consensus ballot: Deadline:, Options: and the question in the body"

    def run(self, mail: CommandMail, sit: Situation) -> list[Effect]:
        subject = f"{self.prefix}: {mail.argument}"  # the command mail, or the one confirmed
        ballot = parse_ballot(subject, mail.text, sit.rules, sit.zone, sit.now)
        # Who, as a reader names them; the command's Message-ID is in the register already.
        opened_by = f"{mail.sender.name} <{mail.sender.email}> by email"
        data: dict[str, Any] = {"options": list(ballot.options)} if ballot.options else {}
        return [
            OpenItem(
                ItemKind.BALLOT,
                ballot.title,
                ballot.question,
                ballot.deadline,
                opened_by,
                data,
                reply_to=mail.message,
            )
        ]


# -- the console: what the Secretariat does to an open ballot, from the CLI or by mail -----------


def _shown(at: datetime, sit: Situation) -> str:
    """A time in an error the Secretariat reads: the group's zone, to the minute."""
    return f"{at.astimezone(ZoneInfo(sit.zone)):%Y-%m-%d %H:%M} ({sit.zone})"


def _still_open(item: ItemView, doing: str) -> None:
    if item.state != BallotState.OPEN:
        raise ValueError(f"ballot {item.id} is {item.state}: it cannot be {doing}")


def _reminders(sit: Situation, item_id: int, deadline: datetime) -> list[Effect]:
    """The reminders of a new deadline; the first replaces those of the one before."""
    dues = [deadline - b for b in sit.rules.reminders.before_deadline if deadline - b > sit.now]
    return [Schedule(item_id, "reminder", due, replaces=n == 0) for n, due in enumerate(dues)]


def _answers(sit: Situation) -> dict[int, str]:
    """Each member's counted position key, for mails that remind them what stands."""
    return {
        pid: r.position
        for pid, r in sit.responses.items()
        if r.status == ResponseStatus.COUNTED and r.position
    }


def extend(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """A later deadline: every member is told it in their zone (with what they answered, if
    they did), and the close and the reminders follow it."""
    new: datetime = args["deadline"]
    _still_open(item, "extended")
    assert item.deadline is not None, "a ballot has a deadline"
    if new <= item.deadline or new <= sit.now:
        was = max(item.deadline, sit.now)
        raise ValueError(
            f"ballot {item.id}: the new deadline {_shown(new, sit)} is not after "
            f"{'the current one' if was == item.deadline else 'now'} ({_shown(was, sit)})"
        )
    extended = replace(item, deadline=new)
    ctx = {"item": extended, "was": item.deadline, "answers": _answers(sit), **_offered(sit, item)}
    return [
        WORKFLOW.move(
            item, "extend", BallotState.OPEN, new, previous_deadline=item.deadline.isoformat()
        ),
        Mail("ballot/extended", sit.members, "extended", ctx, item.id),
        Schedule(item.id, "close", new, replaces=True),
        *_reminders(sit, item.id, new),
    ]


def cancel(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """Withdrawn before its deadline: members and Secretariat told why; nothing is decided."""
    reason = str(args.get("reason") or "").strip()
    _still_open(item, "cancelled")
    if not reason:
        raise ValueError(f"ballot {item.id}: give the reason, which the members are told")
    ctx = {"item": item, "reason": reason}
    return [
        WORKFLOW.move(
            item, "cancel", BallotState.CANCELLED, outcome="cancelled", cancel_reason=reason
        ),
        Mail("ballot/cancelled", _everyone(sit), "cancelled", ctx, item.id),
    ]


def remind(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """Chase now the members who have not answered (a clear answer counts; an unclear one not)."""
    _still_open(item, "chased")
    if item.deadline is not None and item.deadline <= sit.now:
        raise ValueError(f"ballot {item.id}: its deadline has passed; it closes next")
    waiting = missing_members(sit)
    if not waiting:
        raise ValueError(f"ballot {item.id}: every member has answered; nobody to remind")
    ctx = {"item": item, **_offered(sit, item)}
    return [Mail("ballot/reminder", waiting, "reminder", ctx, item.id)]


def resolve(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """The Secretariat records what a member clearly meant (a reply the bot would not guess
    at): counted, with the Secretariat's name and note in the history, and confirmed to the
    member, who can still answer otherwise before the deadline."""
    person = sit.member(int(args["person_id"]))
    if person is None:
        raise ValueError(f"ballot {item.id}: person #{args['person_id']} is not a member")
    _still_open(item, "answered any more (dismiss the entry instead)")
    keys, _ = _option_keys([str(args["position"])], sit.rules)
    choices = offered(sit, item)
    if not keys or keys[0] not in choices:
        labels = ", ".join(p.label for p in choices.values())
        raise ValueError(
            f"{args['position']!r} is not a position ballot {item.id} offers ({labels})"
        )
    by, note = str(args["by"]), str(args.get("note") or "").strip()
    why = f"recorded by {by}" + (f": {note}" if note else "")
    words = str(args.get("text") or "")
    ctx = {
        "item": item,
        "label": _label(sit, keys[0]),
        "by": by,
        "note": note,
        "words": words,
        "asks_reason": choices[keys[0]].asks_reason and not words.strip(),
        **_offered(sit, item),
    }
    reply_to = args.get("reply_to")
    return [
        Record(item.id, person.id, keys[0], words, ResponseStatus.COUNTED, why),
        Mail("ballot/resolved", (person,), "confirm", ctx, item.id, reply_to=reply_to),
    ]


_TAGGED = r"(?<![\w-]){tag}-(?P<n>\d+)\b"
_NUMBERED = re.compile(r"^#?(?P<n>\d+)\b")


def item_named(argument: str, tag: str) -> int | None:
    """The item a command's subject names: `12`, `#12`, or the item's tag `[CG-12]` anywhere,
    so that a command written before the subject of a reply in the item's thread works too."""
    tagged = re.search(_TAGGED.format(tag=re.escape(tag)), argument, re.IGNORECASE)
    found = tagged or _NUMBERED.match(argument.strip())
    return int(found.group("n")) if found else None


def _read_extend(text: str, sit: Situation) -> dict[str, Any]:
    fields, _ = read_fields(text, ("deadline", "until", "by"))
    written = fields.get("deadline") or fields.get("until") or fields.get("by")
    if written is None:
        raise CommandError(["the body has no 'Deadline:' line (Deadline: 2026-12-18 17:00)"])
    try:
        return {"deadline": parse_deadline(written, sit.zone, sit.rules.deadlines)}
    except ValueError as exc:
        raise CommandError([f"Deadline: {written.strip()!r} is not a date ({exc})"]) from exc


def _read_cancel(text: str, sit: Situation) -> dict[str, Any]:
    fields, prose = read_fields(text, ("reason",))
    reason = (fields.get("reason") or prose).strip()
    if not reason:
        raise CommandError(["the body gives no reason (a 'Reason:' line, or a sentence)"])
    return {"reason": reason}


def _read_nothing(text: str, sit: Situation) -> dict[str, Any]:
    return {}


class ItemCommand:
    """`EXTEND: 12`, `CANCEL: 12`, `REMIND: 12` from the Secretariat: the console's action on
    the item the subject names, carried out by the shell (which loads the item) as an Act."""

    def __init__(
        self,
        prefix: str,
        action: str,
        description: str,
        read: Callable[[str, Situation], dict[str, Any]],
    ) -> None:
        self.prefix, self.action, self.description, self.read = prefix, action, description, read

    def run(self, mail: CommandMail, sit: Situation) -> list[Effect]:
        item_id = item_named(mail.argument, sit.tag)
        problems = (
            []
            if item_id is not None
            else [f"the subject names no item: write '{self.prefix}: 12' (or [{sit.tag}-12])"]
        )
        try:
            args = self.read(mail.text, sit)
        except CommandError as exc:
            problems += exc.problems
        if problems:
            raise CommandError(problems)
        assert item_id is not None
        written = f"{self.prefix}: {mail.argument}"
        return [Act(item_id, self.action, args, mail.sender, mail.message, written)]


COMMANDS = (
    BallotCommand(),
    ItemCommand(
        "EXTEND",
        "extend",
        "a later deadline for ballot N: EXTEND: N, Deadline: in the body",
        _read_extend,
    ),
    ItemCommand(
        "CANCEL", "cancel", "withdraw ballot N: CANCEL: N, the reason in the body", _read_cancel
    ),
    ItemCommand(
        "REMIND",
        "remind",
        "chase now those who have not answered ballot N: REMIND: N",
        _read_nothing,
    ),
)


# -- what status, explain and the digest show ---------------------------------------------------


def summary(item: ItemView, sit: Situation) -> dict[str, Any]:
    """The outcome, the positions offered and the Board Chair's determination, if any."""
    determination = None
    chair = sit.chair
    for person_id, r in sit.responses.items():
        if r.position == "determination":
            by = chair.email if person_id == chair.id else None
            determination = {"by": by, **response_record(r)}
    return {
        "outcome": item.data.get("outcome"),
        "options": [p.label for p in offered(sit, item).values()],
        "determination": determination,
    }


def response_record(r: ResponseView) -> dict[str, Any]:
    return {
        "position": r.position,
        "status": r.status,
        "at": r.received_at.isoformat(),
        "message_id": r.message_id,
        "text": r.text,
    }


WORKFLOW = Workflow(
    kind=ItemKind.BALLOT,
    description="consensus ballot by email, escalated to the Board Chair (ToR 4.3)",
    states=BallotState,
    initial=BallotState.OPEN,
    transitions=TRANSITIONS,
    on_open=on_open,
    on_reply=on_reply,
    on_deadline=on_deadline,
    templates=data_dir("templates") / "ballot",
    validate=validate,
    summary=summary,
    explain=explain_records,
    commands=COMMANDS,
    actions={"extend": extend, "cancel": cancel, "remind": remind, "resolve": resolve},
    waits_for_mail=frozenset({"close"}),  # replies that reached the server in time count
)
