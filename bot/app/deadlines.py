"""Time: every deadline that has come runs once, item deadlines and recurring work alike.

Missed ticks of one kind are coalesced (after downtime a reminder and a close that both fell due
run as one close); recurring work of a whole kind (a digest, a meeting cadence) keeps exactly one
pending row per job in the database, derived from the rules, so there is no second schedule."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.app.enact import Cause, Enactor
from bot.app.notices import send_held_notice
from bot.clock import Clock
from bot.domain.effects import Effect
from bot.store import repo
from bot.store.db import session
from bot.store.models import Deadline, Review
from bot.workflows.base import Registry, Situation

log = logging.getLogger("cgbot.deadlines")


@dataclass(frozen=True)
class Deadlines:
    engine: Engine
    clock: Clock
    registry: Registry
    enactor: Enactor
    situation: Callable[[Session, datetime], Situation]  # the group's facts, no item
    overview: Callable[[Session, Situation], dict[str, Any]]  # every item, as status shows it

    def arm_recurring(self, s: Session, after: datetime) -> None:
        """One pending row for each recurring job of each kind (added when missing)."""
        for workflow in self.registry.workflows:
            if workflow.schedule is None:
                continue
            sit = self.situation(s, after)
            for tick in workflow.schedule(sit):
                if repo.pending_job(s, workflow.kind, tick.job) is None:
                    repo.schedule(s, None, workflow.kind, tick.job, tick.due_at)

    def run_due(self, mail_read_until: datetime | None = None, gated: bool = False) -> int:
        """Run every deadline that has come, once: missed ticks of one kind are coalesced.

        `gated` (the daemon): a deadline that depends on replies (a ballot's close) runs only
        once the mailbox has been read up to it (`mail_read_until`), so that a reply that
        reached the server in time is counted however late the bot reads it."""
        now = self.clock.now()
        ran = 0
        with session(self.engine) as s:
            self.arm_recurring(s, now)
            s.commit()
            due = [
                d
                for d in repo.due_deadlines(s, now)
                if not (gated and self._waits(d) and not _covered(d, mail_read_until))
            ]
            latest = {(d.item_id, d.workflow, d.kind): d for d in due}  # by due_at: last wins
            for deadline in due:
                deadline.done_at = now
                s.add(deadline)
                if latest[(deadline.item_id, deadline.workflow, deadline.kind)] is not deadline:
                    continue
                try:
                    self._run(s, deadline, now)
                    s.commit()
                except OperationalError:
                    raise  # the database, not the deadline, is at fault: try again later
                except Exception:  # one broken deadline must not block every later one
                    log.exception("deadline #%s (%s) failed", deadline.id, deadline.kind)
                    s.rollback()
                    _set_aside(s, deadline, now, traceback.format_exc(limit=8))
                    s.commit()
                    continue
                ran += 1
            self.arm_recurring(s, now)
            s.commit()
            if send_held_notice(s, self.enactor, self.situation(s, now)):
                s.commit()
                ran += 1
        return ran

    def _waits(self, deadline: Deadline) -> bool:
        workflow = self.registry.get(deadline.workflow)
        return workflow is not None and deadline.kind in workflow.waits_for_mail

    def _run(self, s: Session, deadline: Deadline, now: datetime) -> None:
        base = self.situation(s, now)
        effects: list[Effect]
        if deadline.item_id is None:
            workflow = self.registry[deadline.workflow]
            assert workflow.on_tick is not None, f"{workflow.kind} has no recurring work"
            if workflow.overview:
                base = replace(
                    base,
                    overview=self.overview(s, base),
                    remembered=repo.meta_prefixed(s, f"{workflow.kind}:"),
                )
            effects = workflow.on_tick(base, deadline.kind)
            self.enactor.enact(s, effects, base, Cause(kind=workflow.kind))
            return
        item = repo.item(s, deadline.item_id)
        assert item is not None, f"deadline {deadline.id} names a vanished item"
        sit = _with_record(base, s, item.id)
        effects = self.registry[item.kind].on_deadline(sit, item, deadline.kind)
        self.enactor.enact(s, effects, sit, Cause(kind=item.kind))


def _set_aside(s: Session, deadline: Deadline, now: datetime, detail: str) -> None:
    """Mark a deadline that broke the code as done, and show it to the Secretariat."""
    row = s.get(Deadline, deadline.id)
    assert row is not None
    row.done_at = now
    s.add(row)
    what = f"deadline {row.kind} of item {row.item_id or row.workflow} failed and was set aside"
    s.add(
        Review(
            item_id=row.item_id,
            reason="internal-error",
            detail=f"{what}\n{detail}",
            created_at=now,
            notify=True,
        )
    )


def _covered(deadline: Deadline, mail_read_until: datetime | None) -> bool:
    return mail_read_until is not None and deadline.due_at <= mail_read_until


def _with_record(base: Situation, s: Session, item_id: int) -> Situation:
    """A deadline sees the whole round: standing responses, every reply, every mail sent."""
    responses, streaks, latest = repo.standing_and_streaks(s, item_id)
    return replace(
        base,
        responses=responses,
        unclear_in_a_row=streaks,
        latest=latest,
        history=tuple(repo.history(s, item_id)),
        sent=tuple(repo.sent_views(s, item_id)),
    )
