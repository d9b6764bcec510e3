"""Secrets never reach a log line: every password and token the bot holds is registered here,
and a filter on the log handlers replaces it, wherever a library happens to print it.

aioimaplib, for one, logs each command it sends at DEBUG, masking only the raw token and not
the base64 XOAUTH2 string that carries it; with `-vv` that line would hand the mailbox to
whoever reads the log. Registering the exact strings sent is simpler than trusting every
library's own scrubbing."""

from __future__ import annotations

import logging
import threading

MASK = "[secret]"
_secrets: set[str] = set()
_lock = threading.Lock()


def register(secret: str) -> str:
    """Mask `secret` in every log line from now on; returns it, for use in expressions."""
    if len(secret) >= 6:  # a shorter "secret" would mask ordinary words
        with _lock:
            _secrets.add(secret)
    return secret


def redact(text: str) -> str:
    with _lock:
        found = [s for s in _secrets if s in text]
    for secret in sorted(found, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class Redact(logging.Filter):
    """Rewrites a record's message (and its traceback text) with the secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of `logger` (the root logger by default): a handler's
    filter sees the records of every logger below it."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, Redact) for f in handler.filters):
            handler.addFilter(Redact())
