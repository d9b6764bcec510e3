"""Feedback rounds (ToR 2.2.e, 2.1.h): a draft goes to each member, who answers by reply with
comments and files; reminders go to those who have not answered; at the deadline the
Secretariat gets one compilation with every reply, in order, and its files as sent. Feedback
after the deadline is still collected, flagged late, and forwarded. A revised draft opens round 2,
round 1 kept."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.effects import Effect, Mail, OpenItem, Record, Schedule, ToReview
from bot.domain.types import Attachment, ItemKind, ItemView, PersonKind, PersonView
from bot.inbound.commands import parse_deadline, read_fields
from bot.inbound.reply import answer_line
from bot.resources import data_dir
from bot.workflows.base import CommandError, CommandMail, Reply, Situation, Workflow


class FeedbackState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


TRANSITIONS: dict[tuple[StrEnum, str], tuple[StrEnum, ...]] = {
    (FeedbackState.OPEN, "close"): (FeedbackState.CLOSED,),
}

_NO_COMMENTS = re.compile(
    r"^\W*(?:i have |we have |je n'ai |no tengo |não tenho )?"
    r"(?:no (?:further |other )?comments?|nothing (?:to add|further)|no remarks|"
    r"(?:pas|aucun|aucune) (?:de )?(?:commentaires?|remarques?)|rien à (?:ajouter|signaler)|"
    r"sin (?:comentarios|observaciones)|nada que (?:añadir|agregar)|ningún comentario|"
    r"sem (?:comentários|observações)|nenhum comentário|nada a (?:acrescentar|acrescer))\b",
    re.IGNORECASE,
)
# What may follow "no comments" in a reply that has none, and nothing else: "from me", "on this
# draft", "thanks". "No comments yet, I will send them by Friday", "No comments, I object",
# "No comments on section 1. Section 2 needs work" are read by the Secretariat as comments.
_AFTERWORD = re.compile(
    r"^(?:(?:from me|from my side|on my side|on this draft|on the draft|on this|here|either|"
    r"thanks?|thank you|many thanks|de ma part|sur ce projet|merci|"
    r"de mi parte|por mi parte|sobre el borrador|gracias|"
    r"da minha parte|de minha parte|sobre o rascunho|obrigad[oa])"
    r"(?:[\s,.;:!-]+|$))*$",
    re.IGNORECASE,
)


def no_comments(text: str, name: str = "") -> bool:
    """A reply that only says there is nothing to add (it counts as an answer): the words for it
    on the first line, thanks at most after them, then a closing and the member's `name`."""
    line = answer_line(text, name)
    found = _NO_COMMENTS.match(line) if line is not None else None
    if line is None or found is None:
        return False
    return bool(_AFTERWORD.match(line[found.end() :].strip(" \t,.;:!-")))


def _draft(item: ItemView) -> tuple[Attachment, ...]:
    """The draft (and any other file the round was opened with) goes to every member."""
    given = [item.data["draft"]] if item.data.get("draft") else []
    given += list(item.data.get("attached", []))
    return tuple(Attachment(d["name"], base64.b64decode(d["content"]), d["type"]) for d in given)


def on_open(sit: Situation, item: ItemView) -> list[Effect]:
    assert item.deadline is not None, "a round has a deadline"
    ctx = {"item": item, "round": item.data.get("round", 1)}
    effects: list[Effect] = [
        Mail("feedback/draft", sit.members, "feedback", ctx, item.id, attachments=_draft(item)),
        Schedule(item.id, "close", item.deadline),
    ]
    for before in sit.rules.reminders.before_deadline:
        if item.deadline - before > sit.now:
            effects.append(Schedule(item.id, "reminder", item.deadline - before))
    return effects


def on_reply(sit: Situation, reply: Reply) -> list[Effect]:
    """Every reply is kept, in order, with its files; "no comments" counts as an answer."""
    item, person = reply.item, reply.person
    if person.kind != PersonKind.MEMBER or not reply.trusted:
        why = f"feedback from someone not asked, or not to their own mail: {reply.text[:200]}"
        return [ToReview("feedback-reply", why, item.id, person.id)]
    late = item.state != FeedbackState.OPEN or (
        item.deadline is not None and reply.arrived(sit) > item.deadline
    )
    nothing = no_comments(reply.text, person.name) and not reply.message.attachments
    position = "no-comments" if nothing else "comments"
    status = "late" if late else "counted"
    ctx = {"item": item, "late": late, "nothing": nothing, "files": list(reply.message.attachments)}
    effects: list[Effect] = [
        Record(item.id, person.id, position, reply.text, status, "feedback", keep_files=True),
    ]
    if reply.answered not in ("confirm", "late"):  # never answer the bot's own answer again
        effects.append(
            Mail("feedback/noted", (person,), "confirm", ctx, item.id, reply_to=reply.message)
        )
    if late and item.state != FeedbackState.OPEN:
        # After the compilation: forwarded to the Secretariat at once, with its files.
        note = {"item": item, "person": person, "text": reply.text}
        effects.append(
            Mail(
                "feedback/late",
                sit.secretariat,
                "notice",
                note,
                item.id,
                personal=False,
                attach_replies_files="this-reply",
            )
        )
    return effects


def _answered(sit: Situation) -> set[int]:
    return {r.person_id for r in sit.history if r.status in ("counted", "late")} | {
        pid for pid, r in sit.responses.items() if r.status in ("counted", "late")
    }


def on_deadline(sit: Situation, item: ItemView, kind: str) -> list[Effect]:
    if item.state != FeedbackState.OPEN:
        return []
    answered = _answered(sit)
    waiting = tuple(m for m in sit.members if m.id not in answered)
    if kind == "reminder":
        if item.deadline is not None and item.deadline <= sit.now:
            return []
        remind = Mail("feedback/reminder", waiting, "reminder", {"item": item}, item.id)
        return [remind] if waiting else []
    if kind != "close":
        return []
    names = {p.id: p for p in sit.members}
    replies = [
        {
            "person": names[r.person_id],
            "at": r.received_at,
            "text": r.text,
            "files": r.files,
            "late": r.status == "late",
            "nothing": r.position == "no-comments",
        }
        for r in sit.history
        if r.person_id in names and r.status in ("counted", "late")
    ]
    ctx: dict[str, Any] = {"item": item, "replies": replies, "silent": waiting}
    return [
        WORKFLOW.move(item, "close", FeedbackState.CLOSED),
        Mail(
            "feedback/compilation",
            sit.secretariat,
            "outcome",
            ctx,
            item.id,
            personal=False,
            attach_replies_files="all",
        ),
    ]


def summary(item: ItemView, sit: Situation) -> dict[str, Any]:
    """Per member: status, every reply's text in order, late or not, and the files' hashes."""
    people: dict[int, PersonView] = {p.id: p for p in sit.members}
    out: dict[str, dict[str, Any]] = {}
    for r in sit.history:
        person = people.get(r.person_id)
        if person is None or r.status not in ("counted", "late"):
            continue
        entry = out.setdefault(
            person.email, {"status": r.position, "text": "", "late": False, "attachments": []}
        )
        entry["at"] = r.received_at.isoformat()  # when their latest reply arrived
        entry["text"] = f"{entry['text']}\n\n{r.text}".strip() if entry["text"] else r.text
        entry["late"] = entry["late"] or r.status == "late"
        entry["status"] = "comments" if "comments" in (entry["status"], r.position) else r.position
        entry["attachments"] += [{"name": f.name, "sha256": f.sha256} for f in r.files]
    for member in sit.members:
        out.setdefault(
            member.email,
            {"status": "no answer", "text": "", "late": False, "attachments": [], "at": None},
        )
    return {"round": item.data.get("round", 1), "responses": out}


def validate(spec: OpenItem, sit: Situation) -> list[str]:
    if spec.deadline is None or spec.deadline <= sit.now:
        return ["a feedback round needs a deadline in the future"]
    return []


def round_of(
    title: str,
    body: str,
    deadline: datetime,
    draft: Attachment | None,
    round_: int = 1,
    previous: int | None = None,
) -> OpenItem:
    """A feedback round on a draft (kept in the item's data, base64, to go to every member)."""
    data: dict[str, Any] = {"round": round_}
    if previous is not None:
        data["previous"] = previous
    if draft is not None:
        data["draft"] = {
            "name": draft.filename,
            "type": draft.mime_type,
            "content": base64.b64encode(draft.content).decode("ascii"),
        }
    return OpenItem(ItemKind.FEEDBACK, title, body, deadline, "cli", data)


def revise(sit: Situation, item: ItemView, args: dict[str, Any]) -> list[Effect]:
    """Round 2 (and on): a revised draft to every member; the earlier round is kept, closed."""
    draft: Attachment | None = args.get("draft")
    deadline: datetime = args["deadline"]
    effects: list[Effect] = []
    if item.state == FeedbackState.OPEN:
        effects.append(WORKFLOW.move(item, "close", FeedbackState.CLOSED))
    next_round = round_of(
        item.title,
        str(args.get("body") or item.body),
        deadline,
        draft,
        int(item.data.get("round", 1)) + 1,
        item.id,
    )
    return [*effects, next_round]


class FeedbackCommand:
    """`FEEDBACK: <title>` from the Secretariat, the draft attached: Deadline: in the body."""

    prefix = "FEEDBACK"
    description = "ask for written feedback on the attached draft: Deadline: and a note"

    def run(self, mail: CommandMail, sit: Situation) -> list[Effect]:
        fields, text = read_fields(mail.text, ("deadline",))
        problems = [] if mail.argument else ["the subject has no title after 'FEEDBACK:'"]
        deadline = sit.now + sit.rules.feedback.default_timeframe
        if "deadline" in fields:
            try:
                deadline = parse_deadline(fields["deadline"], sit.zone, sit.rules.deadlines)
            except ValueError as exc:
                problems.append(f"Deadline: {fields['deadline']!r} is not a date ({exc})")
        if problems:
            raise CommandError(problems)
        spec = round_of(mail.argument, text, deadline, None)
        # The draft is the command mail's attachment: the shell keeps it with the round.
        return [
            replace(
                spec,
                opened_by=f"{mail.sender.email} by email",
                data={**spec.data, "keep_mail_files": True},
                reply_to=mail.message,
            )
        ]


WORKFLOW = Workflow(
    kind=ItemKind.FEEDBACK,
    description="written feedback on a draft within a timeframe (ToR 2.2.e)",
    states=FeedbackState,
    initial=FeedbackState.OPEN,
    transitions=TRANSITIONS,
    on_open=on_open,
    on_reply=on_reply,
    on_deadline=on_deadline,
    templates=data_dir("templates") / "feedback",
    validate=validate,
    summary=summary,
    commands=(FeedbackCommand(),),
    actions={"revise": revise},
    waits_for_mail=frozenset({"close"}),
)
