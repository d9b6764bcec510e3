"""The Secretariat's mailbox over IMAP (aioimaplib): fetch new UIDs, wait with IDLE or polling.

aioimaplib does not notice a dropped connection and has no STARTTLS; every call here is bounded
by a timeout, a lost connection raises ImapDown, and STARTTLS is negotiated before handing the
upgraded stream to the library.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aioimaplib

from bot.config import MailboxConfig
from bot.domain.batches import BATCH_MESSAGES, plan_batches
from bot.domain.types import Fetched
from bot.mail.oauth import SASL_ABORT, Tokens, TokenUnavailable, pick_mechanism, sasl_initial
from bot.mail.tls import tls_context

log = logging.getLogger("cgbot.imap")

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_FETCH_LINE = re.compile(rb"^\d+ FETCH \(")


class ImapDown(Exception):
    """The server cannot be reached or answered wrongly; the daemon reconnects with backoff."""


class ImapAuthFailed(ImapDown):
    """LOGIN was refused: retrying will not help until the configuration changes."""


class _PlainLines(asyncio.Protocol):
    """Just enough of IMAP before TLS: the greeting and the STARTTLS answer."""

    def __init__(self) -> None:
        self.buffer = b""
        self.more = asyncio.Event()
        self.closed = False

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.more.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.more.set()

    async def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if self.closed:
                raise ImapDown("connection closed before TLS")
            self.more.clear()
            await self.more.wait()
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line


async def _starttls_client(cfg: MailboxConfig, lost: Any) -> aioimaplib.IMAP4:
    """Plain connect, STARTTLS, then run an aioimaplib protocol over the upgraded transport."""
    loop = asyncio.get_running_loop()
    transport, plain = await loop.create_connection(_PlainLines, cfg.host, cfg.port)
    greeting = await plain.line()
    if not greeting.startswith(b"* OK"):
        raise ImapDown(f"unexpected greeting {greeting[:80]!r}")
    transport.write(b"cg0 STARTTLS\r\n")
    while not (answer := await plain.line()).startswith(b"cg0 "):
        pass
    if not answer.startswith(b"cg0 OK"):
        raise ImapDown(f"STARTTLS refused: {answer[:120]!r}")
    protocol = aioimaplib.IMAP4ClientProtocol(loop, lost)
    secure = await loop.start_tls(
        transport, protocol, tls_context(cfg.ca_file), server_hostname=cfg.host
    )
    assert secure is not None
    protocol.connection_made(secure)
    protocol.state = aioimaplib.NONAUTH
    client = aioimaplib.IMAP4.__new__(aioimaplib.IMAP4)
    client.timeout, client.host, client.port = cfg.timeout_seconds, cfg.host, cfg.port
    client._idle_waiter, client.tasks, client.protocol = None, set(), protocol
    done: asyncio.Future[None] = loop.create_future()
    done.set_result(None)
    client._client_task = done
    await protocol.capability()
    return client


class _Authenticate(aioimaplib.Command):  # type: ignore[misc]
    """AUTHENTICATE with an initial response (RFC 4959). A server that refuses the token
    sends a challenge carrying its error and waits for the client's empty answer before it
    says NO; aioimaplib's own xoauth2() never answers (it hangs until the timeout), so this
    command answers once. (Its text is what goes on the wire, so it cannot hide its argument;
    aioimaplib logs it at DEBUG, where bot.logsafe masks the SASL string.)"""

    def __init__(self, tag: str, mechanism: str, initial: str, client: aioimaplib.IMAP4) -> None:
        super().__init__("AUTHENTICATE", tag, mechanism, initial, loop=client.protocol.loop)
        self._transport = client.protocol.transport
        self._abort = SASL_ABORT[mechanism].encode() + b"\r\n"
        self._answered = False

    def append_to_resp(self, line: bytes, result: str = "Pending") -> None:
        if line.startswith(b"+") and not self._answered:
            self._answered = True
            self._transport.write(self._abort)
        super().append_to_resp(line, result)


def offered_mechanisms(client: aioimaplib.IMAP4) -> set[str]:
    """The SASL mechanisms the server lists (AUTH=... capabilities)."""
    capabilities = getattr(client.protocol, "capabilities", ()) or ()
    return {c.split("=", 1)[1].upper() for c in capabilities if c.upper().startswith("AUTH=")}


async def authenticate_oauth(client: aioimaplib.IMAP4, user: str, token: str) -> Any:
    """SASL OAUTHBEARER (or XOAUTH2 where that is all the server offers) over an
    unauthenticated connection; the server's tagged answer."""
    protocol = client.protocol
    mechanism = pick_mechanism(offered_mechanisms(client))
    initial = sasl_initial(mechanism, user, token)
    response = await protocol.execute(
        _Authenticate(protocol.new_tag(), mechanism, initial, client), scrub=initial
    )
    if response.result == "OK":
        protocol.state = aioimaplib.AUTH
    return response


class ImapSource:
    """One folder of one account. `fetch_batches` yields the messages above the checkpoint."""

    def __init__(
        self,
        cfg: MailboxConfig,
        password: str | None,
        tokens: Tokens | None = None,
        readonly: bool = False,
    ) -> None:
        self.cfg = cfg
        self.password = password or ""
        self.tokens = tokens
        self.readonly = readonly  # EXAMINE: the server changes no flag for this session
        self.client: aioimaplib.IMAP4 | None = None
        self.uidvalidity: int | None = None
        self.idle_capable = False
        self._lost = asyncio.Event()

    @property
    def name(self) -> str:
        return f"imap:{self.cfg.username}@{self.cfg.host}:{self.cfg.port}/{self.cfg.folder}"

    def _on_lost(self, exc: Exception | None) -> None:
        log.warning("IMAP connection lost: %s", exc)
        self._lost.set()

    async def _call(self, coro: Any) -> Any:
        if self._lost.is_set():
            raise ImapDown("connection lost")
        try:
            return await asyncio.wait_for(coro, self.cfg.timeout_seconds)
        except (TimeoutError, aioimaplib.AioImapException, OSError) as exc:
            raise ImapDown(f"{type(exc).__name__}: {exc}") from exc

    async def connect(self) -> None:
        self._lost = asyncio.Event()
        cfg = self.cfg
        try:
            if cfg.security == "starttls":
                self.client = await asyncio.wait_for(
                    _starttls_client(cfg, self._on_lost), cfg.timeout_seconds
                )
            else:
                self.client = aioimaplib.IMAP4(
                    host=cfg.host,
                    port=cfg.port,
                    timeout=cfg.timeout_seconds,
                    conn_lost_cb=self._on_lost,
                    ssl_context=tls_context(cfg.ca_file) if cfg.security == "ssl" else None,
                )
                await self.client.wait_hello_from_server()
        except (TimeoutError, OSError, aioimaplib.AioImapException, ssl.SSLError) as exc:
            raise ImapDown(f"cannot connect to {cfg.host}:{cfg.port}: {exc}") from exc
        client = self.client
        assert client is not None
        if cfg.auth == "oauth2":
            await self._login_xoauth2(client)
        else:
            login = await self._call(client.login(cfg.username, self.password))
            if login.result != "OK":
                raise ImapAuthFailed(f"login as {cfg.username} refused: {_text(login.lines)}")
        opened = client.examine(cfg.folder) if self.readonly else client.select(cfg.folder)
        selected = await self._call(opened)
        if selected.result != "OK":
            raise ImapDown(f"cannot select folder {cfg.folder!r}: {_text(selected.lines)}")
        if self.readonly:  # aioimaplib's examine() leaves its state at AUTH
            client.protocol.state = aioimaplib.SELECTED
        found = next(
            (m for line in selected.lines if (m := _UIDVALIDITY.search(bytes(line)))), None
        )
        if found is None:
            raise ImapDown(f"folder {cfg.folder!r} reported no UIDVALIDITY")
        self.uidvalidity = int(found.group(1))
        self.idle_capable = cfg.idle and client.has_capability("IDLE")

    async def _login_xoauth2(self, client: aioimaplib.IMAP4) -> None:
        """OAUTHBEARER or XOAUTH2 with the current token; a refused token is replaced by a fresh
        one and tried once more (it may have expired early or been revoked)."""
        assert self.tokens is not None, "auth = oauth2 without a token source"
        answer = None
        for _ in range(2):
            try:
                token = await asyncio.to_thread(self.tokens.get)
            except TokenUnavailable as exc:
                raise ImapAuthFailed(f"no OAuth2 token for {self.cfg.username}: {exc}") from exc
            answer = await self._call(authenticate_oauth(client, self.cfg.username, token))
            if answer.result == "OK":
                return
            self.tokens.refused(token)
            log.info("the server refused the OAuth2 token; asking the provider for a new one")
        assert answer is not None
        raise ImapAuthFailed(f"XOAUTH2 as {self.cfg.username} refused twice: {_text(answer.lines)}")

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if client.has_pending_idle():
                client.idle_done()
            await asyncio.wait_for(client.logout(), 3)
        except Exception:  # closing a broken connection may fail in many ways; it is gone
            pass

    async def uids_after(self, last_uid: int) -> list[int]:
        assert self.client is not None
        resp = await self._call(self.client.uid_search(f"UID {last_uid + 1}:*", charset=None))
        if resp.result != "OK":
            raise ImapDown(f"UID SEARCH failed: {_text(resp.lines)}")
        uids = [int(x) for line in resp.lines[:1] for x in bytes(line).split() if x.isdigit()]
        return sorted(u for u in uids if u > last_uid)  # "n:*" always includes the highest UID

    async def sizes(self, uids: list[int]) -> list[tuple[int, int]]:
        """(UID, size) of these messages, in UID order, so a batch can be planned before any
        message is held. Asked a slice at a time: aioimaplib rescans a response's lines for
        each line it reads, and recurses once per line."""
        assert self.client is not None
        wanted = ",".join(str(u) for u in uids)
        resp = await self._call(self.client.uid("fetch", wanted, "(RFC822.SIZE)"))
        if resp.result != "OK":
            raise ImapDown(f"UID FETCH {wanted[:60]} (RFC822.SIZE) failed: {_text(resp.lines)}")
        found = {}
        for line in resp.lines:
            if isinstance(line, bytearray):
                continue
            uid, size = _UID.search(bytes(line)), _SIZE.search(bytes(line))
            if uid and size:
                found[int(uid.group(1))] = int(size.group(1))
        return sorted((u, s) for u, s in found.items() if u in set(uids))

    async def fetch_many(self, uids: list[int]) -> dict[int, tuple[bytes, datetime | None]]:
        """The messages and when the server received each (INTERNALDATE), in one UID FETCH,
        never marking them read; a UID expunged meanwhile is simply absent."""
        assert self.client is not None
        query = "(UID INTERNALDATE BODY.PEEK[])"
        wanted = ",".join(str(u) for u in uids)
        resp = await self._call(self.client.uid("fetch", wanted, query))
        if resp.result != "OK":
            raise ImapDown(f"UID FETCH {wanted[:60]} failed: {_text(resp.lines)}")
        return fetched_messages(resp.lines, set(uids))

    async def fetch_batches(self, last_uid: int) -> AsyncIterator[list[Fetched]]:
        """The messages above `last_uid` in UID order, a bounded batch at a time: at most
        BATCH_MESSAGES messages and BATCH_BYTES bytes in memory (one larger message alone)."""
        assert self.uidvalidity is not None
        waiting = await self.uids_after(last_uid)
        for first in range(0, len(waiting), BATCH_MESSAGES):
            for uids in plan_batches(await self.sizes(waiting[first : first + BATCH_MESSAGES])):
                found = await self.fetch_many(uids)
                batch = [
                    Fetched(self.name, found[uid][0], self.uidvalidity, uid, found[uid][1])
                    for uid in uids
                    if uid in found  # expunged meanwhile: gone, nothing to read
                ]
                if batch:
                    yield batch

    async def wait_for_change(self, timeout: float) -> None:
        """Return when the folder may have new mail, or after `timeout` seconds."""
        assert self.client is not None
        if not self.idle_capable:
            await self._call(self.client.noop())
            lost = asyncio.ensure_future(self._lost.wait())
            await asyncio.wait({lost}, timeout=timeout)
            lost.cancel()
            return
        client = self.client
        idle = await self._call(client.idle_start(timeout=min(timeout, 25 * 60)))
        try:
            while client.has_pending_idle() and not self._lost.is_set():
                push = await self._push_or_lost(client, timeout + 5)
                if push is None or push == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                lines = push if isinstance(push, list) else [push]
                if any(b"EXISTS" in bytes(x) or b"RECENT" in bytes(x) for x in lines):
                    break
        finally:
            if self._lost.is_set():
                idle.cancel()
            else:
                if client.has_pending_idle():
                    client.idle_done()
                try:
                    await asyncio.wait_for(idle, self.cfg.timeout_seconds)
                except (TimeoutError, aioimaplib.AioImapException) as exc:
                    raise ImapDown(f"IDLE did not end cleanly: {exc!r}") from exc
        if self._lost.is_set():
            raise ImapDown("connection lost during IDLE")

    async def _push_or_lost(self, client: aioimaplib.IMAP4, timeout: float) -> Any:
        """The next server push, or None when the connection drops or nothing comes in time."""
        push = asyncio.ensure_future(client.wait_server_push(timeout=timeout))
        lost = asyncio.ensure_future(self._lost.wait())
        done, _ = await asyncio.wait({push, lost}, return_when=asyncio.FIRST_COMPLETED)
        lost.cancel()
        if push not in done:
            push.cancel()
            return None
        try:
            return push.result()
        except TimeoutError:
            return None


_INTERNALDATE = re.compile(rb'INTERNALDATE "\s?(\d{1,2}-\w{3}-\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4})"')


def internaldate(line: Any) -> datetime | None:
    """INTERNALDATE from a FETCH response line, as an aware datetime (RFC 3501 date-time)."""
    if isinstance(line, bytearray):
        return None
    found = _INTERNALDATE.search(bytes(line) if not isinstance(line, str) else line.encode())
    if found is None:
        return None
    return datetime.strptime(found.group(1).decode(), "%d-%b-%Y %H:%M:%S %z")


def fetched_messages(
    lines: list[Any], wanted: set[int]
) -> dict[int, tuple[bytes, datetime | None]]:
    """Pair each message literal of a multi-message FETCH response with its UID and
    INTERNALDATE: aioimaplib hands over the "n FETCH (... BODY[] {size}" line, the literal
    as a bytearray, then the line that closes it (where a server may put the UID instead)."""
    found: dict[int, tuple[bytes, datetime | None]] = {}
    uid: int | None = None
    arrived: datetime | None = None
    body: bytes | None = None
    for line in lines:
        if isinstance(line, bytearray):
            body = bytes(line)
            continue
        text = bytes(line) if not isinstance(line, str) else line.encode()
        if _FETCH_LINE.match(text):
            uid, arrived, body = None, None, None
        if (match := _UID.search(text)) is not None:
            uid = int(match.group(1))
        arrived = internaldate(line) or arrived
        if body is not None and uid is not None and uid in wanted:
            found[uid] = (body, arrived)
            uid, arrived, body = None, None, None
    return found


def _text(lines: list[Any]) -> str:
    return " ".join(bytes(x).decode("utf-8", "replace") for x in lines)[:200]
