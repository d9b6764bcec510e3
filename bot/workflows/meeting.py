"""Meetings by email (ToR 4.1, 2.2.c): calls with calendar invitations, and attendance.

The regular meetings are derived from the rules' cadence and the config's dates (no second
source of truth): a daily look-ahead opens each meeting whose call is due, once (its key is the
series and the date), and a call that is still useful after downtime goes out late, once. A
member answers with the Accept/Decline of their calendar client or by a plain reply; an
apology reaches the Secretariat at once."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from bot.domain.effects import Effect, Mail, OpenItem, Record, Schedule, ToReview
from bot.domain.types import (
    Invitation,
    ItemKind,
    ItemView,
    MeetingSeries,
    PersonKind,
    PersonView,
)
from bot.inbound.attendance import read_attendance
from bot.inbound.commands import parse_deadline, read_fields
from bot.resources import data_dir
from bot.workflows.action import action
from bot.workflows.base import CommandError, CommandMail, Reply, Situation, Tick, Workflow

LOOK_AHEAD = timedelta(days=400)  # how far the cadence is searched for the next meeting
AGENDA_DELAY = timedelta(hours=1)  # a late call's agenda waits at least this for proposals
_PROPOSAL = re.compile(
    r"^\s*(?:agenda(?: item)?|proposed (?:agenda )?item|item for the agenda|"
    r"point (?:pour|à) l'ordre du jour|ordre du jour|"
    r"punto (?:para el|del) orden del día|orden del día|"
    r"(?:ponto|item) (?:de|para a) pauta|pauta)\s*:\s*(?P<title>.+)$",
    re.IGNORECASE | re.MULTILINE,
)
_AGENDA_EDIT = re.compile(r"^\s*(?P<verb>accept|drop|add)\b\s*:?\s*(?P<rest>.*)$", re.I | re.M)


class MeetingState(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


TRANSITIONS: dict[tuple[StrEnum, str], tuple[StrEnum, ...]] = {
    (MeetingState.SCHEDULED, "agenda"): (MeetingState.SCHEDULED,),
    (MeetingState.HELD, "record"): (MeetingState.HELD,),
    (MeetingState.SCHEDULED, "end"): (MeetingState.HELD,),
    (MeetingState.SCHEDULED, "move"): (MeetingState.SCHEDULED,),
    (MeetingState.SCHEDULED, "cancel"): (MeetingState.CANCELLED,),
}

# How a plain reply says it: apologies first, since "I can attend" hides in "I cannot attend".
_ANSWER = {"ACCEPTED": "attending", "DECLINED": "apology", "TENTATIVE": "tentative"}


def occurrences(series: MeetingSeries, after: datetime, before: datetime) -> list[datetime]:
    """The series' meeting starts in (after, before], in UTC."""
    zone = ZoneInfo(series.zone)
    hour, minute = (int(x) for x in series.time.split(":"))
    local_after = after.astimezone(zone).replace(tzinfo=None)
    first = datetime.combine(local_after.date() - timedelta(days=1), time(hour, minute))
    rule = rrulestr(series.rrule, dtstart=first)
    local_before = before.astimezone(zone).replace(tzinfo=None)
    starts = rule.between(first, local_before, inc=True)
    utc = [s.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")) for s in starts]
    return [t for t in utc if after < t <= before]


def coming(sit: Situation, until: datetime) -> list[tuple[MeetingSeries, datetime]]:
    """Every regular meeting from now until `until`, a replaced series' dates left out."""
    found = {s.name: occurrences(s, sit.now - LOOK_AHEAD / 10, until) for s in sit.series}
    out = []
    for series in sit.series:
        replacing = [s for s in sit.series if s.replaces == series.name]
        taken = {(t.year, t.month) for r in replacing for t in found[r.name]}
        out += [(series, t) for t in found[series.name] if (t.year, t.month) not in taken]
    return sorted((pair for pair in out if pair[1] > sit.now), key=lambda pair: pair[1])


def key(series: MeetingSeries, start: datetime) -> str:
    return f"meeting:{series.name}:{start.astimezone(ZoneInfo(series.zone)):%Y-%m-%d}"


def schedule(sit: Situation) -> list[Tick]:
    """The look-ahead runs once in each hour, at the first chance (so at once on a first start,
    and once after downtime): its slot is the current hour, which runs only once."""
    hour = sit.now.replace(minute=0, second=0, microsecond=0)
    return [Tick("calls", hour)] if sit.series else []


def on_tick(sit: Situation, job: str) -> list[Effect]:
    """Open each regular meeting whose call is due and which has not started yet."""
    if job != "calls":
        return []
    longest = max((s.call_notice for s in sit.series), default=timedelta(0))
    effects: list[Effect] = []
    for series, start in coming(sit, sit.now + longest):
        if start - series.call_notice <= sit.now:
            effects.append(open_meeting(series.label, start, series, sit, key(series, start)))
    return effects


def open_meeting(
    title: str, start: datetime, series: MeetingSeries | None, sit: Situation, item_key: str = ""
) -> OpenItem:
    """A meeting item: regular (a series) or ad hoc (ToR 4.1.c)."""
    minutes = series.duration_minutes if series else 90
    data: dict[str, Any] = {
        "series": series.name if series else "",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(minutes=minutes)).isoformat(),
        "where": series.where if series else "",
        "dial_in": series.dial_in if series else "",
        "with_facilitators": bool(series and series.with_facilitators),
        "sequence": 0,
        "agenda": [],
        "agenda_at": (start - (series.agenda_notice if series else timedelta(days=2))).isoformat(),
    }
    return OpenItem(ItemKind.MEETING, title, "", start, "schedule", data, key=item_key)


def _invitees(sit: Situation, item: ItemView) -> tuple[PersonView, ...]:
    facilitators = sit.facilitators if item.data.get("with_facilitators") else ()
    return (*sit.members, *facilitators)


def _invitation(sit: Situation, item: ItemView, method: str = "REQUEST") -> Invitation:
    where = " / ".join(x for x in (item.data.get("where"), item.data.get("dial_in")) if x)
    return Invitation(
        method=method,
        uid="",  # the composer signs a stable one for the item: replies are matched by it
        sequence=int(item.data.get("sequence", 0)),
        summary=f"{sit.group_name}: {item.title}",
        description=f"Reply to the call to send apologies or propose an agenda item "
        f"[{sit.tag}-{item.id}].",
        start=datetime.fromisoformat(str(item.data["starts_at"])),
        end=datetime.fromisoformat(str(item.data["ends_at"])),
        zone=sit.zone,
        location=where,
        attendees=_invitees(sit, item),
    )


def on_open(sit: Situation, item: ItemView) -> list[Effect]:
    """The call: each invitee's own mail, with the invitation their calendar can accept."""
    ends = datetime.fromisoformat(str(item.data["ends_at"]))
    invitation = _invitation(sit, item)
    ctx = {"item": item, "meeting": _facts(item), "ask_before": sit.rules.apologies.ask_before}
    effects: list[Effect] = [
        Mail("meeting/call", _invitees(sit, item), "call", ctx, item.id, invitation=invitation),
        Schedule(item.id, "end", ends),
    ]
    starts = datetime.fromisoformat(str(item.data["starts_at"]))
    agenda_at = max(datetime.fromisoformat(str(item.data["agenda_at"])), sit.now + AGENDA_DELAY)
    if agenda_at < starts:  # a call too late for a separate agenda mail carries none
        effects.append(Schedule(item.id, "agenda", agenda_at))
    return effects


def _facts(item: ItemView) -> dict[str, Any]:
    return {
        "starts_at": datetime.fromisoformat(str(item.data["starts_at"])),
        "ends_at": datetime.fromisoformat(str(item.data["ends_at"])),
        "where": item.data.get("where", ""),
        "dial_in": item.data.get("dial_in", ""),
    }


def agenda_of(item: ItemView) -> list[dict[str, Any]]:
    return [dict(entry) for entry in item.data.get("agenda", [])]


def _proposals(text: str) -> list[str]:
    return [m.group("title").strip()[:200] for m in _PROPOSAL.finditer(text)]


def _with_agenda(item: ItemView, agenda: list[dict[str, Any]]) -> Effect:
    return WORKFLOW.move(item, "agenda", MeetingState.SCHEDULED, agenda=agenda)


def _propose(sit: Situation, reply: Reply, titles: list[str]) -> list[Effect]:
    """A member's (or the Secretariat's) proposed agenda items, numbered, for the Secretariat."""
    item, person = reply.item, reply.person
    agenda = agenda_of(item)
    status = "accepted" if person.kind == PersonKind.SECRETARIAT else "proposed"
    added = [
        {"n": len(agenda) + i + 1, "title": t, "by": person.name, "status": status}
        for i, t in enumerate(titles)
    ]
    ctx = {"item": item, "meeting": _facts(item), "added": added, "person": person}
    effects: list[Effect] = [
        _with_agenda(item, [*agenda, *added]),
        Record(item.id, person.id, "agenda", "\n".join(titles), "noted", "agenda proposal"),
        Mail("meeting/proposal_noted", (person,), "confirm", ctx, item.id, reply_to=reply.message),
    ]
    if status == "proposed":
        effects.append(
            Mail("meeting/proposal", sit.secretariat, "notice", ctx, item.id, personal=False)
        )
    return effects


def _secretariat_reply(sit: Situation, reply: Reply) -> list[Effect]:
    """The Secretariat's reply to a meeting: its attachments are the papers; ACCEPT n, DROP n
    and ADD: title lines set the agenda (ToR 6.2.b)."""
    item, person = reply.item, reply.person
    agenda = agenda_of(item)
    changed = False
    for match in _AGENDA_EDIT.finditer(reply.text):
        verb, rest = match.group("verb").lower(), match.group("rest").strip()
        if verb == "add" and rest:
            agenda.append(
                {"n": len(agenda) + 1, "title": rest[:200], "by": person.name, "status": "accepted"}
            )
            changed = True
        elif rest.isdigit() and 1 <= int(rest) <= len(agenda):
            agenda[int(rest) - 1]["status"] = "accepted" if verb == "accept" else "dropped"
            changed = True
    papers = list(reply.message.attachments)
    if not changed and not papers:
        why = f"the Secretariat's reply sets no agenda and carries no paper: {reply.text[:200]}"
        return [ToReview("meeting-reply", why, item.id, person.id)]
    ctx = {"item": item, "meeting": _facts(item), "agenda": agenda, "papers": papers}
    effects: list[Effect] = [
        Mail("meeting/agenda_noted", (person,), "confirm", ctx, item.id, reply_to=reply.message)
    ]
    if changed:
        effects.insert(0, _with_agenda(item, agenda))
    if papers:
        effects.insert(
            0,
            Record(
                item.id, person.id, "papers", ", ".join(papers), "noted", "papers for the meeting"
            ),
        )
    return effects


_ITEM_COMMENT = re.compile(
    r"^\s*(?:item|point|punto|ponto|ítem|agenda item)\s*(?P<n>\d+)\s*[:.)-]\s*(?P<text>.+)$",
    re.IGNORECASE | re.MULTILINE,
)
_RECORD_FIELD = re.compile(
    r"^\s*(?P<key>attended|decision|action|unsettled)\s*:\s*(?P<value>.+)$",
    re.IGNORECASE | re.MULTILINE,
)


def _item_comments(text: str) -> list[tuple[int, str]]:
    return [(int(m.group("n")), m.group("text").strip()) for m in _ITEM_COMMENT.finditer(text)]


def _comment(sit: Situation, reply: Reply, comments: list[tuple[int, str]]) -> list[Effect]:
    """A member's comments on agenda items, kept under each item (the meeting pack); a reply to
    the agenda without an item number is a comment on the meeting as a whole."""
    item, person = reply.item, reply.person
    agenda = agenda_of(item)
    general = [dict(c) for c in item.data.get("comments", [])]
    for n, text in comments or [(0, reply.text.strip())]:
        entry = {"by": person.name, "text": text[:2000]}
        if 1 <= n <= len(agenda):
            agenda[n - 1]["comments"] = [*agenda[n - 1].get("comments", []), entry]
        else:
            general.append(entry)
    ctx = {"item": item, "meeting": _facts(item), "count": len(comments) or 1}
    return [
        WORKFLOW.move(item, "agenda", MeetingState.SCHEDULED, agenda=agenda, comments=general),
        Record(item.id, person.id, "comment", reply.text, "noted", "comment on the agenda"),
        Mail("meeting/comment_noted", (person,), "confirm", ctx, item.id, reply_to=reply.message),
    ]


def _record_by_mail(sit: Situation, reply: Reply) -> list[Effect]:
    """The Secretariat's record by reply to a meeting held: 'Attended: a, b', 'Decision: ...',
    'Action: title | owner@address | 2027-01-15', 'Unsettled: ...' lines (ToR 6.2.b)."""
    fields: dict[str, list[str]] = {}
    for match in _RECORD_FIELD.finditer(reply.text):
        fields.setdefault(match.group("key").lower(), []).append(match.group("value").strip())
    if not fields:
        why = f"a reply to a meeting held that holds no record lines: {reply.text[:200]}"
        return [ToReview("meeting-reply", why, reply.item.id, reply.person.id)]
    actions = []
    for value in fields.get("action", []):
        parts = [p.strip() for p in value.split("|")]
        try:
            due = parse_deadline(parts[2], sit.zone, sit.rules.deadlines)
            actions.append((parts[0], parts[1], due))
        except (IndexError, ValueError):
            why = f"Action: {value!r} is not 'title | owner@address | date'"
            return [ToReview("meeting-reply", why, reply.item.id, reply.person.id)]
    attended = [a.strip() for line in fields.get("attended", []) for a in line.split(",")]
    args = {
        "attended": [a for a in attended if a],
        "decisions": fields.get("decision", []),
        "actions": actions,
        "unsettled": fields.get("unsettled", []),
    }
    try:
        return record(sit, reply.item, args)
    except ValueError as exc:
        return [ToReview("meeting-reply", str(exc), reply.item.id, reply.person.id)]


def on_reply(sit: Situation, reply: Reply) -> list[Effect]:
    """Attendance from a calendar answer or a plain reply; apologies reach the Secretariat;
    proposed agenda items go to the Secretariat; the Secretariat's replies set the agenda."""
    item, person = reply.item, reply.person
    if person.kind == PersonKind.SECRETARIAT and item.state == MeetingState.HELD:
        return _record_by_mail(sit, reply)
    if item.state != MeetingState.SCHEDULED:
        why = f"a reply to a meeting already {item.state}: {reply.text[:200]}"
        return [ToReview("meeting-reply", why, item.id, person.id)]
    if person.kind == PersonKind.SECRETARIAT:
        return _secretariat_reply(sit, reply)
    titles = _proposals(reply.text) if reply.calendar is None and reply.trusted else []
    if titles:
        return _propose(sit, reply, titles)
    comments = _item_comments(reply.text) if reply.calendar is None and reply.trusted else []
    if comments or (
        reply.answered == "agenda" and read_attendance(reply.text, person.name) is None
    ):
        return _comment(sit, reply, comments)
    if reply.calendar is not None:
        answer = _ANSWER[reply.calendar.partstat]
        note = reply.calendar.comment
        effects: list[Effect] = [Record(item.id, person.id, answer, note, "counted", "calendar")]
        # The calendar client's answer is itself the answer: no acknowledgement to it.
    else:
        answer_or_none = read_attendance(reply.text, person.name)
        if answer_or_none is None or not reply.trusted:
            why = f"neither apologies nor attendance: {reply.text[:200]}"
            return [ToReview("meeting-reply", why, item.id, person.id)]
        answer, note = answer_or_none, reply.text.strip()
        ctx = {"item": item, "meeting": _facts(item), "answer": answer}
        effects = [
            Record(item.id, person.id, answer, note, "counted", "reply"),
            Mail("meeting/noted", (person,), "confirm", ctx, item.id, reply_to=reply.message),
        ]
    if answer == "apology" and sit.rules.apologies.notify_secretariat:
        ctx = {"item": item, "meeting": _facts(item), "person": person, "note": note}
        effects.append(
            Mail("meeting/apology", sit.secretariat, "notice", ctx, item.id, personal=False)
        )
    return effects


def on_deadline(sit: Situation, item: ItemView, kind: str) -> list[Effect]:
    if kind == "agenda" and item.state == MeetingState.SCHEDULED:
        agenda = [e for e in agenda_of(item) if e["status"] == "accepted"]
        ctx = {"item": item, "meeting": _facts(item), "agenda": agenda}
        people = (*_invitees(sit, item), *sit.secretariat)
        return [Mail("meeting/agenda", people, "agenda", ctx, item.id, attach_papers=True)]
    ends = datetime.fromisoformat(str(item.data["ends_at"]))
    if kind == "end" and item.state == MeetingState.SCHEDULED and sit.now >= ends:
        return [WORKFLOW.move(item, "end", MeetingState.HELD)]
    return []  # an "end" left over from before a move is not the meeting's end


def move(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """A new time: the same event updated in every calendar (SEQUENCE + 1), members told."""
    start: datetime = args["start"]
    if item.state != MeetingState.SCHEDULED:
        raise ValueError(f"meeting {item.id} is {item.state}: it cannot be moved")
    if start <= sit.now:
        raise ValueError(f"the new start {start.isoformat()} is not in the future")
    length = datetime.fromisoformat(str(item.data["ends_at"])) - datetime.fromisoformat(
        str(item.data["starts_at"])
    )
    data = {
        "starts_at": start.isoformat(),
        "ends_at": (start + length).isoformat(),
        "sequence": int(item.data.get("sequence", 0)) + 1,
    }
    moved = replace(item, deadline=start, data={**item.data, **data})
    ctx = {"item": moved, "meeting": _facts(moved), "was": _facts(item)}
    return [
        WORKFLOW.move(item, "move", MeetingState.SCHEDULED, deadline=start, **data),
        Mail(
            "meeting/moved",
            _invitees(sit, item),
            "call",
            ctx,
            item.id,
            invitation=_invitation(sit, moved),
        ),
        Schedule(item.id, "end", start + length),
    ]


def cancel(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """Called off: a CANCEL of the same event, which calendars apply, and the reason."""
    if item.state != MeetingState.SCHEDULED:
        raise ValueError(f"meeting {item.id} is {item.state}: it cannot be cancelled")
    sequence = int(item.data.get("sequence", 0)) + 1
    cancelled = replace(item, data={**item.data, "sequence": sequence})
    ctx = {"item": item, "meeting": _facts(item), "reason": str(args.get("reason", ""))}
    return [
        WORKFLOW.move(item, "cancel", MeetingState.CANCELLED, sequence=sequence),
        Mail(
            "meeting/cancelled",
            (*_invitees(sit, item), *sit.secretariat),
            "outcome",
            ctx,
            item.id,
            invitation=_invitation(sit, cancelled, "CANCEL"),
        ),
    ]


def set_agenda(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """The Secretariat adds, accepts or drops agenda items from the CLI (ToR 6.2.b)."""
    if item.state != MeetingState.SCHEDULED:
        raise ValueError(f"meeting {item.id} is {item.state}: its agenda is closed")
    agenda = agenda_of(item)
    for n in (*args.get("accept", ()), *args.get("drop", ())):
        if not 1 <= int(n) <= len(agenda):
            raise ValueError(f"there is no agenda item {n} (1 to {len(agenda)})")
    for n in args.get("accept", ()):
        agenda[int(n) - 1]["status"] = "accepted"
    for n in args.get("drop", ()):
        agenda[int(n) - 1]["status"] = "dropped"
    for title in args.get("add", ()):
        entry = {"n": len(agenda) + 1, "title": title[:200], "by": "Secretariat"}
        agenda.append({**entry, "status": "accepted"})
    return [_with_agenda(item, agenda)]


def record(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """The record of a meeting held (ToR 6.2.b): who attended (from attendance unless given),
    decisions, agreed actions (owner, due) and what the meeting could not settle (which
    `cgbot meeting unsettled` turns into an email ballot, ToR 4.3.a). Sent to all."""
    if item.state == MeetingState.CANCELLED:
        raise ValueError(f"meeting {item.id} was cancelled: it has no record")
    people = {p.email: p for p in sit.people.people}
    attended = list(args.get("attended") or [])
    if not attended:
        attended = [
            people[email].name
            for email, answer in summary(item, sit)["attendance"].items()
            if answer == "attending" and email in people
        ]
    actions = []
    for title, owner, due in args.get("actions", ()):
        if owner.lower() not in people:
            raise ValueError(f"action {title!r}: {owner} is not a member, the Chair or Secretariat")
        actions.append({"title": title, "owner": owner.lower(), "due": due.isoformat()})
    minutes = {
        "attended": attended,
        "decisions": list(args.get("decisions", ())),
        "actions": actions,
        "unsettled": list(args.get("unsettled", ())),
    }
    event = "end" if item.state == MeetingState.SCHEDULED else "record"
    ctx = {"item": item, "meeting": _facts(item), "record": minutes}
    opened_by = f"meeting {item.id}"
    follow_up = [
        action(a["title"], a["owner"], datetime.fromisoformat(a["due"]), opened_by) for a in actions
    ]
    return [
        WORKFLOW.move(item, event, MeetingState.HELD, record=minutes),
        Mail("meeting/record", (*sit.members, *sit.secretariat), "outcome", ctx, item.id),
        *follow_up,  # each agreed action becomes an action item, followed up by email
    ]


PAPER_BYTES = 10_000_000  # a paper given on the CLI, at most (larger ones: send a link)


def add_paper(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """A paper from a file the Secretariat names on the CLI: it goes out with the agenda."""
    content: bytes = args["content"]
    if item.state != MeetingState.SCHEDULED:
        raise ValueError(f"meeting {item.id} is {item.state}: its papers have gone out")
    if len(content) > PAPER_BYTES:
        raise ValueError(
            f"{args['name']}: {len(content):,} bytes; send a link for papers over "
            f"{PAPER_BYTES:,} bytes"
        )
    paper = {
        "name": str(args["name"]),
        "type": str(args.get("type") or "application/octet-stream"),
        "content": base64.b64encode(content).decode("ascii"),
    }
    papers = [*item.data.get("papers", []), paper]
    return [WORKFLOW.move(item, "agenda", MeetingState.SCHEDULED, papers=papers)]


def validate(spec: OpenItem, sit: Situation) -> list[str]:
    starts = spec.data.get("starts_at")
    if not starts:
        return ["a meeting needs a start"]
    if datetime.fromisoformat(str(starts)) <= sit.now:
        return [f"the start {starts} is not in the future"]
    return []


def summary(item: ItemView, sit: Situation) -> dict[str, Any]:
    """The start, and each invitee's attendance (attending / apology / tentative / no answer)."""
    people = {p.id: p for p in sit.people.people}
    attendance = {p.email: "no answer" for p in _invitees(sit, item)}
    for person_id, response in sit.responses.items():
        position = response.position or ""
        if person_id in people and position in _ANSWER.values():
            attendance[people[person_id].email] = position
    return {
        "starts_at": item.data.get("starts_at"),
        "ends_at": item.data.get("ends_at"),
        "series": item.data.get("series") or None,
        "attendance": attendance,
        "agenda": agenda_of(item),
        "comments": item.data.get("comments", []),
        "record": item.data.get("record"),
    }


class MeetingCommand:
    """`MEETING: <title>` from the Secretariat schedules an ad hoc meeting (ToR 4.1.c)."""

    prefix = "MEETING"
    description = "schedule an ad hoc meeting: Start:, Duration: (minutes), Where: in the body"

    def run(self, mail: CommandMail, sit: Situation) -> list[Effect]:
        fields, _ = read_fields(mail.text, ("start", "duration", "where", "dial-in"))
        problems = [] if mail.argument else ["the subject has no title after 'MEETING:'"]
        start: datetime | None = None
        try:
            start = parse_deadline(fields.get("start", ""), sit.zone)
        except ValueError as exc:
            problems.append(f"Start: {fields.get('start', '')!r} is not a date and time ({exc})")
        minutes = fields.get("duration", "90").strip()
        if not minutes.isdigit() or not 5 <= int(minutes) <= 24 * 60:
            problems.append(f"Duration: {minutes!r} is not a number of minutes")
        if problems:
            raise CommandError(problems)
        assert start is not None
        spec = ad_hoc(mail.argument, start, int(minutes), fields.get("where", ""), sit)
        return [replace(spec, opened_by=f"{mail.sender.email} by email", reply_to=mail.message)]


def ad_hoc(title: str, start: datetime, minutes: int, where: str, sit: Situation) -> OpenItem:
    """An ad hoc meeting (CLI or MEETING: command)."""
    spec = open_meeting(title, start, None, sit)
    data = {**spec.data, "ends_at": (start + timedelta(minutes=minutes)).isoformat()}
    return replace(spec, data={**data, "where": where}, opened_by="cli")


WORKFLOW = Workflow(
    kind=ItemKind.MEETING,
    description="meetings: calls with calendar invitations, attendance, apologies (ToR 4.1)",
    states=MeetingState,
    initial=MeetingState.SCHEDULED,
    transitions=TRANSITIONS,
    on_open=on_open,
    on_reply=on_reply,
    on_deadline=on_deadline,
    templates=data_dir("templates") / "meeting",
    summary=summary,
    schedule=schedule,
    on_tick=on_tick,
    validate=validate,
    actions={
        "move": move,
        "cancel": cancel,
        "agenda": set_agenda,
        "record": record,
        "paper": add_paper,
    },
    commands=(MeetingCommand(),),
)
