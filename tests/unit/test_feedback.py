"""Feedback rounds (issue 10, item 1): a draft to each member, replies with files kept as
sent (content-addressed), "no comments" counted, reminders to the silent, one compilation with
every file byte-identical, late feedback flagged and forwarded, a revised draft as round 2."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Attachment, Fetched
from bot.store.db import session
from bot.store.models import Blob, Outbox
from bot.workflows.feedback import round_of
from tests.conftest import BOT, MEMBERS, SECRETARIAT, T0, mail_to, make_app

DRAFT = Attachment("shortlist-v1.docx", b"PK\x03\x04 draft v1" + bytes(300), "application/msword")
DOCX = b"PK\x03\x04 Amina's tracked changes" + bytes(range(256)) * 20
PDF = b"%PDF-1.7 Bruno's annotated copy\n" + bytes(range(256)) * 30


def reply_with(
    app: App,
    member: tuple[str, str, str, str],
    words: str,
    file: tuple[str, bytes, str] | None = None,
    purpose: str = "feedback",
) -> str:
    name, address = member[0], member[1]
    raw = clients.gmail(mail_to(app, address, purpose), name, address, BOT, app.clock.now(), words)
    if file:
        raw = clients.with_attachment(raw, *file)
    return app.handle(Fetched("test", raw))


def mails(app: App, purpose: str) -> list[Outbox]:
    with session(app.engine) as s:
        return list(
            s.exec(select(Outbox).where(Outbox.purpose == purpose).order_by(col(Outbox.id)))
        )


def test_a_round_from_draft_to_compilation(app: App) -> None:
    spec = round_of(
        "2027 shortlist", "Comments on the shortlist, please.", T0 + timedelta(days=10), DRAFT
    )
    item_id = app.open_item(spec.kind, spec.title, spec.body, spec.deadline, "test", spec.data)
    sent = message_from_bytes(mails(app, "feedback")[0].raw, policy=default)
    assert [a.get_payload(decode=True) for a in sent.iter_attachments()] == [DRAFT.content]

    app.clock.jump_to(T0 + timedelta(days=1))
    assert (
        reply_with(
            app,
            MEMBERS[0],
            "See my changes attached.",
            ("shortlist-amina.docx", DOCX, "application/msword"),
        )
        == "processed"
    )
    assert (
        reply_with(
            app,
            MEMBERS[1],
            "Annotated copy attached.",
            ("shortlist-bruno.pdf", PDF, "application/pdf"),
        )
        == "processed"
    )
    assert reply_with(app, MEMBERS[2], "Sin comentarios, gracias.") == "processed"
    app.clock.jump_to(T0 + timedelta(days=2))
    assert (
        reply_with(
            app, MEMBERS[0], "One more point: topic 3 needs a definition.", purpose="confirm"
        )
        == "processed"
    )
    app.clock.jump_to(T0 + timedelta(days=7, minutes=1))
    app.run_due()
    assert [m.recipients for m in mails(app, "reminder")] == [[MEMBERS[3][1]]]

    app.clock.jump_to(T0 + timedelta(days=10, minutes=1))
    app.run_due()
    (compiled,) = mails(app, "outcome")
    assert compiled.recipients == [SECRETARIAT]
    message = message_from_bytes(compiled.raw, policy=default)
    files = {a.get_filename(): a.get_payload(decode=True) for a in message.iter_attachments()}
    assert files == {
        f"{MEMBERS[0][0]} - shortlist-amina.docx": DOCX,
        f"{MEMBERS[1][0]} - shortlist-bruno.pdf": PDF,
    }
    text = message.get_body(("plain",)).get_content()
    assert text.index("See my changes") < text.index("One more point")  # in order
    assert "No answer from: Daniel Tupa" in text

    record = next(i for i in app.status()["items"] if i["id"] == item_id)
    assert record["kind"] == "feedback"
    amina = record["responses"][MEMBERS[0][1]]
    assert amina["late"] is False and "One more point" in amina["text"]
    assert amina["attachments"] == [
        {"name": "shortlist-amina.docx", "sha256": hashlib.sha256(DOCX).hexdigest()}
    ]
    assert record["responses"][MEMBERS[2][1]]["status"] == "no-comments"
    assert record["responses"][MEMBERS[3][1]]["status"] == "no answer"
    # When each answered: the latest reply (Amina's second, on day 2); nothing for no answer.
    assert amina["at"].startswith((T0 + timedelta(days=2)).isoformat()[:16])
    assert record["responses"][MEMBERS[3][1]]["at"] is None

    # Daniel answers a day late, with a file: kept, flagged late, forwarded at once.
    app.clock.jump_to(T0 + timedelta(days=11))
    late_pdf = b"%PDF-1.7 late\n" + bytes(500)
    assert (
        reply_with(
            app,
            MEMBERS[3],
            "Sorry, late: attached.",
            ("daniel.pdf", late_pdf, "application/pdf"),
            purpose="reminder",
        )
        == "processed"
    )
    daniel = next(i for i in app.status()["items"] if i["id"] == item_id)["responses"][
        MEMBERS[3][1]
    ]
    assert daniel["late"] is True
    forwarded = [m for m in mails(app, "notice") if "Late feedback" in m.subject]
    assert len(forwarded) == 1
    attached = list(message_from_bytes(forwarded[0].raw, policy=default).iter_attachments())
    assert [a.get_payload(decode=True) for a in attached] == [late_pdf]


def test_the_same_file_twice_is_stored_once_and_a_revised_draft_is_round_two(app: App) -> None:
    spec = round_of("Budget", "", T0 + timedelta(days=10), DRAFT)
    item_id = app.open_item(spec.kind, spec.title, spec.body, spec.deadline, "test", spec.data)
    for member in MEMBERS[:2]:
        reply_with(app, member, "Attached.", ("same.pdf", PDF, "application/pdf"))
    with session(app.engine) as s:
        assert len(s.exec(select(Blob)).all()) == 1
    revised = Attachment("budget-v2.docx", b"PK\x03\x04 v2", "application/msword")
    app.act(item_id, "revise", {"deadline": T0 + timedelta(days=20), "draft": revised})
    rounds = [i for i in app.status()["items"] if i["kind"] == "feedback"]
    assert [(r["round"], r["state"]) for r in rounds] == [(1, "closed"), (2, "open")]
    second = message_from_bytes(mails(app, "feedback")[-1].raw, policy=default)
    assert [a.get_payload(decode=True) for a in second.iter_attachments()] == [revised.content]


def test_a_round_opened_by_mail_sends_the_attached_draft(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # A proven FEEDBACK: mail with the draft attached: the draft goes to each member as sent.
    trusted = '[security]\ntrusted_authserv_ids = ["mx.cg.example"]\n'
    app = make_app(tmp_path_factory.mktemp("fb"), change=lambda t: t + trusted)
    command = clients.command(
        "Secretariat",
        SECRETARIAT,
        BOT,
        T0,
        "FEEDBACK: Workplan 2027",
        "Deadline: 2026-12-11\n\nYour comments, please.",
    )
    command = clients.with_attachment(command, "workplan.docx", DRAFT.content, DRAFT.mime_type)
    vouched = b"Authentication-Results: mx.cg.example; dmarc=pass header.from=cg.example\r\n"
    assert app.handle(Fetched("test", vouched + command)) == "processed"
    drafts = mails(app, "feedback")
    assert sorted(d.recipients[0] for d in drafts) == sorted(m[1] for m in MEMBERS)
    sent = message_from_bytes(drafts[0].raw, policy=default)
    assert [(a.get_filename(), a.get_payload(decode=True)) for a in sent.iter_attachments()] == [
        ("workplan.docx", DRAFT.content)
    ]
