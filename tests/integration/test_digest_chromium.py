"""The Secretariat's digest as a browser shows it (issue 10): rendered by headless Chromium
(Debian's package), its sections present, members' words shown as text and never run, and a
screenshot left for a person to look at."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched, ItemKind
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, MEMBERS, T0, mail_to, open_ballot

pytestmark = pytest.mark.integration

# Where the screenshot is left: $CGBOT_ARTIFACTS, else build/artifacts in the repository.
ARTIFACTS = Path(os.environ.get("CGBOT_ARTIFACTS", Path(__file__).parents[2] / "build/artifacts"))
SECTIONS = (
    "Who owes what",
    "Ballots",
    "Feedback rounds",
    "Actions due and overdue",
    "Coming meetings",
    "Bouncing addresses",
    "Review queue",
)
HOSTILE = "<script>document.title='ran'</script><img src=x onerror=\"document.title='ran'\">"


class Page(HTMLParser):
    """What the browser built: its elements, their attribute names, its text and title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text = ""
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._in_title:
            self.title += data


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """Headless Chromium, offline, with a throwaway profile (as root it needs --no-sandbox)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("Debian's chromium is not installed: .ci/run installs it")
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def the_digest(app: App) -> str:
    """A day of work, then the digest's HTML part as the Secretariat receives it."""
    open_ballot(app)
    app.open_item(
        ItemKind.ACTION,
        "Draft the Board note",
        "",
        T0 + timedelta(days=5),
        "test",
        {"owner": MEMBERS[1][1]},
    )
    app.open_item(
        ItemKind.FEEDBACK,
        "Draft progress note",
        "Comments please.",
        T0 + timedelta(days=7),
        "test",
    )
    name, address = MEMBERS[0][0], MEMBERS[0][1]
    words = f"Object: {HOSTILE} is not acceptable."
    app.handle(Fetched("test", clients.gmail(mail_to(app, address), name, address, BOT, T0, words)))
    app.run_due()
    app.clock.jump_to(datetime(2026, 12, 2, 7, 1, tzinfo=UTC))
    app.run_due()
    with session(app.engine) as s:
        (row,) = s.exec(select(Outbox).where(Outbox.purpose == "digest"))
        raw = row.raw
    part = message_from_bytes(raw, policy=default).get_body(("html",))
    assert part is not None
    return str(part.get_content())


def test_the_digest_in_chromium_has_its_sections_and_shows_members_words_as_text(
    app: App, tmp_path: Path
) -> None:
    page = tmp_path / "digest.html"
    page.write_text(the_digest(app), encoding="utf-8")
    dom = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile").stdout
    for heading in SECTIONS:
        assert heading in dom, heading
    assert "Draft the Board note" in dom and "Draft progress note" in dom
    # The member's markup arrived as text: in the page's text whole, as no element, never run.
    page_read = Page()
    page_read.feed(dom)
    assert HOSTILE in page_read.text
    assert "script" not in page_read.tags and "img" not in page_read.tags
    assert not [name for name in page_read.attributes if name.startswith("on")]
    assert page_read.title != "ran"

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "digest.png"
    shot.unlink(missing_ok=True)
    chromium(
        f"--screenshot={shot}",
        "--window-size=1000,1600",
        "--hide-scrollbars",
        page.as_uri(),
        profile=tmp_path / "profile",
    )
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and shot.stat().st_size > 20_000
    print(f"\nthe digest as Chromium draws it: {shot}")
