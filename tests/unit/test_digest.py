"""The Secretariat's digest (issue 10, item 3): who owes what first, then ballots, rounds,
actions, meetings, bounces and review; a day with nothing new sends nothing; members' words are
shown as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched, ItemKind
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, MEMBERS, SECRETARIAT, T0, mail_to, make_app, open_ballot


def digests(app: App) -> list[Outbox]:
    with session(app.engine) as s:
        return list(
            s.exec(select(Outbox).where(Outbox.purpose == "digest").order_by(col(Outbox.id)))
        )


def body(row: Outbox, kind: str = "plain") -> str:
    return message_from_bytes(row.raw, policy=default).get_body((kind,)).get_content()


def test_the_digest_says_who_owes_what_and_is_silent_on_a_day_with_nothing_new(app: App) -> None:
    open_ballot(app)
    app.open_item(
        ItemKind.ACTION,
        "Draft the Board note",
        "",
        T0 + timedelta(days=2),
        "test",
        {"owner": MEMBERS[1][1]},
    )
    name, address = MEMBERS[0][0], MEMBERS[0][1]
    words = "Object: <script>alert('x')</script> is not acceptable."
    app.handle(Fetched("test", clients.gmail(mail_to(app, address), name, address, BOT, T0, words)))
    app.run_due()  # arms the jobs
    app.clock.jump_to(datetime(2026, 12, 2, 7, 1, tzinfo=UTC))
    app.run_due()
    (first,) = digests(app)
    assert first.recipients == [SECRETARIAT]
    text = body(first)
    assert text.index("WHO OWES WHAT") < text.index("BALLOTS") < text.index("ACTIONS")
    for member in MEMBERS[1:]:
        assert f"{member[0]}:" in text  # three members still owe the ballot
    assert "action (open): Draft the Board note" in text
    html = body(first, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html  # members' words stay text

    app.clock.jump_to(datetime(2026, 12, 3, 7, 1, tzinfo=UTC))  # nothing happened since
    app.run_due()
    assert len(digests(app)) == 1
    app.clock.jump_to(datetime(2026, 12, 3, 17, 1, tzinfo=UTC))  # the action falls overdue
    app.run_due()
    app.clock.jump_to(datetime(2026, 12, 4, 7, 1, tzinfo=UTC))
    app.run_due()
    assert len(digests(app)) == 2 and "(OVERDUE)" in body(digests(app)[-1])


def test_the_weekly_summary_goes_out_on_monday_even_when_nothing_changed(app: App) -> None:
    app.run_due()
    app.clock.jump_to(datetime(2026, 12, 7, 7, 1, tzinfo=UTC))  # Monday 7 December
    app.run_due()
    subjects = [d.subject for d in digests(app)]
    assert any(s.startswith("[CG] Weekly summary") for s in subjects)


def test_a_meeting_held_without_its_record_is_in_the_digest_until_recorded(
    tmp_path: Path,
) -> None:
    # The record is the Secretariat's (ToR 6.2.b): a held meeting waits in the digest for it.
    from tests.unit.test_meetings import MEETINGS

    app = make_app(tmp_path, change=lambda text: text + MEETINGS)
    app.run_due()  # 1 December's meeting is called
    (meeting,) = [i for i in app.status()["items"] if i["kind"] == "meeting"]
    app.clock.jump_to(datetime(2026, 12, 2, 7, 1, tzinfo=UTC))  # it ended the day before
    app.run_due()
    (held,) = [i for i in app.status()["items"] if i["kind"] == "meeting"]
    assert held["state"] == "held"
    text, html = body(digests(app)[-1]), body(digests(app)[-1], "html")
    waiting = f"#{meeting['id']} {meeting['title']}, held "
    assert "MEETINGS AWAITING THEIR RECORD" in text and waiting in text
    assert f"cgbot meeting record {meeting['id']}, or a reply" in text
    assert "Meetings awaiting their record" in html and waiting in html

    args = {"attended": (), "decisions": ["Agreed."], "actions": [], "unsettled": []}
    app.act(int(meeting["id"]), "record", args)
    app.clock.jump_to(datetime(2026, 12, 3, 7, 1, tzinfo=UTC))
    app.run_due()
    assert "AWAITING THEIR RECORD" not in body(digests(app)[-1])


def test_only_meetings_held_in_the_last_thirty_days_wait_for_their_record() -> None:
    # A record kept elsewhere for an old meeting does not haunt every digest after an upgrade.
    from bot.workflows.digest import unrecorded

    def held(n: int, ended: datetime, record: object = None) -> dict[str, object]:
        return {
            "id": n,
            "kind": "meeting",
            "state": "held",
            "title": f"M{n}",
            "starts_at": (ended - timedelta(hours=2)).isoformat(),
            "ends_at": ended.isoformat(),
            "record": record,
        }

    now = datetime(2027, 2, 1, 7, tzinfo=UTC)
    items = [
        held(1, now - timedelta(days=31)),
        held(2, now - timedelta(days=29)),
        held(3, now - timedelta(days=2), record={"decisions": ["Agreed."]}),
    ]
    assert [m["id"] for m in unrecorded(items, now, {})] == [2]
