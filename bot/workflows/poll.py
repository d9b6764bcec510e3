"""Finding a time for an ad hoc meeting (ToR 4.1.c): a few slots, each member's own time zone,
answers by reply ("1 and 3", "any", "none of these"), the tally and the best slot to the
Secretariat, and one command that turns the chosen slot into a meeting with its call."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.effects import Effect, Mail, OpenItem, Record, Schedule, ToReview
from bot.domain.types import ItemKind, ItemView, PersonKind
from bot.inbound.commands import parse_deadline, read_fields
from bot.inbound.reply import answer_line
from bot.resources import data_dir
from bot.workflows.base import CommandError, CommandMail, Reply, Situation, Workflow
from bot.workflows.meeting import ad_hoc

MAX_SLOTS = 9


class PollState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    SCHEDULED = "scheduled"


TRANSITIONS: dict[tuple[StrEnum, str], tuple[StrEnum, ...]] = {
    (PollState.OPEN, "close"): (PollState.CLOSED,),
    (PollState.OPEN, "schedule"): (PollState.SCHEDULED,),
    (PollState.CLOSED, "schedule"): (PollState.SCHEDULED,),
}

_ALL = re.compile(
    r"^\W*(?:any|all|all of them|any of them|either|toutes?|n'importe|"
    r"cualquiera|todas?|qualquer|todos?)\b",
    re.IGNORECASE,
)
_NONE = re.compile(
    r"^\W*(?:none|no slot|neither|none of (?:these|them)|aucune?|ninguna|ninguno|nenhuma|nenhum)\b",
    re.IGNORECASE,
)
# Slot numbers and what joins them; no "/" or ".", which make dates and times ("2/12", "14.00").
_NUMBERS = re.compile(r"^[\s\d,;&+#]*(?:(?:and|et|y|e|or|ou|o)\b[\s\d,;&+#]*)*", re.IGNORECASE)
# Words members put around the numbers: "Option 2", "slots 1 and 3", "only 2", "2 works for me".
_LEAD = re.compile(
    r"^\W*(?:(?:only|just|seulement|uniquement|solo|sólo|solamente|apenas|somente)\s+)?"
    r"(?:(?:(?:the|les?|la|las|los|a|as|o|os)\s+)?"  # an article only before the noun:
    r"(?:options?|slots?|numbers?|créneaux?|creneaux?|num[ée]ros?|opci[oó]n|opciones|"
    r"opç(?:ão|ões)|opcao|opcoes))?\s*",  # "Les 3 me conviennent" is all three, not slot 3
    re.IGNORECASE,
)
# What may follow the numbers, and nothing else: a word that could be a month, a time, "not",
# "impossible" or "doesn't work" leaves the reply to review ("3 December", "2pm", "2 is out").
_TAIL = re.compile(
    r"^(?:(?:works?|both|fine|good|ok|okay|great|perfect|suits? me|for me|is|are|me|only|"
    r"one|"
    r"please|thanks?|thank you|too|also|sorry|désolée?|lo siento|desculpe|"
    r"me conviennent|me convient|conviennent|convient|parfait|merci|seulement|"
    r"me va|me van|bien|gracias|perfecto|solamente|"
    r"estão bons|está bom|servem|serve|obrigad[oa]|perfeito|somente)"
    r"(?:[\s,.!]+|$))*$",
    re.IGNORECASE,
)


def read_slots(text: str, count: int, name: str = "") -> tuple[int, ...] | None:
    """The slot numbers a reply picks from its first line: () for none, None when unclear.
    Only known words may stand around them ("Option 2", "2 works for me", "any of them"), and
    no other line may follow but a closing and the member's `name`: "2 and 3" then "Actually,
    3 doesn't work" is read by the Secretariat."""
    line = answer_line(text, name)
    if line is None:
        return None
    if re.match(r"\W*\+\d", line):  # "+1": agreeing with a colleague, not slot 1
        return None
    for whole, every in ((_NONE, ()), (_ALL, tuple(range(1, count + 1)))):
        found = whole.match(line)
        if found:  # "Any except 2", "All are impossible", "Aucun problème": a person reads it
            rest = line[found.end() :].strip(" \t,;:.!")
            rest = re.sub(r"^(?:of (?:them|these|the slots)|les créneaux|las opciones|as opções)"
                          r"\b", "", rest, flags=re.IGNORECASE).strip(" \t,;:.!")  # fmt: skip
            return every if _TAIL.match(rest) else None
    lead = _LEAD.match(line)
    head = line[lead.end() :] if lead else line
    numbers = _NUMBERS.match(head)
    digits = re.findall(r"\d+", numbers.group(0)) if numbers else []
    tail = head[numbers.end() :].strip(" \t,;:.!") if numbers else head
    if not digits or not _TAIL.match(tail):
        return None
    picked = tuple(sorted({int(n) for n in digits}))
    return None if any(not 1 <= n <= count for n in picked) else picked


def slots_of(item: ItemView) -> list[datetime]:
    return [datetime.fromisoformat(str(s)) for s in item.data.get("slots", [])]


def on_open(sit: Situation, item: ItemView) -> list[Effect]:
    assert item.deadline is not None
    ctx = {"item": item, "slots": slots_of(item)}
    return [
        Mail("poll/ask", sit.members, "poll", ctx, item.id),
        Schedule(item.id, "close", item.deadline),
    ]


def on_reply(sit: Situation, reply: Reply) -> list[Effect]:
    item, person = reply.item, reply.person
    if person.kind != PersonKind.MEMBER or item.state != PollState.OPEN or not reply.trusted:
        why = f"a reply to a poll that does not count ({item.state}): {reply.text[:200]}"
        return [ToReview("poll-reply", why, item.id, person.id)]
    picked = read_slots(reply.text, len(slots_of(item)), reply.person.name)
    ctx: dict[str, Any] = {"item": item, "slots": slots_of(item), "picked": picked}
    if picked is None:
        effects: list[Effect] = [
            Record(item.id, person.id, None, reply.text, "review", "no slot numbers read")
        ]
        if reply.answered != "clarify":  # never a second question in answer to the first
            effects.append(
                Mail("poll/clarify", (person,), "clarify", ctx, item.id, reply_to=reply.message)
            )
        return effects
    position = "slots:" + ",".join(str(n) for n in picked)
    return [
        Record(item.id, person.id, position, reply.text, "counted", "poll"),
        Mail("poll/noted", (person,), "confirm", ctx, item.id, reply_to=reply.message),
    ]


def tally(sit: Situation, item: ItemView) -> list[dict[str, Any]]:
    """Per slot: who can come; the best slot first (most people, then the earliest)."""
    names = {p.id: p.name for p in sit.members}
    rows = []
    for n, start in enumerate(slots_of(item), start=1):
        can = [
            names[pid]
            for pid, r in sit.responses.items()
            if pid in names
            and r.status == "counted"
            and r.position
            and str(n) in (r.position.removeprefix("slots:").split(","))
        ]
        rows.append({"n": n, "start": start, "can": can})
    return sorted(rows, key=lambda row: (-len(row["can"]), row["start"]))


def on_deadline(sit: Situation, item: ItemView, kind: str) -> list[Effect]:
    if kind != "close" or item.state != PollState.OPEN:
        return []
    answered = {pid for pid, r in sit.responses.items() if r.status == "counted"}
    ctx = {
        "item": item,
        "tally": tally(sit, item),
        "silent": [m.name for m in sit.members if m.id not in answered],
    }
    return [
        WORKFLOW.move(item, "close", PollState.CLOSED),
        Mail("poll/result", sit.secretariat, "outcome", ctx, item.id, personal=False),
    ]


def schedule_slot(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """The chosen slot (default: the best) becomes a meeting with its call (ToR 4.1.c)."""
    slots = slots_of(item)
    n = int(args.get("slot") or tally(sit, item)[0]["n"])
    if item.state == PollState.SCHEDULED or not 1 <= n <= len(slots):
        raise ValueError(f"poll {item.id}: no slot {n} to schedule (or already scheduled)")
    minutes = int(item.data.get("minutes", 60))
    meeting = ad_hoc(item.title, slots[n - 1], minutes, str(item.data.get("where", "")), sit)
    return [WORKFLOW.move(item, "schedule", PollState.SCHEDULED, slot=n), meeting]


def summary(item: ItemView, sit: Situation) -> dict[str, Any]:
    return {
        "slots": [
            {"n": row["n"], "start": row["start"].isoformat(), "can": row["can"]}
            for row in sorted(tally(sit, item), key=lambda row: row["n"])
        ]
    }


def validate(spec: OpenItem, sit: Situation) -> list[str]:
    slots = [datetime.fromisoformat(str(s)) for s in spec.data.get("slots", [])]
    problems = []
    if not 1 <= len(slots) <= MAX_SLOTS:
        problems.append(f"a poll offers 1 to {MAX_SLOTS} slots, not {len(slots)}")
    if any(s <= sit.now for s in slots):
        problems.append("every slot must be in the future")
    if spec.deadline is None or spec.deadline <= sit.now:
        problems.append("a poll needs an answer-by date in the future")
    elif slots and spec.deadline >= min(slots):
        problems.append("the answer-by date must come before the first slot")
    return problems


def poll(
    title: str, slots: list[datetime], deadline: datetime, minutes: int, where: str
) -> OpenItem:
    data = {"slots": [s.isoformat() for s in slots], "minutes": minutes, "where": where}
    return OpenItem(ItemKind.POLL, title, "", deadline, "cli", data)


class PollCommand:
    """`POLL: <title>` from the Secretariat: Slots: (several, ';'), Answer by:, Duration:."""

    prefix = "POLL"
    description = "find a time: Slots: 2027-01-12 14:00; 2027-01-13 10:00, Answer by:, Duration:"

    def run(self, mail: CommandMail, sit: Situation) -> list[Effect]:
        fields, _ = read_fields(mail.text, ("slots", "answer by", "duration", "where"))
        problems = [] if mail.argument else ["the subject has no title after 'POLL:'"]
        slots = []
        for value in re.split(r"[;\n]", fields.get("slots", "")):
            if value.strip():
                try:
                    slots.append(parse_deadline(value, sit.zone))
                except ValueError as exc:
                    problems.append(f"Slots: {value.strip()!r} is not a date and time ({exc})")
        try:
            deadline = parse_deadline(fields.get("answer by", ""), sit.zone, sit.rules.deadlines)
        except ValueError as exc:
            problems.append(f"Answer by: {fields.get('answer by', '')!r} is not a date ({exc})")
            deadline = sit.now
        minutes = fields.get("duration", "60").strip()
        if not minutes.isdigit():
            problems.append(f"Duration: {minutes!r} is not a number of minutes")
        if problems:
            raise CommandError(problems)
        spec = poll(mail.argument, slots, deadline, int(minutes), fields.get("where", ""))
        return [replace(spec, opened_by=f"{mail.sender.email} by email", reply_to=mail.message)]


WORKFLOW = Workflow(
    kind=ItemKind.POLL,
    description="finding a time for an ad hoc meeting (ToR 4.1.c)",
    states=PollState,
    initial=PollState.OPEN,
    transitions=TRANSITIONS,
    on_open=on_open,
    on_reply=on_reply,
    on_deadline=on_deadline,
    templates=data_dir("templates") / "poll",
    validate=validate,
    summary=summary,
    commands=(PollCommand(),),
    actions={"schedule": schedule_slot},
    waits_for_mail=frozenset({"close"}),
)
