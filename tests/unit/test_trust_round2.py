"""Trust, round two (issue 8): forged commands and determinations, injected headers.

Each case is tried through the real pipeline, store and outbox, and adds a row to the trust
matrix printed at the end of the run."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import format_datetime, make_msgid

import dkim
import dkim.dnsplug
import pytest
from sqlmodel import col, select

from bot.app import App
from bot.app.sender import flush
from bot.demo import clients
from bot.domain.types import Fetched
from bot.mail.transport import FolderTransport
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, CHAIR, MEMBERS, SECRETARIAT, T0, mail_to, make_app, open_ballot
from tests.signing import new_signer

TRUSTED = "mx.cg.example"
MEMBER_ADDRESSES = {m[1] for m in MEMBERS}
BODY = "Deadline: 2026-12-11\n\nDo you agree to dissolve the group?"


def trusting(text: str) -> str:
    return text + f'[security]\ntrusted_authserv_ids = ["{TRUSTED}"]\n'


@pytest.fixture
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return make_app(tmp_path_factory.mktemp("trust2"), change=trusting)


def command(subject: str = "BALLOT: Dissolve the group", *above: str, sender: str = "") -> bytes:
    """A Secretariat command with headers added above it (as a receiving server adds them)."""
    msg = EmailMessage()
    msg["From"] = sender or f"Executive Secretariat <{SECRETARIAT}>"
    msg["To"] = BOT
    msg["Date"] = format_datetime(T0)
    msg["Message-ID"] = make_msgid(domain="cg.example")
    msg["Subject"] = subject  # last: a decoded CR/LF must not hide the other headers
    msg.set_content(BODY)
    raw = msg.as_bytes()
    for header in reversed(above):
        raw = header.encode() + b"\n" + raw
    return raw


def ballots(app: App) -> list[dict[str, object]]:
    return [i for i in app.status()["items"] if i["kind"] == "ballot"]


def mailed_members(app: App) -> set[str]:
    """Members who got mail about an item (not counting a word that their own mail was held)."""
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).where(Outbox.purpose != "held").order_by(col(Outbox.id)))
        return {r for row in rows for r in row.recipients if r in MEMBER_ADDRESSES}


FORGED_COMMANDS = [
    ("no Authentication-Results at all", command()),
    (
        "dmarc=pass from a server not trusted",
        command(
            "BALLOT: x",
            "Authentication-Results: mx.evil.example; dmarc=pass header.from=cg.example",
        ),
    ),
    (
        "trusted server says dmarc=none",
        command(
            "BALLOT: x", f"Authentication-Results: {TRUSTED}; dmarc=none header.from=cg.example"
        ),
    ),
    (
        "dkim and spf pass for another domain",
        command(
            "BALLOT: x",
            f"Authentication-Results: {TRUSTED}; dkim=pass header.d=evil.example;"
            " spf=pass smtp.mailfrom=evil.example",
        ),
    ),
    (
        "dmarc=pass header.from=evil.example, two addresses in From",
        command(
            "BALLOT: x",
            f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=evil.example",
            sender=f"{SECRETARIAT}, mallory@evil.example",
        ),
    ),
    (
        "dmarc=pass header.from=evil.example, a second From header",
        command(
            "BALLOT: x",
            f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=evil.example",
            f"From: Executive Secretariat <{SECRETARIAT}>",
            sender="Mallory <mallory@evil.example>",
        ),
    ),
    (
        "dmarc=pass header.from=evil.example, a From the parsers split oddly",
        command(
            "BALLOT: x",
            f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=evil.example",
            sender=f'"{SECRETARIAT}" <mallory@evil.example>, <{SECRETARIAT}>',
        ),
    ),
    (
        "dmarc=pass for cg.example, but header.from names another domain",
        command(
            "BALLOT: x", f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=evil.example"
        ),
    ),
]


@pytest.mark.parametrize(("name", "raw"), FORGED_COMMANDS, ids=[c[0] for c in FORGED_COMMANDS])
def test_a_forged_command_opens_nothing_and_mails_no_member(
    app: App, matrix: dict[str, list[str]], name: str, raw: bytes
) -> None:
    # The most it causes is a confirmation request to the configured Secretariat address.
    state = app.handle(Fetched("test", raw))
    assert ballots(app) == [] and mailed_members(app) == set()
    items = app.status()["items"]
    outcome = (
        "confirmation asked of the Secretariat"
        if items and items[0]["kind"] == "confirmation"
        else state
    )
    assert outcome in ("confirmation asked of the Secretariat", "quarantined")
    matrix.setdefault("forged commands open nothing (issue 8)", []).append(f"{name}: {outcome}")


def test_a_command_proven_by_an_aligned_dmarc_pass_is_carried_out_at_once(app: App) -> None:
    raw = command(
        "BALLOT: Adopt the shortlist",
        f"Authentication-Results: {TRUSTED}; dkim=pass header.d=cg.example; dmarc=pass "
        "header.from=cg.example",
    )
    assert app.handle(Fetched("test", raw)) == "processed"
    assert [b["title"] for b in ballots(app)] == ["Adopt the shortlist"]
    assert mailed_members(app) == MEMBER_ADDRESSES


EXCHANGE_AR = (
    "Authentication-Results: spf=pass (sender IP is 192.0.2.7) smtp.mailfrom=cg.example; "
    "dkim=none (message not signed) header.d=none;dmarc=pass action=none header.from=cg.example"
)


@pytest.fixture(scope="module")
def sealer_key() -> tuple[bytes, bytes]:
    """A sealing key (PEM) and its DNS record, as the sealer would publish it."""
    signer = new_signer()
    return signer.private_pem, signer.dns_record


@pytest.mark.parametrize("sealer_trusted", [True, False])
def test_a_command_through_exchange_online_counts_by_its_trusted_arc_seal(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    sealer_key: tuple[bytes, bytes],
    sealer_trusted: bool,
) -> None:
    # Exchange Online's Authentication-Results has no authserv-id to trust; the ARC set it seals
    # carries its DMARC verdict. The shell fetches the seal's key (here from a stub resolver).
    pem, record = sealer_key
    sealers = '["arc.example"]' if sealer_trusted else "[]"
    app = make_app(
        tmp_path_factory.mktemp("arc"),
        change=lambda text: text + f"[security]\ntrusted_arc_sealers = {sealers}\n",
    )
    asked: list[bytes] = []

    def resolver(name: bytes, timeout: float = 5) -> bytes | None:
        asked.append(name)
        return record if name == b"arc1._domainkey.arc.example." else None

    monkeypatch.setattr(dkim.dnsplug, "get_txt", resolver)
    received = (
        "Authentication-Results: mx.arc.example; arc=none; dmarc=pass header.from=cg.example\n"
        + EXCHANGE_AR
        + "\n"
    ).encode() + command("BALLOT: Adopt the shortlist")
    raw = b"".join(dkim.arc_sign(received, b"arc1", b"arc.example", pem, b"mx.arc.example"))
    assert app.handle(Fetched("test", raw + received)) == "processed"
    assert b"arc1._domainkey.arc.example." in asked
    if sealer_trusted:
        assert [b["title"] for b in ballots(app)] == ["Adopt the shortlist"]
        assert mailed_members(app) == MEMBER_ADDRESSES
    else:  # the same mail, no sealer trusted: it waits for the Secretariat's OK
        assert ballots(app) == [] and mailed_members(app) == set()
        assert "reply OK" in mail_to(app, SECRETARIAT, "confirmation").subject


def test_an_unproven_command_waits_for_the_secretariats_ok(
    app: App, matrix: dict[str, list[str]]
) -> None:
    assert app.handle(Fetched("test", command("BALLOT: Adopt the shortlist"))) == "processed"
    request = mail_to(app, SECRETARIAT, "confirmation")
    assert "reply OK" in request.subject and mailed_members(app) == set()
    app.clock.jump_to(T0 + timedelta(minutes=30))
    ok = clients.outlook(request, "Secretariat", SECRETARIAT, BOT, app.clock.now(), "OK")
    assert app.handle(Fetched("test", ok)) == "processed"
    assert [b["title"] for b in ballots(app)] == ["Adopt the shortlist"]
    assert mailed_members(app) == MEMBER_ADDRESSES
    confirmation = next(i for i in app.status()["items"] if i["kind"] == "confirmation")
    assert confirmation["state"] == "done"
    matrix.setdefault("forged commands open nothing (issue 8)", []).append(
        "the real Secretariat answers OK to the request: the ballot opens then"
    )


def test_an_ok_from_a_member_or_to_someone_elses_request_confirms_nothing(app: App) -> None:
    app.handle(Fetched("test", command()))
    request = mail_to(app, SECRETARIAT, "confirmation")
    name, address = MEMBERS[0][0], MEMBERS[0][1]
    forged = clients.outlook(request, name, address, BOT, T0, "OK")
    app.handle(Fetched("test", forged))
    assert ballots(app) == [] and mailed_members(app) == set()


def escalated(app: App) -> None:
    """A ballot with an objection standing at its deadline: the packet is with the Chair."""
    open_ballot(app)
    name, address = MEMBERS[0][0], MEMBERS[0][1]
    raw = clients.gmail(mail_to(app, address), name, address, BOT, T0, "Object: too broad")
    app.handle(Fetched("test", raw))
    app.clock.jump_to(T0 + timedelta(days=10, minutes=1))
    app.run_due()
    assert app.status()["items"][0]["state"] == "escalated"


CHAIR_REPLIES = [
    (
        "a header-less travel notice",
        "I am travelling until 12 January with limited access to "
        "email. For urgent matters please contact my office.",
    ),
    ("a question back", "Could you first send me the legal opinion mentioned in the annex?"),
    ("an empty reply", ""),
]


@pytest.mark.parametrize(("name", "text"), CHAIR_REPLIES, ids=[c[0] for c in CHAIR_REPLIES])
def test_an_automatic_or_questioning_chair_reply_determines_nothing(
    app: App, matrix: dict[str, list[str]], name: str, text: str
) -> None:
    escalated(app)
    packet = mail_to(app, CHAIR[1], "escalation")
    raw = clients.outlook(packet, CHAIR[0], CHAIR[1], BOT, app.clock.now(), text)
    app.handle(Fetched("test", raw))
    item = app.status()["items"][0]
    assert item["state"] == "escalated" and item["determination"] is None
    with session(app.engine) as s:
        subjects = [r.subject for r in s.exec(select(Outbox))]
    assert not any("Determined by the Board Chair" in subject for subject in subjects)
    reasons = [r["reason"] for r in app.status()["review_queue"]]
    assert "chair-reply" in reasons
    matrix.setdefault("Chair replies that are not a determination (issue 8)", []).append(
        f"{name}: to review, nothing recorded or circulated"
    )


def test_a_reply_forged_with_a_forwarded_packet_is_read_back_to_the_real_chair(
    app: App, matrix: dict[str, list[str]]
) -> None:
    # Whoever holds the packet can write as the Chair, with her token; the bot reads the text
    # back to the Chair's own address, and a CONFIRM to the packet itself confirms nothing.
    escalated(app)
    packet = mail_to(app, CHAIR[1], "escalation")
    forged = clients.outlook(packet, CHAIR[0], CHAIR[1], BOT, app.clock.now(), "Dissolve it.")
    app.handle(Fetched("test", forged))
    assert mail_to(app, CHAIR[1], "readback").text.count("Dissolve it.") == 1
    confirm = clients.outlook(packet, CHAIR[0], CHAIR[1], BOT, app.clock.now(), "CONFIRM")
    app.handle(Fetched("test", confirm))
    item = app.status()["items"][0]
    assert item["state"] == "escalated" and item["determination"] is None
    matrix.setdefault("Chair replies that are not a determination (issue 8)", []).append(
        "forged with a forwarded packet, then CONFIRM to the packet: read back, not recorded"
    )


def encoded(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


INJECTIONS = [
    ("Reply-To by an encoded CR/LF", encoded("Shortlist\r\nReply-To: attacker@evil.example")),
    ("a forged body", encoded("Shortlist\r\n\r\nClick http://evil.example")),
    ("an encoded word inside an encoded word", encoded("=?utf-8?q?=0D=0AX-Evil:_1?=")),
    ("a bidi override in the title", "Shortlist \u202egnp.exe"),
]


@pytest.mark.parametrize(("name", "title"), INJECTIONS, ids=[c[0] for c in INJECTIONS])
def test_no_header_is_injected_by_a_command_or_a_held_mail(
    tmp_path_factory: pytest.TempPathFactory, matrix: dict[str, list[str]], name: str, title: str
) -> None:
    # The command is proven (so the ballot opens and mails everyone) and a stranger's mail with
    # the same subject is held: every mail the bot queues is checked by tests/headers.py.
    app = make_app(tmp_path_factory.mktemp("inject"), change=trusting)
    auth = f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=cg.example"
    raw = command(f"BALLOT: {title}", auth)
    assert app.handle(Fetched("test", raw)) == "processed"
    stranger = command(f"BALLOT: {title}", sender="Mallory <mallory@evil.example>")
    assert app.handle(Fetched("test", stranger)) == "quarantined"
    app.run_due()  # the hourly notice of held mail, with the stranger's subject in it
    (ballot,) = ballots(app)
    assert not any(c in str(ballot["title"]) for c in "\r\n\u202e")
    with session(app.engine) as s:
        rows = s.exec(select(Outbox)).all()
    assert len(rows) >= 6 and not any(
        b"attacker@evil.example" in r.raw.split(b"\n\n")[0] for r in rows
    )
    matrix.setdefault("no injected header", []).append(
        f"{name}: {len(rows)} mails to members and the Secretariat, headers intact"
    )


def test_held_junk_never_delays_the_opened_notice(
    app: App, matrix: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Thirty strangers' mails are held; then the Secretariat opens a ballot. With an hourly
    # budget of five mails an address, the "opened" notice and the ballots go first, and the
    # thirty are one notice, listing them all.
    for n in range(30):
        junk = command(f"Offer {n}", sender=f"Spammer {n} <spam{n}@evil.example>")
        assert app.handle(Fetched("test", junk)) == "quarantined"
    auth = f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=cg.example"
    assert app.handle(Fetched("test", command("BALLOT: Adopt the shortlist", auth))) == "processed"
    app.run_due()
    sent = FolderTransport(tmp_path_factory.mktemp("sent"))
    asyncio.run(flush(app.engine, sent, app.clock, BOT, per_hour=5))
    subjects = [
        BytesParser(policy=default).parsebytes(raw)["Subject"] for _, raw, _ in sent.written
    ]
    opened = next(i for i, s in enumerate(subjects) if "Opened:" in s)
    held = [i for i, s in enumerate(subjects) if "Held for review" in s]
    assert len(held) == 1 and opened < held[0] and "30 messages" in subjects[held[0]]
    # Within the hour more junk waits for the next notice; an hour later it goes, once.
    for n in range(5):
        app.handle(Fetched("test", command(f"More {n}", sender=f"x{n} <x{n}@evil.example>")))
    app.run_due()
    app.clock.jump_to(T0 + timedelta(hours=1, minutes=1))
    app.run_due()
    app.run_due()
    with session(app.engine) as s:
        notices = s.exec(select(Outbox).where(Outbox.purpose == "quarantine")).all()
    assert len(notices) == 2 and "5 messages" in notices[1].subject
    matrix.setdefault("notices in order of importance (issue 8)", []).append(
        "30 held strangers' mails, then a ballot opened: the opened notice first, the 30 in "
        "one notice after it; 5 more within the hour wait for the next hourly notice"
    )


def test_a_hostile_message_id_never_reaches_the_bots_headers(
    app: App, matrix: dict[str, list[str]]
) -> None:
    # The answer to a reply threads under its Message-ID: one holding an encoded CR/LF would
    # come out as real headers (CVE-2024-6923). It is not taken as a Message-ID at all.
    open_ballot(app)
    name, address = MEMBERS[0][0], MEMBERS[0][1]
    raw = clients.gmail(mail_to(app, address), name, address, BOT, T0, "maybe")
    hostile = "<" + encoded("x\r\nReply-To: attacker@evil.example\r\n\r\nforged") + ">"
    start = raw.index(b"Message-ID:")
    end = raw.index(b"\n", start)
    raw = raw[:start] + f"Message-ID: {hostile}".encode() + raw[end:]
    app.handle(Fetched("test", raw))
    app.run_due()
    with session(app.engine) as s:
        rows = s.exec(select(Outbox)).all()
    assert not any(b"attacker@evil.example" in r.raw for r in rows)
    matrix.setdefault("no injected header", []).append(
        "a Message-ID holding an encoded CR/LF: never copied into In-Reply-To or References"
    )


def test_confirm_confirms_only_the_text_it_read_back(
    app: App, matrix: dict[str, list[str]]
) -> None:
    # The Chair proposes; someone holding a forwarded packet proposes other words after her;
    # her CONFIRM to the read-back of her own text must not record theirs.
    escalated(app)
    packet = mail_to(app, CHAIR[1], "escalation")
    own = clients.outlook(packet, CHAIR[0], CHAIR[1], BOT, app.clock.now(), "Adopt, topic 2 out.")
    app.handle(Fetched("test", own))
    readback_of_own = mail_to(app, CHAIR[1], "readback")
    forged = clients.outlook(packet, CHAIR[0], CHAIR[1], BOT, app.clock.now(), "Dissolve it.")
    app.handle(Fetched("test", forged))
    confirm = clients.outlook(readback_of_own, CHAIR[0], CHAIR[1], BOT, app.clock.now(), "CONFIRM")
    app.handle(Fetched("test", confirm))
    item = app.status()["items"][0]
    assert item["state"] == "escalated" and item["determination"] is None
    matrix.setdefault("Chair replies that are not a determination (issue 8)", []).append(
        "a forged proposal after the Chair's own, then her CONFIRM to hers: nothing recorded"
    )


def test_an_ok_that_arrived_after_the_request_expired_carries_out_nothing(app: App) -> None:
    app.handle(Fetched("test", command("BALLOT: Adopt the shortlist")))
    request = mail_to(app, SECRETARIAT, "confirmation")
    late = T0 + timedelta(days=5)
    ok = clients.outlook(request, "Secretariat", SECRETARIAT, BOT, late, "OK")
    app.clock.jump_to(late)
    app.handle(Fetched("test", ok))  # read before the expiry job ran
    assert ballots(app) == [] and mailed_members(app) == set()


def test_thirty_forged_commands_cost_the_secretariat_nothing(
    app: App, matrix: dict[str, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    # One request for the Secretariat's OK at a time, on a budget of its own; the rest go to
    # review. A genuine (proven) command's "opened" notice then leaves at once.
    for n in range(30):
        app.handle(Fetched("test", command(f"BALLOT: Forged {n}")))
    auth = f"Authentication-Results: {TRUSTED}; dmarc=pass header.from=cg.example"
    app.handle(Fetched("test", command("BALLOT: Adopt the shortlist", auth)))
    app.run_due()
    sent = FolderTransport(tmp_path_factory.mktemp("sent"))
    asyncio.run(flush(app.engine, sent, app.clock, BOT, per_hour=5))
    subjects = [
        BytesParser(policy=default).parsebytes(raw)["Subject"] for _, raw, _ in sent.written
    ]
    assert sum("reply OK" in s for s in subjects) == 1
    assert any("Opened: Adopt the shortlist" in s for s in subjects)
    assert [i["kind"] for i in app.status()["items"]].count("confirmation") == 1
    matrix.setdefault("forged commands open nothing (issue 8)", []).append(
        "30 unproven commands: one request for OK, the rest to review; a proven command's "
        "opened notice is not delayed"
    )
