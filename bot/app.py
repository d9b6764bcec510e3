"""The shell around the pure core: one message in, one transaction out; deadlines; new items."""

from __future__ import annotations

import logging
import secrets
import traceback
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.clock import Clock
from bot.config import Settings
from bot.errors import ConfigError
from bot.faults import crash_point
from bot.inbound.parse import message_ids
from bot.mail.compose import sender as format_sender
from bot.pipeline import (
    Handled,
    Ignored,
    Quarantined,
    Result,
    World,
    inspect,
    quarantine_effects,
)
from bot.refusals import Crashed
from bot.render import Renderer
from bot.rules import Rules, composition_warnings, load_rules, resolve_rules_path
from bot.store import repo
from bot.store.apply import Composer, apply_effects, open_item
from bot.store.db import StoreUnavailable, make_engine, session
from bot.store.models import Inbound, InboundState, Item, Outbox, OutboxState, Review
from bot.workflows.effects import (
    Effect,
    ItemView,
    OpenItem,
    PersonView,
)
from bot.workflows.registry import WORKFLOWS
from bot.workflows.situation import Situation

log = logging.getLogger("cgbot")


@dataclass(frozen=True)
class Fetched:
    """One message as a mailbox source hands it over."""

    source: str
    raw: bytes
    uidvalidity: int | None = None
    uid: int | None = None


def _database_url(settings: Settings) -> str:
    """A relative SQLite path is taken relative to the config file, not the working folder."""
    url = make_url(settings.model.database.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute():
            return str(url.set(database=str(settings.base_dir / path)))
    return str(url)


def header_message_id(raw: bytes) -> str:
    """The Message-ID, read from the headers alone (works on mail too broken to parse)."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        found = message_ids(str(headers.get("message-id", "")))
    except Exception:
        return ""
    return found[0] if found else ""


def rules_for(settings: Settings) -> tuple[Rules, list[str]]:
    """The group's rules, and warnings about config and composition (ToR 3.1)."""
    cfg = settings.model
    rules = load_rules(resolve_rules_path(cfg.group.rules, settings.base_dir))
    roles = [m.role for m in cfg.members]
    for i, role in enumerate(roles):
        if rules.seat(role) is None:
            known = ", ".join(s.role for s in rules.composition)
            raise ConfigError(
                f"{settings.path}: members[{i}].role: {role!r} is not a seat in the rules ({known})"
            )
    return rules, [*settings.warnings, *composition_warnings(rules, roles)]


class App:
    """Everything the daemon, the CLI and the demo do, over one database and one clock."""

    def __init__(self, settings: Settings, clock: Clock, engine: Engine | None = None) -> None:
        self.settings = settings
        self.clock = clock
        cfg = settings.model
        self.rules, self.warnings = rules_for(settings)
        self.engine = engine or make_engine(_database_url(settings))
        with session(self.engine) as s:
            repo.sync_people(s, settings)
            secret = settings.secret or repo.meta_get(s, "token_secret")
            if secret is None:
                secret = secrets.token_urlsafe(32)
                repo.meta_set(s, "token_secret", secret)
            s.commit()
        self.secret = secret
        self.composer = Composer(
            Renderer(),
            secret,
            format_sender(cfg.smtp.from_name, cfg.smtp.from_address),
            cfg.smtp.from_address,
        )
        self._aliases = {
            alias.lower(): person.email.lower()
            for person in [*cfg.members, cfg.chair]
            for alias in person.aliases
        }

    # -- reading the world -------------------------------------------------------------------

    def situation(self, s: Session, item: ItemView | None) -> Situation:
        people = repo.active_people(s)
        chair = next(p for p in people if p.kind == "chair")
        history = repo.response_views(s, item.id) if item else []
        return Situation(
            rules=self.rules,
            now=self.clock.now(),
            group_name=self.settings.model.group.name,
            tag=self.settings.model.group.tag,
            members=tuple(p for p in people if p.kind == "member"),
            chair=chair,
            secretariat=tuple(p for p in people if p.kind == "secretariat"),
            responses=repo.latest_responses(history),
            history=tuple(history),
            sent=tuple(repo.sent_views(s, item.id)) if item else (),
        )

    def world(self, s: Session) -> World:
        people = {p.email: p for p in repo.active_people(s)}

        def person_by_email(addr: str) -> PersonView | None:
            addr = addr.lower()
            return people.get(self._aliases.get(addr, addr))

        by_id = {p.id: p for p in people.values()}

        def item_by_id(item_id: int) -> ItemView | None:
            row = s.get(Item, item_id)
            return repo.item_view(row) if row else None

        return World(
            secret=self.secret,
            tag=self.settings.model.group.tag,
            zone=self.settings.model.group.timezone,
            trusted_authserv_ids=frozenset(
                a.lower() for a in self.settings.model.security.trusted_authserv_ids
            ),
            own_addresses=frozenset({self.settings.model.smtp.from_address.lower()}),
            person_by_email=person_by_email,
            person_by_id=by_id.get,
            item_by_id=item_by_id,
            situation_for=lambda item: self.situation(s, item),
        )

    # -- inbound ----------------------------------------------------------------------------

    def explain(self, raw: bytes) -> Result:
        """What the pipeline would do with this message; nothing is written."""
        with session(self.engine) as s:
            return inspect(raw, self.world(s))

    def handle(self, fetched: Fetched) -> str:
        """Archive, interpret and apply one message; returns the archive state it ends in.

        Raises only when the database itself fails: the caller then leaves the message on the
        server and its checkpoint where it was, to try again later."""
        try:
            return self._handle(fetched)
        except OperationalError as exc:
            raise StoreUnavailable(
                f"database {self.engine.url.database}: {exc.orig}; the message stays on the "
                "server and is read again next time"
            ) from exc

    def _handle(self, fetched: Fetched) -> str:
        now = self.clock.now()
        with session(self.engine) as s:
            row = repo.archive(
                s,
                fetched.raw,
                header_message_id(fetched.raw),
                fetched.source,
                fetched.uidvalidity,
                fetched.uid,
                now,
            )
            inbound_id = row.id
            if row.state != InboundState.NEW:
                self._advance(s, fetched)
                s.commit()
                return row.state
        crash_point("archived")
        try:
            with session(self.engine) as s:
                state = self._interpret(s, fetched, inbound_id, now)
                s.commit()
        except OperationalError:
            raise  # the database, not the message, is at fault: leave it on the server
        except Exception as exc:  # a bug must not stop the daemon or lose the message
            log.exception("message #%s could not be handled", inbound_id)
            detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
            with session(self.engine) as s:
                state = self._settle(s, inbound_id, Quarantined(Crashed(detail=detail)), now)
                self._advance(s, fetched)
                s.commit()
        crash_point("applied")
        return state

    def _interpret(
        self, s: Session, fetched: Fetched, inbound_id: int | None, now: datetime
    ) -> str:
        result = inspect(fetched.raw, self.world(s))
        inbound = s.get(Inbound, inbound_id)
        assert inbound is not None
        insp = result.inspection
        inbound.person_id = insp.person.id if insp.person else None
        inbound.item_id = insp.item.id if insp.item else None
        state = self._settle(s, inbound_id, result.outcome, now, insp.item)
        self._advance(s, fetched)
        return state

    def _settle(
        self,
        s: Session,
        inbound_id: int | None,
        outcome: object,
        now: datetime,
        item: ItemView | None = None,
    ) -> str:
        inbound = s.get(Inbound, inbound_id)
        assert inbound is not None
        effects: list[Effect]
        if isinstance(outcome, Handled):
            inbound.state, effects = InboundState.PROCESSED, outcome.effects
        elif isinstance(outcome, Ignored):
            inbound.state, inbound.reason, inbound.detail = (
                InboundState.IGNORED,
                outcome.reason,
                outcome.detail,
            )
            effects = outcome.effects
        else:
            assert isinstance(outcome, Quarantined)
            inbound.state = InboundState.QUARANTINED
            inbound.reason, inbound.detail = outcome.refusal.code, outcome.refusal.detail
            secretariat = tuple(p for p in repo.active_people(s) if p.kind == "secretariat")
            effects = quarantine_effects(
                outcome.refusal,
                inbound.raw,
                secretariat,
                inbound.id,
                inbound.item_id,
                inbound.person_id,
            )
        inbound.processed_at = now
        s.add(inbound)
        apply_effects(s, effects, self.situation(s, item), self.composer, now, inbound)
        return inbound.state

    def _advance(self, s: Session, fetched: Fetched) -> None:
        if fetched.uidvalidity is not None and fetched.uid is not None:
            repo.set_checkpoint(s, fetched.source, fetched.uidvalidity, fetched.uid)

    # -- time --------------------------------------------------------------------------------

    def run_due(self) -> int:
        """Run every deadline that has come, once: missed ticks of one kind are coalesced."""
        now = self.clock.now()
        ran = 0
        with session(self.engine) as s:
            due = repo.due_deadlines(s, now)
            latest = {(d.item_id, d.kind): d for d in due}  # ordered by due_at: last one wins
            for deadline in due:
                deadline.done_at = now
                s.add(deadline)
                if latest[(deadline.item_id, deadline.kind)] is not deadline:
                    continue
                row = s.get(Item, deadline.item_id)
                assert row is not None
                item = repo.item_view(row)
                sit = self.situation(s, item)
                effects = WORKFLOWS[item.kind].on_deadline(sit, item, deadline.kind)
                apply_effects(s, effects, sit, self.composer, now)
                s.commit()
                ran += 1
            s.commit()
        return ran

    # -- items -------------------------------------------------------------------------------

    def open_item(
        self,
        kind: str,
        title: str,
        body: str,
        deadline: datetime | None,
        opened_by: str,
        options: list[str] | None = None,
    ) -> int:
        """Create an item and let its workflow send what opening it sends, in one transaction."""
        now = self.clock.now()
        if deadline is not None and deadline <= now:
            raise ValueError(
                f"the deadline {deadline.isoformat()} is not in the future (now {now.isoformat()})"
            )
        unknown = [o for o in options or () if o not in self.rules.positions]
        if unknown:
            known = ", ".join(self.rules.positions)
            raise ValueError(f"--options: {', '.join(unknown)} not in the rules ({known})")
        spec = OpenItem(kind, title, body, deadline, opened_by, tuple(options or ()))
        with session(self.engine) as s:
            item_id = open_item(s, spec, self.situation(s, None), self.composer, now)
            s.commit()
        return item_id

    # -- outbox ------------------------------------------------------------------------------

    def recover_uncertain(self) -> int:
        """Mail found mid-send after a crash is not resent (at most once): it goes to review."""
        now = self.clock.now()
        with session(self.engine) as s:
            rows = list(s.exec(select(Outbox).where(Outbox.state == OutboxState.SENDING)))
            for row in rows:
                row.state = OutboxState.UNCERTAIN
                s.add(row)
                s.add(
                    Review(
                        item_id=row.item_id,
                        person_id=row.person_id,
                        reason="delivery-uncertain",
                        detail=f"mail {row.message_id} to {', '.join(row.recipients)} was being "
                        "sent "
                        "when the bot stopped; it may or may not have gone out (resend with "
                        f"`cgbot outbox resend {row.id}`)",
                        created_at=now,
                    )
                )
            s.commit()
        return len(rows)
