"""What every item kind declares, and the read-only world its workflow decides in.

A kind is one module: its states (an enum with a transition table), its email commands, how an
item is validated when opened, its reactions to opening, replies and deadlines, what status and
explain show about it, and a folder of templates. The registry lists the kinds once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain.effects import Effect, OpenItem, Record, SetState
from bot.domain.message import InboundMessage
from bot.domain.types import (
    Directory,
    ItemView,
    MeetingSeries,
    PersonView,
    ResponseView,
    SentView,
)
from bot.rules import Rules


@dataclass(frozen=True)
class Situation:
    """Everything a workflow may read to decide: rules, the time, people, the item's record.

    On a reply it holds each person's standing response only (bounded by the group's size);
    on a deadline it also holds the round's whole history and the mails sent, for timelines."""

    rules: Rules
    now: datetime
    group_name: str
    tag: str
    zone: str
    people: Directory
    responses: dict[int, ResponseView] = field(default_factory=dict)  # standing, per person
    history: tuple[ResponseView, ...] = ()  # every reply to this item, oldest first (deadlines)
    sent: tuple[SentView, ...] = ()  # what the bot sent about this item (deadlines)
    registry: Registry | None = None  # the kinds and their commands (for confirmed commands)
    unclear_in_a_row: dict[int, int] = field(default_factory=dict)  # per person, this item
    latest: dict[int, ResponseView] = field(default_factory=dict)  # latest reply, any status
    series: tuple[MeetingSeries, ...] = ()  # the group's regular meetings (rules + config)
    sender_address: str = ""  # the bot's own address (a calendar invitation's ORGANIZER)
    # For recurring work of a whole kind (the digest): every item as `cgbot status --json`
    # shows it, the people whose mail bounces, and what the kind remembered from its last run.
    overview: dict[str, Any] = field(default_factory=dict)
    remembered: dict[str, str] = field(default_factory=dict)

    @property
    def members(self) -> tuple[PersonView, ...]:
        return self.people.members

    @property
    def chair(self) -> PersonView:
        return self.people.chair

    @property
    def secretariat(self) -> tuple[PersonView, ...]:
        return self.people.secretariat

    @property
    def facilitators(self) -> tuple[PersonView, ...]:
        return self.people.facilitators

    def member(self, person_id: int) -> PersonView | None:
        return next((m for m in self.members if m.id == person_id), None)


@dataclass(frozen=True)
class CalendarAnswer:
    """What a calendar client answered to an invitation (ACCEPTED, DECLINED, TENTATIVE)."""

    partstat: str
    comment: str
    sequence: int


@dataclass(frozen=True)
class Reply:
    """A person's reply to an item, with the new text already extracted."""

    item: ItemView
    person: PersonView
    message: InboundMessage
    text: str
    trusted: bool  # it answers this person's own signed mail
    matched_by: str  # "token" | "subject-tag"
    verified: str | None = None  # how DKIM/DMARC proved the sender (asked for the Chair only)
    answered: str = ""  # the purpose of the bot's mail it answers ("readback", "confirm", ...)
    calendar: CalendarAnswer | None = None  # an iTIP REPLY from the person's calendar client
    held_because: str = ""  # why it must not count although it answers their own mail
    arrived_at: datetime | None = None  # when the mail server received it

    def arrived(self, sit: Situation) -> datetime:
        return self.arrived_at or sit.now


class CommandError(Exception):
    """The command was understood as one but cannot be carried out; `problems` say why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CommandMail:
    """A Secretariat mail whose subject starts with a command's prefix."""

    argument: str  # the subject after "PREFIX:"
    text: str  # the new text of the body
    sender: PersonView
    message: InboundMessage


class Command(Protocol):
    """One email command (in the manner of Mailman's): a subject prefix and one method."""

    prefix: str  # "BALLOT" answers subjects "BALLOT: ..."
    description: str

    def run(self, mail: CommandMail, sit: Situation) -> list[Effect]:
        """The effects of carrying it out; raises CommandError with every problem found."""
        ...


def command_argument(subject: str, prefix: str) -> str | None:
    """What follows `PREFIX:` in a subject (a forward's `Fwd:` allowed), or None."""
    pattern = rf"^\s*(?:fwd?\s*:\s*)?{re.escape(prefix)}\s*:\s*(?P<rest>.*)$"
    match = re.match(pattern, subject, re.IGNORECASE | re.DOTALL)
    return match.group("rest").strip() if match else None


def carry_out(command: Command, mail: CommandMail, sit: Situation) -> list[Effect]:
    """A command's effects, with every item it opens validated by its kind (or CommandError)."""
    effects = command.run(mail, sit)
    assert sit.registry is not None
    problems = [
        problem
        for effect in effects
        if isinstance(effect, OpenItem)
        for problem in sit.registry[effect.kind].validate(effect, sit)
    ]
    if problems:
        raise CommandError(problems)
    return effects


@dataclass(frozen=True)
class Tick:
    """A recurring job of a kind as a whole (a daily digest, a meeting cadence)."""

    job: str
    due_at: datetime


def _no_problems(spec: OpenItem, sit: Situation) -> list[str]:
    return []


def _no_summary(item: ItemView, sit: Situation) -> dict[str, Any]:
    return {}


def explain_records(effects: list[Effect]) -> dict[str, Any]:
    """The reading a reply got, from the Record effect it caused (if any)."""
    records = [e for e in effects if isinstance(e, Record)]
    first = records[0] if records else None
    return {
        "position": first.position if first else None,
        "status": first.status if first else None,
        "why": first.note if first else "",
    }


def no_opening(sit: Situation, item: ItemView) -> list[Effect]:
    """For a kind with no items of its own (the digest, the report): opening does nothing."""
    return []


def no_reply(sit: Situation, reply: Reply) -> list[Effect]:
    """For a kind with no items of its own: no reply can reach one."""
    return []


def no_deadline(sit: Situation, item: ItemView, kind: str) -> list[Effect]:
    """For a kind with no items of its own: its work is its schedule's ticks."""
    return []


def next_local(now: datetime, zone: str, at: str, day_ok: Callable[[datetime], bool]) -> datetime:
    """The first `at` ("07:00", in `zone`) after `now` on a day `day_ok` accepts, in UTC."""
    local = now.astimezone(ZoneInfo(zone))
    hour, minute = (int(x) for x in at.split(":"))
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    while slot <= local or not day_ok(slot):
        slot += timedelta(days=1)
    return slot.astimezone(ZoneInfo("UTC"))


@dataclass(frozen=True)
class Workflow:
    """An item kind: everything the shell needs to know about it, declared in one place."""

    kind: str
    description: str
    states: type[StrEnum]
    initial: StrEnum
    transitions: Mapping[tuple[StrEnum, str], tuple[StrEnum, ...]]
    on_open: Callable[[Situation, ItemView], list[Effect]]
    on_reply: Callable[[Situation, Reply], list[Effect]]
    on_deadline: Callable[[Situation, ItemView, str], list[Effect]]
    templates: Path  # its folder of mail templates ("<name>.<lang>.subject|txt|html")
    validate: Callable[[OpenItem, Situation], list[str]] = _no_problems
    summary: Callable[[ItemView, Situation], dict[str, Any]] = _no_summary  # status, digest
    explain: Callable[[list[Effect]], dict[str, Any]] = explain_records
    commands: tuple[Command, ...] = ()
    announce: bool = True  # opening an item tells the Secretariat ("opened" notice)
    waits_for_mail: frozenset[str] = frozenset()  # deadline kinds run only once mail is read
    overview: bool = False  # its recurring work reads every item (the Secretariat's digest)
    # What the Secretariat may do to an item of this kind from the CLI ("move", "cancel"):
    # each takes the item and its arguments and returns effects, or raises ValueError.
    actions: Mapping[str, Callable[[Situation, ItemView, dict[str, Any]], list[Effect]]] = field(
        default_factory=dict
    )
    # The kind that holds an unproven Secretariat command until its sender answers OK.
    hold: Callable[[CommandMail, Situation, str], OpenItem] | None = None
    schedule: Callable[[Situation], list[Tick]] | None = None  # next run of each job, after now
    on_tick: Callable[[Situation, str], list[Effect]] | None = None

    def move(
        self,
        item: ItemView,
        event: str,
        to: StrEnum,
        deadline: datetime | None = None,
        **data: Any,
    ) -> SetState:
        """The state change for `event`, checked against the transition table."""
        allowed = self.transitions.get((self.states(item.state), event), ())
        if to not in allowed:
            raise ValueError(f"{self.kind} {item.id}: {item.state} -> {to} on {event!r}")
        return SetState(item.id, str(to), data, deadline)


@dataclass(frozen=True)
class Registry:
    """The item kinds this installation knows, each once."""

    workflows: tuple[Workflow, ...]

    def __post_init__(self) -> None:
        kinds = [w.kind for w in self.workflows]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"an item kind is registered twice: {kinds}")

    def get(self, kind: str) -> Workflow | None:
        return next((w for w in self.workflows if w.kind == kind), None)

    def __getitem__(self, kind: str) -> Workflow:
        found = self.get(kind)
        if found is None:
            raise KeyError(f"no workflow for item kind {kind!r}")
        return found

    def command_for(self, subject: str) -> tuple[Command, str] | None:
        """The command a subject invokes, with its argument."""
        for workflow in self.workflows:
            for command in workflow.commands:
                argument = command_argument(subject, command.prefix)
                if argument is not None:
                    return command, argument
        return None

    @property
    def holder(self) -> Workflow | None:
        """The kind that holds unproven commands (None: such commands only go to review)."""
        return next((w for w in self.workflows if w.hold is not None), None)

    def with_kinds(self, *more: Workflow) -> Registry:
        return Registry((*self.workflows, *more))
