"""The mailbox a catch-up reads: members' replies, in their clients' styles and languages, to the
mails of several open items, and the mail that lands beside them (auto-replies, bounces,
unrelated mail), some with attachments. Built from `bot.demo.clients` and the labelled ballot
replies, so the bot reads what real members write, not a synthetic best case."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from bot.demo import clients

ROOT = Path(__file__).resolve().parents[1]
BOT = "cg-bot@cg.example"
SECRETARIAT = "secretariat@cg.example"
CHAIR = ("Grace Okafor", "chair@board.example")


@dataclass(frozen=True)
class Member:
    name: str
    email: str
    role: str  # a seat of the rules' composition (four seats in this group's ToR)
    timezone: str
    language: str  # what the bot writes to them in


MEMBERS = (
    Member("Amina Diallo", "amina@members.example", "governing-board", "Africa/Dakar", "en"),
    Member("Bruno Carvalho", "bruno@members.example", "governing-board", "America/Sao_Paulo", "pt"),
    Member("Chloé Martin", "chloe@members.example", "expert-panel-co-chair", "Europe/Paris", "fr"),
    Member(
        "Daniel Tupa", "daniel@members.example", "ipslc-engagement-forum", "America/La_Paz", "es"
    ),
)


@dataclass(frozen=True)
class ItemMail:
    """One mail of an open item that a member received: what their reply answers."""

    kind: str  # ballot | feedback | meeting
    item_id: int
    member: Member
    original: clients.Original


@dataclass(frozen=True)
class Piece:
    """One message of the mix, and whether the bot owes its writer exactly one confirmation."""

    raw: bytes
    kind: str
    message_id: str
    wants_confirmation: bool


def ballot_answers() -> list[tuple[str, str]]:
    """(client style, words) of every clear labelled reply: the ones the bot must count."""
    data = json.loads((ROOT / "tests" / "fixtures" / "ballot-replies.json").read_text("utf-8"))
    return [
        (case["client"], case["answer"])
        for case in data["cases"]
        if case.get("class") == "plain" and case["expected"] is not None
    ]


# Plain replies to a meeting call (attendance, apologies, an agenda proposal), in the four
# languages the bot writes in; each is one the meeting workflow answers with a confirmation.
MEETING_ANSWERS = (
    ("outlook", "I will attend."),
    ("gmail", "Apologies, I cannot attend this one."),
    ("gmail_fr", "Je serai présente.\n\nChloé"),
    ("apple_mail_fr", "Je ne pourrai pas venir, excusez-moi."),
    ("gmail_es", "Asistiré.\n\nSaludos,\nDaniel"),
    ("gmail_es", "No podré asistir, disculpen."),
    ("gmail_pt", "Estarei presente."),
    ("apple_mail_pt", "Não poderei participar, peço desculpa."),
    ("gmail", "Count me in."),
    ("outlook", "Agenda item: the 2027 budget envelope"),
)

# Written feedback on a draft: comments, and "nothing to add", in several languages.
FEEDBACK_ANSWERS = (
    ("outlook", "Section 2: the timeline is too short for the consultation.\n\nRegards"),
    ("gmail", "No comments from me."),
    ("gmail_fr", "Deux remarques : le paragraphe 3 est ambigu, et l'annexe manque."),
    ("gmail_es", "Sin comentarios."),
    ("gmail_pt", "O ponto 4 precisa de um orçamento. Veja o anexo."),
    ("apple_mail", "Looks good overall; my edits are in the attached file."),
    ("html_only", "Please add the indicators from last year's report to section 5."),
)

MIX = (  # kind, share of the mailbox in percent
    ("ballot reply", 45),
    ("feedback reply", 12),
    ("meeting reply", 13),
    ("auto-reply", 8),
    ("bounce", 4),
    ("unrelated", 18),
)


def message_id_of(raw: bytes) -> str:
    return str(BytesHeaderParser(policy=compat32).parsebytes(raw).get("message-id", "")).strip()


def _attach(rng: random.Random, raw: bytes, name: str, mime_type: str) -> bytes:
    """A file of 20-200 KB, as members attach notes and edited drafts."""
    return clients.with_attachment(
        raw, name, rng.randbytes(rng.randint(20_000, 200_000)), mime_type
    )


def _reply(mail: ItemMail, style: str, words: str) -> bytes:
    writer = clients.CLIENTS[style]
    member = mail.member
    return writer(mail.original, member.name, member.email, BOT, datetime.now(UTC), words)


class MixBuilder:
    """Writes message i of the mix; the item mails are those the members really received."""

    def __init__(self, mails: list[ItemMail], seed: int) -> None:
        self.rng = random.Random(seed)
        self.by_kind = {
            k: [m for m in mails if m.kind == k] for k in ("ballot", "feedback", "meeting")
        }
        self.mails = mails
        self.ballot = ballot_answers()
        self.writers: dict[str, Callable[[int], Piece]] = {
            "ballot reply": self.ballot_reply,
            "feedback reply": self.feedback_reply,
            "meeting reply": self.meeting_reply,
            "auto-reply": self.auto_reply,
            "bounce": self.bounce,
            "unrelated": self.unrelated,
        }

    def build(self, count: int) -> list[Piece]:
        kinds = self.rng.choices([k for k, _ in MIX], [w for _, w in MIX], k=count)
        return [self.writers[kind](i) for i, kind in enumerate(kinds)]

    def _piece(self, raw: bytes, kind: str, wants: bool) -> Piece:
        return Piece(raw, kind, message_id_of(raw), wants)

    def ballot_reply(self, i: int) -> Piece:
        style, words = self.ballot[i % len(self.ballot)]
        raw = _reply(self.rng.choice(self.by_kind["ballot"]), style, words)
        if i % 10 == 0:
            raw = _attach(self.rng, raw, "note.pdf", "application/pdf")
        return self._piece(raw, "ballot reply", True)

    def feedback_reply(self, i: int) -> Piece:
        style, words = FEEDBACK_ANSWERS[i % len(FEEDBACK_ANSWERS)]
        raw = _reply(self.rng.choice(self.by_kind["feedback"]), style, words)
        if i % 3 == 0:
            docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            raw = _attach(self.rng, raw, "draft-comments.docx", docx)
        return self._piece(raw, "feedback reply", True)

    def meeting_reply(self, i: int) -> Piece:
        style, words = MEETING_ANSWERS[i % len(MEETING_ANSWERS)]
        raw = _reply(self.rng.choice(self.by_kind["meeting"]), style, words)
        return self._piece(raw, "meeting reply", True)

    def auto_reply(self, i: int) -> Piece:
        mail = self.rng.choice(self.mails)
        member = mail.member
        raw = clients.out_of_office(
            mail.original, member.name, member.email, BOT, datetime.now(UTC)
        )
        return self._piece(raw, "auto-reply", False)

    def bounce(self, i: int) -> Piece:
        return self._piece(dsn(self.rng.choice(self.mails)), "bounce", False)

    def unrelated(self, i: int) -> Piece:
        raw = newsletter(i) if i % 2 else stranger(i)
        if i % 3 == 0:
            raw = _attach(self.rng, raw, f"brochure-{i}.pdf", "application/pdf")
        return self._piece(raw, "unrelated", False)


def dsn(mail: ItemMail) -> bytes:
    """A delivery status notification (RFC 3464) for one of the bot's mails to a member."""
    when = format_datetime(datetime.now(UTC))
    boundary = f"dsn-{make_msgid().strip('<>').split('@')[0]}"
    headers = (
        f"From: {mail.original.sender}\r\nTo: {mail.member.email}\r\n"
        f"Subject: {mail.original.subject}\r\nMessage-ID: {mail.original.message_id}\r\n"
    )
    text = (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.members.example>\r\nTo: {BOT}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nDate: {when}\r\n"
        f"Message-ID: {make_msgid(domain='mx.members.example')}\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        f"\r\n--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system at host mx.members.example.\r\n"
        "Your message could not be delivered: the recipient's mailbox is full.\r\n"
        f"\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.members.example\r\nArrival-Date: {when}\r\n\r\n"
        f"Final-Recipient: rfc822; {mail.member.email}\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n"
        f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{headers}"
        f"\r\n--{boundary}--\r\n"
    )
    return text.encode()


def newsletter(i: int) -> bytes:
    """List mail the bot's address is subscribed to (List-Id, Precedence: bulk)."""
    msg = EmailMessage()
    msg["From"] = formataddr(("Policy Weekly", "news@updates.example.org"))
    msg["To"] = BOT
    msg["Subject"] = f"Policy Weekly #{i}: what changed this week"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="updates.example.org")
    msg["List-Id"] = "Policy Weekly <weekly.updates.example.org>"
    msg["List-Unsubscribe"] = "<mailto:leave@updates.example.org>"
    msg["Precedence"] = "bulk"
    body = "\n\n".join(f"Story {n}: a paragraph of news about policy work." for n in range(12))
    msg.set_content(body)
    msg.add_alternative(
        f"<html><body><p>{body.replace(chr(10), '<br>')}</p></body></html>", subtype="html"
    )
    return msg.as_bytes()


def stranger(i: int) -> bytes:
    """A person outside the group writing to the bot's address (held for the Secretariat)."""
    msg = EmailMessage()
    msg["From"] = formataddr(("Sam Vendor", f"sam{i % 7}@vendor.example"))
    msg["To"] = BOT
    msg["Subject"] = f"Invitation to our webinar on reporting tools ({i})"
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="vendor.example")
    msg.set_content("Dear Secretariat,\n\nWe would like to present our tools to the group.\n\nSam")
    return msg.as_bytes()
