"""Carry out a workflow's effects in the caller's transaction: state and outgoing mail together.

Mails are composed here (rendered, signed, threaded by mail/compose.py) and stored as outbox rows
(store/outbox.py); opening an item runs its workflow's opening in the same transaction."""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.domain.effects import (
    Act,
    AddressHealth,
    Effect,
    Mail,
    OpenItem,
    Record,
    Remember,
    Report,
    Schedule,
    SetState,
    Settle,
    ToReview,
)
from bot.domain.types import Attachment, ItemKind, ItemView, PersonView
from bot.mail.compose import Composer, archive_budget, attachments_of, thread_mbox
from bot.store import outbox, register, repo
from bot.store.models import Inbound, Review
from bot.textsafe import header_text
from bot.workflows.base import Registry, Situation


@dataclass(frozen=True)
class Cause:
    """Where effects come from: the kind that decided them and the message, if any."""

    kind: str = ""
    inbound_id: int | None = None
    message_id: str = ""
    arrived_at: datetime | None = None  # a reply is recorded as of its arrival, not its reading
    response_id: int | None = None  # the reply this message recorded (its files, for a notice)
    message_sha256: str = ""  # the archived raw message's SHA-256, carried into the register
    raw: bytes | None = None  # the message's bytes when the caller holds them (not read again)


# Mails whose sending is itself a decision-relevant event (the register records them).
REMINDERS = frozenset({"reminder", "chair-reminder"})


def state_event(kind: str, before: str, state: str) -> str:
    """The register's name for a state change: the outcomes that matter have their own."""
    if state == "determined":
        return "determined"
    if state == "escalated" and before != "escalated":  # not a read-back proposed meanwhile
        return "escalated"
    if kind == ItemKind.ACTION and state == "done":
        return "action-done"
    return "state-changed"


def _note(
    s: Session,
    event: str,
    sit: Situation,
    cause: Cause,
    item_id: int | None,
    person_id: int | None,
    **detail: Any,
) -> None:
    """Append the effect to the register, in the transaction that writes the effect."""
    register.append(
        s,
        event,
        at=sit.now,
        item_id=item_id,
        person_id=person_id,
        detail=detail,
        message_sha256=cause.message_sha256,
    )


def _paper(given: dict[str, str]) -> Attachment:
    """A paper given on the CLI (kept base64 in the item's data)."""
    return Attachment(given["name"], base64.b64decode(given["content"]), given["type"])


def base_context(sit: Situation) -> dict[str, Any]:
    """What every template may use besides its own context: the group's facts."""
    return {
        "group_name": sit.group_name,
        "tag": sit.tag,
        "rules": sit.rules,
        "members": sit.members,
        "chair": sit.chair,
        "now": sit.now,
    }


@dataclass(frozen=True)
class Enactor:
    composer: Composer
    registry: Registry
    max_message_bytes: int = 20_000_000  # what the SMTP server takes; the thread .mbox fits in it
    archive_attachment_bytes: int = 2_000_000  # a larger file in the .mbox becomes a note
    max_attachment_bytes: int = 25_000_000  # a reply's file kept content-addressed, at most

    def enact(self, s: Session, effects: list[Effect], sit: Situation, cause: Cause) -> None:
        """Write every effect; the caller commits once."""
        for effect in effects:
            recorded = self._one(s, effect, sit, cause)
            if recorded is not None:  # a notice after it may carry that reply's files
                cause = replace(cause, response_id=recorded)

    def _one(self, s: Session, effect: Effect, sit: Situation, cause: Cause) -> int | None:
        """Write one effect, and its register entry when it is decision-relevant."""
        now = sit.now
        if isinstance(effect, Record):
            received = cause.arrived_at or now
            response_id = repo.record_response(
                s,
                item_id=effect.item_id,
                person_id=effect.person_id,
                inbound_id=cause.inbound_id,
                position=effect.position,
                text=effect.text,
                message_id=cause.message_id,
                received_at=received,
                status=effect.status,
                note=effect.note,
            )
            if effect.keep_files and cause.inbound_id:
                self._keep_files(s, effect, response_id, cause.inbound_id, cause.raw)
            item = repo.item(s, effect.item_id)  # in the session already: no statement
            feedback = item is not None and item.kind == ItemKind.FEEDBACK
            _note(
                s,
                "feedback-received" if feedback else "position-recorded",
                sit,
                cause,
                effect.item_id,
                effect.person_id,
                position=effect.position,
                status=effect.status,
                note=effect.note,
                received_at=received.isoformat(),
            )
            return response_id
        if isinstance(effect, SetState):
            item = repo.item(s, effect.item_id)
            assert item is not None, f"item {effect.item_id} vanished"
            data = effect.data or {}
            repo.set_item_state(s, effect.item_id, effect.state, data, effect.deadline)
            changed = sorted(k for k, v in data.items() if item.data.get(k, object()) != v)
            facts: dict[str, Any] = {"state": effect.state, "from": item.state, "keys": changed}
            if "outcome" in data:
                facts["outcome"] = data["outcome"]
            if effect.deadline is not None:
                facts["deadline"] = effect.deadline.isoformat()
            event = state_event(item.kind, item.state, effect.state)
            _note(s, event, sit, cause, effect.item_id, None, **facts)
        elif isinstance(effect, Schedule):
            workflow = effect.workflow or cause.kind
            if effect.replaces and effect.item_id is not None:
                repo.drop_pending(s, effect.item_id, workflow, effect.kind, effect.due_at, now)
            repo.schedule(s, effect.item_id, workflow, effect.kind, effect.due_at)
        elif isinstance(effect, ToReview):
            s.add(
                Review(
                    inbound_id=cause.inbound_id,
                    item_id=effect.item_id,
                    person_id=effect.person_id,
                    reason=effect.reason,
                    detail=effect.detail,
                    created_at=now,
                    notify=effect.notify,
                )
            )
        elif isinstance(effect, Mail):
            self.queue_mail(s, effect, sit, cause)
            if effect.purpose in REMINDERS:
                to = [p.id for p in effect.to]
                whom = to[0] if len(to) == 1 else None
                _note(
                    s,
                    "reminder-sent",
                    sit,
                    cause,
                    effect.item_id,
                    whom,
                    purpose=effect.purpose,
                    to=to,
                )
        elif isinstance(effect, OpenItem):
            self.open_item(s, effect, sit, cause)
        elif isinstance(effect, AddressHealth):
            repo.set_failing(s, effect.person_id, effect.failing, now)
        elif isinstance(effect, Remember):
            repo.meta_set(s, f"{cause.kind}:{effect.key}", effect.value)
        elif isinstance(effect, Report):
            self.queue_report(s, effect, sit)
        elif isinstance(effect, Act):
            self._act_by_mail(s, effect, sit, cause)
        elif isinstance(effect, Settle):
            self._settle_by_mail(s, effect, sit, cause)
        return None

    def act(
        self,
        s: Session,
        item_id: int,
        action: str,
        args: dict[str, Any],
        sit: Situation,
        cause: Cause,
    ) -> list[Effect]:
        """Carry out one of an item kind's actions on the item with its standing responses, and
        return its effects. Raises ValueError naming what is wrong: no such item, no such
        action, or the item's own objection (then nothing is written)."""
        item = repo.item(s, item_id)
        if item is None:
            raise ValueError(f"no item {item_id}")
        workflow = self.registry.get(item.kind)
        do = workflow.actions.get(action) if workflow else None
        if workflow is None or do is None:
            known = ", ".join(workflow.actions) if workflow and workflow.actions else "none"
            raise ValueError(
                f"item {item_id} is a {item.kind}, which has no action {action!r} (known: {known})"
            )
        responses, streaks, latest = repo.standing_and_streaks(s, item_id)
        here = replace(sit, responses=responses, unclear_in_a_row=streaks, latest=latest)
        effects = do(here, item, args)
        self.enact(s, effects, here, replace(cause, kind=item.kind))
        return effects

    def _act_by_mail(self, s: Session, effect: Act, sit: Situation, cause: Cause) -> None:
        """An email command's action: done or refused, the sender is answered in its thread."""
        command = effect.command or (effect.reply_to.subject if effect.reply_to else "")
        try:
            done = self.act(s, effect.item_id, effect.action, effect.args, sit, cause)
        except ValueError as exc:
            self._refuse_command(s, effect, command, str(exc), sit, cause)
            return
        item = repo.item(s, effect.item_id)
        told = _told(done, effect.by)
        ctx = {"item": item, "command": command, "action": effect.action, "told": told}
        self._answer_command(s, effect, "common/command_done", ctx, effect.item_id, sit, cause)

    def _settle_by_mail(self, s: Session, effect: Settle, sit: Situation, cause: Cause) -> None:
        """`RESOLVE: N` by mail: the entry settled as the console does, the sender answered."""
        from bot.app import console  # the console acts through this enactor

        by = f"{effect.by.name} (by email)"
        try:
            with s.begin_nested():  # a refusal leaves nothing half written
                done = console.resolve(
                    s,
                    sit,
                    self,
                    effect.review_id,
                    effect.answer,
                    effect.note,
                    by,
                    command_sha256=cause.message_sha256,
                )
        except ValueError as exc:
            self._refuse_command(s, effect, effect.command, str(exc), sit, cause)
            return
        item = repo.item(s, done["item_id"]) if done["item_id"] else None
        ctx = {
            "item": item,
            "command": effect.command,
            "action": done["event"].removeprefix("review-"),  # resolved | dismissed
            "position": done["position"],
            "told": done["mailed"],
        }
        item_id = item.id if item else None
        self._answer_command(s, effect, "common/command_done", ctx, item_id, sit, cause)

    def _refuse_command(
        self, s: Session, effect: Act | Settle, command: str, why: str, sit: Situation, cause: Cause
    ) -> None:
        ctx = {"subject": command, "problems": [why], "zone": sit.zone}
        self._answer_command(s, effect, "common/command_refused", ctx, None, sit, cause)

    def _answer_command(
        self,
        s: Session,
        effect: Act | Settle,
        template: str,
        ctx: dict[str, Any],
        item_id: int | None,
        sit: Situation,
        cause: Cause,
    ) -> None:
        """An email command's sender is answered in the command's thread: done, or why not."""
        answer = Mail(template, (effect.by,), "command", ctx, item_id, reply_to=effect.reply_to)
        self.queue_mail(s, answer, sit, cause)

    @staticmethod
    def _mail_files(s: Session, inbound_id: int) -> list[dict[str, str]]:
        """The files of an archived mail, as an item keeps them (base64 in its data)."""
        row = s.get(Inbound, inbound_id)
        files = attachments_of(row.raw) if row else []
        return [
            {
                "name": f.filename,
                "type": f.mime_type,
                "content": base64.b64encode(f.content).decode(),
            }
            for f in files
        ]

    def _keep_files(
        self, s: Session, effect: Record, response_id: int, inbound_id: int, raw: bytes | None
    ) -> None:
        """The files that came with a reply, kept once by content; one over the bound stays in
        the raw archive only, and the Secretariat sees that in review."""
        for att in attachments_of(raw if raw is not None else repo.raw_of(s, inbound_id)):
            if len(att.content) > self.max_attachment_bytes:
                row = s.get(Inbound, inbound_id)
                assert row is not None, f"archived message #{inbound_id} vanished"
                s.add(
                    Review(
                        inbound_id=inbound_id,
                        item_id=effect.item_id,
                        person_id=effect.person_id,
                        reason="file-too-large",
                        detail=f"{att.filename}: {len(att.content):,} bytes, over "
                        f"{self.max_attachment_bytes:,}; it stays in the raw archive",
                        created_at=row.fetched_at,
                    )
                )
                continue
            kind = att.mime_type
            repo.keep_file(s, response_id, effect.item_id, att.filename, kind, att.content)

    def queue_mail(
        self, s: Session, mail: Mail, sit: Situation, cause: Cause | None = None
    ) -> None:
        cause = cause or Cause()
        extra: tuple[Attachment, ...] = ()
        if mail.attach_thread and mail.item_id:
            extra = (
                thread_mbox(
                    mail.item_id,
                    repo.thread_entries(s, mail.item_id),
                    max_bytes=archive_budget(self.max_message_bytes),
                    part_bytes=self.archive_attachment_bytes,
                ),
            )
        if mail.attach_papers and mail.item_id:
            raws = repo.secretariat_mail(s, mail.item_id)
            extra = (*extra, *(paper for raw in raws for paper in attachments_of(raw)))
            item = repo.item(s, mail.item_id)
            given = item.data.get("papers", []) if item else []
            extra = (*extra, *(_paper(p) for p in given))
        if mail.attach_replies_files and mail.item_id:
            names = {p.id: p.name for p in sit.people.people}
            one = cause.response_id if mail.attach_replies_files == "this-reply" else None
            files = repo.reply_files(s, mail.item_id, one)
            extra = (
                *extra,
                *(
                    Attachment(f"{names.get(pid, 'someone')} - {name}", content, kind)
                    for pid, name, kind, content in files
                ),
            )
        item_id = mail.item_id

        def root(people: tuple[PersonView, ...]) -> tuple[str, ...]:
            return outbox.thread_root(s, item_id, people) if item_id else ()

        for composed in self.composer.compose(mail, base_context(sit), sit.now, root, extra):
            outbox.queue(s, composed, sit.now)

    def queue_report(self, s: Session, effect: Report, sit: Situation) -> None:
        """Compile, draw and print the month's report, and queue it as one mail."""
        from bot.app import report  # matplotlib and WeasyPrint load only when a report is due

        renderer = self.composer.renderer
        base = {**base_context(sit), "zone": sit.zone}
        content = report.content(s, sit, self.registry, effect.period)
        self.queue_mail(s, report.draft_mail(renderer, content, effect.to, base), sit)

    def open_item(
        self, s: Session, spec: OpenItem, sit: Situation, cause: Cause | None = None
    ) -> ItemView | None:
        """Create the item, apply what its workflow does on opening, and tell the Secretariat.

        `cause` is the command mail that opened it, if one did (for the register)."""
        workflow = self.registry[spec.kind]
        if spec.key and repo.item_by_key(s, spec.key) is not None:
            return None  # opened once only: a meeting's call after downtime, say
        problems = workflow.validate(spec, sit)
        if problems:
            raise ValueError("; ".join(problems))
        data = dict(spec.data)
        if data.pop("keep_mail_files", False) and cause is not None and cause.inbound_id:
            data["attached"] = self._mail_files(s, cause.inbound_id)  # a draft sent by mail
        item = repo.create_item(
            s,
            spec.kind,
            str(workflow.initial),
            header_text(spec.title),  # a title ends up in subjects and on terminals
            spec.body,
            spec.deadline,
            spec.opened_by,
            data,
            sit.now,
            spec.key or None,
        )
        sha = cause.message_sha256 if cause else ""
        _note(
            s,
            "item-opened",
            sit,
            Cause(kind=spec.kind, message_sha256=sha),
            item.id,
            None,
            kind=spec.kind,
            title=item.title,
            opened_by=spec.opened_by,
            deadline=spec.deadline.isoformat() if spec.deadline else None,
        )
        template = f"{spec.kind}/opened"
        notice = Mail(
            template if self.composer.renderer.has(template) else "common/opened",
            sit.secretariat,
            "notice",
            {"item": item, "opened_by": spec.opened_by, "summary": workflow.summary(item, sit)},
            item.id,
            personal=False,
            reply_to=spec.reply_to,
        )
        effects = [*workflow.on_open(sit, item), *([notice] if workflow.announce else [])]
        self.enact(s, effects, sit, Cause(kind=spec.kind, message_sha256=sha))
        return item


def _told(effects: list[Effect], sender: PersonView) -> list[str]:
    """Who the action's mails went to, by name, the command's sender left out."""
    names = [p.name for e in effects if isinstance(e, Mail) for p in e.to if p.id != sender.id]
    return list(dict.fromkeys(names))
