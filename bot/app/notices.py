"""The Secretariat hears of held mail in one notice an hour at most, listing what was held with
the originals attached, so that junk never crowds out command answers, outcomes or escalations
(it is also sent after them: a batched notice has the outbox's lower priority)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from bot.app.enact import Enactor
from bot.domain.effects import Mail
from bot.domain.refusals import Refusal
from bot.domain.types import Attachment
from bot.inbound.parse import read_headers
from bot.store.models import Inbound, Review
from bot.workflows.base import Situation

EVERY = timedelta(hours=1)
LISTED = 50  # held messages listed in one notice; the rest are counted
ATTACHED_BYTES = 10_000_000  # originals attached to one notice, at most


def _summary(code: str) -> str:
    """The human summary of a refusal code (the Refusal subclasses carry it)."""
    stack: list[type[Refusal]] = [Refusal]
    while stack:
        cls = stack.pop()
        if cls.code == code:
            return cls.summary
        stack.extend(cls.__subclasses__())
    return "could not be handled"


def _headers(raw: bytes) -> tuple[str, str]:
    try:
        headers = read_headers(raw)
        return str(headers.get("from", ""))[:300], str(headers.get("subject", ""))[:300]
    except Exception:  # headers too broken even to read: the notice says so by omission
        return "", ""


def send_held_notice(s: Session, enactor: Enactor, sit: Situation) -> bool:
    """Queue one notice of everything held since the last one, if the last is an hour old."""
    pending = select(Review).where(col(Review.notify).is_(True), col(Review.notified_at).is_(None))
    rows = list(s.exec(pending.order_by(col(Review.id)).limit(LISTED)))
    if not rows:
        return False
    last = s.exec(select(func.max(Review.notified_at)).where(col(Review.notify).is_(True))).one()
    if last is not None and sit.now - last < EVERY:
        return False
    total = int(s.exec(select(func.count()).select_from(pending.subquery())).one())
    held: list[dict[str, Any]] = []
    attachments: list[Attachment] = []
    size = 0
    for review in rows:
        inbound = s.get(Inbound, review.inbound_id) if review.inbound_id else None
        sender, subject = _headers(inbound.raw) if inbound else ("", "")
        attached = ""
        if inbound is not None and size + inbound.size <= ATTACHED_BYTES:
            attached = f"held-{inbound.id}.eml"
            attachments.append(Attachment(attached, inbound.raw, "application/octet-stream"))
            size += inbound.size
        held.append(
            {
                "reason": review.reason,
                "summary": _summary(review.reason),
                "detail": review.detail[:2000],
                "sender": sender,
                "subject": subject,
                "inbound_id": review.inbound_id,
                "attached": attached,
            }
        )
    ctx = {"held": held, "more": total - len(held), "unattached": len(held) - len(attachments)}
    mail = Mail(
        "common/quarantine",
        sit.secretariat,
        "quarantine",
        ctx,
        personal=False,
        attachments=tuple(attachments),
        batched=True,
    )
    enactor.queue_mail(s, mail, sit)
    for review in s.exec(pending):
        review.notified_at = sit.now
        s.add(review)
    return True
