"""A person's standing on an item moves with each reply recorded: the latest reply of any
status, the latest counted one (a late or unclear reply never replaces a counted position),
and the unclear replies in a row (which stop a robot answering every mail)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.store import repo
from bot.store.db import session
from bot.store.models import Person
from tests.conftest import MEMBERS, T0, make_app, open_ballot


def test_the_standing_follows_each_reply_as_recorded(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    item_id = open_ballot(app)
    # (position, status) of each reply, then what standing_and_streaks reads after it:
    # (standing position, its status, latest position, latest status, unclear in a row)
    steps = [
        (("agree", "counted"), ("agree", "counted", "agree", "counted", 0)),
        ((None, "review"), ("agree", "counted", None, "review", 1)),
        ((None, "review"), ("agree", "counted", None, "review", 2)),
        (("object", "review"), ("agree", "counted", "object", "review", 0)),
        ((None, "review"), ("agree", "counted", None, "review", 1)),
        (("abstain", "counted"), ("abstain", "counted", "abstain", "counted", 0)),
        (("agree", "late"), ("abstain", "counted", "agree", "late", 0)),
    ]
    with session(app.engine) as s:
        people = {p.email: p.id for p in s.exec(select(Person))}
        me, other = people[MEMBERS[0][1]], people[MEMBERS[1][1]]
        assert me is not None and other is not None
        for n, ((position, status), expected) in enumerate(steps):
            repo.record_response(
                s,
                item_id=item_id,
                person_id=me,
                inbound_id=None,
                position=position,
                text=f"reply {n}",
                message_id=f"<r{n}@members.example>",
                received_at=T0 + timedelta(minutes=n),
                status=status,
                note="",
            )
            standing, streaks, latest = repo.standing_and_streaks(s, item_id)
            got = (
                standing[me].position,
                standing[me].status,
                latest[me].position,
                latest[me].status,
                streaks[me],
            )
            assert got == expected, (n, got)
            assert latest[me].text == f"reply {n}"
            assert other not in standing  # one person's reply moves no one else's standing
        s.commit()
    with session(app.engine) as s:  # as committed, read afresh
        standing, streaks, latest = repo.standing_and_streaks(s, item_id)
    assert (standing[me].position, latest[me].status, streaks[me]) == ("abstain", "late", 0)
