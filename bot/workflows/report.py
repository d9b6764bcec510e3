"""The progress report to the Governing Board (ToR 2.1.i, 6.2.f): for one calendar month, the
decisions taken, the rounds completed and how fast members answered, the actions done and
overdue, and the meetings held with their attendance. Compiled here from the record (items as
status shows them, and the register's events), drawn and printed by the shell (app/report.py).
A draft goes to the Secretariat on the first of each month, for the month before."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.effects import Effect, Report
from bot.domain.types import ItemKind
from bot.resources import data_dir
from bot.workflows.base import (
    Situation,
    Tick,
    Workflow,
    next_local,
    no_deadline,
    no_opening,
    no_reply,
)

AT = "08:00"  # on the first of the month, in the group's time zone
_ANSWERS = ("position-recorded", "feedback-received")


class ReportState(StrEnum):
    NONE = "none"  # the report has no items of its own


@dataclass(frozen=True)
class Period:
    """A calendar month in the group's time zone: [start, end)."""

    name: str  # "2026-12"
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.start:%B %Y}"


def period(name: str, zone: str) -> Period:
    """'YYYY-MM' as the month it names in `zone`; a ValueError names what was given."""
    try:
        year, month = (int(x) for x in name.split("-"))
        start = datetime(year, month, 1, tzinfo=ZoneInfo(zone))
    except ValueError as exc:
        raise ValueError(f"period {name!r}: expected YYYY-MM, e.g. 2026-12") from exc
    end = (start + timedelta(days=32)).replace(day=1)
    return Period(f"{year:04d}-{month:02d}", start, end)


def month_before(now: datetime, zone: str) -> str:
    """The month before the one `now` falls in, in `zone`: what the monthly draft covers."""
    first = now.astimezone(ZoneInfo(zone)).replace(day=1)
    return f"{first - timedelta(days=1):%Y-%m}"


def _at(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if value else None


def _within(when: datetime | None, p: Period) -> bool:
    return when is not None and p.start <= when < p.end


def _decisions(
    items: dict[int, dict[str, Any]], events: list[dict[str, Any]], p: Period
) -> list[dict[str, Any]]:
    """Ballots settled in the period: by consensus, or determined by the Board Chair."""
    out = []
    for e in events:
        state = e["detail"].get("state")
        settled = state in ("consensus", "determined") and e["event"] != "reminder-sent"
        item = items.get(e["item_id"] or 0)
        if not settled or item is None or item["kind"] != ItemKind.BALLOT:
            continue
        determination = item.get("determination") or {}
        out.append(
            {
                "id": item["id"],
                "title": item["title"],
                "how": "determined by the Board Chair" if state == "determined" else "consensus",
                "at": _at(e["at"]),
                "words": determination.get("text", "") if state == "determined" else "",
            }
        )
    return out


def _first_answers(
    events: list[dict[str, Any]], members: frozenset[int]
) -> dict[int, dict[int, datetime]]:
    """Per item, each member's first answer (as received, not as read); the Chair's
    determination is recorded like an answer, but is no member's."""
    first: dict[int, dict[int, datetime]] = {}
    for e in events:
        if e["event"] not in _ANSWERS or e["item_id"] is None or e["person_id"] not in members:
            continue
        if e["detail"].get("status") not in ("counted", "late"):
            continue
        when = _at(e["detail"].get("received_at")) or _at(e["at"])
        assert when is not None
        seen = first.setdefault(e["item_id"], {})
        seen[e["person_id"]] = min(when, seen.get(e["person_id"], when))  # read out of order
    return first


def _rounds(
    items: dict[int, dict[str, Any]],
    events: list[dict[str, Any]],
    answers: dict[int, dict[int, datetime]],
    members: int,
    p: Period,
) -> list[dict[str, Any]]:
    """Ballots and feedback rounds that ended in the period, with how fast members answered."""
    out = []
    for e in events:
        item = items.get(e["item_id"] or 0)
        if item is None or e["event"] not in ("state-changed", "escalated", "determined"):
            continue
        ended = e["detail"].get("from") == "open" and e["detail"].get("state") != "open"
        if not ended or item["kind"] not in (ItemKind.BALLOT, ItemKind.FEEDBACK):
            continue
        opened = _at(item["created_at"])
        assert opened is not None
        hours = sorted(
            (when - opened).total_seconds() / 3600 for when in answers.get(item["id"], {}).values()
        )
        late = sum(1 for r in item["responses"].values() if r.get("late") or r["status"] == "late")
        out.append(
            {
                "id": item["id"],
                "kind": item["kind"],
                "title": item["title"],
                "ended": _at(e["at"]),
                "answered": len(hours),
                "asked": members,
                "late": late,
                "median_hours": statistics.median(hours) if hours else None,
                "slowest_hours": hours[-1] if hours else None,
            }
        )
    return out


def _actions(
    items: dict[int, dict[str, Any]],
    events: list[dict[str, Any]],
    names: dict[str, str],
    p: Period,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Actions done in the period, and those overdue at its end (not done by then)."""
    done_at = {
        e["item_id"]: _at(e["at"])
        for e in events
        if e["event"] == "action-done" and e["item_id"] is not None
    }
    done, overdue = [], []
    for item in items.values():
        if item["kind"] != ItemKind.ACTION or item["state"] == "cancelled":
            continue
        due = _at(item["due"])
        finished = done_at.get(item["id"])
        row = {
            "id": item["id"],
            "title": item["title"],
            "owner": names.get(item["owner"], item["owner"]),
            "due": due,
            "done_at": finished,
        }
        if _within(finished, p):
            done.append(
                {**row, "on_time": finished is not None and due is not None and finished <= due}
            )
        elif due is not None and due < p.end and (finished is None or finished >= p.end):
            days = (min(p.end, finished or p.end) - due).days
            overdue.append({**row, "days_overdue": days})
    return done, overdue


def _meetings(
    items: dict[int, dict[str, Any]], names: dict[str, str], p: Period
) -> list[dict[str, Any]]:
    """Meetings that took place in the period, with who came and who sent apologies."""
    out = []
    for item in items.values():
        starts = _at(item.get("starts_at"))
        if item["kind"] != ItemKind.MEETING or item["state"] == "cancelled":
            continue
        if not _within(starts, p):
            continue
        attendance: dict[str, str] = item.get("attendance", {})

        def who(answer: str, seen: dict[str, str] = attendance) -> list[str]:
            return sorted(names.get(email, email) for email, a in seen.items() if a == answer)

        out.append(
            {
                "id": item["id"],
                "title": item["title"],
                "starts_at": starts,
                "attending": who("attending"),
                "tentative": who("tentative"),
                "apologies": who("apology"),
                "no_answer": who("no answer"),
                "invited": len(attendance),
            }
        )
    return sorted(out, key=lambda m: m["starts_at"])


def compile_report(
    p: Period,
    items: list[dict[str, Any]],
    events: list[dict[str, Any]],
    names: dict[str, str],
    members: frozenset[int],
) -> dict[str, Any]:
    """What the report shows for period `p`.

    `items` are the records `cgbot status --json` gives; `events` the register's rows (every row
    up to the period's end: an item's answers may come before the month its round ends in);
    `names` maps addresses to names; `members` are the ids of the members asked each round."""
    by_id = {i["id"]: i for i in items}
    inside = [e for e in events if _within(_at(e["at"]), p)]
    done, overdue = _actions(by_id, events, names, p)
    rounds = _rounds(by_id, inside, _first_answers(events, members), len(members), p)
    return {
        "period": p,
        "decisions": _decisions(by_id, inside, p),
        "rounds": rounds,
        "actions_done": done,
        "actions_overdue": overdue,
        "meetings": _meetings(by_id, names, p),
        "answered_share": _share(rounds),
    }


def _share(rounds: list[dict[str, Any]]) -> float | None:
    """The share of requested answers that came, over every round of the period."""
    asked = sum(r["asked"] for r in rounds)
    return sum(r["answered"] for r in rounds) / asked if asked else None


def schedule(sit: Situation) -> list[Tick]:
    """The first of each month at 08:00 in the group's time zone."""
    return [Tick("monthly", next_local(sit.now, sit.zone, AT, lambda d: d.day == 1))]


def on_tick(sit: Situation, job: str) -> list[Effect]:
    """The draft of last month's report, to the Secretariat."""
    return [Report(month_before(sit.now, sit.zone), sit.secretariat)]


WORKFLOW = Workflow(
    kind=ItemKind.REPORT,
    description="the monthly progress report to the Governing Board, drafted for the "
    "Secretariat (ToR 2.1.i)",
    states=ReportState,
    initial=ReportState.NONE,
    transitions={},
    on_open=no_opening,
    on_reply=no_reply,
    on_deadline=no_deadline,
    templates=data_dir("templates") / "report",
    schedule=schedule,
    on_tick=on_tick,
)
