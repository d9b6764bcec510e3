"""Where outgoing mail goes: an SMTP server (aiosmtplib), or a folder of .eml files (demo)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiosmtplib

from bot.config import SmtpConfig
from bot.mail.oauth import SASL_ABORT, Tokens, TokenUnavailable, pick_mechanism, sasl_initial
from bot.mail.tls import tls_context


class PermanentFailure(Exception):
    """The server refused the mail for good (5xx): retrying will not help."""


class TransientFailure(Exception):
    """The server or network failed for now (4xx, refused, timed out): try again later."""


class Transport(Protocol):
    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None: ...


async def finish(transport: Transport) -> None:
    """End a batch: a transport that keeps a session open across a batch closes it here (a
    session left open while the daemon idles would be dropped by the server anyway)."""
    close = getattr(transport, "close", None)
    if close is not None:
        await close()


@dataclass
class SmtpTransport:
    """One SMTP session serves a whole batch of mails (connect, TLS and login once); any error
    ends it, and the next mail opens a new one. Each mail is still its own transaction."""

    config: SmtpConfig
    password: str | None
    tokens: Tokens | None = None  # auth = "oauth2": SASL XOAUTH2 with these tokens
    _client: aiosmtplib.SMTP | None = field(default=None, init=False, repr=False)

    async def _session(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        if self.config.auth == "oauth2":
            client = await self._connect_xoauth2()
        else:
            client = self._client_for(self.config.username, self.password)
            await client.connect()
        self._client = client
        return client

    def _client_for(self, username: str | None, password: str | None) -> aiosmtplib.SMTP:
        cfg = self.config
        return aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            use_tls=cfg.security == "ssl",
            start_tls=cfg.security == "starttls",
            username=username,
            password=password if username else None,
            timeout=cfg.timeout_seconds,
            tls_context=tls_context(cfg.ca_file) if cfg.security != "none" else None,
        )

    async def _connect_xoauth2(self) -> aiosmtplib.SMTP:
        """Connect and sign in with the current token (OAUTHBEARER where offered, else
        XOAUTH2); a refused token is replaced by a fresh one and tried once more."""
        tokens = self.tokens
        assert tokens is not None, "auth = oauth2 without a token source"
        user = self.config.username or self.config.from_address
        client = self._client_for(None, None)
        await client.connect()
        try:
            await client.ehlo()  # the AUTH mechanisms on offer (after STARTTLS, if any)
            for attempt in (1, 2):
                try:
                    token = await asyncio.to_thread(tokens.get)
                except TokenUnavailable as exc:
                    raise aiosmtplib.SMTPException(f"no OAuth2 token for {user}: {exc}") from exc
                try:
                    await _sign_in(client, user, token)
                    return client
                except aiosmtplib.SMTPAuthenticationError:
                    tokens.refused(token)
                    if attempt == 2:
                        raise
        except BaseException:
            client.close()
            raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        """QUIT the open session, if any; a server that already left is no error."""
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()

    async def _deliver(self, sender: str, recipients: list[str], raw: bytes) -> None:
        try:
            client = await self._session()
            await client.sendmail(sender, recipients, raw)
        except BaseException:
            await self._drop()  # a session in an unknown state is never reused
            raise

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        """One mail in the batch's session; SMTP errors turned into what they mean for it."""
        try:
            await self._deliver(sender, recipients, raw)
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


async def _sign_in(client: aiosmtplib.SMTP, user: str, token: str) -> None:
    """SASL OAUTHBEARER (RFC 7628) when the server offers it, else XOAUTH2; raises
    SMTPAuthenticationError when the token is refused."""
    if pick_mechanism(set(client.server_auth_methods)) == "XOAUTH2":
        await client.auth_xoauth2(user, token)
        return
    initial = sasl_initial("OAUTHBEARER", user, token)
    answer = await client.execute_command(b"AUTH", b"OAUTHBEARER", initial.encode("ascii"))
    if answer.code == 334:  # the server's error, as a challenge: abort it (RFC 7628 3.2.3)
        answer = await client.execute_command(SASL_ABORT["OAUTHBEARER"].encode("ascii"))
    if answer.code != 235:
        raise aiosmtplib.SMTPAuthenticationError(answer.code, answer.message)
