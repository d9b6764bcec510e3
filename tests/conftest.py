"""Fixtures: real Dovecot and aiosmtpd servers on loopback, and a cgbot installation per test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.app import App
from bot.clock import Clock
from bot.config import parse_config
from bot.demo import clients
from bot.domain.types import Composed
from bot.store import outbox as outbox_store
from bot.store.db import session
from bot.store.models import Outbox
from bot.workflows.base import Registry
from bot.workflows.registry import STANDARD
from tests.headers import CHECKED, check_headers
from tests.pg import Postgres, server_binaries, start_postgres
from tests.pg import remove as remove_postgres
from tests.servers import Dovecot, SmtpSink, start_dovecot

FIXTURES = Path(__file__).parent / "fixtures"

MEMBERS = [
    ("Amina Diallo", "amina@members.example", "governing-board", "Africa/Dakar"),
    ("Bruno Carvalho", "bruno@members.example", "governing-board", "America/Sao_Paulo"),
    ("Chloé Martin", "chloe@members.example", "expert-panel-co-chair", "Europe/Paris"),
    ("Daniel Tupa", "daniel@members.example", "ipslc-engagement-forum", "America/La_Paz"),
]
CHAIR = ("Grace Okafor", "chair@board.example")
SECRETARIAT = "secretariat@cg.example"
BOT = "cg-bot@cg.example"


def config_text(
    imap_port: int,
    user: str,
    password: str,
    smtp_port: int,
    db: Path | str,
    secret: str | None = None,
    poll: float = 30.0,
    timeout: int = 10,
    members: str | None = None,
    smtp_extra: str = "",
) -> str:
    """The tests' installation; the bench (bench/perf_rig.py) gives its own members (with their
    languages), a longer timeout and a higher hourly cap."""
    if members is None:
        members = "\n".join(
            f'[[members]]\nname = "{n}"\nemail = "{e}"\nrole = "{r}"\ntimezone = "{tz}"\n'
            for n, e, r, tz in MEMBERS
        )
    security = f'[security]\nsecret = "{secret}"\n' if secret else ""
    return f"""\
[mailbox]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{user}"
password = "{password}"
folder = "INBOX"
poll_seconds = {poll}
timeout_seconds = {timeout}

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "{BOT}"
{smtp_extra}
[database]
url = "{db if isinstance(db, str) else f"sqlite:///{db}"}"

[group]
name = "CIWP Coordination Group"
rules = "ciwp-coordination-group"
timezone = "Europe/London"
secretariat = ["{SECRETARIAT}"]

{members}
[chair]
name = "{CHAIR[0]}"
email = "{CHAIR[1]}"

{security}"""


T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)  # when the in-process tests' clock starts
# The shipped kinds but the item-less recurring ones (the digest, the monthly report): for
# tests that count every deadline run or every mail to the Secretariat.
WITHOUT_DIGEST = Registry(
    tuple(w for w in STANDARD.workflows if w.kind not in ("digest", "report"))
)


def make_app(
    folder: Path,
    *,
    secret: str | None = None,
    change: Callable[[str], str] = lambda text: text,
    registry: Registry = STANDARD,
    now: datetime = T0,
) -> App:
    """An installation in process (no servers): the tests' config, its database in `folder`."""
    text = change(config_text(1, "u", "p", 1, folder / "cg.db", secret=secret))
    return App(
        parse_config(text, folder / "config.toml"), Clock.starting_at(now), registry=registry
    )


def open_ballot(app: App, title: str = "Shortlist", question: str = "Agree?") -> int:
    """The usual ballot of the in-process tests: ten days from T0, every position offered."""
    return app.open_item("ballot", title, question, T0 + timedelta(days=10), "test")


def mail_to(app: App, address: str, purpose: str = "ballot") -> clients.Original:
    """The latest mail of `purpose` the bot queued for `address`, as a client would quote it."""
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id)))
        raw = [
            r.raw for r in rows if address in r.recipients and r.purpose.split(":")[0] == purpose
        ][-1]
    return clients.Original(raw)


@pytest.fixture(autouse=True)
def outgoing_headers_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every mail an in-process app queues has exactly the headers the bot means to send."""
    queue = outbox_store.queue

    def checked(s: Any, mail: Composed, now: datetime) -> None:
        check_headers(mail.raw, BOT)
        queue(s, mail, now)

    monkeypatch.setattr(outbox_store, "queue", checked)


@pytest.fixture
def app(tmp_path: Path) -> App:
    """One in-process installation with no item yet."""
    return make_app(tmp_path)


@dataclass
class Bot:
    """One cgbot installation (config + database) against the test servers, run as a process."""

    folder: Path
    config: Path
    dovecot: Dovecot | None
    user: str
    password: str
    db_url: str = ""  # the database it runs on (SQLite in folder, or a PostgreSQL database)

    @property
    def on_postgres(self) -> bool:
        return self.db_url.startswith("postgresql")

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        """One statement on the installation's database, whichever it is (a test's look or
        change behind cgbot's back); the rows it returns."""
        from sqlalchemy import create_engine, text

        from bot.store.db import normalise_url

        engine = create_engine(normalise_url(self.db_url or f"sqlite:///{self.folder / 'cg.db'}"))
        try:
            with engine.begin() as conn:
                result = conn.execute(text(statement))
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def run(
        self,
        *args: str,
        now: str | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "bot", "--config", str(self.config)]
        if now:
            cmd += ["--now", now]
        proc = subprocess.run(
            [*cmd, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            cwd=self.folder,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def popen(
        self, *args: str, now: str | None = None, log_name: str = "daemon.log"
    ) -> subprocess.Popen[str]:
        cmd = [sys.executable, "-m", "bot", "--config", str(self.config), "-v"]
        if now:
            cmd += ["--now", now]
        log = open(self.folder / log_name, "w")  # noqa: SIM115 (closed with the process)
        return subprocess.Popen(
            [*cmd, *args], stdout=log, stderr=subprocess.STDOUT, text=True, cwd=self.folder
        )

    def status(self) -> dict[str, Any]:
        return json.loads(self.run("status", "--json").stdout)  # type: ignore[no-any-return]

    def open_ballot(self, title: str, question: str, deadline: str, now: str) -> int:
        qfile = self.folder / "question.txt"
        qfile.write_text(question, encoding="utf-8")
        out = self.run(
            "ballot",
            "open",
            "--title",
            title,
            "--question-file",
            str(qfile),
            "--deadline",
            deadline,
            now=now,
        )
        return int(out.stdout.split()[-1])  # what goes to whom, then the id (issue 11)

    def open_and_send(self, smtp: SmtpSink, now: str = "2026-12-01T09:00:00+00:00") -> int:
        """The usual start: a ballot opened from the CLI and its five mails delivered (four
        personal ballot mails and the Secretariat's notice)."""
        item = self.open_ballot(
            "Adopt the 2027 shortlist", "Do you agree?", "2026-12-11T17:00:00Z", now
        )
        self.run("run", "--once", now=now)
        smtp.wait_for(5)
        return item

    def append(self, raw: bytes, received: float | None = None) -> None:
        assert self.dovecot is not None
        self.dovecot.append(self.user, self.password, raw, received=received)


MATRIX: dict[str, list[str]] = {}


@pytest.fixture
def matrix() -> dict[str, list[str]]:
    """Rows of the trust matrix, printed at the end of the run (see pytest_terminal_summary)."""
    return MATRIX


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CHECKED:
        MATRIX.setdefault("no injected header", []).append(
            f"{len(CHECKED)} mails the bot sent in this run, each parsed: exactly the intended "
            "header set, From and Reply-To the bot's own address"
        )
    if not MATRIX:
        return
    terminalreporter.section("trust matrix (issues 4 and 8): tried, and all held")
    for topic, rows in MATRIX.items():
        terminalreporter.write_line(f"{topic}: {len(rows)} tried")
        for row in rows:
            terminalreporter.write_line(f"    {row}")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    # Not under pytest's tmp_path: that is mode 0700, and Dovecot's unprivileged auth and mail
    # processes must be able to walk the path.
    root = Path(tempfile.mkdtemp(prefix="cgbot-dovecot-"))
    root.chmod(0o755)
    server = start_dovecot(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()
    for received in sink.messages:  # what cgbot processes sent: exactly the intended headers
        if received.sender == BOT:
            check_headers(received.raw, BOT)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL server for the session (a fresh database per test). Skipped where it is
    not installed, except in CI, where a missing server is a failure, not a skip."""
    if server_binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs it")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="cgbot-pg-"))
    root.chmod(0o755)
    server = start_postgres(root)
    yield server
    remove_postgres(server)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each integration test runs on SQLite (the embedded default) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cg.db'}"
    server: Postgres = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def bot(tmp_path: Path, dovecot: Dovecot, smtp: SmtpSink, db_url: str) -> Bot:
    user, password = dovecot.new_user()
    config = tmp_path / "config.toml"
    config.write_text(config_text(dovecot.port, user, password, smtp.port, db_url))
    config.chmod(0o600)
    return Bot(tmp_path, config, dovecot, user, password, db_url)
