"""Who is speaking: forged, borrowed and replayed replies never carry a position (issue 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, CHAIR, MEMBERS, SECRETARIAT, T0, make_app, open_ballot

AMINA, A_MAIL = MEMBERS[0][0], MEMBERS[0][1]
BRUNO, B_MAIL = MEMBERS[1][0], MEMBERS[1][1]
TRUSTED = "mx.cg.example"


@pytest.fixture
def app(tmp_path: Path) -> App:
    def change(text: str) -> str:
        text = text.replace(
            f'email = "{A_MAIL}"', f'email = "{A_MAIL}"\naliases = ["amina@home.example"]'
        )
        return text + f'[security]\ntrusted_authserv_ids = ["{TRUSTED}"]\n'

    app = make_app(tmp_path, change=change)
    open_ballot(app)
    return app


def ballot_of(app: App, address: str) -> clients.Original:
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).where(Outbox.purpose == "ballot")).all()
    raw = next(r.raw for r in rows if address in r.recipients)
    return clients.Original(raw)


def counted(app: App) -> dict[str, str | None]:
    items = app.status()["items"]
    return {k: v["position"] for k, v in items[0]["responses"].items() if v["status"] == "counted"}


def with_header(raw: bytes, header: str) -> bytes:
    return header.encode() + b"\r\n" + raw


def forged_token(original: clients.Original) -> clients.Original:
    """The same mail with its signature altered: a token made up without the secret."""
    forged = clients.Original.__new__(clients.Original)
    forged.__dict__.update(original.__dict__)
    local, domain = original.message_id.strip("<>").split("@")
    forged.message_id = f"<{local[: local.rindex('.') + 1]}{'a' * 16}@{domain}>"
    forged.references = []
    return forged


SPOOFS = [
    # (name, builder(app) -> raw, expected archive state)
    (
        "stranger answers a member's ballot",
        lambda app: clients.gmail(
            ballot_of(app, A_MAIL), "Mallory", "mallory@evil.example", BOT, T0, "Object"
        ),
        "quarantined",
    ),
    (
        "member's name, stranger's address",
        lambda app: clients.gmail(
            ballot_of(app, A_MAIL), AMINA, "amina.diallo@evil.example", BOT, T0, "Object"
        ),
        "quarantined",
    ),
    (
        "another member answers her ballot",
        lambda app: clients.gmail(ballot_of(app, A_MAIL), BRUNO, B_MAIL, BOT, T0, "Object"),
        "quarantined",
    ),
    (
        "made-up token, subject tag kept",
        lambda app: clients.gmail(
            forged_token(ballot_of(app, A_MAIL)), AMINA, A_MAIL, BOT, T0, "Object"
        ),
        "processed",
    ),
    (
        "DMARC fail at the trusted server",
        lambda app: with_header(
            clients.gmail(ballot_of(app, A_MAIL), AMINA, A_MAIL, BOT, T0, "Object"),
            f"Authentication-Results: {TRUSTED}; dkim=fail; spf=fail; dmarc=fail header.from="
            "members.example",
        ),
        "quarantined",
    ),
    (
        "DKIM and SPF fail, no DMARC",
        lambda app: with_header(
            clients.gmail(ballot_of(app, A_MAIL), AMINA, A_MAIL, BOT, T0, "Object"),
            f"Authentication-Results: {TRUSTED}; dkim=fail; spf=softfail",
        ),
        "quarantined",
    ),
    (
        "forged Secretariat command",
        lambda app: with_header(
            clients.command(
                "Secretariat", SECRETARIAT, BOT, T0, "BALLOT: Dissolve the group", "Agree?"
            ),
            f"Authentication-Results: {TRUSTED}; dmarc=fail",
        ),
        "quarantined",
    ),
    (
        "member answers the Chair's packet",
        lambda app: clients.gmail(
            ballot_of(app, A_MAIL), CHAIR[0], CHAIR[1], BOT, T0, "I determine: adopted."
        ),
        "quarantined",
    ),
]


@pytest.mark.parametrize(("name", "build", "state"), SPOOFS, ids=[s[0] for s in SPOOFS])
def test_spoofed_replies_count_nothing(
    app: App, matrix: dict[str, list[str]], name: str, build, state: str
) -> None:  # type: ignore[no-untyped-def]
    # Each is archived and shown to the Secretariat (quarantined, or held in review when the
    # subject tag names the ballot); none records a counted position or opens anything.
    result = app.handle(Fetched("test", build(app)))
    assert result == state
    assert counted(app) == {}
    snap = app.status()
    assert len(snap["items"]) == 1
    assert snap["review_queue"], "the Secretariat must see it"
    held = " and held in review" if result == "processed" else ""
    matrix.setdefault("spoof cases rejected", []).append(f"{name}: {result}{held}, nothing counted")


CONTROLS = [
    ("address in capitals, another display name", "Someone Else", A_MAIL.upper()),
    ("a configured alias", AMINA, "amina@home.example"),
]


@pytest.mark.parametrize(("name", "display", "address"), CONTROLS, ids=[c[0] for c in CONTROLS])
def test_the_member_herself_still_counts(app: App, name: str, display: str, address: str) -> None:
    raw = clients.gmail(ballot_of(app, A_MAIL), display, address, BOT, T0, "Agree")
    raw = with_header(raw, "Authentication-Results: untrusted.example; dmarc=fail")  # not ours
    assert app.handle(Fetched("test", raw)) == "processed"
    assert counted(app) == {A_MAIL: "agree"}


def test_a_replayed_reply_counts_once(app: App, matrix: dict[str, list[str]]) -> None:
    raw = clients.gmail(ballot_of(app, A_MAIL), AMINA, A_MAIL, BOT, T0, "Agree")
    assert app.handle(Fetched("test", raw)) == "processed"
    assert app.handle(Fetched("test", raw)) == "processed"  # same bytes: the archive's row
    assert app.handle(Fetched("test", raw.replace(b"Agree", b"Object", 1))) == "duplicate"
    assert counted(app) == {A_MAIL: "agree"}
    matrix.setdefault("spoof cases rejected", []).append("replayed Message-ID: duplicate")
