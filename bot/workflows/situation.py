"""The read-only world a workflow decides in: rules, clock reading, people, responses so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.inbound.parse import InboundMessage
from bot.rules import Rules
from bot.workflows.effects import ItemView, PersonView, ResponseView, SentView


@dataclass(frozen=True)
class Situation:
    rules: Rules
    now: datetime
    group_name: str
    tag: str
    members: tuple[PersonView, ...]
    chair: PersonView
    secretariat: tuple[PersonView, ...]
    responses: dict[int, ResponseView] = field(default_factory=dict)  # latest per person, this item
    history: tuple[ResponseView, ...] = ()  # every reply to this item, oldest first
    sent: tuple[SentView, ...] = ()  # what the bot sent about this item, oldest first

    def member(self, person_id: int) -> PersonView | None:
        return next((m for m in self.members if m.id == person_id), None)


@dataclass(frozen=True)
class Reply:
    """A person's reply to an item, with the new text already extracted."""

    item: ItemView
    person: PersonView
    message: InboundMessage
    text: str
    trusted: bool  # it answers this person's own signed mail
    matched_by: str  # "token" | "subject-tag"
