"""How fast cgbot is against its own stack's floor, measured side by side in one run (issue 12).

Starts its own Dovecot and SMTP sink on loopback, runs the installed `cgbot` command as a user
would, and prints one table: reply latency over the IDLE push floor, catch-up against a plain
UID FETCH plus standard-library parse, peak RSS, idle CPU and parse cost, each beside the
issue's target. A measurement, not a test: it exits 0 when a target is missed.

    .venv/bin/python bench/perf.py [--sizes 1000,10000] [--replies 50] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.perf_mix import MIX, MixBuilder, Piece, ballot_answers, message_id_of  # noqa: E402
from bench.perf_rig import (  # noqa: E402
    CGBOT,
    HOURLY_CAP,
    Appender,
    IdleWatcher,
    Installation,
    Phases,
    RunFigures,
    SmtpFloor,
    cpu_seconds,
    fetch_and_parse_floor,
    header_id,
    in_reply_to,
    smtp_floor,
    stop_dovecot,
)
from bot.demo import clients  # noqa: E402
from bot.inbound.calendar import read_reply  # noqa: E402
from bot.inbound.parse import parse_message  # noqa: E402
from tests.servers import Dovecot, start_dovecot  # noqa: E402

BOT = "cg-bot@cg.example"
SEED = 12


@dataclass(frozen=True)
class Options:
    sizes: list[int]
    replies: int
    idle_seconds: float
    cap_seconds: float
    keep: bool


@dataclass(frozen=True)
class Confirmations:
    """What the SMTP sink received in answer to each member reply, by the outbox's purpose."""

    replies: int
    once: int
    missing: int
    twice: int
    other: Counter[str]  # purposes of answers that were not confirmations ("clarify", ...)
    answered_automatic: int  # answers to auto-replies, bounces or unrelated mail (must be 0)

    @property
    def ok(self) -> bool:
        return self.once == self.replies and not self.answered_automatic

    def text(self) -> str:
        words = f"{self.once}/{self.replies} exactly once"
        if self.missing or self.twice:
            words += f", {self.missing} never, {self.twice} twice or more"
        if self.other:
            words += ", instead: " + ", ".join(f"{k} {v}" for k, v in self.other.items())
        if self.answered_automatic:
            words += f", {self.answered_automatic} automatic/unrelated mails answered"
        return words


@dataclass(frozen=True)
class DaemonFigures:
    latencies: list[float]
    floors: list[float]
    idle_cpu_per_minute: float
    idle_window: float
    confirmations: Confirmations
    exit_code: int


@dataclass(frozen=True)
class CatchUp:
    size: int
    run: RunFigures
    handled: int  # messages settled (all of them unless the run was stopped at the cap)
    floor_seconds: float
    floor_messages: int
    empty_run: RunFigures
    append_seconds: float
    confirmations: Confirmations
    kinds: Counter[str]
    phases: Phases
    smtp: SmtpFloor  # the SMTP server's own time for the mails the catch-up sent

    @property
    def rate(self) -> float:
        return self.handled / self.run.seconds

    @property
    def ratio(self) -> float:
        """cgbot's time per message over the floor's: 1.0 is the speed of the mail server."""
        return (self.run.seconds / max(self.handled, 1)) / (
            self.floor_seconds / self.floor_messages
        )


@dataclass(frozen=True)
class ParseFigures:
    messages: int
    ours: float  # seconds per message, bot.inbound.parse.parse_message
    stage: float  # the pipeline's parse stage: parse_message + the calendar reading
    stdlib: float  # message_from_bytes(policy=default) + get_body()


@dataclass
class Results:
    machine: list[str] = field(default_factory=list)
    daemon: DaemonFigures | None = None
    catch_ups: list[CatchUp] = field(default_factory=list)
    parse: ParseFigures | None = None
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# -- measuring ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with `share` of the samples at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def confirmations(inst: Installation, pieces: Sequence[Piece]) -> Confirmations:
    """Count, per message appended, the mails the sink got in reply to it, named by the outbox
    purpose of each (a confirmation is "confirm"): each member reply must get exactly one."""
    outbox = inst.outbox()
    answers: defaultdict[str, list[str]] = defaultdict(list)
    for received in list(inst.sink.messages):
        purpose = outbox.get(header_id(received.raw), (None, None, "?"))[2]
        answers[in_reply_to(received.raw)].append(purpose.split(":")[0])
    wanted = [p for p in pieces if p.wants_confirmation]
    counts = [answers[p.message_id].count("confirm") for p in wanted]
    other = Counter(a for p in wanted for a in answers[p.message_id] if a != "confirm")
    return Confirmations(
        replies=len(wanted),
        once=counts.count(1),
        missing=counts.count(0),
        twice=sum(1 for c in counts if c > 1),
        other=other,
        answered_automatic=sum(
            1 for p in pieces if not p.wants_confirmation and answers[p.message_id]
        ),
    )


def idle_cost(pid: int, window: float) -> float:
    """CPU seconds a minute that an idle daemon burns, sampled from /proc over `window` s."""
    before = cpu_seconds(pid)
    time.sleep(window)
    return (cpu_seconds(pid) - before) * 60 / window


def reply_latencies(
    dovecot: Dovecot, inst: Installation, replies: list[Piece]
) -> tuple[list[float], list[float]]:
    """For each reply: the IDLE floor (APPEND to a bare watched mailbox -> its EXISTS push),
    then the bot (APPEND to its mailbox -> the confirmation accepted by SMTP), interleaved so
    both see the same machine at the same moment."""
    floor_user, floor_password = dovecot.new_user()
    floor_appender = Appender(dovecot, floor_user, floor_password)
    watcher = IdleWatcher(dovecot, floor_user, floor_password)
    appender = Appender(dovecot, inst.user, inst.password)
    latencies: list[float] = []
    floors: list[float] = []
    try:
        for piece in replies:
            sent = floor_appender.append(piece.raw)
            floors.append(watcher.wait_for_exists() - sent)
            time.sleep(0.2)
            sent = appender.append(piece.raw)
            latencies.append(inst.sink.wait_for_answer(piece.message_id, 15) - sent)
            time.sleep(0.6)  # the daemon sends, syncs and is back in IDLE
    finally:
        for closing in (watcher, floor_appender, appender):
            closing.close()
    return latencies, floors


def latency_replies(inst: Installation, count: int) -> list[Piece]:
    """Real replies to the members' ballot mails, cycling through the clear labelled answers
    in their clients' styles and languages."""
    mails = [m for m in inst.item_mails() if m.kind == "ballot"]
    answers = ballot_answers()
    pieces = []
    for i in range(count):
        mail, (style, words) = mails[i % len(mails)], answers[(i * 7) % len(answers)]
        member = mail.member
        raw = clients.CLIENTS[style](mail.original, member.name, member.email, BOT, _now(), words)
        pieces.append(Piece(raw, "ballot reply", message_id_of(raw), True))
    return pieces


def _now() -> datetime:
    return datetime.now(UTC)


def measure_daemon(dovecot: Dovecot, folder: Path, opts: Options) -> DaemonFigures:
    """The daemon in IDLE: first its idle CPU with nothing arriving, then reply latency."""
    inst = Installation.create(dovecot, folder)
    try:
        inst.open_items(ballots=1, feedback=False, meeting=False)
        replies = latency_replies(inst, opts.replies)
        daemon = inst.start_daemon()
        try:
            inst.wait_for_log("(IDLE)")
            time.sleep(3)  # past start-up: the first sync, the due work, the first flush
            idle = idle_cost(daemon.pid, opts.idle_seconds)
            latencies, floors = reply_latencies(dovecot, inst, replies)
        finally:
            code = Installation.stop_daemon(daemon)
        return DaemonFigures(
            latencies, floors, idle, opts.idle_seconds, confirmations(inst, replies), code
        )
    finally:
        inst.close()


def measure_catch_up(
    dovecot: Dovecot, folder: Path, size: int, cap: float
) -> tuple[CatchUp, list[Piece]]:
    """`size` messages waiting at a cold start, then one `run --once`, then the floor."""
    inst = Installation.create(dovecot, folder)
    try:
        inst.open_items(ballots=2, feedback=True, meeting=True)
        pieces = MixBuilder(inst.item_mails(), SEED + size).build(size)
        empty = inst.timed_run_once(cap=120)  # nothing waiting: start-up, connect, due work
        appender = Appender(dovecot, inst.user, inst.password)
        started = time.perf_counter()
        try:
            for piece in pieces:
                appender.append(piece.raw)
        finally:
            appender.close()
        appended = time.perf_counter() - started
        before = len(inst.sink.messages)
        run = inst.timed_run_once(cap)
        floor = fetch_and_parse_floor(dovecot, inst.user, inst.password)
        smtp = smtp_floor(inst.sink.messages[before:])
        handled = size if run.finished else inst.inbound_handled()
        figures = CatchUp(
            size,
            run,
            handled,
            floor.seconds,
            floor.messages,
            empty,
            appended,
            confirmations(inst, pieces),
            Counter(p.kind for p in pieces),
            inst.phases(),
            smtp,
        )
        return figures, pieces
    finally:
        inst.close()


def seconds_per_message(
    parse: Callable[[bytes], object], raws: list[bytes], rounds: int = 3
) -> float:
    """Best of `rounds` passes over the same mails: the least disturbed by the other core's
    tenant."""
    best = math.inf
    for _ in range(rounds):
        started = time.perf_counter()
        for raw in raws:
            parse(raw)
        best = min(best, time.perf_counter() - started)
    return best / len(raws)


def _stdlib(raw: bytes) -> object:
    return message_from_bytes(raw, policy=default).get_body(("plain", "html"))


def _stage(raw: bytes) -> object:
    return parse_message(raw), read_reply(raw)


def measure_parse(pieces: list[Piece]) -> ParseFigures:
    """Both parsers on the same mails of the mix, in this process. mail-parser's warnings (a
    DSN's text/rfc822-headers part) are still emitted, as in cgbot, but not printed."""
    quiet = logging.getLogger("mailparser")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    raws = [p.raw for p in pieces][:2000]
    return ParseFigures(
        len(raws),
        seconds_per_message(parse_message, raws),
        seconds_per_message(_stage, raws),
        seconds_per_message(_stdlib, raws),
    )


def machine(dovecot_version: str) -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return [
        f"machine: nproc {len(os.sched_getaffinity(0))} ({cpu}), load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at start",
        f"Python {platform.python_version()}, Dovecot {dovecot_version}, "
        f"{_command([str(CGBOT), '--version'])}, tree {tree_state()}",
    ]


CODE = ("bot", "rules", "templates")  # what cgbot runs (a README edited meanwhile is not)


def tree_state() -> str:
    """HEAD, and whether tracked files differ from it. cgbot is installed editable from this
    tree, so each cgbot process runs what is on disk when it starts."""
    head = _command(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    status = ["status", "--porcelain", "--untracked-files=no", "--", *CODE]
    changed = _command(["git", "-C", str(ROOT), "--no-optional-locks", *status])
    return head + (" with uncommitted changes" if changed else "")


def last_code_change() -> float:
    """When a file cgbot runs was last written (not its bytecode cache, which the runs write)."""
    return max(
        (
            f.stat().st_mtime
            for d in CODE
            for f in (ROOT / d).rglob("*")
            if "__pycache__" not in f.parts
        ),
        default=0.0,
    )


def tree_note(start: str, began: float) -> list[str]:
    """A warning when someone changed the code while the bench ran: the figures may mix two
    versions of cgbot (another engineer may share this working tree)."""
    end, changed = tree_state(), last_code_change()
    if end == start and changed < began:
        return []
    when = time.strftime("%H:%M:%S", time.localtime(changed))
    return [
        f"WARNING: the code changed during the run (tree {start} -> {end}, last write {when}, "
        f"the run began {time.strftime('%H:%M:%S', time.localtime(began))}): figures taken "
        "after that may be of another version"
    ]


def _command(args: list[str]) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=False).stdout.strip()


# -- the table ---------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def daemon_rows(d: DaemonFigures) -> list[tuple[str, ...]]:
    n = len(d.latencies)
    med, p95 = statistics.median(d.latencies), percentile(d.latencies, 0.95)
    fmed, fp95 = statistics.median(d.floors), percentile(d.floors, 0.95)
    return [
        (
            f"reply latency, median of {n}",
            f"{med:.3f} s",
            f"{fmed:.3f} s (IDLE push)",
            f"+{_ms(med - fmed)}",
            "< +50 ms",
            _met(med - fmed < 0.050),
        ),
        (
            f"reply latency, p95 of {n}",
            f"{p95:.3f} s",
            f"{fp95:.3f} s (IDLE push)",
            f"+{_ms(p95 - fp95)}",
            "< +150 ms",
            _met(p95 - fp95 < 0.150),
        ),
        (
            "  replies confirmed",
            d.confirmations.text(),
            "",
            "",
            "every reply, once",
            _met(d.confirmations.ok),
        ),
        (
            f"idle cost ({d.idle_window:.0f} s in IDLE)",
            f"{d.idle_cpu_per_minute:.2f} CPU-s/min",
            "",
            "",
            "< 0.2 CPU-s/min",
            _met(d.idle_cpu_per_minute < 0.2),
        ),
    ]


def catch_up_rows(c: CatchUp) -> list[tuple[str, ...]]:
    done = "" if c.run.finished else f" (STOPPED at the cap: {c.handled:,} handled)"
    if c.run.finished and c.run.returncode != 0:
        done = f" (exit {c.run.returncode})"
    confirmed = c.confirmations.text() if c.run.finished else "not checked: stopped before sending"
    return [
        (
            f"catch-up, {c.size:,} messages",
            f"{c.run.seconds:.1f} s, {c.rate:.0f} msg/s{done}",
            f"{c.floor_seconds:.2f} s, {c.floor_messages / c.floor_seconds:.0f} msg/s",
            f"{c.ratio:.1f}x",
            "<= 3x floor",
            _met(c.ratio <= 3 and c.run.finished),
        ),
        (
            "  replies confirmed",
            confirmed,
            "",
            "",
            "every reply, once",
            _met(c.confirmations.ok and c.run.finished and c.run.returncode == 0),
        ),
        *phase_rows(c),
        *sending_floor_rows(c),
    ]


def phase_rows(c: CatchUp) -> list[tuple[str, ...]]:
    """The catch-up's two phases, from its own rows: what a faster intake or a sending that
    overlaps it could win."""
    p = c.phases
    after = p.mails - p.sent_during_intake
    return [
        (
            "  intake: first stored to last applied",
            f"{p.intake_seconds:.1f} s, {1000 * p.intake_seconds / max(c.handled, 1):.2f} ms/msg",
            "",
            "",
            "(in the catch-up)",
            "",
        ),
        (
            "  sending after the intake",
            f"{p.sending_after_seconds:.1f} s, {after:,} of {p.mails:,} mails",
            "",
            "",
            "(in the catch-up)",
            "",
        ),
    ]


def sending_floor_rows(c: CatchUp) -> list[tuple[str, ...]]:
    """Context, not the target: the issue's floor reads the mailbox and sends nothing, while the
    catch-up must also send its confirmations. What the SMTP server alone takes for those mails,
    and the ratio to a floor that reads and sends."""
    both = c.floor_seconds + c.smtp.seconds
    ratio = (c.run.seconds / max(c.handled, 1)) / (both / c.floor_messages)
    return [
        (
            "  its mails, bare sender (context)",
            f"{c.smtp.mails:,} mails",
            f"{c.smtp.seconds:.2f} s, one session",
            "",
            "(the floor above sends none)",
            "",
        ),
        (
            "  floor that reads and sends (context)",
            "",
            f"{both:.2f} s",
            f"{ratio:.1f}x",
            "(not the issue's target)",
            "",
        ),
    ]


def memory_rows(catch_ups: list[CatchUp]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    base = catch_ups[0]
    for c in catch_ups:
        growth = c.run.peak_rss_mb / base.run.peak_rss_mb - 1
        if c is base and len(catch_ups) > 1:
            target, verdict, vs = "(reference)", "", ""
        else:
            ok = c.run.peak_rss_mb < 150 and (c is base or growth <= 0.15)
            target = "< 150 MB" + ("" if c is base else f", <= +15% vs {base.size:,}")
            verdict, vs = _met(ok), "" if c is base else f"{growth:+.0%} vs {base.size:,}"
        rows.append(
            (
                f"peak RSS, {c.size:,} messages",
                f"{c.run.peak_rss_mb:.0f} MB",
                "",
                vs,
                target,
                verdict,
            )
        )
    return rows


def parse_rows(p: ParseFigures) -> list[tuple[str, ...]]:
    ratio = p.ours / p.stdlib
    return [
        (
            f"parse cost ({p.messages} mails of the mix)",
            f"{p.ours * 1e6:.0f} us/msg",
            f"{p.stdlib * 1e6:.0f} us/msg (stdlib)",
            f"{ratio:.1f}x",
            "<= 3x stdlib",
            _met(ratio <= 3),
        ),
        (
            "  parse stage with calendar read",
            f"{p.stage * 1e6:.0f} us/msg",
            "",
            f"{p.stage / p.stdlib:.1f}x",
            "",
            "",
        ),
    ]


def context_rows(catch_ups: list[CatchUp]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for c in catch_ups:
        rows.append(
            (
                f"  run --once, nothing waiting ({c.size:,})",
                f"{c.empty_run.seconds:.2f} s, {c.empty_run.peak_rss_mb:.0f} MB",
                "",
                "",
                "(in the catch-up)",
                "",
            )
        )
        rows.append(
            (f"  APPEND of the {c.size:,} (bench)", f"{c.append_seconds:.1f} s", "", "", "", "")
        )
    return rows


def _last_line(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1] if lines else "(no output)"


def render(rows: list[tuple[str, ...]]) -> str:
    header = ("measure", "cgbot", "floor, same run", "vs floor", "target", "")
    table = [header, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(results: Results, opts: Options, took: float) -> str:
    rows: list[tuple[str, ...]] = []
    if results.daemon:
        rows += daemon_rows(results.daemon)
    for c in results.catch_ups:
        rows += catch_up_rows(c)
    if results.catch_ups:
        rows += memory_rows(results.catch_ups)
    if results.parse:
        rows += parse_rows(results.parse)
    rows += context_rows(results.catch_ups)
    mix = results.catch_ups[-1].kinds if results.catch_ups else Counter()
    notes = [
        *results.machine,
        "mix: "
        + ", ".join(f"{k} {mix[k] / max(mix.total(), 1):.0%}" for k, _ in MIX)
        + " (2 ballots, a feedback round, a meeting call; 1 in 10 ballot replies, 1 in 3 feedback "
        "replies and 1 in 3 unrelated mails with a 20-200 KB attachment)",
        f"config: poll_seconds 60 (IDLE renewal), max_per_address_per_hour {HOURLY_CAP:,} so that "
        f"no confirmation waits for the hourly cap; cap per run --once {opts.cap_seconds:.0f} s",
        *(f"run --once at {c.size:,}: {_last_line(c.run.output)}" for c in results.catch_ups),
        f"took {took:.0f} s",
    ]
    if results.daemon and results.daemon.exit_code != 0:
        notes.append(f"the daemon exited {results.daemon.exit_code} on SIGTERM")
    notes += [f"could not measure: {f}" for f in results.failures]
    notes += results.warnings
    return render(rows) + "\n\n" + "\n".join(notes)


# -- running -----------------------------------------------------------------------------------


def options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", help="catch-up sizes, comma-separated (default 1000,10000)")
    parser.add_argument("--replies", type=int, help="replies timed in IDLE (default 50)")
    parser.add_argument("--quick", action="store_true", help="200 messages, 20 replies, 20 s idle")
    parser.add_argument("--cap-seconds", type=float, default=2400, help="longest run --once")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, dbs)")
    args = parser.parse_args(argv)
    sizes = args.sizes or ("200" if args.quick else "1000,10000")
    return Options(
        sizes=sorted(int(s) for s in sizes.split(",")),
        replies=args.replies or (20 if args.quick else 50),
        idle_seconds=20 if args.quick else 60,
        cap_seconds=args.cap_seconds,
        keep=args.keep,
    )


def attempt(results: Results, what: str, step: Callable[[], None]) -> None:
    """One measurement; a failure is reported in the table's notes and the others still run."""
    print(f"bench: {what}...", file=sys.stderr, flush=True)
    try:
        step()
    except Exception as exc:
        traceback.print_exc()
        results.failures.append(f"{what}: {type(exc).__name__}: {exc}")


def measure(dovecot: Dovecot, work: Path, opts: Options) -> Results:
    results = Results(machine(_command(["dovecot", "--version"])))
    mixes: list[list[Piece]] = []

    def daemon() -> None:
        results.daemon = measure_daemon(dovecot, work / "daemon", opts)

    def catch_up(size: int) -> None:
        figures, pieces = measure_catch_up(
            dovecot, work / f"catch-up-{size}", size, opts.cap_seconds
        )
        results.catch_ups.append(figures)
        mixes.append(pieces)

    attempt(results, "reply latency and idle cost", daemon)
    for size in opts.sizes:
        attempt(results, f"catch-up of {size}", functools.partial(catch_up, size))

    def parse() -> None:
        results.parse = measure_parse(mixes[0])

    if mixes:
        attempt(results, "parse cost", parse)
    return results


def main(argv: list[str] | None = None) -> int:
    opts = options(argv)
    started, began, tree = time.monotonic(), time.time(), tree_state()
    work = Path(tempfile.mkdtemp(prefix="cgbot-bench-"))
    work.chmod(0o755)  # Dovecot's unprivileged processes walk this path
    dovecot = start_dovecot(work / "dovecot")
    try:
        results = measure(dovecot, work, opts)
    finally:
        stop_dovecot(dovecot)
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)
    results.warnings += tree_note(tree, began)
    print(report(results, opts, time.monotonic() - started))
    if opts.keep:
        print(f"work folder kept: {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
