"""Apply a workflow's effects in the caller's transaction; mails become outbox rows."""

from __future__ import annotations

import mailbox
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from bot.inbound.match import mint_message_id
from bot.mail.compose import Envelope, build_message
from bot.render import Renderer
from bot.store.models import (
    Deadline,
    Inbound,
    InboundState,
    Item,
    Outbox,
    Person,
    Response,
    Review,
)
from bot.store.repo import item_view
from bot.workflows.effects import (
    AddressHealth,
    Attachment,
    Effect,
    Mail,
    OpenItem,
    Record,
    Schedule,
    SetState,
    ToReview,
)
from bot.workflows.registry import WORKFLOWS
from bot.workflows.situation import Situation


@dataclass(frozen=True)
class Composer:
    """Turns a Mail effect into outbox rows: rendered, given a signed Message-ID, threaded."""

    renderer: Renderer
    secret: str
    sender: str
    sender_addr: str

    @property
    def domain(self) -> str:
        return self.sender_addr.rpartition("@")[2]

    def queue(self, session: Session, mail: Mail, sit: Situation, now: datetime) -> list[Outbox]:
        base: dict[str, Any] = {
            "group_name": sit.group_name,
            "tag": sit.tag,
            "rules": sit.rules,
            "positions": sit.rules.positions,
            "members": sit.members,
            "chair": sit.chair,
            "now": now,
            **mail.context,
        }
        attachments = mail.attachments
        if mail.context.get("attach_thread") and mail.item_id:
            attachments = (*attachments, thread_mbox(session, mail.item_id))
        groups = [(p,) for p in mail.to] if mail.personal else [mail.to]
        rows = []
        for people in groups:
            if not people:
                continue
            person_id = people[0].id if mail.personal else None
            body = self.renderer.render(mail.template, {**base, "recipient": people[0]})
            mid = mint_message_id(self.secret, self.domain, mail.item_id, person_id)
            in_reply_to, refs = self._thread(session, mail, person_id)
            env = Envelope(
                self.sender,
                self.sender_addr,
                tuple(p.email for p in people),
                mid,
                now,
                in_reply_to,
                refs,
            )
            row = Outbox(
                message_id=mid,
                item_id=mail.item_id,
                person_id=person_id,
                purpose=mail.purpose,
                recipients=[p.email for p in people],
                subject=body.subject,
                raw=build_message(env, body, attachments),
                created_at=now,
            )
            session.add(row)
            rows.append(row)
        return rows

    def _thread(
        self, session: Session, mail: Mail, person_id: int | None
    ) -> tuple[str, tuple[str, ...]]:
        """Reply under the received message, else under the first mail of this item to them."""
        if mail.reply_to is not None:
            refs = (*mail.reply_to.references, mail.reply_to.message_id)
            return mail.reply_to.message_id, tuple(dict.fromkeys(refs))
        if mail.item_id is None:
            return "", ()
        root = session.exec(
            select(Outbox)
            .where(Outbox.item_id == mail.item_id, Outbox.person_id == person_id)
            .order_by(col(Outbox.id))
        ).first()
        return (root.message_id, (root.message_id,)) if root else ("", ())


def thread_mbox(session: Session, item_id: int) -> Attachment:
    """Every mail of the round, sent and received, in time order, as one mbox file."""
    sent = session.exec(select(Outbox).where(Outbox.item_id == item_id))
    got = session.exec(
        select(Inbound).where(Inbound.item_id == item_id, Inbound.state == InboundState.PROCESSED)
    )
    entries = sorted(
        [(o.created_at, o.raw) for o in sent] + [(i.fetched_at, i.raw) for i in got],
        key=lambda e: e[0],
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "thread.mbox"
        box = mailbox.mbox(str(path))
        for _, raw in entries:
            box.add(raw)
        box.close()
        content = path.read_bytes()
    return Attachment(f"item-{item_id}-thread.mbox", content, "application/mbox")


def apply_effects(
    session: Session,
    effects: list[Effect],
    sit: Situation,
    composer: Composer,
    now: datetime,
    inbound: Inbound | None = None,
) -> list[Outbox]:
    """Write every effect; the caller commits once, so state and outgoing mail land together."""
    queued: list[Outbox] = []
    inbound_id = inbound.id if inbound else None
    message_id = inbound.message_id if inbound else ""
    for effect in effects:
        if isinstance(effect, Record):
            session.add(
                Response(
                    item_id=effect.item_id,
                    person_id=effect.person_id,
                    inbound_id=inbound_id,
                    position=effect.position,
                    text=effect.text,
                    message_id=message_id,
                    received_at=now,
                    status=effect.status,
                    note=effect.note,
                )
            )
        elif isinstance(effect, SetState):
            item = session.get(Item, effect.item_id)
            assert item is not None, f"item {effect.item_id} vanished"
            item.state = effect.state
            if effect.data:
                item.data = {**item.data, **effect.data}
            session.add(item)
        elif isinstance(effect, Schedule):
            exists = session.exec(
                select(Deadline).where(
                    Deadline.item_id == effect.item_id,
                    Deadline.kind == effect.kind,
                    Deadline.due_at == effect.due_at,
                )
            ).first()
            if exists is None:
                session.add(
                    Deadline(item_id=effect.item_id, kind=effect.kind, due_at=effect.due_at)
                )
        elif isinstance(effect, ToReview):
            session.add(
                Review(
                    inbound_id=inbound_id,
                    item_id=effect.item_id,
                    person_id=effect.person_id,
                    reason=effect.reason,
                    detail=effect.detail,
                    created_at=now,
                )
            )
        elif isinstance(effect, Mail):
            queued.extend(composer.queue(session, effect, sit, now))
        elif isinstance(effect, OpenItem):
            open_item(session, effect, sit, composer, now)
        elif isinstance(effect, AddressHealth):
            person = session.get(Person, effect.person_id)
            assert person is not None, f"person {effect.person_id} vanished"
            person.failing_since = (person.failing_since or now) if effect.failing else None
            session.add(person)
    return queued


def open_item(
    session: Session, spec: OpenItem, sit: Situation, composer: Composer, now: datetime
) -> int:
    """Create the item, apply what its workflow sends on opening, and tell the Secretariat."""
    row = Item(
        kind=spec.kind,
        title=spec.title,
        body=spec.body,
        state="open",
        created_at=now,
        deadline=spec.deadline,
        opened_by=spec.opened_by,
        options=list(spec.options),
    )
    session.add(row)
    session.flush()
    item = item_view(row)
    notice = Mail(
        "opened",
        sit.secretariat,
        "notice",
        {"item": item, "opened_by": spec.opened_by},
        item.id,
        personal=False,
        reply_to=spec.reply_to,
    )
    apply_effects(session, [*WORKFLOWS[spec.kind].on_open(sit, item), notice], sit, composer, now)
    return item.id
