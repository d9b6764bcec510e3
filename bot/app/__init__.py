"""The shell around the pure core, as one object the daemon, the CLI and the demo share.

`App` only wires: settings, rules, database, secret, registry, composer. The work is done by
intake.py (one message), deadlines.py (time), enact.py (effects -> rows), sender.py (SMTP)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.app import console
from bot.app.deadlines import Deadlines
from bot.app.enact import Cause, Enactor, base_context
from bot.app.intake import Intake, load_item
from bot.app.setup import aliases, database_url, meeting_series, rules_for, token_secret
from bot.app.status import explain_record, open_reviews, snapshot
from bot.clock import Clock
from bot.config import Settings
from bot.domain.effects import Effect, OpenItem
from bot.domain.types import Fetched, ItemKind
from bot.mail.compose import Composer, from_header
from bot.pipeline import Result, World
from bot.render import Renderer
from bot.store import outbox, repo
from bot.store.db import make_engine, session
from bot.store.models import Review
from bot.workflows import meeting as meeting_workflow
from bot.workflows.base import Registry, Situation
from bot.workflows.registry import STANDARD


class App:
    """Everything the daemon, the CLI and the demo do, over one database and one clock."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        engine: Engine | None = None,
        registry: Registry = STANDARD,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.registry = registry
        cfg = settings.model
        self.rules, self.warnings = rules_for(settings)
        self.engine = engine or make_engine(database_url(settings))
        with session(self.engine) as s:
            repo.sync_people(s, settings)
            self.secret = token_secret(s, settings)
            s.commit()
        self._aliases = aliases(settings)
        self.series = meeting_series(settings, self.rules)
        renderer = Renderer({w.kind: w.templates for w in registry.workflows})
        composer = Composer(
            renderer,
            self.secret,
            from_header(cfg.smtp.from_name, cfg.smtp.from_address),
            cfg.smtp.from_address,
        )
        self.enactor = Enactor(
            composer,
            registry,
            cfg.smtp.max_message_bytes,
            cfg.smtp.archive_attachment_bytes,
            cfg.database.max_attachment_bytes,
        )
        self.intake = Intake(self.engine, clock, self.enactor, self.world)
        self.deadlines = Deadlines(
            self.engine, clock, registry, self.enactor, self.situation, self._overview
        )

    # -- what the core reads -------------------------------------------------------------------

    def world(self, s: Session) -> World:
        """What the pipeline's stages read for one message, built once in its session."""
        cfg = self.settings.model
        return World(
            secret=self.secret,
            tag=cfg.group.tag,
            zone=cfg.group.timezone,
            group_name=cfg.group.name,
            rules=self.rules,
            now=self.clock.now(),
            trusted_authserv_ids=frozenset(a.lower() for a in cfg.security.trusted_authserv_ids),
            trusted_arc_sealers=frozenset(d.lower() for d in cfg.security.trusted_arc_sealers),
            own_addresses=frozenset({cfg.smtp.from_address.lower()}),
            people=repo.directory(s, self._aliases),
            registry=self.registry,
            load_item=load_item(s),
            command_policy=cfg.security.require_confirmation,
            plus_domains=frozenset(d.lower() for d in cfg.security.plus_domains),
            awaiting_confirmation=self._awaiting(s),
            series=self.series,
            sender_address=cfg.smtp.from_address,
        )

    def _awaiting(self, s: Session) -> frozenset[int]:
        """Senders with a command already held for their OK (one at a time each)."""
        holder = self.registry.holder
        if holder is None:
            return frozenset()
        found = repo.opened_by_in_state(s, holder.kind, str(holder.initial), "sender_id")
        return frozenset(found)

    def situation(self, s: Session, now: datetime | None = None) -> Situation:
        """The group's facts for a decision that is about no message."""
        world = self.world(s)
        if now is not None and now != world.now:
            world = replace(world, now=now)
        return world.situation()

    # -- the verbs -----------------------------------------------------------------------------

    def explain(self, raw: bytes) -> Result:
        """What the pipeline would do with this message; nothing is written."""
        return self.intake.explain(raw)

    def handle(self, fetched: Fetched) -> str:
        """Archive, interpret and apply one message; returns the archive state it ends in."""
        return self.intake.handle(fetched)

    def mark_polled(self, source: str) -> None:
        """The mailbox was read to its end just now: what `cgbot health` checks."""
        with session(self.engine) as s:
            repo.meta_set(s, "last_poll", self.clock.now().isoformat())
            repo.meta_set(s, "last_poll_source", source)
            s.commit()

    def handle_batch(self, batch: Sequence[Fetched]) -> list[str]:
        """Archive, interpret and apply a batch in two transactions (see Intake.handle_batch)."""
        return self.intake.handle_batch(batch)

    def stranded(self) -> list[list[int]]:
        """What an interrupted run archived but never applied, in batches (Intake.stranded)."""
        return self.intake.stranded()

    def apply_archived(self, inbound_ids: list[int]) -> list[str]:
        """Apply archived messages from their stored bytes (see Intake.apply_archived)."""
        return self.intake.apply_archived(inbound_ids)

    def run_due(self, mail_read_until: datetime | None = None, gated: bool = False) -> int:
        """Run every deadline that has come, once (see Deadlines.run_due for `gated`)."""
        return self.deadlines.run_due(mail_read_until, gated)

    def open_item(
        self,
        kind: str,
        title: str,
        body: str,
        deadline: datetime | None,
        opened_by: str,
        data: dict[str, Any] | None = None,
    ) -> int:
        """Create an item and let its workflow send what opening it sends, in one transaction.

        Raises ValueError with every problem the item's workflow finds in it."""
        return int(self.open_preview(kind, title, body, deadline, opened_by, data)["id"])

    def meetings(self, days: int = 120) -> list[dict[str, Any]]:
        """Meetings called (with their state and attendance) and those still to be called."""
        snap = self.status()
        called = [i for i in snap["items"] if i["kind"] == ItemKind.MEETING]
        keys = {(i.get("series"), str(i.get("starts_at"))) for i in called}
        with session(self.engine) as s:
            sit = self.situation(s)
        upcoming = [
            {
                "id": None,
                "kind": "meeting",
                "title": series.label,
                "state": "to be called",
                "series": series.name,
                "starts_at": start.isoformat(),
                "call_at": (start - series.call_notice).isoformat(),
            }
            for series, start in meeting_workflow.coming(sit, sit.now + timedelta(days=days))
            if (series.name, start.isoformat()) not in keys
        ]
        return sorted([*called, *upcoming], key=lambda m: str(m["starts_at"]))

    def schedule_meeting(
        self, title: str, start: datetime, minutes: int, where: str, facilitators: bool = False
    ) -> int:
        """An ad hoc meeting (ToR 4.1.c): its call goes out now. Raises ValueError."""
        with session(self.engine) as s:
            spec = meeting_workflow.ad_hoc(title, start, minutes, where, self.situation(s))
        data = {**spec.data, "with_facilitators": facilitators}
        return self.open_item(ItemKind.MEETING, spec.title, "", start, "cli", data)

    def unsettled_to_ballot(self, item_id: int, number: int, deadline: datetime | None) -> int:
        """Open an email ballot on a question a meeting could not settle (ToR 4.3.a)."""
        with session(self.engine) as s:
            item = repo.item(s, item_id)
        record = (item.data.get("record") or {}) if item else {}
        questions = list(record.get("unsettled", []))
        if item is None or not 1 <= number <= len(questions):
            raise ValueError(f"meeting {item_id} records no unsettled question {number}")
        question = str(questions[number - 1])
        when = deadline or self.clock.now() + self.rules.consensus.email_round
        title = question if len(question) <= 80 else question[:77] + "..."
        body = f"{question}\n\n(Not settled at the meeting '{item.title}', ToR 4.3.a.)"
        return self.open_item(ItemKind.BALLOT, title, body, when, f"meeting {item_id}")

    def act(self, item_id: int, action: str, args: dict[str, Any]) -> list[Effect]:
        """Carry out one of an item kind's actions (a meeting's move, a ballot's extension), at
        once; returns its effects (what the CLI says was done).

        Raises ValueError naming what is wrong: no such item, no such action, or the item's
        own objection."""
        with session(self.engine) as s:
            effects = self.enactor.act(s, item_id, action, args, self.situation(s), Cause())
            s.commit()
        return effects

    # -- the console: what the Secretariat reads and settles from the command line -----------

    def items(self, states: set[str], kinds: set[str]) -> list[dict[str, Any]]:
        """Every item (of these states and kinds, when given) with who still owes an answer."""
        with session(self.engine) as s:
            return console.items(s, self.situation(s), self.registry, states, kinds)

    def item_detail(self, item_id: int) -> dict[str, Any]:
        """One item in full, as `cgbot show` prints it. Raises ValueError if there is none."""
        with session(self.engine) as s:
            found = console.item_detail(s, self.situation(s), self.registry, item_id)
        if found is None:
            raise ValueError(f"no item {item_id}")
        return found

    def members(self) -> list[dict[str, Any]]:
        with session(self.engine) as s:
            return console.members(self.situation(s))

    def reviews(self) -> list[dict[str, Any]]:
        with session(self.engine) as s:
            return console.reviews(s)

    def review_detail(self, n: int) -> dict[str, Any]:
        """A review entry and the message behind it. Raises ValueError if there is none."""
        with session(self.engine) as s:
            found = console.review_detail(s, n)
        if found is None:
            raise ValueError(f"no review entry {n}")
        return found

    def resolve_review(self, n: int, answer: str, note: str, by: str) -> dict[str, Any]:
        """Settle a review entry: dismiss it, or record the position a member clearly meant
        (confirmed to them), in one transaction. Raises ValueError naming what is wrong."""
        with session(self.engine) as s:
            done = console.resolve(s, self.situation(s), self.enactor, n, answer, note, by)
            s.commit()
        return done

    def open_preview(
        self,
        kind: str,
        title: str,
        body: str,
        deadline: datetime | None,
        opened_by: str,
        data: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Open an item as `open_item` does and return what it queued, to whom; `dry_run`
        rolls it all back (nothing opened, nothing sent). Raises ValueError."""
        spec = OpenItem(kind, title, body, deadline, opened_by, dict(data or {}))
        with session(self.engine) as s:
            item = self.enactor.open_item(s, spec, self.situation(s))
            if item is None:
                raise ValueError(f"an item with the key {spec.key!r} exists already")
            s.flush()
            shown = {"id": item.id, "dry_run": dry_run, "mails": console.queued(s, item.id)}
            if dry_run:
                s.rollback()
            else:
                s.commit()
        return shown

    def _overview(self, s: Session, sit: Situation) -> dict[str, Any]:
        """Every item as status shows it, and who bounces: what the digest reads."""
        snap = snapshot(s, sit, self.registry)
        snap["failing"] = [
            {"name": p.name, "email": p.email} for p in sit.people.people if p.failing
        ]
        return snap

    def status(self) -> dict[str, Any]:
        """The record as `cgbot status --json` shows it."""
        with session(self.engine) as s:
            return snapshot(s, self.situation(s), self.registry)

    def report(self, period: str, out: Path) -> list[Path]:
        """Write the month's progress report into `out`: HTML, chart images and PDF."""
        from bot.app import report  # matplotlib and WeasyPrint load only for a report

        with session(self.engine) as s:
            sit = self.situation(s)
            content = report.content(s, sit, self.registry, period)
        base = {**base_context(sit), "zone": sit.zone}
        return report.write(self.enactor.composer.renderer, content, out, base)

    def explain_record(self, raw: bytes) -> dict[str, Any]:
        """What `cgbot explain` shows about a message."""
        return explain_record(self.explain(raw), self.registry)

    def review_queue(self) -> list[Review]:
        with session(self.engine) as s:
            return open_reviews(s)

    def recover_uncertain(self) -> int:
        """Mail found mid-send after a crash is not resent (at most once): it goes to review."""
        return outbox.recover_uncertain(self.engine, self.clock.now())

    def resend(self, row_id: int) -> None:
        """Queue an uncertain or failed mail again (same Message-ID)."""
        outbox.resend(self.engine, row_id)
