"""A feedback round through real mail (issue 10): Dovecot and SMTP on loopback, the real
`cgbot` process, the clock moved with --now. Files come back to the Secretariat as sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.demo import clients
from tests.conftest import BOT, MEMBERS, SECRETARIAT, Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

OPENED = "2026-12-01T09:00:00+00:00"
DOCX = b"PK\x03\x04 word/document.xml tracked changes " + bytes(range(256)) * 64
PDF = b"%PDF-1.7\n1 0 obj annotated\n" + bytes(range(256)) * 48 + b"\n%%EOF\n"
LATE = b"%PDF-1.4 late remarks\n" + bytes(700)


def answer(
    bot: Bot,
    smtp: SmtpSink,
    member: tuple[str, str, str, str],
    words: str,
    file: tuple[str, bytes, str] | None,
    at: str,
    subject: str = "For your written",
) -> None:
    name, address = member[0], member[1]
    mail = [m for m in smtp.to(address) if subject in str(m.message["Subject"])][-1]
    when = datetime.fromisoformat(at)
    raw = clients.gmail(clients.Original(mail.raw), name, address, BOT, when, words)
    bot.append(clients.with_attachment(raw, *file) if file else raw)


def test_a_round_with_files_no_comments_silence_a_reminder_and_a_late_reply(
    bot: Bot, smtp: SmtpSink
) -> None:
    draft = bot.folder / "shortlist-v1.docx"
    draft.write_bytes(b"PK\x03\x04 the draft")
    out = bot.run(
        "feedback",
        "open",
        "--title",
        "2027 shortlist",
        "--draft-file",
        str(draft),
        "--deadline",
        "2026-12-11",
        now=OPENED,
    )
    item_id = int(out.stdout.split()[-1])
    bot.run("run", "--once", now=OPENED)
    smtp.wait_for(len(MEMBERS) + 1)
    answer(
        bot,
        smtp,
        MEMBERS[0],
        "My changes attached.",
        (
            "shortlist-amina.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        "2026-12-02T10:00:00+00:00",
    )
    answer(
        bot,
        smtp,
        MEMBERS[1],
        "Annotated copy attached.",
        ("shortlist-bruno.pdf", PDF, "application/pdf"),
        "2026-12-02T11:00:00+00:00",
    )
    answer(bot, smtp, MEMBERS[2], "Sin comentarios.", None, "2026-12-02T12:00:00+00:00")
    bot.run("run", "--once", now="2026-12-02T13:00:00+00:00")
    bot.run("run", "--once", now="2026-12-08T17:01:00+00:00")  # three days before: reminders
    reminded = [m.recipients for m in smtp.messages if "Reminder" in str(m.message["Subject"])]
    assert reminded == [[MEMBERS[3][1]]]
    bot.run("run", "--once", now="2026-12-11T17:01:00+00:00")  # the deadline: the compilation
    (compiled,) = [
        m for m in smtp.to(SECRETARIAT) if "Feedback compiled" in str(m.message["Subject"])
    ]
    files = {
        a.get_filename(): a.get_payload(decode=True) for a in compiled.message.iter_attachments()
    }
    assert files == {
        f"{MEMBERS[0][0]} - shortlist-amina.docx": DOCX,
        f"{MEMBERS[1][0]} - shortlist-bruno.pdf": PDF,
    }
    answer(
        bot,
        smtp,
        MEMBERS[3],
        "Late, sorry: see attached.",
        ("late.pdf", LATE, "application/pdf"),
        "2026-12-12T09:00:00+00:00",
        subject="Reminder",
    )
    bot.run("run", "--once", now="2026-12-12T10:00:00+00:00")
    (late,) = [m for m in smtp.to(SECRETARIAT) if "Late feedback" in str(m.message["Subject"])]
    assert [a.get_payload(decode=True) for a in late.message.iter_attachments()] == [LATE]
    record = next(i for i in bot.status()["items"] if i["id"] == item_id)
    assert record["responses"][MEMBERS[2][1]]["status"] == "no-comments"
    assert record["responses"][MEMBERS[3][1]]["late"] is True
    assert {a["name"] for a in record["responses"][MEMBERS[0][1]]["attachments"]} == {
        "shortlist-amina.docx"
    }
    assert datetime.fromisoformat(record["deadline"]) == datetime(2026, 12, 11, 17, tzinfo=UTC)
