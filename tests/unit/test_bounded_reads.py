"""One reply's cost does not grow with the item's history or the archive (issue 7).

The same member reply is handled on a ballot with 5 earlier replies and on one with 2,000 (each
with its archived message and its confirmation in the outbox): the SQL statements it costs are
the same, one for one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store import repo
from bot.store.db import session
from bot.store.models import Inbound, InboundState, Outbox, Person
from tests.conftest import BOT, MEMBERS, T0, make_app, open_ballot


def ballot_with_history(folder: Path, earlier: int) -> App:
    """A ballot whose other members have replied `earlier` times in all (rows as the pipeline
    writes them), and Bruno once."""
    app = make_app(folder)
    item_id = open_ballot(app)
    with session(app.engine) as s:
        people = {p.email: p.id for p in s.exec(select(Person))}
        others = [people[m[1]] for m in MEMBERS if m[1] != MEMBERS[1][1]]
        writers = [people[MEMBERS[1][1]]] + [others[n % len(others)] for n in range(earlier)]
        for n, person_id in enumerate(writers):
            raw = f"Message-ID: <r{n}@members.example>\r\n\r\nAgree ({n})".encode()
            inbound = Inbound(
                sha256=repo.sha256(raw),
                message_id=f"<r{n}@members.example>",
                source="test",
                fetched_at=T0,
                size=len(raw),
                raw=raw,
                state=InboundState.PROCESSED,
                item_id=item_id,
                person_id=person_id,
            )
            s.add(inbound)
            s.flush()
            repo.record_response(
                s,
                item_id=item_id,
                person_id=person_id,
                inbound_id=inbound.id,
                position="agree",
                text=f"Agree ({n})",
                message_id=inbound.message_id,
                received_at=T0,
                status="counted",
                note="",
            )
            s.add(
                Outbox(
                    message_id=f"<c{n}@cg.example>",
                    item_id=item_id,
                    person_id=person_id,
                    purpose="confirm",
                    recipients=["x@members.example"],
                    subject="Re: ballot",
                    raw=b"confirmation",
                    created_at=T0,
                    state="sent",
                )
            )
        s.commit()
    return app


def statements_for_one_reply(app: App) -> tuple[list[str], int]:
    """The statements one reply runs, and the SQLite VM work they do (in steps of 100
    instructions): a statement that scans the history would show in the second figure."""
    name, email = MEMBERS[1][0], MEMBERS[1][1]
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).where(Outbox.purpose == "ballot").order_by(col(Outbox.id)))
        ballot = next(r for r in rows if r.recipients == [email])
    app.clock.jump_to(T0 + timedelta(days=1))
    raw = clients.gmail(clients.Original(ballot.raw), name, email, BOT, app.clock.now(), "Object")
    seen: list[str] = []
    work = [0]

    def step() -> int:
        work[0] += 1
        return 0  # go on

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0] + " " + statement.split(" FROM ")[-1].split()[0])
        conn.connection.driver_connection.set_progress_handler(step, 100)

    event.listen(app.engine, "before_cursor_execute", count)
    try:
        assert app.handle(Fetched("test", raw)) == "processed"
    finally:
        event.remove(app.engine, "before_cursor_execute", count)
    done = work[0]  # the handler stays on the pooled connection: read the figure now
    assert app.status()["items"][0]["responses"][email]["position"] == "object"
    return seen, done


def test_one_reply_costs_the_same_statements_after_5_and_after_2000_replies(
    tmp_path: Path,
) -> None:
    small, small_work = statements_for_one_reply(ballot_with_history(tmp_path / "small", 5))
    large, large_work = statements_for_one_reply(ballot_with_history(tmp_path / "large", 2000))
    assert len(small) == len(large), f"{len(small)} vs {len(large)}\n{small}\n{large}"
    assert small == large
    # Index lookups grow like log n; reading 2,000 history rows would multiply the work.
    assert large_work <= 2 * small_work + 5, (small_work, large_work)
    print(
        f"one reply: {len(small)} SQL statements and {small_work} / {large_work} hundred "
        "SQLite instructions with 5 / 2,000 earlier replies"
    )
