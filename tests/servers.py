"""Real servers on loopback for the tests: Dovecot (IMAP) from a throwaway config, aiosmtpd (SMTP).

Dovecot runs as root with `mail_uid`/`mail_gid` set to an unprivileged numeric id that owns the
mail folders (without it LOGIN succeeds and SELECT fails). Each test gets its own IMAP user, so
mailboxes never leak between tests while one server serves the whole session."""

from __future__ import annotations

import base64
import contextlib
import imaplib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, Session

MAIL_UID = 5000
DH_PARAMS = Path("/usr/share/dovecot/dh.pem")  # shipped by Debian's dovecot-core


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
verbose_proctitle = yes
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
ssl_dh = <{root}/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanisms}
mail_location = maildir:{root}/mail/%u/Maildir
mail_uid = {uid}
mail_gid = {uid}
first_valid_uid = {uid}
login_trusted_networks = 127.0.0.0/8
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
{oauth2_passdb}userdb {{
  driver = static
  args = uid={uid} gid={uid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass
class Dovecot:
    root: Path
    port: int  # IMAP, plain or STARTTLS
    imaps_port: int = 0  # IMAP over TLS
    _users: int = 0

    @property
    def ca_file(self) -> Path:
        """The test CA that signed the server's certificate (for 127.0.0.1)."""
        return self.root / "ca.pem"

    @property
    def conf(self) -> Path:
        return self.root / "dovecot.conf"

    def start(self) -> None:
        subprocess.run(
            ["dovecot", "-c", str(self.conf)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        subprocess.run(
            ["doveadm", "-c", str(self.conf), "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.05)

    def connection_pids(self, user: str) -> list[int]:
        """The IMAP processes serving `user`, as this server's own `doveadm who` lists them."""
        out = subprocess.run(
            ["doveadm", "-c", str(self.conf), "who", "-1", user],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(row.split()[2]) for row in out.splitlines()[1:] if len(row.split()) >= 3]

    @staticmethod
    def drop_connections(pids: list[int]) -> None:
        """Kill those processes (by id, never by name): a hard cut of the connections."""
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def new_user(self) -> tuple[str, str]:
        """A fresh account with an empty INBOX."""
        self._users += 1
        user, password = f"cg{self._users}-{os.getpid()}", f"pw-{self._users}"
        with open(self.root / "passwd", "a") as fh:
            fh.write(f"{user}:{{PLAIN}}{password}\n")
        home = self.root / "mail" / user
        home.mkdir(parents=True)
        os.chown(home, MAIL_UID, MAIL_UID)
        self._wait_until_known(user, password)
        return user, password

    def _wait_until_known(self, user: str, password: str) -> None:
        """Dovecot looks at a passwd-file at most once a second: a user added in the second of
        the last login is unknown until the next one. Wait for that rather than fail a test."""
        deadline = time.monotonic() + 5
        while True:
            try:
                self.imap(user, password).logout()
                return
            except imaplib.IMAP4.error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def imap(self, user: str, password: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(user, password)
        return client

    def append(
        self,
        user: str,
        password: str,
        raw: bytes,
        folder: str = "INBOX",
        received: float | None = None,
    ) -> None:
        """Deliver a message the way a mail client or server would: IMAP APPEND, with the
        server's arrival time (INTERNALDATE) `received` seconds since the epoch, else now."""
        client = self.imap(user, password)
        when = imaplib.Time2Internaldate(time.time() if received is None else received)
        try:
            typ, data = client.append(folder, "", when, raw)
            assert typ == "OK", data
        finally:
            client.logout()

    def count(self, user: str, password: str, folder: str = "INBOX") -> int:
        client = self.imap(user, password)
        try:
            typ, data = client.select(folder, readonly=True)
            assert typ == "OK", data
            return int(data[0] or 0)
        finally:
            client.logout()


OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = {mechanisms}
  args = {root}/dovecot-oauth2.conf.ext
}}
"""

# RFC 7662 introspection, as a WSO2 or Keycloak deployment configures it.
OAUTH2_CONF = """\
introspection_mode = post
introspection_url = {url}/introspect
username_attribute = username
active_attribute = active
active_value = true
force_introspection = yes
"""


def start_dovecot(
    root: Path, oauth2_url: str | None = None, oauth2_mechanisms: str = "xoauth2 oauthbearer"
) -> Dovecot:
    """A Dovecot on loopback; with `oauth2_url`, it also takes SASL `oauth2_mechanisms` and asks
    that server's /introspect whether a token is good."""
    if shutil.which("dovecot") is None:
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(exist_ok=True)
    os.chmod(root, 0o755)
    (root / "passwd").write_text("")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    cert.private_key_pem.write_to_path(str(root / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(root / "server.pem"))
    shutil.copyfile(DH_PARAMS, root / "dh.pem")
    server = Dovecot(root, free_port(), free_port())
    server.conf.write_text(
        DOVECOT_CONF.format(
            root=root,
            port=server.port,
            imaps_port=server.imaps_port,
            uid=MAIL_UID,
            internal="dovenull",
            login="dovenull",
            oauth2_passdb=(
                OAUTH2_PASSDB.format(root=root, mechanisms=oauth2_mechanisms) if oauth2_url else ""
            ),
            oauth2_mechanisms=f" {oauth2_mechanisms}" if oauth2_url else "",
        )
    )
    if oauth2_url:
        (root / "dovecot-oauth2.conf.ext").write_text(OAUTH2_CONF.format(url=oauth2_url))
    server.start()
    return server


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.raw, policy=default)


@dataclass
class SmtpSink:
    """An aiosmtpd server that keeps every message it accepts."""

    port: int = 0
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None
    tls: dict[str, Any] = field(default_factory=dict)  # Controller's ssl_context / tls_context
    sessions: set[int] = field(default_factory=set)  # one per SMTP connection that sent mail

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        with self.lock:
            self.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), raw))
            self.sessions.add(id(session))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.port = self.port or free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **self.tls)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [m for m in self.messages if address in m.recipients]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise TimeoutError(f"{len(self.messages)} of {count} mails arrived in {timeout}s")


@dataclass
class XOAuth2Sink(SmtpSink):
    """An SmtpSink that requires SASL XOAUTH2 (RFC 4954 AUTH with an initial response) and
    asks `user_of` (the test's token server) whether the bearer token belongs to the user."""

    user_of: Any = None
    logins: list[str] = field(default_factory=list)  # users signed in, one per session

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        try:
            fields = base64.b64decode(args[1]).decode().split("\x01")
            user = fields[0].removeprefix("user=")
            token = fields[1].removeprefix("auth=Bearer ")
        except (IndexError, ValueError):
            return AuthResult(success=False, handled=False)
        return self._check(user, token)

    def _check(self, user: str, token: str) -> AuthResult:
        if self.user_of(token) != user:
            return AuthResult(success=False, handled=False)  # handled=False: 535 at once
        self.logins.append(user)
        return AuthResult(success=True, auth_data=user)

    def start(self) -> None:
        self.port = self.port or free_port()
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            auth_required=True,
            auth_require_tls=False,  # loopback, no TLS in this test server
            **self.tls,
        )
        self.controller.start()


@dataclass
class OAuthBearerSink(XOAuth2Sink):
    """The same, offering SASL OAUTHBEARER (RFC 7628) beside XOAUTH2."""

    mechanisms_used: list[str] = field(default_factory=list)

    async def auth_OAUTHBEARER(self, server: Any, args: list[str]) -> AuthResult:
        try:
            gs2, *fields = base64.b64decode(args[1]).decode().split("\x01")
            user = gs2.split(",")[1].removeprefix("a=").replace("=2C", ",").replace("=3D", "=")
            token = next(f for f in fields if f.startswith("auth=")).removeprefix("auth=Bearer ")
        except (IndexError, ValueError, StopIteration):
            return AuthResult(success=False, handled=False)
        self.mechanisms_used.append("OAUTHBEARER")
        return self._check(user, token)
