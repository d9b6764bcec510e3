"""Where outgoing mail goes: an SMTP server (aiosmtplib), or a folder of .eml files (demo)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiosmtplib

from bot.config import SmtpConfig
from bot.mail.tls import tls_context


class PermanentFailure(Exception):
    """The server refused the mail for good (5xx): retrying will not help."""


class TransientFailure(Exception):
    """The server or network failed for now (4xx, refused, timed out): try again later."""


class Transport(Protocol):
    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None: ...


@dataclass
class SmtpTransport:
    config: SmtpConfig
    password: str | None

    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        cfg = self.config
        try:
            await aiosmtplib.send(
                raw,
                sender=sender,
                recipients=recipients,
                hostname=cfg.host,
                port=cfg.port,
                use_tls=cfg.security == "ssl",
                start_tls=cfg.security == "starttls",
                username=cfg.username,
                password=self.password if cfg.username else None,
                timeout=cfg.timeout_seconds,
                tls_context=tls_context(cfg.ca_file) if cfg.security != "none" else None,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            if all(500 <= c < 600 for c in codes):
                raise PermanentFailure(f"recipients refused: {exc}") from exc
            raise TransientFailure(f"recipients refused for now: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"{exc.code} {exc.message}") from exc
            raise TransientFailure(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransientFailure(f"{type(exc).__name__}: {exc}") from exc


@dataclass
class FolderTransport:
    """Writes each mail as a numbered .eml file: the demo's 'sent' folder."""

    folder: Path
    written: list[tuple[list[str], bytes, Path]] = field(default_factory=list)

    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        number = len(list(self.folder.glob("*.eml"))) + 1
        who = re.sub(r"[^a-z0-9]+", "-", recipients[0].split("@")[0].lower()).strip("-")
        path = self.folder / f"{number:03d}-to-{who}.eml"
        path.write_bytes(raw)
        self.written.append((recipients, raw, path))
