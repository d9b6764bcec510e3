"""The workflows by item kind, registered explicitly in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.workflows import ballot
from bot.workflows.effects import Effect, ItemView
from bot.workflows.situation import Reply, Situation


@dataclass(frozen=True)
class Workflow:
    kind: str
    description: str
    on_open: Callable[[Situation, ItemView], list[Effect]]
    on_reply: Callable[[Situation, Reply], list[Effect]]
    on_deadline: Callable[[Situation, ItemView, str], list[Effect]]


WORKFLOWS: dict[str, Workflow] = {
    "ballot": Workflow(
        "ballot",
        "consensus ballot by email, escalated to the Board Chair (ToR 4.3)",
        ballot.on_open,
        ballot.on_reply,
        ballot.on_deadline,
    ),
}
