"""The bench's rig: Dovecot and an SMTP sink on loopback (tests/servers.py), cgbot installations
run as the installed command, and bare IMAP connections that measure the server's own floors.

Everything here is started by the bench and stopped by process id (Dovecot's master from its
pid file, the daemon by its Popen), never by name."""

from __future__ import annotations

import contextlib
import imaplib
import os
import pickle
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.parser import BytesHeaderParser
from email.policy import compat32, default
from pathlib import Path

from aiosmtpd.smtp import Envelope, Session

from bench.perf_mix import MEMBERS, ItemMail
from bot.demo import clients
from tests.conftest import config_text as tests_config
from tests.servers import Dovecot, Received, SmtpSink

ROOT = Path(__file__).resolve().parents[1]
CGBOT = ROOT / ".venv" / "bin" / "cgbot"
# cgbot runs as an installed package does: with its bytecode cached (pip compiles it on
# install). A shell that sets PYTHONDONTWRITEBYTECODE (this project's sandbox does) would
# otherwise make every start compile the bot's modules again, about 0.1 s of each run.
CGBOT_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
# No confirmation may wait for the hourly per-address budget (default 30): a catch-up answers
# hundreds of replies per member at once, and the bench measures the work, not the cap.
HOURLY_CAP = 1_000_000


@dataclass
class TimedSink(SmtpSink):
    """The tests' SMTP sink, also noting when each message was accepted (monotonic clock) and
    when the first answer to each Message-ID arrived, so a waiter sleeps instead of polling."""

    times: list[float] = field(default_factory=list)
    answered: dict[str, float] = field(default_factory=dict)  # In-Reply-To -> first accepted

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        at = time.monotonic()
        raw = envelope.original_content or b""
        answers = in_reply_to(raw)
        with self.arrived:
            self.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), raw))
            self.times.append(at)
            self.answered.setdefault(answers, at)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for_answer(self, message_id: str, timeout: float) -> float:
        """When the first mail in reply to `message_id` was accepted; waits up to `timeout`."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: message_id in self.answered, timeout):
                raise TimeoutError(f"no answer to {message_id} within {timeout}s")
            return self.answered[message_id]


def in_reply_to(raw: bytes) -> str:
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    return str(headers.get("in-reply-to", "")).strip()


def header_id(raw: bytes) -> str:
    return str(BytesHeaderParser(policy=compat32).parsebytes(raw).get("message-id", "")).strip()


def stop_dovecot(server: Dovecot, timeout: float = 15.0) -> None:
    """Stop the Dovecot this bench started: SIGTERM to the master named in its own pid file."""
    pid_file = server.root / "run" / "master.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.05)


def config_text(dovecot: Dovecot, user: str, password: str, smtp_port: int, db: Path) -> str:
    """The tests' installation (conftest.config_text), members with their languages, and the
    example config's IMAP settings (poll_seconds = 60 is also how often IDLE is renewed)."""
    members = "\n".join(
        f'[[members]]\nname = "{m.name}"\nemail = "{m.email}"\nrole = "{m.role}"\n'
        f'timezone = "{m.timezone}"\nlanguage = "{m.language}"\n'
        for m in MEMBERS
    )
    return tests_config(
        dovecot.port,
        user,
        password,
        smtp_port,
        db,
        poll=60,
        timeout=30,
        members=members,
        smtp_extra=f"max_per_address_per_hour = {HOURLY_CAP}\n",
    )


@dataclass(frozen=True)
class RunFigures:
    """One `cgbot run --once`: wall time, the process's own peak RSS, and how it ended."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    finished: bool  # False: stopped at the cap
    output: str


@dataclass(frozen=True)
class Phases:
    """Where a catch-up's time went, read from its database's own timestamps."""

    intake_seconds: float  # the first message stored to the last one applied
    sending_after_seconds: float  # the last one applied to the last mail accepted
    mails: int  # mails the catch-up queued that went out
    sent_during_intake: int


# Timestamps are the bot's clock, here the real one (the bench never moves it).
_PHASES = """
WITH i AS (SELECT min(fetched_at) AS first, max(processed_at) AS last FROM inbound)
SELECT (julianday(i.last) - julianday(i.first)) * 86400,
       coalesce((julianday(max(o.sent_at)) - julianday(i.last)) * 86400, 0),
       count(o.id),
       coalesce(sum(o.sent_at <= i.last), 0)
FROM i LEFT JOIN outbox o ON o.state = 'sent' AND o.created_at >= i.first
"""


def _weekday(when: datetime) -> datetime:
    while when.weekday() >= 5:
        when += timedelta(days=1)
    return when


@dataclass
class Installation:
    """One cgbot installation (config + database) against the bench's servers."""

    folder: Path
    dovecot: Dovecot
    user: str
    password: str
    sink: TimedSink

    @classmethod
    def create(cls, dovecot: Dovecot, folder: Path) -> Installation:
        folder.mkdir(parents=True)
        user, password = dovecot.new_user()
        sink = TimedSink()
        sink.start()
        inst = cls(folder, dovecot, user, password, sink)
        inst.config.write_text(config_text(dovecot, user, password, sink.port, inst.db))
        inst.config.chmod(0o600)
        return inst

    @property
    def config(self) -> Path:
        return self.folder / "config.toml"

    @property
    def db(self) -> Path:
        return self.folder / "cg.db"

    def cgbot(self, *args: str, timeout: float = 300) -> str:
        """The installed command, as the Secretariat types it; its output."""
        proc = subprocess.run(
            [str(CGBOT), "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.folder,
            env=CGBOT_ENV,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"cgbot {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        return proc.stdout

    def open_items(self, ballots: int, feedback: bool, meeting: bool) -> None:
        """Open the items members will answer, from the CLI, and send their mails."""
        deadline = _weekday(datetime.now(UTC) + timedelta(days=21)).strftime("%Y-%m-%dT17:00:00Z")
        question = self.folder / "question.txt"
        question.write_text("Do you agree that the shortlist goes to the Governing Board?\n")
        for n in range(ballots):
            self.cgbot(
                "ballot",
                "open",
                "--title",
                f"Adopt the 2027 topic shortlist, part {n + 1}",
                "--question-file",
                str(question),
                "--deadline",
                deadline,
            )
        if feedback:
            draft = self.folder / "workplan-draft.txt"
            draft.write_text("Draft work plan 2027\n\n" + "A section of the plan.\n" * 200)
            self.cgbot(
                "feedback",
                "open",
                "--title",
                "Draft work plan 2027",
                "--draft-file",
                str(draft),
                "--deadline",
                deadline,
            )
        if meeting:
            start = _weekday(datetime.now(UTC) + timedelta(days=18)).strftime("%Y-%m-%d 14:00")
            self.cgbot(
                "meeting",
                "schedule",
                "--title",
                "Extraordinary meeting on the work plan",
                "--start",
                start,
                "--where",
                "https://meet.example/cg",
            )
        self.cgbot("run", "--once")

    def outbox(self) -> dict[str, tuple[int | None, int | None, str]]:
        """Message-ID -> (item, person, purpose) of every mail the bot queued (read-only)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT message_id, item_id, person_id, purpose FROM outbox")
            return {mid: (item, person, purpose) for mid, item, person, purpose in rows}

    def inbound_handled(self) -> int:
        """How many fetched messages the database has settled (for a run stopped at the cap)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT count(*) FROM inbound WHERE state != 'new'").fetchone()
            return int(row[0])

    def phases(self) -> Phases:
        """The intake and the sending after it, from the catch-up's archive and outbox rows."""
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            intake, after, mails, during = db.execute(_PHASES).fetchone()
        return Phases(float(intake or 0), float(after), int(mails), int(during))

    def item_mails(self) -> list[ItemMail]:
        """Each member's own mail of each open item, as their client received it."""
        kinds = {"ballot": "ballot", "feedback": "feedback", "call": "meeting"}
        outbox = self.outbox()
        found: list[ItemMail] = []
        for received in list(self.sink.messages):
            item, _, purpose = outbox.get(header_id(received.raw), (None, None, ""))
            kind = kinds.get(purpose.split(":")[0])
            for member in MEMBERS:
                if kind and item is not None and member.email in received.recipients:
                    found.append(ItemMail(kind, item, member, clients.Original(received.raw)))
        return found

    def start_daemon(self) -> subprocess.Popen[bytes]:
        log = (self.folder / "daemon.log").open("wb")
        return subprocess.Popen(
            [str(CGBOT), "--config", str(self.config), "-v", "run"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
            env=CGBOT_ENV,
        )

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        log = self.folder / "daemon.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if log.exists() and text in log.read_text(errors="replace"):
                return
            time.sleep(0.05)
        raise TimeoutError(f"{text!r} not in {log} after {timeout}s")

    @staticmethod
    def stop_daemon(proc: subprocess.Popen[bytes], timeout: float = 30) -> int:
        """SIGTERM (the daemon logs its counters and exits), SIGKILL if it does not in time."""
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(timeout=timeout)

    def timed_run_once(self, cap: float) -> RunFigures:
        """`cgbot run --once`, timed from spawn to exit, with its peak RSS; stopped (by its
        pidfd, so never another process) if it runs past `cap` seconds."""
        log = self.folder / "run-once.log"
        with log.open("wb") as out:
            started = time.perf_counter()
            proc = subprocess.Popen(
                [str(CGBOT), "--config", str(self.config), "run", "--once"],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                env=CGBOT_ENV,
            )
            pidfd = os.pidfd_open(proc.pid)
            try:
                finished, peak_kb = _watch(pidfd, proc.pid, started + cap)
                seconds = time.perf_counter() - started
                if not finished:
                    signal.pidfd_send_signal(pidfd, signal.SIGTERM)
                    if not select.select([pidfd], [], [], 15)[0]:
                        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                code = proc.wait()
            finally:
                os.close(pidfd)
        return RunFigures(
            seconds, peak_kb / 1024, code, finished, log.read_text("utf-8", "replace")
        )

    def close(self) -> None:
        self.sink.stop()


def _watch(pidfd: int, pid: int, deadline: float) -> tuple[bool, int]:
    """Wait for the process to end (True) or the deadline (False), reading its peak RSS (kB)
    from /proc every 20 ms meanwhile. Not from wait4 or RUSAGE_CHILDREN: a child's ru_maxrss
    keeps the high-water mark of the address space it was forked with, i.e. the bench's own
    RSS (hundreds of MB of mail held here); VmHWM starts afresh at exec."""
    peak = 0
    while True:
        peak = max(peak, peak_rss_kb(pid))
        left = deadline - time.perf_counter()
        if left <= 0:
            return False, peak
        if select.select([pidfd], [], [], min(0.02, left))[0]:
            return True, peak


def peak_rss_kb(pid: int) -> int:
    """VmHWM of a running process; 0 once it has exited (a zombie has no memory left)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


class Appender:
    """One logged-in IMAP connection that APPENDs, as a delivering server or client would."""

    def __init__(self, dovecot: Dovecot, user: str, password: str) -> None:
        self.client = dovecot.imap(user, password)

    def append(self, raw: bytes) -> float:
        """APPEND one message; returns when the command was sent (monotonic clock)."""
        at = time.monotonic()
        when = imaplib.Time2Internaldate(time.time())
        typ, data = self.client.append("INBOX", "", when, raw)
        if typ != "OK":
            raise RuntimeError(f"APPEND refused: {data!r}")
        return at

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.logout()


class IdleWatcher:
    """A bare IMAP connection in IDLE: the server's own APPEND -> EXISTS push delay."""

    def __init__(self, dovecot: Dovecot, user: str, password: str) -> None:
        self.client = dovecot.imap(user, password)
        self.client.select("INBOX")
        assert self.client.sock is not None
        self.client.sock.settimeout(10)  # a push that never comes fails the bench, bounded
        self.client.send(b"W1 IDLE\r\n")
        while not self.client.readline().startswith(b"+"):
            pass

    def wait_for_exists(self) -> float:
        """Block until the server pushes EXISTS; returns when it was read (monotonic clock)."""
        while True:
            line = self.client.readline()
            if not line:
                raise ConnectionError("the IMAP server closed the IDLE connection")
            if b"EXISTS" in line:
                return time.monotonic()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.send(b"DONE\r\n")
            self.client.logout()


@dataclass(frozen=True)
class FetchFloor:
    seconds: float
    messages: int


def fetch_and_parse_floor(
    dovecot: Dovecot, user: str, password: str, batch: int = 500
) -> FetchFloor:
    """The stack's own floor for a catch-up: `UID FETCH` every message in batches, then a full
    standard-library parse and `get_body()` of each: what any reader of the mailbox pays."""
    started = time.perf_counter()
    client = dovecot.imap(user, password)
    try:
        client.select("INBOX", readonly=True)
        typ, data = client.uid("SEARCH", "ALL")
        if typ != "OK":
            raise RuntimeError(f"UID SEARCH refused: {data!r}")
        uids = [int(u) for u in (data[0] or b"").split()]
        count = 0
        for first in range(0, len(uids), batch):
            chunk = uids[first : first + batch]
            typ, rows = client.uid(
                "FETCH", f"{chunk[0]}:{chunk[-1]}", "(UID INTERNALDATE BODY.PEEK[])"
            )
            if typ != "OK":
                raise RuntimeError(f"UID FETCH refused: {rows!r}")
            for row in rows:
                if isinstance(row, tuple):
                    message_from_bytes(row[1], policy=default).get_body(("plain", "html"))
                    count += 1
    finally:
        client.logout()
    return FetchFloor(time.perf_counter() - started, count)


@dataclass(frozen=True)
class SmtpFloor:
    seconds: float
    mails: int


# A bare sender in a process of its own (as cgbot is): the envelopes and bytes from the pickle
# on stdin, over one aiosmtplib session; prints the seconds from connect to QUIT.
_BARE_SENDER = """
import asyncio, pickle, sys, time
import aiosmtplib

async def send(port, mails):
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    started = time.perf_counter()
    await client.connect()
    for sender, recipients, raw in mails:
        await client.sendmail(sender, recipients, raw)
    await client.quit()
    return time.perf_counter() - started

port, mails = pickle.load(sys.stdin.buffer)
print(asyncio.run(send(port, mails)))
"""


def smtp_floor(mails: list[Received]) -> SmtpFloor:
    """The SMTP server's own floor for a catch-up's mails: the same envelopes and bytes sent
    back to back over one session by a bare aiosmtplib process, no database, to a fresh sink
    of the same kind in this process (as cgbot's mails went to the installation's)."""
    sink = TimedSink()
    sink.start()
    try:
        load = pickle.dumps((sink.port, [(m.sender, m.recipients, m.raw) for m in mails]))
        done = subprocess.run(
            [sys.executable, "-c", _BARE_SENDER], input=load, capture_output=True, check=True
        )
        if len(sink.messages) != len(mails):
            raise RuntimeError(f"bare sender: {len(sink.messages)} of {len(mails)} accepted")
        return SmtpFloor(float(done.stdout.decode().strip()), len(mails))
    finally:
        sink.stop()
