"""Where and how the log is written: human-readable text by default, JSON lines for a log
collector, or journald's priority prefixes under systemd; to stderr, or to a file rotated at a
size. Every handler masks secrets (bot.logsafe)."""

from __future__ import annotations

import json
import logging
import logging.handlers
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from bot import logsafe

LogFormat = Literal["text", "json", "journal"]
ROTATE_BYTES = 10 * 1024 * 1024
ROTATE_KEEP = 5

# sd-daemon(3): a line starting "<N>" is logged at syslog priority N by journald.
_JOURNAL_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class Journal(logging.Formatter):
    """journald adds the time and the unit; the priority goes in front, tracebacks stay one
    entry (their newlines escaped would be unreadable, so each line keeps the prefix)."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{_JOURNAL_PRIORITY.get(record.levelno, 6)}>"
        text = f"{record.name}: {super().format(record)}"
        return "\n".join(prefix + line for line in text.splitlines())


def formatter(kind: LogFormat) -> logging.Formatter:
    if kind == "json":
        return JsonLines()
    if kind == "journal":
        return Journal("%(message)s")
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure(verbose: int, kind: LogFormat = "text", file: Path | None = None) -> None:
    """The root logger at WARNING, INFO (-v) or DEBUG (-vv), one handler, secrets masked."""
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            file, maxBytes=ROTATE_BYTES, backupCount=ROTATE_KEEP, encoding="utf-8"
        )
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(formatter(kind))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING - 10 * min(verbose, 2))
    # mail-parser warns about every MIME part it does not turn into text (reports, images).
    logging.getLogger("mailparser").setLevel(logging.ERROR if verbose < 2 else logging.DEBUG)
    # APScheduler tells of every job added, run and done: at each pass and every minute's safety
    # net, two to four lines a minute in the service's journal (-v) that say nothing wrong.
    logging.getLogger("apscheduler").setLevel(logging.WARNING if verbose < 2 else logging.DEBUG)
    logsafe.install(root)
