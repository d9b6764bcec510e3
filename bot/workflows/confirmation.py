"""A Secretariat command that the bot could not prove came from the Secretariat waits here until
the configured address answers the signed confirmation request with OK (issue 8).

A forged command therefore opens nothing and mails no member: the only mail it causes goes to
the real Secretariat address, which can ignore it or answer NO."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from bot.domain.effects import Effect, Mail, OpenItem, Schedule, ToReview
from bot.domain.types import ItemKind, ItemView
from bot.inbound.assent import Assent, read_assent
from bot.resources import data_dir
from bot.workflows.base import (
    CommandError,
    CommandMail,
    Reply,
    Situation,
    Workflow,
    carry_out,
)

EXPIRES_AFTER = timedelta(days=3)


class ConfirmationState(StrEnum):
    AWAITING = "awaiting"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


TRANSITIONS: dict[tuple[StrEnum, str], tuple[StrEnum, ...]] = {
    (ConfirmationState.AWAITING, "answer"): (
        ConfirmationState.DONE,
        ConfirmationState.CANCELLED,
        ConfirmationState.FAILED,
    ),
    (ConfirmationState.AWAITING, "expire"): (ConfirmationState.EXPIRED,),
}


def request(mail: CommandMail, sit: Situation, why: str) -> OpenItem:
    """The pending command, as an item whose opening mails the request to its sender."""
    return OpenItem(
        ItemKind.CONFIRMATION,
        mail.message.subject,
        mail.text,
        sit.now + EXPIRES_AFTER,
        f"{mail.sender.email} by email",
        {"subject": mail.message.subject, "sender_id": mail.sender.id, "why": why},
        reply_to=mail.message,
    )


def _sender(sit: Situation, item: ItemView) -> tuple[Any, ...]:
    person = sit.people.by_id(int(item.data["sender_id"]))
    return (person,) if person else sit.secretariat


def on_open(sit: Situation, item: ItemView) -> list[Effect]:
    assert item.deadline is not None
    ctx = {"item": item, "why": item.data.get("why", "")}
    return [
        Mail(
            "confirmation/request",
            _sender(sit, item),
            "confirmation",
            ctx,
            item.id,
            cap_key=f"unproven:{_sender(sit, item)[0].email}",  # never the Secretariat's budget
        ),
        Schedule(item.id, "expire", item.deadline),
    ]


def on_reply(sit: Situation, reply: Reply) -> list[Effect]:
    """OK carries the command out as if it had just arrived; NO drops it; anything else waits."""
    item, person = reply.item, reply.person
    if person.id != item.data.get("sender_id") or not reply.trusted:
        why = f"{person.email} answered the confirmation request sent to another address"
        return [ToReview("confirmation", why, item.id, person.id)]
    if item.state != ConfirmationState.AWAITING:
        why = f"an answer to a request already {item.state}: {reply.text[:200]}"
        return [ToReview("confirmation", why, item.id, person.id)]
    if reply.held_because:
        return [ToReview("confirmation", f"not taken: {reply.held_because}", item.id, person.id)]
    if item.deadline is not None and reply.arrived(sit) > item.deadline:
        why = f"an answer that arrived after the request expired: {reply.text[:200]}"
        return [ToReview("confirmation", why, item.id, person.id)]
    ctx: dict[str, Any] = {"item": item}
    assent = read_assent(reply.text)
    if assent == Assent.NO:
        return [
            WORKFLOW.move(item, "answer", ConfirmationState.CANCELLED),
            Mail(
                "confirmation/cancelled", (person,), "command", ctx, item.id, reply_to=reply.message
            ),
        ]
    if assent == Assent.UNCLEAR and reply.answered == "clarify":
        why = f"neither OK nor NO, in answer to the bot's own question: {reply.text[:200]}"
        return [ToReview("confirmation", why, item.id, person.id)]
    if assent == Assent.UNCLEAR:
        return [
            Mail(
                "confirmation/unclear", (person,), "clarify", ctx, item.id, reply_to=reply.message
            ),
        ]
    return _carry_out(sit, reply)


def _carry_out(sit: Situation, reply: Reply) -> list[Effect]:
    item, person = reply.item, reply.person
    assert sit.registry is not None
    found = sit.registry.command_for(str(item.data["subject"]))
    if found is None:
        return [ToReview("confirmation", f"no command reads {item.data['subject']!r}", item.id)]
    command, argument = found
    mail = CommandMail(argument, item.body, person, reply.message)
    try:
        effects = carry_out(command, mail, sit)
    except CommandError as exc:
        ctx = {"subject": item.data["subject"], "problems": exc.problems, "zone": sit.zone}
        return [
            WORKFLOW.move(item, "answer", ConfirmationState.FAILED),
            Mail("common/command_refused", (person,), "command", ctx, reply_to=reply.message),
        ]
    return [WORKFLOW.move(item, "answer", ConfirmationState.DONE), *effects]


def on_deadline(sit: Situation, item: ItemView, kind: str) -> list[Effect]:
    if kind != "expire" or item.state != ConfirmationState.AWAITING:
        return []
    why = f"nobody confirmed {item.title!r}; it was not carried out"
    return [
        WORKFLOW.move(item, "expire", ConfirmationState.EXPIRED),
        ToReview("confirmation-expired", why, item.id),
    ]


WORKFLOW = Workflow(
    kind=ItemKind.CONFIRMATION,
    description="a Secretariat command waiting for its sender's OK (unproven sender)",
    states=ConfirmationState,
    initial=ConfirmationState.AWAITING,
    transitions=TRANSITIONS,
    on_open=on_open,
    on_reply=on_reply,
    on_deadline=on_deadline,
    templates=data_dir("templates") / "confirmation",
    announce=False,
    hold=request,
    waits_for_mail=frozenset({"expire"}),  # an OK that arrived in time is read first
)
