"""The progress report's content (workflows/report.py) from plain records, and its charts:
no database, no mail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app.report import charts
from bot.workflows.report import compile_report, month_before, period

ZONE = "Europe/London"
NAMES = {"a@x.org": "Amina", "b@x.org": "Bruno", "c@x.org": "Chloé", "d@x.org": "Daniel"}
MEMBERS = frozenset({1, 2, 3, 4})  # person 9 is the Board Chair


def at(day: int, hour: int = 9, month: int = 12) -> str:
    return datetime(2026 if month == 12 else 2027, month, day, hour, tzinfo=UTC).isoformat()


def item(id_: int, kind: str, state: str, title: str, **more: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "kind": kind,
        "state": state,
        "title": title,
        "created_at": at(1),
        "responses": {},
        "determination": None,
        **more,
    }


def event(when: str, name: str, item_id: int, person: int | None = None, **d: Any) -> dict:
    return {"at": when, "event": name, "item_id": item_id, "person_id": person, "detail": d}


ITEMS = [
    item(1, "ballot", "consensus", "Adopt the workplan"),
    item(
        2,
        "ballot",
        "determined",
        "Shortlist",
        determination={"text": "The shortlist goes to the Board."},
    ),
    item(3, "ballot", "consensus", "Decided in November"),
    item(
        4,
        "feedback",
        "closed",
        "Draft note",
        responses={
            "a@x.org": {"status": "comments", "late": False},
            "b@x.org": {"status": "no-comments", "late": False},
            "c@x.org": {"status": "comments", "late": True},
            "d@x.org": {"status": "no answer", "late": False},
        },
    ),
    item(5, "action", "done", "On time", owner="b@x.org", due=at(10)),
    item(6, "action", "done", "Late but done", owner="a@x.org", due=at(5)),
    item(7, "action", "overdue", "Never done", owner="c@x.org", due=at(20)),
    item(8, "action", "done", "Done in January", owner="d@x.org", due=at(28)),
    item(9, "action", "cancelled", "Dropped", owner="d@x.org", due=at(3)),
    item(10, "action", "open", "Due next year", owner="a@x.org", due=at(10, month=1)),
    item(
        11,
        "meeting",
        "held",
        "Monthly meeting",
        starts_at=at(15, 14),
        attendance={
            "a@x.org": "attending",
            "b@x.org": "apology",
            "c@x.org": "tentative",
            "d@x.org": "no answer",
        },
    ),
    item(12, "meeting", "cancelled", "Cancelled one", starts_at=at(22, 14), attendance={}),
    item(13, "meeting", "scheduled", "January meeting", starts_at=at(19, 14, 1), attendance={}),
]
EVENTS = [
    event(at(5, 10, 11), "state-changed", 3, state="consensus", **{"from": "open"}),
    event(at(2), "position-recorded", 1, 1, status="counted", received_at=at(2)),
    event(at(4), "position-recorded", 1, 2, status="counted", received_at=at(4)),
    event(at(3), "position-recorded", 1, 2, status="counted", received_at=at(3)),  # a later one
    event(at(8), "state-changed", 1, state="consensus", **{"from": "open"}),
    event(at(9), "escalated", 2, state="escalated", **{"from": "open"}),
    event(at(12), "position-recorded", 2, 9, status="counted", received_at=at(12)),  # the Chair
    event(at(12), "determined", 2, state="determined", **{"from": "escalated"}),
    event(at(3), "feedback-received", 4, 1, status="counted", received_at=at(2, 21)),
    event(at(3), "feedback-received", 4, 2, status="review", received_at=at(3)),  # not an answer
    event(at(12), "feedback-received", 4, 3, status="late", received_at=at(11)),
    event(at(10, 17), "state-changed", 4, state="closed", **{"from": "open"}),
    event(at(9), "action-done", 5),
    event(at(7), "action-done", 6),
    event(at(4, 9, 1), "action-done", 8),
]


def test_a_month_of_decisions_rounds_actions_and_meetings() -> None:
    p = period("2026-12", ZONE)
    report = compile_report(p, ITEMS, EVENTS, NAMES, MEMBERS)
    assert [(d["id"], d["how"], d["words"]) for d in report["decisions"]] == [
        (1, "consensus", ""),
        (2, "determined by the Board Chair", "The shortlist goes to the Board."),
    ]
    rounds = {r["id"]: r for r in report["rounds"]}
    assert set(rounds) == {1, 2, 4}  # each ended in December, once; item 3 ended in November
    assert (rounds[1]["answered"], rounds[1]["median_hours"], rounds[1]["slowest_hours"]) == (
        2,
        36.0,  # from the 1st 09:00: Amina on the 2nd (24 h), Bruno first on the 3rd (48 h)
        48.0,
    )
    # Amina after 36 hours, Chloé (late) after 240; Bruno's reply went to review.
    assert (rounds[4]["answered"], rounds[4]["late"], rounds[4]["median_hours"]) == (2, 1, 138)
    assert rounds[2]["answered"] == 0 and rounds[2]["median_hours"] is None
    assert report["answered_share"] == 4 / 12
    done = {a["id"]: a["on_time"] for a in report["actions_done"]}
    assert done == {5: True, 6: False}
    overdue = {a["id"]: (a["owner"], a["days_overdue"]) for a in report["actions_overdue"]}
    # At the end of December: item 7 since the 20th, item 8 (done on 4 January) since the 28th.
    assert overdue == {7: ("Chloé", 11), 8: ("Daniel", 3)}
    (meeting,) = report["meetings"]
    assert meeting["attending"] == ["Amina"] and meeting["tentative"] == ["Chloé"]
    assert meeting["apologies"] == ["Bruno"] and meeting["no_answer"] == ["Daniel"]


def test_a_quiet_month_has_empty_sections_and_no_chart() -> None:
    report = compile_report(period("2026-10", ZONE), ITEMS, EVENTS, NAMES, MEMBERS)
    assert report["decisions"] == report["rounds"] == report["meetings"] == []
    assert report["answered_share"] is None
    assert charts(report) == []


def test_the_charts_are_pictures_with_words_for_who_cannot_see_them() -> None:
    report = compile_report(period("2026-12", ZONE), ITEMS, EVENTS, NAMES, MEMBERS)
    drawn = {c.name: c for c in charts(report)}
    assert set(drawn) == {"response-times", "attendance"}
    for chart in drawn.values():
        assert chart.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "#1 Adopt the workplan: median 1.5 days" in drawn["response-times"].alt
    assert "Monthly meeting: 2 attending" in drawn["attendance"].alt


def test_periods_are_months_in_the_group_zone() -> None:
    p = period("2026-07", ZONE)  # summer time: the month starts at 23:00 UTC the day before
    assert p.start.astimezone(UTC) == datetime(2026, 6, 30, 23, tzinfo=UTC)
    assert p.end.astimezone(UTC) == datetime(2026, 7, 31, 23, tzinfo=UTC)
    assert p.label == "July 2026"
    assert month_before(datetime(2027, 1, 1, 8, tzinfo=UTC), ZONE) == "2026-12"
    for bad in ("2026-13", "2026", "December", "2026-12-01"):
        with pytest.raises(ValueError, match="expected YYYY-MM"):
            period(bad, ZONE)
