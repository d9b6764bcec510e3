"""The Board Chair's packet always arrives (issue 8, item 5): a large attachment in the thread
cannot make the server refuse it, and if the server refuses it anyway it goes without the
thread archive and the Secretariat is told."""

from __future__ import annotations

import asyncio
import hashlib
import mailbox
import random
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

from sqlmodel import col, select

from bot.app import App
from bot.daemon import Daemon
from bot.demo import clients
from bot.domain.types import Fetched
from bot.mail.compose import thread_mbox
from bot.mail.maildir import MaildirSource
from bot.mail.transport import PermanentFailure
from bot.store.db import session
from bot.store.models import Inbound, Outbox, Review
from tests.conftest import BOT, CHAIR, MEMBERS, SECRETARIAT, T0, mail_to, make_app, open_ballot
from tests.headers import check_headers

MB = 1_000_000


def reply(app: App, member: int, answer: str, days: float, file: bytes = b"") -> bytes:
    """A member answers the ballot from Gmail, with `file` attached as a PDF when given."""
    name, address = MEMBERS[member][0], MEMBERS[member][1]
    app.clock.jump_to(T0 + timedelta(days=days))
    raw = clients.gmail(mail_to(app, address), name, address, BOT, app.clock.now(), answer)
    if file:
        msg = BytesParser(policy=default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        msg.add_attachment(file, maintype="application", subtype="pdf", filename="annex-scan.pdf")
        raw = msg.as_bytes()
    assert app.handle(Fetched("test", raw)) == "processed"
    return raw


def escalate(app: App) -> Outbox:
    """The deadline passes with an objection standing: the Chair's packet is queued."""
    app.clock.jump_to(T0 + timedelta(days=10, minutes=1))
    app.run_due()
    with session(app.engine) as s:
        return s.exec(select(Outbox).where(Outbox.purpose == "escalation")).one()


def archive_of(raw: bytes, folder: Path) -> mailbox.mbox:
    """The .mbox a packet carries, opened as the Chair's mail client would."""
    msg = BytesParser(policy=default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "application/mbox"]
    path = folder / "thread.mbox"
    path.write_bytes(part.get_content())
    return mailbox.mbox(str(path))


def test_a_30_mb_attachment_leaves_the_packet_deliverable_and_the_thread_whole(
    tmp_path: Path, matrix: dict[str, list[str]]
) -> None:
    # A member scans a 30 MB annex into an objection: the packet used to be ~62 MB and the
    # server refused it, so the Chair got nothing. Now the file is named, not carried.
    app = make_app(tmp_path)
    open_ballot(app)
    scan = random.Random(8).randbytes(30 * MB)
    objection = reply(app, 0, "Object: the annex (attached) contradicts para 3.", 1, scan)
    reply(app, 1, "Agree", 2)
    packet = escalate(app)

    limit = app.settings.model.smtp.max_message_bytes
    assert len(packet.raw) < limit
    with session(app.engine) as s:
        sent_before = s.exec(
            select(Outbox.message_id).where(
                Outbox.item_id == packet.item_id, col(Outbox.id) < packet.id
            )
        ).all()
        received = s.exec(select(Inbound.message_id).where(Inbound.item_id == packet.item_id))
        thread = {*sent_before, *received}
    box = archive_of(packet.raw, tmp_path)
    kept = {str(m["Message-ID"]) for m in box}
    assert len(box) == len(thread) and kept == thread
    objection_id = str(BytesParser(policy=default).parsebytes(objection)["Message-ID"])
    archived = next(box.get_bytes(k) for k, m in box.items() if m["Message-ID"] == objection_id)
    head = objection[: objection.index(b"\n\n") + 2]
    assert archived.startswith(head)  # the reply's headers, Message-ID included, byte for byte
    text = archived.decode("utf-8", "replace")
    assert "annex-scan.pdf" in text and hashlib.sha256(scan).hexdigest() in text
    assert "contradicts para 3" in text  # the member's words stay
    box.close()
    matrix.setdefault("the packet reaches the Chair", []).append(
        f"30 MB attachment in a reply: packet {len(packet.raw) / 1000:.0f} kB (limit "
        f"{limit / MB:.0f} MB), all {len(thread)} messages kept, the file named with its SHA-256"
    )


def test_many_medium_attachments_drop_the_largest_until_the_archive_fits(
    matrix: dict[str, list[str]],
) -> None:
    # Each file is under the per-attachment bound, but together they are not: the largest are
    # left out, one by one, until the archive fits; the smallest ones and every mail stay.
    entries = []
    for n in range(12):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = f"m{n}@members.example", BOT, f"Re: [CG-1] {n}"
        msg["Message-ID"] = f"<reply-{n}@members.example>"
        msg.set_content(f"Reply {n}, with a file.")
        size = 20_000 if n < 3 else 150_000 + n * 1_000
        msg.add_attachment(bytes(size), maintype="application", subtype="pdf", filename=f"{n}.pdf")
        entries.append((datetime(2026, 12, 1, 9, n, tzinfo=UTC), msg.as_bytes()))
    whole = sum(len(raw) for _, raw in entries)
    archive = thread_mbox(1, entries, max_bytes=whole // 2, part_bytes=500_000)
    assert len(archive.content) <= whole // 2
    left_out = [int(n) for n in re.findall(rb'File:    "(\d+).pdf"', archive.content)]
    assert archive.content.count(b"Message-ID: <reply-") == 12
    assert 0 < len(left_out) < 9 and sorted(left_out) == list(range(12 - len(left_out), 12))
    matrix.setdefault("the packet reaches the Chair", []).append(
        f"12 replies with files under the per-file bound, {whole / MB:.1f} MB together: the "
        f"{len(left_out)} largest left out, archive {len(archive.content) / MB:.1f} MB, "
        "12 mails kept"
    )


class RefusesThePacketOnce:
    """A server whose size limit is below what the bot was told: it refuses the first mail
    carrying a thread archive, and takes everything else."""

    def __init__(self) -> None:
        self.refused = 0
        self.delivered: list[tuple[list[str], bytes]] = []

    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        if b"application/mbox" in raw and not self.refused:
            self.refused += 1
            raise PermanentFailure("552 5.3.4 Message size exceeds fixed maximum message size")
        self.delivered.append((recipients, raw))


def test_a_packet_refused_for_good_goes_without_the_archive_and_the_secretariat_is_told(
    tmp_path: Path, matrix: dict[str, list[str]]
) -> None:
    # The server's real limit can be lower than the configured one: a 552 must not leave the
    # Chair without the packet. It goes again at once without the .mbox, same Message-ID.
    app = make_app(tmp_path)
    open_ballot(app)
    reply(app, 0, "Object: not ready.", 1)
    packet = escalate(app)
    server = RefusesThePacketOnce()
    asyncio.run(Daemon(app, MaildirSource(tmp_path / "mail"), server).flush())

    assert server.refused == 1
    (to_chair,) = [raw for to, raw in server.delivered if to == [CHAIR[1]]]
    check_headers(to_chair, BOT)
    got = BytesParser(policy=default).parsebytes(to_chair)
    assert isinstance(got, EmailMessage)
    assert got["Message-ID"] == packet.message_id
    assert to_chair[: to_chair.index(b"\n\n")] == packet.raw[: packet.raw.index(b"\n\n")]
    assert [p.get_content_type() for p in got.iter_attachments()] == []
    before = BytesParser(policy=default).parsebytes(packet.raw)
    assert isinstance(before, EmailMessage)
    for kind in ("plain", "html"):  # the Chair reads the same packet, only the .mbox is gone
        now, then = got.get_body((kind,)), before.get_body((kind,))
        assert now is not None and then is not None and now.get_content() == then.get_content()
    with session(app.engine) as s:
        reviews = [r.reason for r in s.exec(select(Review))]
        row = s.get(Outbox, packet.id)
    assert reviews == ["packet-without-archive"] and row is not None and row.state == "sent"
    to_secretariat = [raw for to, raw in server.delivered if to == [SECRETARIAT]]
    (notice,) = [
        raw for raw in to_secretariat if b"Subject: [cgbot] Sent without the thread archive" in raw
    ]
    assert packet.message_id.encode() in notice and b"552 5.3.4" in notice
    matrix.setdefault("the packet reaches the Chair", []).append(
        "server refuses the packet with 552: sent again at once without the .mbox (same "
        "Message-ID and headers), review line and notice to the Secretariat"
    )


class RefusesEverything:
    """A server that refuses every mail for good: a wrong address, whatever the size."""

    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        raise PermanentFailure("550 5.1.1 no such user")


def test_a_packet_refused_again_without_the_archive_fails_as_before(tmp_path: Path) -> None:
    # Leaving the archive out is tried once: a refusal of the lighter packet (the address is
    # wrong, not the size) fails the row and reviews it, and nothing loops.
    app = make_app(tmp_path)
    open_ballot(app)
    reply(app, 0, "Object: not ready.", 1)
    packet = escalate(app)
    asyncio.run(Daemon(app, MaildirSource(tmp_path / "mail"), RefusesEverything()).flush())
    with session(app.engine) as s:
        row = s.get(Outbox, packet.id)
        reviews = [r.reason for r in s.exec(select(Review).where(Review.item_id == packet.item_id))]
    assert row is not None and row.state == "failed" and b"application/mbox" not in row.raw
    assert reviews.count("packet-without-archive") == 1
    assert "delivery-failed" in reviews
