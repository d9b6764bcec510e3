"""`cgbot demo`: a whole ballot, from question to the Board Chair's determination, on this machine.

Same pipeline as production; only the edges differ: a Maildir stands in for the IMAP mailbox,
a folder of .eml files for the SMTP server, and the clock jumps through two weeks. Members'
replies are real MIME messages shaped like Outlook, Gmail, Apple Mail and an iPhone write them."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.app import App
from bot.app.report import PdfUnavailable
from bot.clock import Clock
from bot.config import parse_config
from bot.daemon import Daemon
from bot.demo import clients
from bot.mail.maildir import MaildirSource
from bot.mail.transport import FolderTransport
from bot.store.db import session
from bot.store.models import Inbound, InboundState, Item, Outbox, Person, Response

DEMO_CONFIG = """\
# The demo's configuration: a fictional Coordination Group on example.org.
[mailbox]                      # unused by the demo (a local Maildir stands in)
host = "127.0.0.1"
port = 1143
security = "none"
username = "cg-bot"
password = "demo"

[smtp]                         # unused by the demo (a folder of .eml files stands in)
host = "127.0.0.1"
port = 1025
security = "none"
from_address = "cg-secretariat@example.org"
from_name = "CG Secretariat"

[database]
url = "sqlite:///cgbot-demo.db"

[group]
name = "CIWP Coordination Group"
rules = "ciwp-coordination-group"
timezone = "Europe/London"
secretariat = ["secretariat@example.org"]

[[members]]
name = "Amina Diallo"
email = "amina.diallo@example.org"
role = "governing-board"
timezone = "Africa/Dakar"

[[members]]
name = "Bruno Carvalho"
email = "bruno.carvalho@example.org"
role = "governing-board"
timezone = "America/Sao_Paulo"
language = "pt"

[[members]]
name = "Chloé Martin"
email = "chloe.martin@example.org"
role = "expert-panel-co-chair"
timezone = "Europe/Paris"
language = "fr"
salutation = "Madame la Coprésidente"  # else French mail opens "Madame, Monsieur,"

[[members]]
name = "Daniel Tupa"
email = "daniel.tupa@example.org"
role = "ipslc-engagement-forum"
timezone = "America/La_Paz"

[meetings.monthly]             # ToR 4.1.a: the third Tuesday, 14:00 London, 90 minutes
rrule = "FREQ=MONTHLY;BYDAY=3TU"
time = "14:00"
duration_minutes = 90
where = "https://meet.example.org/cg"

[security]                     # the receiving server whose DMARC verdicts count
trusted_authserv_ids = ["mx.example.org"]

[chair]
name = "Grace Okafor"
email = "board-chair@example.org"
timezone = "Europe/London"
"""

QUESTION = """\
The Coordination Group met on 1 December but could not agree the 2027 CIWP topic shortlist
(ToR 2.1.a). The Secretariat proposes the shortlist in the meeting papers:
  1. Durability of removals
  2. Jurisdictional REDD+ accounting
  3. Community benefit-sharing
Do you agree that this shortlist goes to the Governing Board for approval (ToR 2.1.b)?"""

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
# Stand-ins for the files people exchange (the demo does not need them to open in Word).
DRAFT = b"PK\x03\x04 demo: draft 2026 progress note"
AMINA_DOCX = b"PK\x03\x04 demo: draft 2026 progress note, with Amina's tracked changes"
BUDGET_NOTE = b"%PDF-1.4\n% demo: the 2027 budget note\n%%EOF\n"


class Demo:
    def __init__(self, folder: Path, echo: Callable[[str], None]) -> None:
        self.folder = folder
        self.echo = echo
        config = folder / "config.toml"
        # It holds a (demo) password: created private, never readable by others even for a
        # moment, so that the command the demo suggests runs without a warning.
        config.touch(mode=0o600, exist_ok=False)
        config.chmod(0o600)  # a umask may have taken the owner's bits too
        config.write_text(DEMO_CONFIG, encoding="utf-8")
        self.clock = Clock.starting_at(T0)
        self.app = App(parse_config(DEMO_CONFIG, config), self.clock)
        self.mailbox = MaildirSource(folder / "mailbox")
        self.sent = FolderTransport(folder / "sent")
        self.received = folder / "received"
        self.received.mkdir(exist_ok=True)
        self.daemon = Daemon(self.app, self.mailbox, self.sent)
        self.seen_inbound = 0
        self.seen_response = 0
        self.seen_item = 0

    def say(self, text: str) -> None:
        self.echo(f"{self.clock.now():%a %d %b %H:%M}  {text}")

    def at(self, when: datetime) -> None:
        self.clock.jump_to(when)

    async def cycle(self) -> None:
        """One `cgbot run --once`, reporting what it read and what went out."""
        before = len(self.sent.written)
        await self.daemon.run_once()
        self.report_inbound()
        for recipients, raw, path in self.sent.written[before:]:
            subject = clients.Original(raw).subject
            self.say(f"  -> {', '.join(recipients)}: {subject}  [{path.name}]")

    def report_inbound(self) -> None:
        """What the bot made of each message since the last cycle."""
        with session(self.app.engine) as s:
            people = {p.id: p.name for p in s.exec(select(Person))}
            for row in s.exec(select(Inbound).where(col(Inbound.id) > self.seen_inbound)):
                assert row.id is not None
                self.seen_inbound = row.id
                if row.state != InboundState.PROCESSED:
                    self.say(f"  {row.state}: {row.reason} ({row.detail})")
            for item in s.exec(select(Item).where(col(Item.id) > self.seen_item)):
                assert item.id is not None and item.deadline is not None
                self.seen_item = item.id
                self.say(
                    f"  opened {item.kind} #{item.id} '{item.title}', deadline "
                    f"{item.deadline:%a %d %b %H:%M} UTC ({item.opened_by})"
                )
            for r in s.exec(select(Response).where(col(Response.id) > self.seen_response)):
                assert r.id is not None
                self.seen_response = r.id
                label = (
                    self.app.rules.positions[r.position].label
                    if (r.position in self.app.rules.positions)
                    else (r.position or "no position")
                )
                if r.status == "counted":
                    self.say(f"  recorded: {people.get(r.person_id)} {label.upper()}")
                elif r.status == "noted":
                    self.say(f"  noted: {people.get(r.person_id)}: {r.note}")
                elif r.note.startswith("proposed; read back"):
                    self.say(f"  read back to {people.get(r.person_id)} to confirm, not recorded")
                else:
                    self.say(
                        f"  not counted, asked to confirm: {people.get(r.person_id)} ({r.note})"
                    )

    def mail_to(
        self, address: str, kind: str = "ballot", purpose: str = "ballot"
    ) -> clients.Original:
        """The latest mail the bot sent this person about an item of `kind` for `purpose`
        (by the outbox, not by the subject: a subject is written in the reader's language)."""
        with session(self.app.engine) as s:
            rows = s.exec(
                select(Outbox, Item)
                .join(Item, col(Outbox.item_id) == col(Item.id))
                .where(Item.kind == kind)
                .order_by(col(Outbox.id).desc())
            )
            for row, _ in rows:
                wanted = row.purpose == purpose or row.purpose.startswith(purpose + ":")
                if wanted and address in row.recipients:
                    return clients.Original(row.raw)
        raise LookupError(f"no {kind} mail for {purpose!r} to {address}")

    def command(self, subject: str, body: str, file: tuple[str, bytes, str] | None = None) -> None:
        """A command from the Secretariat, as the receiving server delivers it: with its
        verdict on top (mx.example.org is trusted in the config; DMARC passed)."""
        raw = clients.command(
            "Executive Secretariat",
            "secretariat@example.org",
            self.app.settings.model.smtp.from_address,
            self.clock.now(),
            subject,
            body,
        )
        if file is not None:
            raw = clients.with_attachment(raw, *file)
        verdict = (
            b"Authentication-Results: mx.example.org; dkim=pass header.d=example.org; "
            b"spf=pass smtp.mailfrom=example.org; dmarc=pass header.from=example.org\n"
        )
        self.deliver("secretariat-command", verdict + raw)

    def deliver(self, label: str, raw: bytes) -> None:
        self.mailbox.deliver(raw)
        n = len(list(self.received.iterdir())) + 1
        (self.received / f"{n:03d}-{label}.eml").write_bytes(raw)

    def show_record(self) -> None:
        snap = self.app.status()
        for item in snap["items"]:
            self.echo(
                f"\nRecord of item #{item['id']} ({item['kind']}): state {item['state'].upper()}"
            )
            for email, r in item["responses"].items() if item["kind"] != "meeting" else ():
                text = (r["text"] or "").replace("\n", " ")[:60]
                if item["kind"] == "feedback":  # each member's status, and the files they sent
                    files = ", ".join(a["name"] for a in r["attachments"])
                    text = f"{text} [{files}]" if files else text
                    self.echo(f"  {email:30} {r['status']:12} {text}")
                    continue
                self.echo(f"  {email:30} {(r['position'] or '-').upper():8} {r['status']:8} {text}")
            if item["kind"] == "action":
                self.echo(f"  owner {item['owner']}, due {item['due'][:16]}")
            for email, answer in (item.get("attendance") or {}).items():
                self.echo(f"  {email:30} {answer}")
            for entry in item.get("agenda") or []:
                self.echo(f"  agenda {entry['n']}. {entry['title']} ({entry['status']})")
            if item.get("determination"):
                words = item["determination"]["text"].replace("\n", " ")[:90]
                self.echo(f"  determined by {item['determination']['by']}: {words}")
        self.echo(
            f"Review queue: {len(snap['review_queue'])}; "
            f"inbound {snap['inbound']}; outbox {snap['outbox']}"
        )

    def meeting_steps(
        self, members: dict[str, Any], bot: str
    ) -> list[tuple[timedelta, str, Callable[[], bytes | None]]]:
        """The monthly meeting of 15 December: its call, answers, an agenda item, a paper."""
        amina, bruno, daniel = members["Amina"], members["Bruno"], members["Daniel"]
        paper = b"%PDF-1.4\n% The 2027 work programme budget (demo paper)\n%%EOF\n"

        def secretariat_accepts() -> bytes:
            notice = self.mail_to("secretariat@example.org", "meeting", "notice")
            answer = clients.outlook(
                notice,
                "Executive Secretariat",
                "secretariat@example.org",
                bot,
                self.clock.now(),
                "ACCEPT 1",
            )
            return clients.with_attachment(answer, "budget-2027.pdf", paper, "application/pdf")

        return [
            (
                timedelta(days=3, hours=6),
                "ten days before the monthly meeting: its call",
                lambda: None,
            ),
            (
                timedelta(days=4, hours=1),
                "Bruno answers the call in Portuguese: he cannot attend",
                lambda: clients.gmail(
                    self.mail_to(bruno.email, "meeting", "call"),
                    bruno.name,
                    bruno.email,
                    bot,
                    self.clock.now(),
                    "Não poderei participar, peço desculpa.\n\nBruno",
                    header="Em {date}, {sender} escreveu:",
                ),
            ),
            (
                timedelta(days=4, hours=2),
                "Daniel's Outlook calendar declines the invitation",
                lambda: clients.calendar_answer(
                    self.mail_to(daniel.email, "meeting", "call"),
                    daniel.name,
                    daniel.email,
                    bot,
                    self.clock.now(),
                    "DECLINED",
                    "In the field that week.",
                ),
            ),
            (
                timedelta(days=5),
                "Amina proposes an agenda item by replying to the call",
                lambda: clients.outlook(
                    self.mail_to(amina.email, "meeting", "call"),
                    amina.name,
                    amina.email,
                    bot,
                    self.clock.now(),
                    "Agenda: Review of the 2027 work programme budget\n\nAmina",
                ),
            ),
            (
                timedelta(days=6),
                "the Secretariat accepts it by reply, with the paper attached",
                secretariat_accepts,
            ),
        ]

    def follow_up_steps(
        self, members: dict[str, Any], bot: str
    ) -> list[tuple[timedelta, str, Callable[[], bytes | None]]]:
        """The feedback round's answers (a file, "no comments", one silence) and the action."""
        amina, bruno, chloe = members["Amina"], members["Bruno"], members["Chloé"]

        def amina_comments() -> bytes:
            reply = clients.outlook(
                self.mail_to(amina.email, "feedback", "feedback"),
                amina.name,
                amina.email,
                bot,
                self.clock.now(),
                "My suggested changes are in the attached copy.\n\nAmina",
            )
            return clients.with_attachment(reply, "progress-note-amina.docx", AMINA_DOCX, DOCX)

        def bruno_done() -> bytes:
            reply = clients.gmail(
                self.mail_to(bruno.email, "action", "reminder"),
                bruno.name,
                bruno.email,
                bot,
                self.clock.now(),
                "Feito. A nota segue em anexo.\n\nBruno",
                header="Em {date}, {sender} escreveu:",
            )
            return clients.with_attachment(reply, "budget-note-2027.pdf", BUDGET_NOTE, PDF)

        return [
            (
                timedelta(days=1, hours=4),
                "Amina answers the feedback round with her changes in a .docx",
                amina_comments,
            ),
            (
                timedelta(days=2, hours=6),
                "Chloé answers the feedback round: 'Pas de commentaires de ma part.'",
                lambda: clients.apple_mail(
                    self.mail_to(chloe.email, "feedback", "feedback"),
                    chloe.name,
                    chloe.email,
                    bot,
                    self.clock.now(),
                    "Pas de commentaires de ma part.",
                    footer="Envoyé de mon iPhone",
                ),
            ),
            (
                timedelta(days=6, hours=9),  # Tuesday 18:00, after the round's 17:00 deadline
                "the feedback deadline has passed: the Secretariat gets one compilation",
                lambda: None,
            ),
            (
                timedelta(days=7, hours=3),
                "Bruno, reminded of his action, replies 'Feito' with the note attached",
                bruno_done,
            ),
        ]

    async def run(self) -> None:
        members = {m.name.split()[0]: m for m in self.app.settings.model.members}
        chair = self.app.settings.model.chair
        bot = self.app.settings.model.smtp.from_address
        question = self.folder / "question.txt"
        question.write_text(QUESTION, encoding="utf-8")

        self.say(
            "the Secretariat mails the bot 'BALLOT: 2027 CIWP topic shortlist'; the receiving "
            "server vouches for its sender (DMARC pass), so the command takes effect at once"
        )
        body = (
            f"Deadline: {T0 + timedelta(days=10):%Y-%m-%d %H:%M} UTC\n\n{QUESTION}\n\n"
            "Best regards,\nThe Executive Secretariat"
        )
        self.command("BALLOT: 2027 CIWP topic shortlist", body)
        await self.cycle()

        self.at(T0 + timedelta(minutes=20))
        self.say(
            "the Secretariat mails 'FEEDBACK: Draft 2026 progress note' with the draft attached, "
            "and 'ACTION: Circulate the budget note' for Bruno"
        )
        self.command(
            "FEEDBACK: Draft 2026 progress note",
            "Deadline: 2026-12-08\n\nPlease send your comments on the attached draft.",
            ("progress-note-draft.docx", DRAFT, DOCX),
        )
        self.command(
            "ACTION: Circulate the budget note",
            f"Owner: {members['Bruno'].email}\nDue: 2026-12-10\n\n"
            "Circulate the 2027 budget note to the group before the December meeting.",
        )
        await self.cycle()

        steps: list[tuple[timedelta, str, Callable[[], bytes | None]]] = [
            (
                timedelta(days=1, hours=2),
                "Amina replies from Outlook: 'Agree.'",
                lambda: clients.outlook(
                    self.mail_to(members["Amina"].email),
                    "Amina Diallo",
                    members["Amina"].email,
                    bot,
                    self.clock.now(),
                    "Agree.\n\nBest regards,\nAmina",
                ),
            ),
            (
                timedelta(days=2, hours=5),
                "Bruno replies from Gmail, in Portuguese: 'Concordo.'",
                lambda: clients.gmail(
                    self.mail_to(members["Bruno"].email),
                    "Bruno Carvalho",
                    members["Bruno"].email,
                    bot,
                    self.clock.now(),
                    "Concordo.\n\nAbraço,\nBruno",
                    header="Em {date}, {sender} escreveu:",
                ),
            ),
            (
                timedelta(days=3),
                "Chloé replies from Apple Mail, in French, objecting",
                lambda: clients.apple_mail(
                    self.mail_to(members["Chloé"].email),
                    "Chloé Martin",
                    members["Chloé"].email,
                    bot,
                    self.clock.now(),
                    "Je ne suis pas d'accord : le point 2 chevauche le "
                    "programme de travail existant sur la comptabilité.",
                    footer="Envoyé de mon iPad",
                ),
            ),
            (
                timedelta(days=4),
                "Daniel's out-of-office answers his ballot mail",
                lambda: clients.out_of_office(
                    self.mail_to(members["Daniel"].email),
                    "Daniel Tupa",
                    members["Daniel"].email,
                    bot,
                    self.clock.now(),
                ),
            ),
        ]
        steps += self.meeting_steps(members, bot)
        steps += self.follow_up_steps(members, bot)
        steps.append(
            (
                timedelta(days=7, minutes=1),
                "three days before the deadline: reminders to whoever has not answered",
                lambda: None,
            )
        )
        # In time order: the clock never goes back.
        for delta, what, make in sorted(steps, key=lambda step: step[0]):
            self.at(T0 + delta)
            self.say(what)
            raw = make()
            if raw is not None:
                self.deliver(what.split()[0].lower(), raw)
            await self.cycle()

        self.at(T0 + timedelta(days=8))
        self.say("Daniel replies from his iPhone: 'Agree in principle, but ...' (ambiguous)")
        self.deliver(
            "daniel-ambiguous",
            clients.apple_mail(
                self.mail_to(members["Daniel"].email, "ballot", "reminder"),
                "Daniel Tupa",
                members["Daniel"].email,
                bot,
                self.clock.now(),
                "Agree in principle, but I would like the community criteria spelled out.",
            ),
        )
        await self.cycle()

        self.at(T0 + timedelta(days=8, hours=3))
        self.say("Daniel answers again with one word: 'Abstain'")
        self.deliver(
            "daniel-abstain",
            clients.apple_mail(
                self.mail_to(members["Daniel"].email),
                "Daniel Tupa",
                members["Daniel"].email,
                bot,
                self.clock.now(),
                "Abstain",
            ),
        )
        await self.cycle()

        self.at(T0 + timedelta(days=8, hours=5, minutes=1))
        self.say("five days before the meeting: the final agenda goes out, with the paper")
        await self.cycle()

        self.at(T0 + timedelta(days=10, minutes=1))
        self.say("the deadline passes with one objection standing: escalation to the Board Chair")
        await self.cycle()

        self.at(T0 + timedelta(days=12))
        self.say("the Board Chair replies with her determination")
        self.deliver(
            "chair",
            clients.outlook(
                self.mail_to(chair.email, "ballot", "escalation"),
                chair.name,
                chair.email,
                bot,
                self.clock.now(),
                "Having read the objection, I determine that the shortlist goes to the Board with "
                "topic 2 limited to jurisdictions without an existing accounting programme.",
            ),
        )
        await self.cycle()

        self.at(T0 + timedelta(days=12, hours=1))
        self.say("the bot read it back to her; she replies 'CONFIRM': recorded and circulated")
        self.deliver(
            "chair-confirm",
            clients.outlook(
                self.mail_to(chair.email, "ballot", "readback"),
                chair.name,
                chair.email,
                bot,
                self.clock.now(),
                "CONFIRM",
            ),
        )
        await self.cycle()

        self.at(T0 + timedelta(days=13, hours=7))
        self.say("the monthly meeting of 15 December has taken place")
        await self.cycle()
        self.show_record()
        self.show_report()

    def show_report(self) -> None:
        """`cgbot report --period 2026-12` on what the demo left."""
        self.echo("\nThe progress report to the Governing Board (cgbot report --period 2026-12):")
        try:
            paths = self.app.report("2026-12", self.folder / "reports")
        except PdfUnavailable as exc:
            self.echo(f"  in {self.folder / 'reports'}, without its PDF: {exc}")
            return
        for path in paths:
            self.echo(f"  {path}")


def run_demo(out: Path | None, echo: Callable[[str], None] = print) -> Path:
    folder = out or Path(tempfile.mkdtemp(prefix="cgbot-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise SystemExit(f"cgbot demo: {folder} is not empty; give an empty or new folder")
    echo(f"cgbot demo: a consensus ballot from question to determination, in {folder}\n")
    asyncio.run(Demo(folder, echo).run())
    echo(
        f"\nEvery mail sent is in {folder / 'sent'}, every mail received in "
        f"{folder / 'received'};\nthe database is {folder / 'cgbot-demo.db'} "
        f"(try: cgbot --config {folder / 'config.toml'} status)."
    )
    return folder
