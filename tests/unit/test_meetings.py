"""Meetings by email (issue 9): calls derived from the rules' cadence and the config's dates,
sent once (late after downtime while still useful), with calendar invitations; attendance from
calendar answers and plain replies; apologies to the Secretariat at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid

import pytest
from icalendar import Calendar
from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, FIXTURES, MEMBERS, SECRETARIAT, T0, mail_to, make_app

MEETINGS = """
[[facilitators]]
name = "Farah Idris"
email = "farah@ciwp.example"

[meetings.monthly]
rrule = "FREQ=MONTHLY;BYDAY=1TU"
time = "14:00"
duration_minutes = 90
where = "https://meet.example.org/cg"

[meetings.quarterly]
rrule = "FREQ=MONTHLY;BYMONTH=3,6,9,12;BYDAY=1TU"
time = "15:00"
duration_minutes = 120
replaces = "monthly"
"""


@pytest.fixture
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return make_app(tmp_path_factory.mktemp("meet"), change=lambda text: text + MEETINGS)


def meetings(app: App) -> list[dict[str, object]]:
    return [i for i in app.status()["items"] if i["kind"] == "meeting"]


def calls(app: App) -> list[Outbox]:
    with session(app.engine) as s:
        return list(s.exec(select(Outbox).where(Outbox.purpose == "call").order_by(col(Outbox.id))))


def test_the_cadence_opens_each_call_once_and_late_calls_only_while_useful(app: App) -> None:
    app.run_due()
    app.run_due()
    # 1 December, 09:00: December is a quarterly month, so the quarterly meeting (15:00 today,
    # its call due 21 days ago) replaces the monthly one; its call is late but still useful.
    (first,) = meetings(app)
    assert first["starts_at"] == "2026-12-01T15:00:00+00:00" and first["series"] == "quarterly"
    invited = sorted(c.recipients[0] for c in calls(app))
    assert invited == sorted([*(m[1] for m in MEMBERS), "farah@ciwp.example"])
    # Down until 10 February: January's and February's meetings are past, their calls useless;
    # nothing is sent twice; the call for 2 March is not due yet (21 days: 9 February... due).
    app.clock.jump_to(datetime(2027, 2, 10, 9, tzinfo=UTC))
    app.run_due()
    found = {(m["series"], m["starts_at"], m["state"]) for m in meetings(app)}
    assert found == {
        ("quarterly", "2026-12-01T15:00:00+00:00", "held"),
        ("quarterly", "2027-03-02T15:00:00+00:00", "scheduled"),
    }
    assert len(calls(app)) == 2 * (len(MEMBERS) + 1)


def test_the_call_carries_an_invitation_calendar_clients_accept(app: App) -> None:
    app.run_due()
    call = message_from_bytes(calls(app)[0].raw, policy=default)
    parts = {p.get_content_type(): p for p in call.walk()}
    assert "text/calendar" in parts and parts["text/calendar"].get_param("method") == "REQUEST"
    cal = Calendar.from_ical(parts["text/calendar"].get_payload(decode=True))
    (event,) = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "REQUEST" and int(event["SEQUENCE"]) == 0
    attendees = {str(a).lower().removeprefix("mailto:") for a in event["ATTENDEE"]}
    assert attendees == {m[1] for m in MEMBERS} | {"farah@ciwp.example"}  # quarterly: facilitators
    assert str(event["ORGANIZER"]).lower() == f"mailto:{BOT}"


def calendar_reply(uid: str, address: str, partstat: str, comment: str = "") -> bytes:
    """An Outlook-style answer: a new message, no In-Reply-To, the REPLY as text/calendar."""
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nPRODID:Microsoft Exchange Server 2010\r\n"
        "VERSION:2.0\r\nBEGIN:VEVENT\r\n"
        f"ATTENDEE;PARTSTAT={partstat};CN=Someone:MAILTO:{address.upper()}\r\n"
        + (f"COMMENT;LANGUAGE=en-GB:{comment}\r\n" if comment else "")
        + f"UID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20261201T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    msg = EmailMessage()
    msg["From"] = address
    msg["To"] = BOT
    msg["Subject"] = f"{partstat.title()}: Monthly meeting"
    msg["Date"] = format_datetime(T0)
    msg["Message-ID"] = make_msgid(domain="members.example")
    msg.set_content(comment or partstat)
    msg.add_alternative(
        ics.encode(), maintype="text", subtype="calendar", params={"method": "REPLY"}
    )
    return msg.as_bytes()


def uid_of(app: App) -> str:
    call = message_from_bytes(calls(app)[0].raw, policy=default)
    part = next(p for p in call.walk() if p.get_content_type() == "text/calendar")
    (event,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    return str(event["UID"])


def test_a_declined_invitation_is_an_apology_the_secretariat_hears_of_at_once(app: App) -> None:
    app.run_due()
    address = MEMBERS[2][1]
    reply = calendar_reply(uid_of(app), address, "DECLINED", "Travelling that day.")
    assert app.handle(Fetched("test", reply)) == "processed"
    assert meetings(app)[0]["attendance"][address] == "apology"  # type: ignore[index]
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id))).all()
    told = [r for r in rows if SECRETARIAT in r.recipients and "Apologies" in r.subject]
    assert len(told) == 1 and b"Travelling that day." in told[0].raw
    assert not [r for r in rows if address in r.recipients and r.purpose == "confirm"]


def test_accepted_and_tentative_are_recorded_without_a_word_back(app: App) -> None:
    app.run_due()
    uid = uid_of(app)
    app.handle(Fetched("test", calendar_reply(uid, MEMBERS[0][1], "ACCEPTED")))
    app.handle(Fetched("test", calendar_reply(uid, MEMBERS[1][1], "TENTATIVE")))
    attendance = meetings(app)[0]["attendance"]
    assert attendance == {  # type: ignore[comparison-overlap]
        MEMBERS[0][1]: "attending",
        MEMBERS[1][1]: "tentative",
        MEMBERS[2][1]: "no answer",
        MEMBERS[3][1]: "no answer",
        "farah@ciwp.example": "no answer",
    }


@pytest.mark.parametrize(
    "words",
    [
        "Apologies, I can't make it this time.",
        "Je ne pourrai pas être présente, désolée.",
        "No podré asistir, lo siento.",
        "Não poderei participar, peço desculpa.",
    ],
)
def test_a_plain_apology_in_any_language_is_noted_and_passed_on(app: App, words: str) -> None:
    app.run_due()
    name, address = MEMBERS[0][0], MEMBERS[0][1]
    call = next(c for c in calls(app) if c.recipients == [address])
    raw = clients.gmail(clients.Original(call.raw), name, address, BOT, T0, words)
    assert app.handle(Fetched("test", raw)) == "processed"
    assert meetings(app)[0]["attendance"][address] == "apology"  # type: ignore[index]
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id))).all()
    assert rows[-2].purpose == "confirm" and rows[-2].recipients == [address]
    assert "Apologies" in rows[-1].subject and rows[-1].recipients == [SECRETARIAT]


def test_a_calendar_answer_from_someone_not_invited_is_held(app: App) -> None:
    app.run_due()
    stranger = calendar_reply(uid_of(app), "mallory@evil.example", "ACCEPTED")
    assert app.handle(Fetched("test", stranger)) == "quarantined"
    forged = calendar_reply(uid_of(app), MEMBERS[0][1], "DECLINED").replace(
        f"From: {MEMBERS[0][1]}".encode(), f"From: {MEMBERS[1][1]}".encode()
    )
    assert app.handle(Fetched("test", forged)) == "quarantined"
    assert set(meetings(app)[0]["attendance"].values()) == {"no answer"}  # type: ignore[union-attr]


def test_no_call_before_the_notice_period(app: App) -> None:
    # 2 December: the next meeting (monthly, 5 January 14:00) has its call on 26 December.
    app.clock.jump_to(datetime(2026, 12, 2, 9, tzinfo=UTC))
    app.run_due()
    assert [m["starts_at"] for m in meetings(app)] == []
    app.clock.jump_to(datetime(2026, 12, 26, 14, tzinfo=UTC) + timedelta(minutes=1))
    app.run_due()
    assert [m["starts_at"] for m in meetings(app)] == ["2027-01-05T14:00:00+00:00"]


def event_of(raw: bytes) -> tuple[str, object]:
    part = next(
        p
        for p in message_from_bytes(raw, policy=default).walk()
        if p.get_content_type() == "text/calendar"
    )
    cal = Calendar.from_ical(part.get_payload(decode=True))
    (event,) = cal.walk("VEVENT")
    return str(cal["METHOD"]), event


def test_an_ad_hoc_meeting_moved_then_cancelled_updates_the_same_calendar_event(
    app: App,
) -> None:
    start = datetime(2026, 12, 15, 10, tzinfo=UTC)
    item_id = app.schedule_meeting("Budget follow-up", start, 60, "Room 2")
    invited = len(MEMBERS)
    first = calls(app)[-invited:]
    method, event = event_of(first[0].raw)
    uid = str(event["UID"])  # type: ignore[index]
    assert method == "REQUEST" and int(event["SEQUENCE"]) == 0  # type: ignore[index]

    app.act(item_id, "move", {"start": start + timedelta(days=1)})
    method, moved = event_of(calls(app)[-1].raw)
    assert method == "REQUEST" and str(moved["UID"]) == uid  # type: ignore[index]
    assert int(moved["SEQUENCE"]) == 1  # type: ignore[index]
    assert moved["DTSTART"].dt.astimezone(UTC) == start + timedelta(days=1)  # type: ignore[index]
    # The end planned before the move does not close the meeting.
    app.clock.jump_to(start + timedelta(hours=2))
    app.run_due()
    (item,) = [m for m in meetings(app) if m["id"] == item_id]
    assert item["state"] == "scheduled"

    app.act(item_id, "cancel", {"reason": "The budget was settled by email."})
    with session(app.engine) as s:
        last = s.exec(select(Outbox).where(Outbox.purpose == "outcome")).all()
    method, cancelled = event_of(last[0].raw)
    assert method == "CANCEL" and str(cancelled["UID"]) == uid  # type: ignore[index]
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 2  # type: ignore[index]
    assert {r.recipients[0] for r in last} >= {m[1] for m in MEMBERS}
    with pytest.raises(ValueError, match="cancelled"):
        app.act(item_id, "move", {"start": start + timedelta(days=3)})


def test_the_secretariat_schedules_a_meeting_by_email(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # A proven MEETING: command (the receiving server vouches for the Secretariat).
    trusted = '[security]\ntrusted_authserv_ids = ["mx.cg.example"]\n'
    app = make_app(tmp_path_factory.mktemp("m"), change=lambda t: t + MEETINGS + trusted)
    body = "Start: 2026-12-15 10:00\nDuration: 45\nWhere: https://meet.example.org/x\n"
    raw = clients.command("Secretariat", SECRETARIAT, BOT, T0, "MEETING: Budget call", body)
    raw = b"Authentication-Results: mx.cg.example; dmarc=pass header.from=cg.example\r\n" + raw
    assert app.handle(Fetched("test", raw)) == "processed"
    (meeting,) = [m for m in meetings(app) if m["series"] is None]
    assert meeting["title"] == "Budget call" and meeting["starts_at"] == "2026-12-15T10:00:00+00:00"
    assert meeting["ends_at"] == "2026-12-15T10:45:00+00:00"


def test_agenda_proposed_by_reply_accepted_by_the_secretariat_goes_out_with_the_paper(
    app: App,
) -> None:
    # A member proposes by replying to the call; the Secretariat accepts it by replying to the
    # notice, with the paper attached; at the agenda date everyone gets both, the paper intact.
    app.clock.jump_to(datetime(2026, 12, 26, 14, 1, tzinfo=UTC))
    app.run_due()  # the call for 5 January (agenda five days before: 31 December)
    name, address = MEMBERS[1][0], MEMBERS[1][1]
    call = next(c for c in calls(app) if c.recipients == [address])
    words = "Agenda: Review of the 2027 work programme budget\n\nThanks, Bruno"
    app.handle(
        Fetched("test", clients.gmail(clients.Original(call.raw), name, address, BOT, T0, words))
    )
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id))).all()
    notice = next(
        r for r in rows if r.recipients == [SECRETARIAT] and "Agenda proposal" in r.subject
    )
    answer = clients.gmail(
        clients.Original(notice.raw), "Secretariat", SECRETARIAT, BOT, T0, "ACCEPT 1"
    )
    paper = b"%PDF-1.4 the budget paper\n" + bytes(range(256))
    msg = message_from_bytes(answer, policy=default)
    msg.add_attachment(paper, maintype="application", subtype="pdf", filename="budget-2027.pdf")
    assert app.handle(Fetched("test", msg.as_bytes())) == "processed"
    (meeting,) = meetings(app)
    assert meeting["agenda"] == [  # type: ignore[comparison-overlap]
        {
            "n": 1,
            "title": "Review of the 2027 work programme budget",
            "by": name,
            "status": "accepted",
        }
    ]
    app.clock.jump_to(datetime(2026, 12, 31, 14, 1, tzinfo=UTC))
    app.run_due()
    with session(app.engine) as s:
        agendas = s.exec(select(Outbox).where(Outbox.purpose == "agenda")).all()
    assert {a.recipients[0] for a in agendas} == {*(m[1] for m in MEMBERS), SECRETARIAT}
    sent = message_from_bytes(agendas[0].raw, policy=default)
    assert "Review of the 2027 work programme budget" in sent.get_body(("plain",)).get_content()
    (attached,) = list(sent.iter_attachments())
    assert attached.get_filename() == "budget-2027.pdf"
    assert attached.get_payload(decode=True) == paper


def test_the_secretariat_sets_the_agenda_from_the_command_line(app: App) -> None:
    item_id = app.schedule_meeting("Budget", datetime(2026, 12, 15, 10, tzinfo=UTC), 60, "")
    app.act(item_id, "agenda", {"add": ["Minutes", "Budget 2027"], "accept": (), "drop": ()})
    app.act(item_id, "agenda", {"add": (), "accept": (), "drop": [1]})
    (meeting,) = [m for m in meetings(app) if m["id"] == item_id]
    assert [(a["title"], a["status"]) for a in meeting["agenda"]] == [  # type: ignore[attr-defined]
        ("Minutes", "dropped"),
        ("Budget 2027", "accepted"),
    ]
    with pytest.raises(ValueError, match="no agenda item 7"):
        app.act(item_id, "agenda", {"accept": [7]})


def test_the_record_goes_to_all_and_an_unsettled_question_becomes_a_ballot(app: App) -> None:
    app.run_due()  # 1 December's meeting
    (meeting,) = meetings(app)
    item_id = int(meeting["id"])  # type: ignore[call-overload]
    uid = uid_of(app)
    app.handle(Fetched("test", calendar_reply(uid, MEMBERS[0][1], "ACCEPTED")))
    owner, due = MEMBERS[1][1], datetime(2027, 1, 15, 17, tzinfo=UTC)
    args = {
        "attended": (),
        "decisions": ["The 2027 shortlist goes to the Board."],
        "actions": [("Draft the Board note", owner, due)],
        "unsettled": ["Should topic 2 be limited to new jurisdictions?"],
    }
    app.act(item_id, "record", args)
    (held,) = meetings(app)
    assert held["state"] == "held"
    assert held["record"]["attended"] == [MEMBERS[0][0]]  # type: ignore[index]
    assert held["record"]["actions"] == [  # type: ignore[index]
        {"title": "Draft the Board note", "owner": owner, "due": due.isoformat()}
    ]
    with session(app.engine) as s:
        records = s.exec(select(Outbox).where(Outbox.purpose == "outcome")).all()
    assert {r.recipients[0] for r in records} == {*(m[1] for m in MEMBERS), SECRETARIAT}
    ballot_id = app.unsettled_to_ballot(item_id, 1, None)
    ballot = next(i for i in app.status()["items"] if i["id"] == ballot_id)
    assert ballot["kind"] == "ballot" and ballot["title"].startswith("Should topic 2")
    with pytest.raises(ValueError, match="no unsettled question 2"):
        app.unsettled_to_ballot(item_id, 2, None)


def test_comments_on_agenda_items_and_the_record_by_mail(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # A member comments on item 1 by replying to the agenda; after the meeting the Secretariat
    # sends the record by replying with 'Decision:', 'Action:' and 'Unsettled:' lines.
    app = make_app(tmp_path_factory.mktemp("pack"), change=lambda t: t + MEETINGS)
    start = datetime(2026, 12, 15, 10, tzinfo=UTC)
    item_id = app.schedule_meeting("Budget", start, 60, "")
    app.act(item_id, "agenda", {"add": ["Budget 2027"]})
    app.clock.jump_to(start - timedelta(days=1))
    app.run_due()  # the agenda (two days before an ad hoc meeting)
    name, address = MEMBERS[2][0], MEMBERS[2][1]
    words = "Item 1: the line for travel looks too low to me."
    raw = clients.gmail(mail_to(app, address, "agenda"), name, address, BOT, T0, words)
    assert app.handle(Fetched("test", raw)) == "processed"
    (meeting,) = [m for m in meetings(app) if m["id"] == item_id]
    assert meeting["agenda"][0]["comments"] == [  # type: ignore[index]
        {"by": name, "text": "the line for travel looks too low to me."}
    ]
    app.clock.jump_to(start + timedelta(hours=2))
    app.run_due()  # held
    notice = mail_to(app, SECRETARIAT, "notice")
    record = (
        "Decision: The 2027 budget goes to the Board.\n"
        f"Action: Revise the travel line | {address} | 2027-01-10\n"
        "Unsettled: Whether to fund a second workshop.\n"
    )
    raw = clients.gmail(notice, "Secretariat", SECRETARIAT, BOT, T0, record)
    assert app.handle(Fetched("test", raw)) == "processed"
    (held,) = [m for m in meetings(app) if m["id"] == item_id]
    assert held["state"] == "held"
    assert held["record"]["decisions"] == ["The 2027 budget goes to the Board."]  # type: ignore[index]
    assert held["record"]["actions"][0]["owner"] == address  # type: ignore[index]
    assert held["record"]["unsettled"] == ["Whether to fund a second workshop."]  # type: ignore[index]


def test_every_client_sample_is_read_right_or_held_never_misread(app: App) -> None:
    # Real clients' calendar mails (tests/fixtures/calendar, permissive sets) arriving at the
    # bot: none of them answers one of our invitations, so none may record any attendance.
    app.run_due()
    samples = sorted(
        p
        for p in (FIXTURES / "calendar").rglob("*")
        if p.is_file() and p.suffix not in (".md", ".txt")
    )
    assert len(samples) >= 10
    for sample in samples:
        state = app.handle(Fetched("test", sample.read_bytes()))
        assert state in ("quarantined", "ignored", "duplicate"), (sample, state)
    assert set(meetings(app)[0]["attendance"].values()) == {"no answer"}  # type: ignore[union-attr]


def test_a_paper_given_on_the_command_line_goes_out_with_the_agenda(app: App) -> None:
    start = datetime(2026, 12, 15, 10, tzinfo=UTC)
    item_id = app.schedule_meeting("Budget", start, 60, "")
    paper = bytes(range(256)) * 40
    app.act(
        item_id,
        "paper",
        {"name": "annex.xlsx", "type": "application/octet-stream", "content": paper},
    )
    app.clock.jump_to(start - timedelta(days=1))
    app.run_due()
    with session(app.engine) as s:
        agenda = s.exec(select(Outbox).where(Outbox.purpose == "agenda")).first()
    assert agenda is not None
    (attached,) = list(message_from_bytes(agenda.raw, policy=default).iter_attachments())
    assert attached.get_filename() == "annex.xlsx" and attached.get_payload(decode=True) == paper
    with pytest.raises(ValueError, match="send a link"):
        app.act(item_id, "paper", {"name": "big.pdf", "content": b"x" * 10_000_001})
