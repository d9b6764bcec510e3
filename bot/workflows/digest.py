"""The Secretariat's digest (ToR 6.2.f): one mail a day when something changed, and a weekly
summary, so that nobody has to read fifty threads to know where things stand. It opens with who
owes what, then ballots, feedback rounds, actions, meetings, bounced addresses and the review
queue. A day with nothing new sends nothing."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.effects import Effect, Mail, Remember, Settle
from bot.domain.types import ItemKind
from bot.inbound.commands import read_fields
from bot.resources import data_dir
from bot.workflows.base import (
    CommandError,
    CommandMail,
    Situation,
    Tick,
    Workflow,
    next_local,
    no_deadline,
    no_opening,
    no_reply,
)

AT = "07:00"  # in the group's time zone


class DigestState(StrEnum):
    NONE = "none"  # the digest has no items of its own


def _next(sit: Situation, weekday: int | None) -> datetime:
    return next_local(sit.now, sit.zone, AT, lambda d: weekday is None or d.weekday() == weekday)


def schedule(sit: Situation) -> list[Tick]:
    """Every day at 07:00, and on Mondays the weekly summary, in the group's time zone."""
    return [Tick("daily", _next(sit, None)), Tick("weekly", _next(sit, 0))]


def _open(items: list[dict[str, Any]], kind: str, states: tuple[str, ...]) -> list[dict[str, Any]]:
    return [i for i in items if i["kind"] == kind and i["state"] in states]


def _at(value: Any) -> datetime | None:
    """A time the overview gives as ISO text, as a time the templates write in their language."""
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


_LATEST = datetime.max.replace(tzinfo=ZoneInfo("UTC"))  # what has no date sorts last


def owed(sit: Situation, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per member: what they still have to answer, and by when (soonest first)."""
    out = []
    for member in sit.members:
        things: list[tuple[datetime | None, str]] = []
        for ballot in _open(items, "ballot", ("open",)):
            if ballot["responses"].get(member.email, {}).get("status") != "counted":
                things.append((_at(ballot["deadline"]), f"ballot: {ballot['title']}"))
        for round_ in _open(items, "feedback", ("open",)):
            if round_["responses"].get(member.email, {}).get("status") == "no answer":
                things.append((_at(round_["deadline"]), f"feedback: {round_['title']}"))
        for action in _open(items, "action", ("open", "overdue")):
            if action.get("owner") == member.email:
                what = f"action ({action['state']}): {action['title']}"
                things.append((_at(action["due"]), what))
        for meeting in _open(items, "meeting", ("scheduled",)):
            if meeting.get("attendance", {}).get(member.email) == "no answer":
                things.append((_at(meeting["starts_at"]), f"attendance: {meeting['title']}"))
        if things:
            things.sort(key=lambda t: (t[0] or _LATEST, t[1]))
            out.append({"person": member, "things": things})
    return out


def _for_reading(item: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """An item as the digest shows it: people by name, times as times."""
    shown = dict(item)
    for key in ("deadline", "due", "starts_at"):
        if key in shown:
            shown[key] = _at(shown[key])
    for key in ("responses", "attendance"):
        if isinstance(shown.get(key), dict):
            shown[key] = {names.get(email, email): v for email, v in shown[key].items()}
    if "owner" in shown:
        shown["owner"] = names.get(shown["owner"], shown["owner"])
    return shown


# A meeting held longer ago than this without its record in the bot (kept elsewhere, say) is no
# longer shown: the digest asks for the records still fresh enough to write.
RECORD_WINDOW = timedelta(days=30)


def unrecorded(
    items: list[dict[str, Any]], now: datetime, names: dict[str, str]
) -> list[dict[str, Any]]:
    """Meetings held in the last RECORD_WINDOW whose record is not sent (ToR 6.2.b)."""
    return [
        _for_reading(m, names)
        for m in _open(items, "meeting", ("held",))
        if not m.get("record") and (_at(m.get("ends_at")) or now) > now - RECORD_WINDOW
    ]


def content(sit: Situation) -> dict[str, Any]:
    """What the digest shows, from the overview the shell reads for it."""
    items: list[dict[str, Any]] = sit.overview.get("items", [])
    names = {p.email: p.name for p in sit.people.people}

    def shown(kind: str, states: tuple[str, ...]) -> list[dict[str, Any]]:
        return [_for_reading(i, names) for i in _open(items, kind, states)]

    return {
        "owed": owed(sit, items),
        "ballots": shown("ballot", ("open", "escalated")),
        "rounds": shown("feedback", ("open",)),
        "actions": shown("action", ("open", "overdue")),
        "meetings": shown("meeting", ("scheduled",)),
        "unrecorded": unrecorded(items, sit.now, names),
        "failing": sit.overview.get("failing", []),
        "review": sit.overview.get("review_queue", []),
    }


def fingerprint(shown: dict[str, Any]) -> str:
    """What a reader would see, reduced to a hash: equal means nothing new."""
    plain = json.dumps(shown, sort_keys=True, default=str)
    return hashlib.sha256(plain.encode()).hexdigest()


def on_tick(sit: Situation, job: str) -> list[Effect]:
    shown = content(sit)
    mark = fingerprint(shown)
    if job == "daily" and sit.remembered.get("last") == mark:
        return []  # nothing new since the last digest: no mail
    ctx = {**shown, "weekly": job == "weekly", "today": sit.now}
    return [
        Mail("digest/digest", sit.secretariat, "digest", ctx, personal=False),
        Remember("last", mark),
    ]


class ResolveCommand:
    """`RESOLVE: 4` from the Secretariat, with `As: agree` (or `As: dismiss`) and a `Note:` in
    the body: settles review entry 4 as `cgbot review resolve 4 --as agree --note ...` does, for
    a Secretariat that works from its mail client (the digest lists the queue)."""

    prefix = "RESOLVE"
    description = "settle review entry N: RESOLVE: N, As: <position> or As: dismiss, Note: <why>"

    def run(self, mail: CommandMail, sit: Situation) -> list[Effect]:
        fields, prose = read_fields(mail.text, ("as", "note"))
        number = mail.argument.strip().removeprefix("#")
        answer = fields.get("as", "").strip()
        problems = []
        if not re.fullmatch(r"[0-9]{1,9}", number):
            problems.append("the subject names no review entry: write 'RESOLVE: 4'")
        if not answer:
            problems.append(
                "the body says nothing to record: an 'As: agree' (or 'As: dismiss') line"
            )
        if problems:
            raise CommandError(problems)
        note = (fields.get("note") or prose).strip()[:1000]
        command = f"RESOLVE: {mail.argument}"
        return [Settle(int(number), answer, note, mail.sender, mail.message, command)]


WORKFLOW = Workflow(
    kind=ItemKind.DIGEST,
    description="the Secretariat's daily digest and weekly summary (ToR 6.2.f)",
    states=DigestState,
    initial=DigestState.NONE,
    transitions={},
    on_open=no_opening,
    on_reply=no_reply,
    on_deadline=no_deadline,
    templates=data_dir("templates") / "digest",
    schedule=schedule,
    on_tick=on_tick,
    overview=True,
    commands=(ResolveCommand(),),
)
