"""Commands only: parse arguments, call the app, print. `cgbot --help` lists them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import mimetypes
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.exc import OperationalError

from bot import cli_format as fmt
from bot import logsetup
from bot.app import App
from bot.app.setup import rules_for
from bot.cli_format import Printer, plural, shorten
from bot.clock import Clock
from bot.config import Settings, load_config, secret_file_problems
from bot.domain.effects import Effect, Mail
from bot.domain.types import Attachment, ItemKind
from bot.errors import ConfigError
from bot.inbound.commands import RULES_DEFAULT, parse_deadline
from bot.logsetup import LogFormat
from bot.rules import Deadlines
from bot.store.db import StoreUnavailable
from bot.store.outbox import NotResendable
from bot.textsafe import terminal_text
from bot.workflows.feedback import round_of as feedback_round


def _say(text: object = "", err: bool = False) -> None:
    """Every line a person reads: control, escape and bidi characters shown, never obeyed."""
    click.echo(terminal_text(str(text)), err=err)


_HIDDEN_IN_JSON = re.compile("[\u0080-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _say_json(data: object) -> None:
    """JSON for tools; characters a terminal would act on are written as \\u escapes."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    click.echo(_HIDDEN_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def _fail(message: str, code: int = 2) -> NoReturn:
    _say(f"cgbot: {message}", err=True)
    sys.exit(code)


class Context:
    def __init__(self, config: Path, now: str | None, insecure: bool = False) -> None:
        self.config_path = config
        self.insecure = insecure
        try:
            self.clock = Clock.from_env(now)
        except ValueError as exc:
            _fail(f"--now: not an ISO 8601 date-time: {exc}")

    def settings(self) -> Settings:
        try:
            return load_config(self.config_path)
        except ConfigError as exc:
            _fail(str(exc))

    def guard(self, settings: Settings) -> None:
        """Refuse to go on when a file holding a secret is readable by others (after every
        other check, so that a broken config is reported as such first)."""
        problems = secret_file_problems(settings)
        if problems and not self.insecure:
            _fail(
                "a file holding a secret is readable by others; nothing was started:\n  "
                + "\n  ".join(problems)
                + "\n(--insecure-permissions runs anyway)"
            )
        for problem in problems:
            _say(f"warning: {problem}", err=True)

    def app(self, rehearsal_in: Path | None = None) -> App:
        """The installation; with `rehearsal_in`, over a throwaway copy of its database made
        in that folder (`run --dry-run`)."""
        settings = self.settings()
        if rehearsal_in is not None:
            from bot.app.rehearsal import throwaway_copy

            try:
                settings = throwaway_copy(settings, rehearsal_in)
            except ConfigError as exc:
                _fail(str(exc))
        try:
            rules_for(settings)
        except ConfigError as exc:
            _fail(str(exc))
        self.guard(settings)
        try:
            app = App(settings, self.clock)
        except ConfigError as exc:
            _fail(str(exc))
        except OperationalError as exc:
            url = settings.model.database.url
            _fail(f"database {url}: {exc.orig}; nothing was changed, try again later", 75)
        for warning in app.warnings:
            _say(f"warning: {warning}", err=True)
        return app


def _version() -> str:
    try:
        return version("cgbot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


@click.group()
@click.version_option(_version(), "--version", prog_name="cgbot", message="%(prog)s %(version)s")
@click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path),
    default=Path("config.toml"),
    show_default=True,
    help="The configuration file.",
)
@click.option(
    "--now",
    metavar="ISO-8601",
    default=None,
    help="Pretend the clock reads this (also CGBOT_NOW); it keeps ticking from there.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option(
    "--insecure-permissions",
    is_flag=True,
    help="Run even when a file holding a secret is readable by others (a warning instead).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json", "journal"]),
    default="text",
    show_default=True,
    help="text for people, json lines for a log collector, journal under systemd.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the log here (rotated at 10 MB, 5 kept) instead of stderr.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    config: Path,
    now: str | None,
    verbose: int,
    insecure_permissions: bool,
    log_format: LogFormat,
    log_file: Path | None,
) -> None:
    """cgbot: email consensus and follow-up for the Coordination Group."""
    logsetup.configure(verbose, log_format, log_file)  # secrets masked in every line
    ctx.obj = Context(config, now, insecure_permissions)


@cli.command("kinds")
def kinds() -> None:
    """The item kinds this installation knows, their states and their email commands."""
    from bot.workflows.registry import STANDARD

    for workflow in STANDARD.workflows:
        _say(f"{workflow.kind}: {workflow.description}")
        _say(f"  states:   {', '.join(str(s) for s in workflow.states)}")
        for command in workflow.commands:
            _say(f"  command:  Subject: {command.prefix}: ...  ({command.description})")


@cli.command("check-config")
@click.option(
    "--strict", is_flag=True, help="Fail on warnings too (a seat of the composition not filled)."
)
@click.pass_obj
def check_config(obj: Context, strict: bool) -> None:
    """Validate the configuration and rules, every problem in one run; touches neither the
    mailbox nor the database. Exit 0 when valid, 2 on errors, 1 on warnings with --strict."""
    from bot.config import check_config_file

    checked = check_config_file(obj.config_path)
    errors, warnings = list(checked.errors), list(checked.warnings)
    if checked.settings is not None:  # a readable secret stops `run`, so it is an error here too
        (warnings if obj.insecure else errors).extend(secret_file_problems(checked.settings))
    for line in errors:
        _say(f"error: {line}", err=True)
    for line in warnings:
        _say(f"warning: {line}", err=True)
    if errors:
        _fail(f"{obj.config_path}: {len(errors)} error{'s' if len(errors) > 1 else ''}", 2)
    if warnings and strict:
        n = len(warnings)
        _fail(f"{obj.config_path}: {n} warning{'s' if n > 1 else ''} (--strict)", 1)
    settings, rules = checked.settings, checked.rules
    assert settings is not None and rules is not None  # no error: both were read
    cfg = settings.model
    _say(f"{obj.config_path}: OK")
    _say(f"  group:   {cfg.group.name} (rules: {rules.body.name})")
    _say(f"  members: {', '.join(f'{m.name} <{m.email}> [{m.role}]' for m in cfg.members)}")
    _say(f"  chair:   {cfg.chair.name} <{cfg.chair.email}>")
    _say(
        f"  mailbox: {cfg.mailbox.security}://{cfg.mailbox.host}:{cfg.mailbox.port}/{cfg.mailbox.folder}"
    )
    _say(
        f"  smtp:    {cfg.smtp.security}://{cfg.smtp.host}:{cfg.smtp.port}"
        f" as {cfg.smtp.from_address}"
    )


@cli.command()
@click.option("--once", is_flag=True, help="One pass: fetch, process, run what is due, send, exit.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Rehearse: read the mailbox read-only, decide into a throwaway copy of the database, "
    "write each mail to --outbox-dir instead of sending it, then show a summary.",
)
@click.option(
    "--maildir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read this local Maildir instead of the IMAP mailbox (no server needed).",
)
@click.option(
    "--outbox-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each mail as an .eml file here instead of sending it by SMTP.",
)
@click.pass_obj
def run(
    obj: Context, once: bool, dry_run: bool, maildir: Path | None, outbox_dir: Path | None
) -> None:
    """Watch the mailbox and act on replies and deadlines."""
    from bot.daemon import Daemon, Source
    from bot.mail.imap import ImapDown, ImapSource
    from bot.mail.maildir import MaildirSource
    from bot.mail.oauth import tokens_for
    from bot.mail.transport import FolderTransport, SmtpTransport, Transport

    with contextlib.ExitStack() as stack:
        if dry_run:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cgbot-dry-")))
            outbox_dir = outbox_dir or Path.cwd() / f"dry-run-{time.strftime('%Y%m%d-%H%M%S')}"
            app = obj.app(rehearsal_in=work)
        else:
            app = obj.app()
        cfg = app.settings.model
        tokens = tokens_for(app.settings) if maildir is None or outbox_dir is None else None
        source: Source = (
            MaildirSource(maildir, readonly=dry_run)
            if maildir is not None
            else ImapSource(cfg.mailbox, app.settings.mailbox_password, tokens, readonly=dry_run)
        )
        transport: Transport = (
            FolderTransport(outbox_dir)
            if outbox_dir is not None
            else SmtpTransport(cfg.smtp, app.settings.smtp_password, tokens)
        )
        daemon = Daemon(app, source, transport)
        try:
            counters = asyncio.run(daemon.run_once() if once else daemon.run_forever())
        except ImapDown as exc:
            _fail(f"mailbox: {exc}", 1)
        except StoreUnavailable as exc:
            _fail(str(exc), 75)  # EX_TEMPFAIL: try again later
        except OperationalError as exc:
            _fail(f"database {app.engine.url.database}: {exc.orig}; nothing was lost", 75)
        if dry_run:
            assert isinstance(transport, FolderTransport)
            _rehearsal_summary(counters, transport)
            return
    _say(" ".join(f"{k}={v}" for k, v in sorted(counters.items())) or "nothing to do")


def _rehearsal_summary(counters: Counter[str], transport: Any) -> None:
    """What this rehearsal read (by what became of each message) and would have sent."""
    from bot.app.rehearsal import mail_rows

    out = Printer()
    read = {k.removeprefix("inbound "): n for k, n in counters.items() if k.startswith("inbound ")}
    out.line(
        "rehearsal: nothing was sent, marked or moved, and the database is as it was; "
        f"the mails are in {transport.folder}"
    )
    out.table(
        ["new messages, would be", "count"],
        [(state, n) for state, n in sorted(read.items())] or [("(no new mail)", 0)],
    )
    rows = mail_rows(transport.written)
    out.table(["to", "subject", "file"], rows or [("-", "(no mail would be sent)", "-")])


@cli.group()
def auth() -> None:
    """OAuth2 sign-in of the mailbox (Microsoft 365, Google Workspace, a token command)."""


@auth.command("login")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds to wait for sign-in.")
@click.pass_obj
def auth_login(obj: Context, timeout: float) -> None:
    """Sign the mailbox in once and store what renews its tokens (a private file)."""
    from bot.mail.oauth import GoogleTokens, MicrosoftTokens, TokenUnavailable, token_source
    from bot.mail.oauth_loopback import SignInFailed

    settings = obj.settings()
    cfg = settings.model.oauth2
    if cfg is None:
        _fail(f"{settings.path}: no [oauth2] table; see config.example.toml")
    source = token_source(cfg, settings.oauth2_client_secret, settings.oauth2_token_file)
    try:
        if isinstance(source, GoogleTokens):
            token = source.login(_say, timeout)
        elif isinstance(source, MicrosoftTokens):
            token = source.login(_say)
        else:
            token = source.fetch()
    except (TokenUnavailable, SignInFailed) as exc:
        _fail(f"oauth2 ({cfg.provider}): {exc}", 1)
    left = max(0, int(token.expires_at - time.time()) // 60)
    stored = "" if cfg.provider == "command" else f"; renewal kept in {settings.oauth2_token_file}"
    _say(f"signed in ({cfg.provider}): an access token valid for {left} min{stored}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Items with their state and each member's latest response."""
    app = obj.app()
    snap = app.status()
    if as_json:
        _say_json(snap)
        return
    zone = _zone(app)
    out = Printer()
    names = {p["email"]: p["name"] for p in app.members()}
    if not snap["items"]:
        out.line("no items yet")
    for item in snap["items"]:
        out.line(
            f"#{item['id']} {item['kind']} [{item['state']}] {shorten(item['title'], 70)}"
            f" (deadline {fmt.when(item['deadline'], zone)})"
        )
        for email, r in item["responses"].items():
            # Each kind keys its responses its own way (a feedback round has no position).
            shown = _position(app, r.get("position"))
            who = fmt.person(names.get(email), email)
            out.line(f"    {who:48} {shown:12} {r['status']:11} {fmt.when(r.get('at'), zone)}")
    out.line(
        f"review queue: {plural(len(snap['review_queue']), 'entry')}; "
        f"inbound: {_counts(snap['inbound'])}; outbox: {_counts(snap['outbox'])} "
        f"(times in {zone})"
    )
    service = snap["service"]
    polled = service["last_poll"]
    out.line(
        f"last poll: {fmt.when(polled, zone) if polled else 'never'}"
        f"{f' ({fmt.relative(polled, app.clock.now())})' if polled else ''}; "
        f"waiting to be sent: {service['outbox_waiting']}; "
        f"quarantined: {service['quarantined']}"
    )
    for failing in service["failing_addresses"]:
        out.line(f"failing address: {failing['email']} since {fmt.when(failing['since'], zone)}")


@cli.command()
@click.option(
    "--max-age",
    type=float,
    default=None,
    help="Seconds since the last successful poll that still count as healthy "
    "(default: three poll intervals, at least 10 minutes).",
)
@click.pass_obj
def health(obj: Context, max_age: float | None) -> None:
    """Exit 0 when the mailbox was read recently, 1 when not (for a monitoring check)."""
    app = obj.app()
    service = app.status()["service"]
    bound = max_age or max(600.0, 3 * app.settings.model.mailbox.poll_seconds)
    polled = fmt.instant(service["last_poll"])
    if polled is None:
        _fail(f"unhealthy: the mailbox has never been read (bound {bound:.0f} s)", 1)
    age = (app.clock.now() - polled).total_seconds()
    if age > bound:
        _fail(f"unhealthy: last successful poll {age:.0f} s ago (bound {bound:.0f} s)", 1)
    _say(
        f"healthy: last successful poll {age:.0f} s ago; {service['outbox_waiting']} mail "
        f"waiting, {service['quarantined']} quarantined, "
        f"{len(service['failing_addresses'])} failing address(es)"
    )


@cli.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def explain(obj: Context, path: Path, as_json: bool) -> None:
    """What the bot would do with PATH, and why: one .eml in detail, or a folder (a Maildir or
    .eml files) or an mbox, one line per message. Nothing is written or sent."""
    app = obj.app()
    messages = _messages_in(path)
    if len(messages) == 1 and path.is_file() and not as_json:
        _explain_one(app.explain_record(messages[0][1]))
        return
    records = [(label, app.explain_record(raw)) for label, raw in messages]
    if as_json:
        data = [{"message": label, **record} for label, record in records]
        _say_json(data[0] if path.is_file() and len(data) == 1 else data)
        return
    Printer().table(
        ["message", "from", "outcome", "item", "why"],
        [
            (
                label,
                shorten(r["from"] or "-", 40),
                f"{r['outcome']} {r.get('reason') or r.get('status') or ''}".strip(),
                f"#{r['item']['id']}" if r["item"] else "-",
                shorten(r["why"], 70),
            )
            for label, r in records
        ],
    )


def _messages_in(path: Path) -> list[tuple[str, bytes]]:
    """(label, raw) of each message: one file, an mbox, a Maildir or a folder of files."""
    import mailbox

    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            folder = mailbox.Maildir(str(path), create=False)
            return sorted((key, folder.get_bytes(key)) for key in folder.iterkeys())
        files = sorted(f for f in path.iterdir() if f.is_file() and not f.name.startswith("."))
        return [(f.name, f.read_bytes()) for f in files]
    raw = path.read_bytes()
    if raw.startswith(b"From "):  # an mbox: each message after its "From " line
        box = mailbox.mbox(str(path), create=False)
        return [(f"{path.name}#{i + 1}", box.get_bytes(k)) for i, k in enumerate(box.iterkeys())]
    return [(path.name, raw)]


def _explain_one(record: dict[str, Any]) -> None:
    member = record["member"]
    item = record["item"]
    _say(f"message:   {record['message_id']} from {record['from']}")
    who = f"{member['name']} <{member['email']}> ({member['kind']})" if member else "-"
    what = f"#{item['id']} {item['title']} [{item['state']}]" if item else "-"
    _say(f"member:    {who}")
    _say(f"item:      {what}")
    _say(f"kind:      {record['kind'] or '-'}  (matched by {record['matched_by'] or '-'})")
    _say(f"position:  {record['position'] or '-'}")
    _say(f"outcome:   {record['outcome']} {record.get('reason') or record.get('status') or ''}")
    _say(f"why:       {record['why']}")
    _say("text:      " + (record["extracted_text"] or "-").replace("\n", "\n           "))


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def review(ctx: click.Context, as_json: bool) -> None:
    """The Secretariat's review queue: held mail and replies not counted. `review show N`
    opens an entry's message; `review resolve N` settles it."""
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.obj.app()
    rows = app.reviews()
    if as_json:
        _say_json(rows)
        return
    out = Printer()
    if not rows:
        out.line("the review queue is empty")
        return
    zone = _zone(app)
    out.table(
        ("#", "When", "Reason", "Item", "From", "What"),
        [
            (
                r["id"],
                fmt.when(r["at"], zone),
                r["reason"] + ("*" if r["answered_since"] else ""),
                f"#{r['item_id']} {shorten(r['item_title'], 30)}" if r["item_id"] else "-",
                r["person_name"] or "-",
                shorten(r["detail"], 70),
            )
            for r in rows
        ],
        title=f"Review queue: {plural(len(rows), 'entry')} (times in {zone})",
    )
    if any(r["answered_since"] for r in rows):
        out.line("* the member's answer since is what counts: `--as dismiss` settles the entry.")
    out.line("Open one with `cgbot review show N`; settle it with `cgbot review resolve N`.")


@review.command("show")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def review_show(obj: Context, number: int, as_json: bool) -> None:
    """Review entry NUMBER and the message behind it, as a person reads mail."""
    app = obj.app()
    entry = _loaded(lambda: app.review_detail(number), as_json)
    if entry is None:
        return
    zone, out = _zone(app), Printer()
    state = f"settled {fmt.when(entry['resolved_at'], zone)}" if entry["resolved_at"] else "open"
    out.line(f"Review entry {entry['id']}: {entry['reason']} ({state})")
    item = f"#{entry['item_id']} {entry['item_kind']}: {entry['item_title']}"
    fmt.fields(
        [
            ("item", item if entry["item_id"] else "-"),
            ("person", fmt.person(entry["person_name"], entry["person_email"])),
            ("when", fmt.when(entry["at"], zone, with_zone=True)),
            ("why", entry["detail"] or "-"),
            *_answered_since(app, entry, zone),
        ],
        out.line,
    )
    message = entry["message"]
    if message is None:
        out.line("")
        out.line("No message is kept with this entry.")
    else:
        out.line("")
        received = fmt.when(message["arrived_at"], zone)
        size = plural(message["size"], "byte")
        out.line(f"Message #{message['id']}, received {received} ({size})")
        fmt.fields(
            [
                ("From", fmt.person(message["from_name"], message["from"])),
                ("To", ", ".join(message["to"]) or "-"),
                ("Date", message["date"] or "-"),
                ("Subject", message["subject"] or "-"),
                ("Files", ", ".join(message["attachments"]) or "none"),
            ],
            out.line,
        )
        out.line("")
        out.line("What they wrote (quotes and signature left out):")
        out.line(_indented(message["new_text"] or "(nothing)"))
        out.line("")
        out.line("The whole text:")
        out.line(_indented(message["text"] or "(empty)"))
    if not entry["resolved_at"]:
        out.line("")
        answer = "dismiss" if entry["answered_since"] else "POSITION|dismiss"
        out.line(f"Settle it: cgbot review resolve {entry['id']} --as {answer} --note TEXT")


def _answered_since(app: App, entry: dict[str, Any], zone: str) -> list[tuple[str, str]]:
    """The line that says the member answered after the message behind an open entry."""
    since = entry["answered_since"]
    if not since:
        return []
    answer = f"{_position(app, since['position'])} of {fmt.when(since['at'], zone)}"
    return [("since", f"{entry['person_name']}'s answer {answer} is what counts now")]


@review.command("resolve")
@click.argument("number", type=int)
@click.option(
    "--as",
    "answer",
    required=True,
    metavar="POSITION|dismiss",
    help="The position the member clearly meant (agree, OBJECT, ...), or dismiss.",
)
@click.option("--note", default="", help="Why: kept in the history with the Secretariat's name.")
@click.option("--by", default=None, help="Who settles it (default: the Secretariat's name).")
@click.pass_obj
def review_resolve(obj: Context, number: int, answer: str, note: str, by: str | None) -> None:
    """Settle review entry NUMBER: record the position the member clearly meant (counted,
    with your name and note in the history, and confirmed to them), or dismiss it."""
    app = obj.app()
    name = by or _secretariat_name(app)
    try:
        done = app.resolve_review(number, answer, note, name)
    except ValueError as exc:
        _fail(str(exc))
    others = [n for n in done["settled"] if n != number]
    also = f" (with {plural(len(others), 'entry')} of the same message: {others})" if others else ""
    if done["event"] == "review-dismissed":
        _say(f"dismissed review entry {number}{also}" + (f"; note: {note}" if note else ""))
        return
    who = next((m for m in app.members() if m["id"] == done["person_id"]), None)
    member = fmt.person(who["name"], who["email"]) if who else "the member"
    _say(
        f"review entry {number} settled{also}: {member} recorded as "
        f"{_position(app, done['position'])} on item {done['item_id']}, by {name}"
        + (f" ({note})" if note else "")
    )
    _say(f"confirmation queued to {', '.join(done['mailed'])}")


@cli.group()
def ballot() -> None:
    """Consensus ballots by email (ToR 4.3)."""


@ballot.command("open")
@click.option("--title", required=True)
@click.option(
    "--question-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The question, as plain text.",
)
@click.option(
    "--deadline",
    required=True,
    metavar="DATE",
    help="As in a BALLOT: mail: 2026-12-11 (the end of business), 2026-12-11 17:00 [Area/City].",
)
@click.option(
    "--options",
    multiple=True,
    help="Positions offered, repeated or comma-separated (default: every position in the rules).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be sent; open and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def ballot_open(
    obj: Context,
    title: str,
    question_file: Path,
    deadline: str,
    options: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
) -> None:
    """Open a ballot: personal mails to every member, each with the deadline in their own
    zone. Prints what goes to whom; the ballot's id is the last word (tools read it)."""
    app = obj.app()
    zone = app.settings.model.group.timezone
    when = _instant(deadline, zone, "--deadline", app.rules.deadlines)  # as a BALLOT: mail reads it
    try:
        offered = [o.strip().lower() for value in options for o in value.split(",") if o.strip()]
        data = {"options": offered} if offered else {}
        body = question_file.read_text(encoding="utf-8")
        shown = app.open_preview(ItemKind.BALLOT, title, body, when, "cli", data, dry_run)
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        _say_json({**shown, "deadline": when.isoformat(), "title": title})
        return
    _show_opening(app, title, when, shown)


def _show_opening(app: App, title: str, deadline: datetime, shown: dict[str, Any]) -> None:
    """What `ballot open` sends, to whom, and the deadline as each member will read it."""
    zone, out = _zone(app), Printer()
    people = {p["email"]: p for p in app.members()}
    mails = shown["mails"]
    personal = [m for m in mails if m["purpose"] == "ballot"]
    verb = "would be sent" if shown["dry_run"] else "queued"
    out.line(f"Ballot: {title}")
    out.line(f"Deadline: {fmt.when(deadline, zone, with_zone=True)}")
    rows = []
    for mail in personal:
        for to in mail["to"]:
            p = people.get(to["email"], {})
            tz = p.get("timezone", "UTC")
            rows.append(
                (
                    p.get("name", to["email"]),
                    to["email"],
                    p.get("language", "en"),
                    f"{fmt.local_day_time(deadline, tz)} ({tz})",
                )
            )
    out.table(
        ("Member", "Address", "Language", "Deadline in their zone"),
        rows,
        title=f"Personal ballot mails {verb}: {plural(len(rows), 'member')}",
    )
    for subject in dict.fromkeys(m["subject"] for m in personal):
        out.line(f"Subject: {subject}")
    for mail in (m for m in mails if m["purpose"] != "ballot"):
        out.line(f"Also {verb}: {mail['purpose']} to {fmt.names(mail['to'])}: {mail['subject']}")
    if shown["dry_run"]:
        out.line("Dry run: nothing was opened or sent.")
    else:
        out.line(f"opened ballot {shown['id']}")  # the id is the last word: tools read it


@ballot.command("extend")
@click.argument("item_id", type=int)
@click.option("--deadline", required=True, metavar="DATE", help="The new, later deadline.")
@click.pass_obj
def ballot_extend(obj: Context, item_id: int, deadline: str) -> None:
    """A later deadline for an open ballot: every member is told it in their own zone."""
    app = obj.app()
    zone = _zone(app)
    when = _instant(deadline, zone, "--deadline", app.rules.deadlines)
    before = app.item_detail(item_id)["deadline"] if _exists(app, item_id) else None
    effects = _act(app, item_id, "extend", {"deadline": when})
    _say(
        f"ballot {item_id}: deadline moved from {fmt.when(before, zone)} to "
        f"{fmt.when(when, zone, with_zone=True)}; told {_told(effects)}"
    )


@ballot.command("cancel")
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="Why: the members are told.")
@click.pass_obj
def ballot_cancel(obj: Context, item_id: int, reason: str) -> None:
    """Withdraw an open ballot before its deadline: members and Secretariat told why."""
    app = obj.app()
    effects = _act(app, item_id, "cancel", {"reason": reason})
    _say(f"cancelled ballot {item_id}; told {_told(effects)}")


@cli.command("remind")
@click.argument("item_id", type=int)
@click.pass_obj
def remind_command(obj: Context, item_id: int) -> None:
    """Chase now the members who have not answered ITEM_ID (a ballot)."""
    app = obj.app()
    effects = _act(app, item_id, "remind", {})
    _say(f"reminded {_told(effects)} (item {item_id})")


@cli.command("items")
@click.option("--state", "states", multiple=True, help="Only items in this state (repeat).")
@click.option("--kind", "kinds", multiple=True, help="Only items of this kind (repeat).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def items_command(
    obj: Context, states: tuple[str, ...], kinds: tuple[str, ...], as_json: bool
) -> None:
    """Every item of every kind, with its state, deadline and who it still waits for."""
    app = obj.app()
    found = app.items({s.lower() for s in states}, {k.lower() for k in kinds})
    if as_json:
        _say_json(found)
        return
    out, zone = Printer(), _zone(app)
    if not found:
        out.line("no items" + (" in that state" if states or kinds else " yet"))
        return
    out.table(
        ("ID", "Kind", "State", "Title", "Deadline", "Waiting for"),
        [
            (
                i["id"],
                i["kind"],
                i["state"],
                shorten(i["title"], 50),
                fmt.when(i["deadline"], zone),
                plural(len(i["owing"]), "member") if i["owing"] else "-",
            )
            for i in found
        ],
        title=f"{plural(len(found), 'item')} (times in {zone})",
    )


@cli.command("show")
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def show_command(obj: Context, item_id: int, as_json: bool) -> None:
    """One item in full: who answered what, who still owes an answer, the mails sent and the
    next scheduled step."""
    app = obj.app()
    item = _loaded(lambda: app.item_detail(item_id), as_json)
    if item is not None:
        _show_item(app, item)


def _state_with_outcome(item: dict[str, Any]) -> str:
    """'escalated (no consensus)', or the state alone when the outcome only repeats it."""
    outcome = item.get("outcome")
    return f"{item['state']} ({outcome})" if outcome and outcome != item["state"] else item["state"]


def _show_item(app: App, item: dict[str, Any]) -> None:
    zone, out = _zone(app), Printer()
    now = app.clock.now()
    out.line(f"{str(item['kind']).capitalize()} {item['id']}: {item['title']}")
    deadline = fmt.when(item["deadline"], zone, with_zone=True)
    if item["deadline"]:
        deadline += f", {fmt.relative(item['deadline'], now)}"
    facts: list[tuple[str, object]] = [
        ("state", _state_with_outcome(item)),
        ("deadline", deadline),
        ("opened", f"{fmt.when(item['created_at'], zone)} by {_opened_by(item['opened_by'])}"),
    ]
    if item.get("options"):
        facts.append(("options", ", ".join(item["options"])))
    if item.get("owner"):
        facts.append(("owner", item["owner"]))
    if item.get("starts_at"):
        facts.append(("starts", fmt.when(item["starts_at"], zone)))
    if item.get("body"):
        facts.append(("text", shorten(item["body"], 300)))
    if item.get("determination"):
        facts.append(("determined", shorten(item["determination"].get("text"), 300)))
    fmt.fields(facts, out.line)
    members = item["members_asked"]
    # The Chair's determination is recorded like an answer, but no member gave it.
    answered = [a for a in item["answers"] if a["status"] == "counted" and a.get("member")]
    out.line("")
    if item["answers"]:
        out.table(
            ("Who", "Position", "Status", "When", "Their words"),
            [
                (
                    fmt.person(a["name"], a["email"]),
                    a["label"] or "-",
                    a["status"],
                    fmt.when(a["at"], zone),
                    shorten(a["text"], 60),
                )
                for a in item["answers"]
            ],
            title=f"Answers: {len(answered)} counted of {plural(members, 'member')} asked",
        )
    else:
        out.line("No answers yet.")
    owing = item["owing"]
    if owing:
        out.line(
            f"Still owe an answer ({len(owing)}): "
            + ", ".join(fmt.person(o["name"], o["email"]) for o in owing)
        )
    elif item["state"] in ("open", "scheduled", "overdue"):
        out.line("Nobody owes an answer.")
    if len(item["replies"]) > len(item["answers"]):
        out.line("")
        out.table(
            ("When", "Who", "Position", "Status", "Note"),
            [
                (
                    fmt.when(r["at"], zone),
                    r["name"],
                    r["label"] or "-",
                    r["status"],
                    shorten(r["note"], 60) or "-",
                )
                for r in item["replies"]
            ],
            title=f"History: {plural(len(item['replies']), 'reply', 'replies')}",
        )
    out.line("")
    sent = _grouped(item["sent"])
    out.table(
        ("When", "What", "To", "State"),
        [(fmt.when(at, zone), purpose, to, state) for at, purpose, to, state in sent],
        title=f"Mails: {plural(len(item['sent']), 'mail')}",
    )
    steps = item["next"]
    out.line("")
    if steps:
        out.line(
            "Next: "
            + "; ".join(
                f"{s['step']} {fmt.when(s['at'], zone)} ({fmt.relative(s['at'], now)})"
                for s in steps
            )
        )
    else:
        out.line("Next: nothing scheduled.")
    out.line(f"(times in {zone})")


def _grouped(sent: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Mails of one purpose queued at one moment, as one line: 'ballot, 4 members, sent'."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for mail in sent:
        groups.setdefault((mail["at"], mail["purpose"]), []).append(mail)
    out = []
    for (at, purpose), mails in groups.items():
        people = [to for m in mails for to in m["to"]]
        to = fmt.names(people) if len(people) <= 2 else plural(len(people), "person", "people")
        states = sorted({m["state"] for m in mails})
        # "readback:<hash>" names the text read back; a person reads "readback"
        out.append((at, purpose.split(":", 1)[0], to, ", ".join(states)))
    return out


@cli.command("members")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def members_command(obj: Context, as_json: bool) -> None:
    """The members, the Board Chair, the Secretariat and facilitators the bot writes to."""
    found = obj.app().members()
    if as_json:
        _say_json(found)
        return
    Printer().table(
        ("Name", "Address", "Kind", "Role", "Time zone", "Language", "Mail", "Salutation"),
        [
            (
                p["name"],
                p["email"],
                p["kind"],
                p["role"] or "-",
                p["timezone"],
                p["language"],
                "bouncing" if p["failing"] else "ok",
                p["salutation"] or "(the language's)",
            )
            for p in found
        ],
        title=plural(sum(1 for p in found if p["kind"] == "member"), "member")
        + f" and {plural(sum(1 for p in found if p['kind'] != 'member'), 'other')}",
    )


@cli.command()
@click.option("--days", default=120, show_default=True, help="How far ahead to look.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def meetings(obj: Context, days: int, as_json: bool) -> None:
    """Meetings called and to be called (ToR 4.1), with attendance."""
    app = obj.app()
    found = app.meetings(days)
    if as_json:
        _say_json(found)
        return
    if not found:
        _say("no meetings: configure [meetings.*] or schedule one")
    zone = _zone(app)
    for m in found:
        ident = f"#{m['id']}" if m["id"] else "  -"
        answers = m.get("attendance") or {}
        apologies = sum(1 for a in answers.values() if a == "apology")
        attending = sum(1 for a in answers.values() if a == "attending")
        extra = (
            f"call {fmt.when(m['call_at'], zone)}"
            if m["state"] == "to be called"
            else f"{attending} attending, {plural(apologies, 'apology', 'apologies')}"
        )
        starts = fmt.when(m["starts_at"], zone)
        _say(f"{ident:5} {starts}  {m['state']:13} {m['title']}  ({extra})")
    if found:
        _say(f"(times in {zone})")


@cli.group()
def meeting() -> None:
    """Meetings (ToR 4.1): schedule an ad hoc one, move or cancel one."""


def _loaded(load: Callable[[], dict[str, Any]], as_json: bool) -> dict[str, Any] | None:
    """One record for a `show` command: what it objects to ends the command, named; with
    --json it is printed here and None is returned (nothing more to print)."""
    try:
        record = load()
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        _say_json(record)
        return None
    return record


def _act(app: App, item_id: int, action: str, args: dict[str, Any]) -> list[Effect]:
    """One of an item kind's actions; what the item objects to ends the command, named."""
    try:
        return app.act(item_id, action, args)
    except ValueError as exc:
        _fail(str(exc))


def _told(effects: list[Effect]) -> str:
    """Who an action's mails went to: 'Daniel Tupa', '4 members and Executive Secretariat'."""
    people = list({p.email: p for e in effects if isinstance(e, Mail) for p in e.to}.values())
    members = [p for p in people if p.kind == "member"]
    shown = [{"name": p.name} for p in members] if len(members) <= 3 else []
    parts = [fmt.names(shown)] if shown else [plural(len(members), "member")] if members else []
    others = [p.name for p in people if p.kind != "member"]
    return fmt.names([{"name": x} for x in [*parts, *others]]) or "nobody"


def _exists(app: App, item_id: int) -> bool:
    try:
        app.item_detail(item_id)
    except ValueError:
        return False
    return True


def _zone(app: App) -> str:
    return app.settings.model.group.timezone


def _position(app: App, key: str | None) -> str:
    """A position as the rules label it ('AGREE'), or the word a kind keeps ('attending')."""
    if not key:
        return "-"
    found = app.rules.positions.get(key)
    return found.label if found else key


def _counts(counts: dict[str, int]) -> str:
    """'3 processed, 1 quarantined', or 'none'."""
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"


def _indented(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.strip("\n").splitlines())


def _opened_by(opened_by: str) -> str:
    return "the command line" if opened_by == "cli" else opened_by or "-"


def _secretariat_name(app: App) -> str:
    found = [p["name"] for p in app.members() if p["kind"] == "secretariat"]
    return found[0] if found else "the Secretariat"


def _instant(value: str, zone: str, option: str, deadlines: Deadlines = RULES_DEFAULT) -> datetime:
    """A date read as the email commands read it (one parser): `deadlines`, the rules' end of
    business and weekend, for a deadline; a date alone is 17:00 in `zone` otherwise."""
    try:
        return parse_deadline(value, zone, deadlines)
    except ValueError as exc:
        _fail(f"{option}: {value!r} is not a date ({exc})")


@meeting.command("schedule")
@click.option("--title", required=True)
@click.option("--start", required=True, metavar="DATE TIME", help="In the group's zone.")
@click.option("--duration", default=90, show_default=True, help="Minutes.")
@click.option("--where", default="", help="Joining link or room.")
@click.option("--with-facilitators", is_flag=True, help="Invite the CIWP facilitators too.")
@click.pass_obj
def meeting_schedule(
    obj: Context, title: str, start: str, duration: int, where: str, with_facilitators: bool
) -> None:
    """An ad hoc meeting (ToR 4.1.c): the call goes to every member now; prints its id."""
    app = obj.app()
    when = _instant(start, app.settings.model.group.timezone, "--start")
    try:
        item_id = app.schedule_meeting(title, when, duration, where, with_facilitators)
    except ValueError as exc:
        _fail(str(exc))
    _say(f"scheduled meeting {item_id}")  # the id is the last word: tools read it


@meeting.command("move")
@click.argument("item_id", type=int)
@click.option("--start", required=True, metavar="DATE TIME", help="In the group's zone.")
@click.pass_obj
def meeting_move(obj: Context, item_id: int, start: str) -> None:
    """Move a meeting: its invitees get an update of the same calendar event."""
    app = obj.app()
    when = _instant(start, app.settings.model.group.timezone, "--start")
    _act(app, item_id, "move", {"start": when})
    _say(f"moved meeting {item_id} to {fmt.when(when, _zone(app), with_zone=True)}")


@meeting.command("cancel")
@click.argument("item_id", type=int)
@click.option("--reason", default="", help="Told to the invitees.")
@click.pass_obj
def meeting_cancel(obj: Context, item_id: int, reason: str) -> None:
    """Cancel a meeting: calendars remove it (iTIP CANCEL) and invitees are told why."""
    app = obj.app()
    _act(app, item_id, "cancel", {"reason": reason})
    _say(f"cancelled meeting {item_id}")


@meeting.command("agenda")
@click.argument("item_id", type=int)
@click.option("--add", multiple=True, help="A new item, accepted (repeat for more).")
@click.option("--accept", multiple=True, type=int, help="Accept proposed item N.")
@click.option("--drop", multiple=True, type=int, help="Drop item N.")
@click.pass_obj
def meeting_agenda(
    obj: Context, item_id: int, add: tuple[str, ...], accept: tuple[int, ...], drop: tuple[int, ...]
) -> None:
    """Show a meeting's agenda; --add, --accept and --drop change it first."""
    app = obj.app()
    if add or accept or drop:
        _act(app, item_id, "agenda", {"add": add, "accept": accept, "drop": drop})
    found = next((m for m in app.meetings() if m["id"] == item_id), None)
    if found is None:
        _fail(f"no meeting {item_id}")
    for entry in found.get("agenda") or []:
        _say(f"{entry['n']:3}. [{entry['status']:8}] {entry['title']}  ({entry['by']})")
    if not found.get("agenda"):
        _say("no agenda items yet")


@meeting.command("record")
@click.argument("item_id", type=int)
@click.option("--attended", multiple=True, help="Who attended (default: those who accepted).")
@click.option("--decision", "decisions", multiple=True, help="A decision taken (repeat).")
@click.option(
    "--action",
    "actions",
    multiple=True,
    metavar="TITLE|OWNER-EMAIL|DUE",
    help="An agreed action, its owner and due date (repeat).",
)
@click.option("--unsettled", multiple=True, help="A question the meeting could not settle.")
@click.pass_obj
def meeting_record(
    obj: Context,
    item_id: int,
    attended: tuple[str, ...],
    decisions: tuple[str, ...],
    actions: tuple[str, ...],
    unsettled: tuple[str, ...],
) -> None:
    """Send the record of a meeting to members and Secretariat (ToR 6.2.b)."""
    app = obj.app()
    zone = app.settings.model.group.timezone
    agreed = []
    for value in actions:
        parts = [p.strip() for p in value.split("|")]
        if len(parts) != 3:
            _fail(f"--action: {value!r} is not TITLE|OWNER-EMAIL|DUE")
        due = _instant(parts[2], zone, "--action", app.rules.deadlines)
        agreed.append((parts[0], parts[1], due))
    args = {"attended": attended, "decisions": decisions, "actions": agreed, "unsettled": unsettled}
    _act(app, item_id, "record", args)
    done = f"{plural(len(decisions), 'decision')}, {plural(len(agreed), 'action')}"
    _say(f"recorded meeting {item_id}: {done}")


@meeting.command("unsettled")
@click.argument("item_id", type=int)
@click.argument("number", type=int)
@click.option("--deadline", default=None, metavar="DATE", help="Default: the rules' email round.")
@click.pass_obj
def meeting_unsettled(obj: Context, item_id: int, number: int, deadline: str | None) -> None:
    """Take question NUMBER the meeting could not settle to an email ballot (ToR 4.3.a)."""
    app = obj.app()
    zone = app.settings.model.group.timezone
    when = _instant(deadline, zone, "--deadline", app.rules.deadlines) if deadline else None
    try:
        ballot_id = app.unsettled_to_ballot(item_id, number, when)
    except ValueError as exc:
        _fail(str(exc))
    _say(f"opened ballot {ballot_id}")


@meeting.command("poll")
@click.option("--title", required=True)
@click.option("--slot", "slots", multiple=True, required=True, metavar="DATE TIME")
@click.option("--answer-by", required=True, metavar="DATE", help="When the poll closes.")
@click.option("--duration", default=60, show_default=True, help="Minutes.")
@click.option("--where", default="")
@click.pass_obj
def meeting_poll(
    obj: Context, title: str, slots: tuple[str, ...], answer_by: str, duration: int, where: str
) -> None:
    """Ask the members which slots suit them (each sees them in their own time zone)."""
    app = obj.app()
    zone = app.settings.model.group.timezone
    times = [_instant(s, zone, "--slot") for s in slots]
    data = {"slots": [t.isoformat() for t in times], "minutes": duration, "where": where}
    try:
        item_id = app.open_item(
            ItemKind.POLL,
            title,
            "",
            _instant(answer_by, zone, "--answer-by", app.rules.deadlines),
            "cli",
            data,
        )
    except ValueError as exc:
        _fail(str(exc))
    _say(f"opened poll {item_id}")


@meeting.command("from-poll")
@click.argument("poll_id", type=int)
@click.option("--slot", type=int, default=None, help="Default: the slot most members can attend.")
@click.pass_obj
def meeting_from_poll(obj: Context, poll_id: int, slot: int | None) -> None:
    """Turn a poll's chosen slot into a meeting, and send its call."""
    _act(obj.app(), poll_id, "schedule", {"slot": slot})
    _say(f"scheduled the meeting of poll {poll_id}")


@meeting.command("paper")
@click.argument("item_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def meeting_paper(obj: Context, item_id: int, file: Path) -> None:
    """Add FILE to a meeting's papers: it goes out with the final agenda, as it is."""
    paper = _draft(file)
    args = {"name": paper.filename, "type": paper.mime_type, "content": paper.content}
    _act(obj.app(), item_id, "paper", args)
    _say(f"added {file.name} to the papers of meeting {item_id}")


@cli.group("action")
def action_group() -> None:
    """Agreed actions, followed up by email (ToR 6.2.b)."""


@action_group.command("add")
@click.option("--title", required=True)
@click.option("--owner", required=True, metavar="EMAIL")
@click.option("--due", required=True, metavar="DATE", help="A date alone means end of day.")
@click.option("--details", default="", help="What is to be done, for the owner.")
@click.pass_obj
def action_add(obj: Context, title: str, owner: str, due: str, details: str) -> None:
    """Assign an action: the owner is told at once; prints its id."""
    app = obj.app()
    when = _instant(due, app.settings.model.group.timezone, "--due", app.rules.deadlines)
    try:
        data = {"owner": owner.strip().lower()}
        item_id = app.open_item(ItemKind.ACTION, title, details, when, "cli", data)
    except ValueError as exc:
        _fail(str(exc))
    _say(f"assigned action {item_id}")  # the id is the last word: tools read it


@cli.group("feedback")
def feedback_group() -> None:
    """Written feedback on drafts (ToR 2.2.e)."""


def _draft(path: Path) -> Attachment:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Attachment(path.name, path.read_bytes(), kind)


@feedback_group.command("open")
@click.option("--title", required=True)
@click.option("--draft-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--deadline", required=True, metavar="DATE")
@click.option("--note", default="", help="A word to the members above the draft.")
@click.pass_obj
def feedback_open(
    obj: Context, title: str, draft_file: Path | None, deadline: str, note: str
) -> None:
    """Send a draft to every member for written feedback; prints the round's id."""
    app = obj.app()
    when = _instant(deadline, app.settings.model.group.timezone, "--deadline", app.rules.deadlines)
    spec = feedback_round(title, note, when, _draft(draft_file) if draft_file else None)
    try:
        item_id = app.open_item(spec.kind, title, note, when, "cli", spec.data)
    except ValueError as exc:
        _fail(str(exc))
    _say(f"opened feedback round {item_id}")  # the id is the last word: tools read it


@feedback_group.command("revise")
@click.argument("item_id", type=int)
@click.option("--draft-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--deadline", required=True, metavar="DATE")
@click.pass_obj
def feedback_revise(obj: Context, item_id: int, draft_file: Path | None, deadline: str) -> None:
    """A revised draft: the next round goes to every member; the earlier one is kept."""
    app = obj.app()
    when = _instant(deadline, app.settings.model.group.timezone, "--deadline", app.rules.deadlines)
    args = {"deadline": when, "draft": _draft(draft_file) if draft_file else None}
    _act(app, item_id, "revise", args)
    _say(f"sent the revised draft of round {item_id}")


@cli.group("outbox")
def outbox_group() -> None:
    """Outgoing mail."""


@outbox_group.command("resend")
@click.argument("row_id", type=int)
@click.pass_obj
def outbox_resend(obj: Context, row_id: int) -> None:
    """Queue an uncertain or failed mail again (same Message-ID, so clients see one mail)."""
    try:
        obj.app().resend(row_id)
    except NotResendable as exc:
        _fail(str(exc))
    _say(f"queued {row_id} again")


def _database_path(app: App) -> Path:
    path = app.engine.url.database
    if not path or path == ":memory:":
        _fail("backup and restore need a SQLite database file or PostgreSQL")
    return Path(path)


def _is_postgres(app: App) -> bool:
    return app.engine.dialect.name == "postgresql"


@cli.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup_command(obj: Context, target: Path) -> None:
    """Write a consistent copy of the database to TARGET (safe while the daemon runs)."""
    from bot.store.backup import ToolMissing, backup, backup_postgres

    app = obj.app()
    where = app.engine.url.render_as_string() if _is_postgres(app) else _database_path(app)
    try:
        if _is_postgres(app):
            size = backup_postgres(app.engine.url, target)
        else:
            size = backup(_database_path(app), target)
    except (FileExistsError, ToolMissing, ValueError) as exc:
        _fail(str(exc))
    _say(f"backed up {where} to {target} ({size} bytes)")


@cli.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the current database is replaced.")
@click.pass_obj
def restore_command(obj: Context, source: Path, yes: bool) -> None:
    """Replace the database with a backup. Stop the daemon first; mail that arrived since the
    backup is read again from the mailbox (the checkpoint goes back with it)."""
    from bot.store.backup import ToolMissing, restore, restore_postgres

    if not yes:
        _fail("restore replaces the current database: add --yes to confirm")
    app = obj.app()
    try:
        if _is_postgres(app):
            app.engine.dispose()  # our own connections would hold locks pg_restore needs
            restore_postgres(source, app.engine.url)
            where: object = app.engine.url.render_as_string()
        else:
            restore(source, _database_path(app))
            where = _database_path(app)
    except (ValueError, ToolMissing) as exc:
        _fail(str(exc))
    _say(f"restored {where} from {source}")


@cli.group("register")
def register_group() -> None:
    """The register of decision-relevant events, hash-chained (ToR 6.2.h)."""


@register_group.command("verify")
@click.pass_obj
def register_verify(obj: Context) -> None:
    """Recompute the register's chain; exit 1 naming the first row that does not match."""
    from bot.app.export import check_register

    check = check_register(obj.app().engine)
    if check.first_bad is not None:
        _fail(
            f"register: entry #{check.first_bad} does not match its hash: "
            "edited or removed after it was written",
            1,
        )
    _say(f"register: {check.entries} entries, the chain holds")


@cli.command("export")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the files (created if needed).",
)
@click.option("--force", is_flag=True, help="Replace files already there.")
@click.pass_obj
def export_command(obj: Context, out: Path, force: bool) -> None:
    """Write the register and the message archive index as CSV and JSON (ToR 6.2.b, 6.2.e)."""
    from bot.app.export import export

    app = obj.app()
    try:
        paths = export(app.engine, out, force)
    except FileExistsError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"export: {exc}", 1)
    for path in paths:
        _say(path)


@cli.command("report")
@click.option("--period", required=True, help="The month to report on, YYYY-MM.")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the files (default: reports/ beside the config file).",
)
@click.pass_obj
def report_command(obj: Context, period: str, out: Path | None) -> None:
    """The progress report to the Governing Board for one month (ToR 2.1.i): HTML, charts, PDF."""
    app = obj.app()
    folder = out or app.settings.base_dir / "reports"
    from bot.app.report import PdfUnavailable

    try:
        paths = app.report(period, folder)
    except ValueError as exc:
        _fail(str(exc))
    except PdfUnavailable as exc:
        _fail(f"report: the HTML and charts are in {folder}; {exc}", 1)
    except OSError as exc:
        _fail(f"report: {exc}", 1)
    for path in paths:
        _say(path)


@cli.command()
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the demo's database and mail (default: a new temporary folder).",
)
def demo(out: Path | None) -> None:
    """A complete scripted cycle on this machine, no mail server needed."""
    from bot.demo.script import run_demo

    run_demo(out, echo=_say)


def main() -> None:
    # What is imported by now lives as long as the process: out of the cyclic collector's
    # sight, a catch-up's full collections stop walking it, and the interpreter's exit no
    # longer does (about 0.16 s of every command on this machine; `bench/perf.py`).
    gc.freeze()
    cli(prog_name="cgbot")
