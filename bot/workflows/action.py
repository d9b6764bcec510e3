"""Agreed actions followed up by email (ToR 6.2.b): the owner is told, reminded before the due
date and chased after it until they reply "done"; "need until <date>" moves the date, and the
Secretariat, told at once, can refuse by reply."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.effects import Effect, Mail, OpenItem, Record, Schedule, ToReview
from bot.domain.types import ItemKind, ItemView, PersonKind, PersonView
from bot.inbound.commands import parse_deadline, read_fields
from bot.inbound.reply import answer_line, postscript, retracts, signs_off
from bot.resources import data_dir
from bot.workflows.base import CommandError, CommandMail, Reply, Situation, Workflow


class ActionState(StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"
    DONE = "done"
    CANCELLED = "cancelled"


TRANSITIONS: dict[tuple[StrEnum, str], tuple[StrEnum, ...]] = {
    (ActionState.OPEN, "due"): (ActionState.OVERDUE,),
    (ActionState.OPEN, "done"): (ActionState.DONE,),
    (ActionState.OVERDUE, "done"): (ActionState.DONE,),
    (ActionState.OPEN, "extend"): (ActionState.OPEN,),
    (ActionState.OVERDUE, "extend"): (ActionState.OPEN,),
    (ActionState.OPEN, "cancel"): (ActionState.CANCELLED,),
    (ActionState.OVERDUE, "cancel"): (ActionState.CANCELLED,),
}

_DONE = re.compile(
    r"^\W*(?:(?:yes|oui|sí|sim|ok)\W+)?"
    r"(?:(?:all|this is|it is|it's|that's|that is|i have|i've|action|task)\s+)?"
    r"(?:done|completed|finished|fait|terminé|c'est fait|ya está hecho|está hecho|hecho|"
    r"terminado|listo|ya está|já está feito|está feito|feito|já está|concluído|concluido|"
    r"está pronto)\b",  # not "pronto" alone: it is Spanish for "soon"
    re.IGNORECASE,
)
# ... and nothing after it but thanks or a pointer to what is attached. A wrong "done" closes
# the action, and "done" is qualified in more ways than any list of words can hold ("Done by
# Friday", "Done, annex to come", "Hecho, creo", "Fait, sans l'annexe", "Done, TBC"): anything
# else goes to review, and the Secretariat reads it ("Done: sent to the Board" included).
_FILE = (
    r"(?:(?:the|my|a|la|le|ma|mi|el|o|a minha|a|la) )?(?:final |revised |updated |)"
    r"(?:note|paper|file|document|report|nota|documento|fichier|rapport|arquivo|relatório|"
    r"informe|texte|texto|text)"
)
_AFTER_DONE = re.compile(
    r"^(?:(?:it|that|thanks?|thank you|many thanks|merci|gracias|obrigad[oa]|"
    r"(?:please )?see (?:the )?attached|attached|ci-joint|voir (?:la )?pièce jointe|"
    r"en pièce jointe|adjunto|ver adjunto|em anexo|segue em anexo|anexo|sent|envoyé|enviado|"
    rf"{_FILE} (?:is attached|attached|ci-joint|est joint|en pièce jointe|adjunto|va adjunto|"
    r"segue em anexo|em anexo|segue anexo)|\u2705|\u2714\ufe0f?)"
    r"(?:[\s,.;:!\u2013\u2014-]+|$))*$",
    re.IGNORECASE,
)


def reports_done(text: str, name: str = "") -> bool:
    """The owner's reply says the action is done and nothing more (then at most a closing and
    the owner's `name`)."""
    line = answer_line(text, name)  # "Done\nexcept the annex" is not done
    found = _DONE.match(line) if line is not None else None
    rest = line[found.end() :].strip(" \t,.;:!\u2013\u2014-") if line and found else ""
    return found is not None and bool(_AFTER_DONE.match(rest))


# "need until <date>" in the languages members write in. The regex finds the phrase and the
# shape of a date (numbers and words); which word is a month, in which language, is for
# parse_deadline (dateparser) to say, as for any deadline the bot reads.
_NEED = re.compile(
    r"""^\W*(?:
        (?:i(?:\s+will|['’]ll)?\s+)?need(?:s|ed)?\s+(?:more\s+time\s+)?(?:until|till|to)
        |more\s+time\s+until
        |(?:j['’]ai\s+)?besoin\s+(?:de\s+(?:plus\s+de\s+)?temps\s+)?jusqu['’](?:au|à)
        |necesito\s+(?:más\s+)?(?:tiempo\s+)?hasta(?:\s+el)?(?:\s+día)?
        |preciso\s+(?:de\s+)?(?:mais\s+)?(?:tempo\s+)?até(?:\s+(?:o|ao))?(?:\s+dia)?
    )\s*(?P<date>(?:
        \d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2})?
        |(?:[^\W\d_]+,?\s+){0,2}\d{1,2}(?:st|nd|rd|th|er|º|ª|\.)?\s+(?:(?:de|of)\s+)?
            [^\W\d_]{3,}\.?,?\s+(?:de\s+)?\d{4}
        |(?:[^\W\d_]+,?\s+)?[^\W\d_]{3,}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}
    )(?:,?\s+(?:at\s+|à\s+|a\s+las\s+|às\s+|um\s+|om\s+|alle\s+)?\d{1,2}(?::\d{2}|h\d{0,2}|\s?[ap]m)\b)?
    )""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
# The Secretariat's REFUSE, in so many words, then nothing or a reason after a stop: "Refused.",
# "REFUSE - it clashes with the Board". "Declined the calendar invite by mistake", "Recusal: ...",
# "Refuse? No." and "Noted, thanks" are not one.
_REFUSE = re.compile(
    r"^\W*(?:i |je |yo |eu )?(?:refuse[sd]?|refusée?s?|rechazo|rechazado|rechazada|"
    r"rechazamos|recuso|recusado|recusada|recusamos|rejected|declined|not accepted)"
    r"\s*(?:$|[.,;:!\u2013\u2014-])",
    re.IGNORECASE,
)
# ... or a bare "no" that is the whole reply ("No\nobjection" is a phone's line break).
_BARE_NO = re.compile(
    r"^\W*(?:no|non|não|nope)(?:\W+keep (?:the )?(?:original|previous|old|earlier) "
    r"(?:date|deadline))?[.!]*$",
    re.IGNORECASE,
)


def refuses(text: str, name: str = "") -> bool:
    """The Secretariat's reply to an extension refuses it: REFUSE (with a reason or not) on its
    first line, or a bare "no" and nothing else; and nothing in it takes the refusal back."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return False
    # Unless the Secretariat takes it back ("Refused - by mistake, please ignore, approved"), in
    # its own words: before its closing, or in a P.S. (a footer's "received in error" is not).
    own = list(itertools.takewhile(lambda line: not signs_off(line, name), lines))
    own += list(itertools.dropwhile(lambda line: not postscript(line), lines))
    if "?" in lines[0] or retracts("\n".join(own)):  # "Declined? No, approved."
        return False
    only = answer_line(text, name)
    return bool(_REFUSE.match(lines[0])) or (only is not None and bool(_BARE_NO.match(only)))


def _owner(sit: Situation, item: ItemView) -> PersonView | None:
    return sit.people.by_email(str(item.data.get("owner", "")))


def _due(item: ItemView) -> datetime:
    assert item.deadline is not None, "an action has a due date"
    return item.deadline


def _timers(sit: Situation, item: ItemView, due: datetime) -> list[Effect]:
    remind = due - sit.rules.actions.remind_before
    effects: list[Effect] = [Schedule(item.id, "due", due)]
    if remind > sit.now:
        effects.append(Schedule(item.id, "reminder", remind))
    return effects


def on_open(sit: Situation, item: ItemView) -> list[Effect]:
    owner = _owner(sit, item)
    assert owner is not None, "validate checked the owner"
    ctx = {"item": item, "due": _due(item)}
    return [
        Mail("action/assigned", (owner,), "action", ctx, item.id),
        *_timers(sit, item, _due(item)),
    ]


def on_reply(sit: Situation, reply: Reply) -> list[Effect]:
    item, person = reply.item, reply.person
    if person.kind == PersonKind.SECRETARIAT:
        return _secretariat_reply(sit, reply)
    owner = _owner(sit, item)
    if owner is None or person.id != owner.id or not reply.trusted:
        why = f"a reply about action {item.id} from someone who does not own it: {reply.text[:200]}"
        return [ToReview("action-reply", why, item.id, person.id)]
    if item.state in (ActionState.DONE, ActionState.CANCELLED):
        return [
            ToReview(
                "action-reply",
                f"action already {item.state}: {reply.text[:200]}",
                item.id,
                person.id,
            )
        ]
    ctx: dict[str, Any] = {
        "item": item,
        "person": person,
        "note": reply.text.strip(),
        "files": list(reply.message.attachments),
    }
    if reports_done(reply.text, person.name):
        return [
            WORKFLOW.move(item, "done", ActionState.DONE, done_note=reply.text.strip()[:2000]),
            Record(item.id, person.id, "done", reply.text, "counted", "action done"),
            Mail("action/done", (person,), "confirm", ctx, item.id, reply_to=reply.message),
            Mail("action/done_notice", sit.secretariat, "notice", ctx, item.id, personal=False),
        ]
    asked = _NEED.search(reply.text)
    if asked:
        try:
            new_due = parse_deadline(asked.group("date"), sit.zone, sit.rules.deadlines)
        except ValueError:
            new_due = None
        if new_due is not None and new_due > sit.now:
            ctx = {**ctx, "was": _due(item), "due": new_due}
            return [
                WORKFLOW.move(
                    item,
                    "extend",
                    ActionState.OPEN,
                    deadline=new_due,
                    previous_due=_due(item).isoformat(),
                ),
                Record(item.id, person.id, "extension", reply.text, "counted", "more time"),
                Mail("action/extended", (person,), "confirm", ctx, item.id, reply_to=reply.message),
                Mail(
                    "action/extension_notice",
                    sit.secretariat,
                    "notice",
                    ctx,
                    item.id,
                    personal=False,
                ),
                *_timers(sit, item, new_due),
            ]
    why = f"neither 'done' nor 'need until <date>': {reply.text[:200]}"
    return [ToReview("action-reply", why, item.id, person.id)]


def _secretariat_reply(sit: Situation, reply: Reply) -> list[Effect]:
    """The Secretariat refuses a new date by replying REFUSE: the previous date stands."""
    item = reply.item
    previous = item.data.get("previous_due")
    if not (refuses(reply.text, reply.person.name) and previous):
        why = f"the Secretariat's reply about action {item.id}: {reply.text[:200]}"
        return [ToReview("action-reply", why, item.id, reply.person.id)]
    was = datetime.fromisoformat(str(previous))
    owner = _owner(sit, item)
    ctx = {"item": item, "due": was, "note": reply.text.strip()}
    effects: list[Effect] = [
        WORKFLOW.move(item, "extend", ActionState.OPEN, deadline=was, previous_due=""),
        *_timers(sit, item, was),
    ]
    if owner is not None:
        effects.append(Mail("action/refused", (owner,), "action", ctx, item.id))
    return effects


def on_deadline(sit: Situation, item: ItemView, kind: str) -> list[Effect]:
    due = _due(item)
    owner = _owner(sit, item)
    if owner is None or item.state in (ActionState.DONE, ActionState.CANCELLED):
        return []
    ctx = {"item": item, "due": due}
    if kind == "reminder" and item.state == ActionState.OPEN and sit.now < due:
        return [Mail("action/reminder", (owner,), "reminder", ctx, item.id)]
    if kind == "due" and item.state == ActionState.OPEN and sit.now >= due:
        return [
            WORKFLOW.move(item, "due", ActionState.OVERDUE),
            Mail("action/overdue", (owner,), "reminder", ctx, item.id),
            Schedule(item.id, "chase", sit.now + sit.rules.actions.chase_every),
        ]
    if kind == "chase" and item.state == ActionState.OVERDUE:
        return [
            Mail("action/overdue", (owner,), "reminder", ctx, item.id),
            Schedule(item.id, "chase", sit.now + sit.rules.actions.chase_every),
        ]
    return []  # a timer left from before a new date, or from another state


def summary(item: ItemView, sit: Situation) -> dict[str, Any]:
    return {
        "title": item.title,
        "owner": item.data.get("owner"),
        "due": item.deadline.isoformat() if item.deadline else None,
    }


def validate(spec: OpenItem, sit: Situation) -> list[str]:
    problems = []
    owner = sit.people.by_email(str(spec.data.get("owner", "")))
    if owner is None:
        problems.append(
            f"the owner {spec.data.get('owner')!r} is not a member, the Chair or the Secretariat"
        )
    if spec.deadline is None or spec.deadline <= sit.now:
        problems.append("an action needs a due date in the future")
    return problems


def action(title: str, owner: str, due: datetime, opened_by: str, body: str = "") -> OpenItem:
    return OpenItem(ItemKind.ACTION, title, body, due, opened_by, {"owner": owner.lower()})


class ActionCommand:
    """`ACTION: <title>` from the Secretariat: Owner: address, Due: date."""

    prefix = "ACTION"
    description = "assign an action: Owner: address, Due: date, and what is to be done"

    def run(self, mail: CommandMail, sit: Situation) -> list[Effect]:
        fields, text = read_fields(mail.text, ("owner", "due"))
        problems = [] if mail.argument else ["the subject has no title after 'ACTION:'"]
        try:
            due = parse_deadline(fields.get("due", ""), sit.zone, sit.rules.deadlines)
        except ValueError as exc:
            problems.append(f"Due: {fields.get('due', '')!r} is not a date ({exc})")
            due = sit.now
        if problems:
            raise CommandError(problems)
        spec = action(
            mail.argument,
            fields.get("owner", "").strip(),
            due,
            f"{mail.sender.email} by email",
            text,
        )
        return [replace(spec, reply_to=mail.message)]


WORKFLOW = Workflow(
    kind=ItemKind.ACTION,
    description="agreed actions: reminders, 'done' or 'need until' by reply, chasing (ToR 6.2.b)",
    states=ActionState,
    initial=ActionState.OPEN,
    transitions=TRANSITIONS,
    on_open=on_open,
    on_reply=on_reply,
    on_deadline=on_deadline,
    templates=data_dir("templates") / "action",
    validate=validate,
    summary=summary,
    commands=(ActionCommand(),),
)
