"""OAuth2 access tokens for IMAP and SMTP (SASL XOAUTH2): where they come from, and when to ask
again.

Microsoft 365 and Google Workspace are switching password logins off; the mailbox then proves
itself with a short-lived access token. Three sources: Microsoft's identity platform via MSAL
(client credentials for an app registration, or a device-code sign-in done once with `cgbot
auth login`), Google via google-auth and a stored refresh token, or any command that prints a
token. `Tokens` keeps the current token in memory, asks for a new one a margin before it
expires and again when a server refuses it, and registers every token with `bot.logsafe`, so
that no log line can carry it. What must survive a restart (a refresh token, MSAL's cache) is
written to a file only its owner can read.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bot import logsafe
from bot.config import OAuth2Config, Settings

DEFAULT_LIFETIME = 50 * 60  # a token whose lifetime nobody told us is used this long at most
MICROSOFT_DELEGATED = (  # a user's own mailbox, signed in once with a device code
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
)
MICROSOFT_APP = ("https://outlook.office365.com/.default",)  # an app granted the mailbox
GOOGLE_MAIL = ("https://mail.google.com/",)


class TokenUnavailable(Exception):
    """No access token could be had: the message says from where and what to do."""


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float  # seconds since the epoch


class TokenSource(Protocol):
    """Asks the provider for a new access token (blocking: the caller runs it in a thread)."""

    def fetch(self) -> AccessToken: ...


def sasl_xoauth2(user: str, token: str) -> str:
    """The XOAUTH2 initial response (Google's and Microsoft's documented format), base64."""
    raw = f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
    return logsafe.register(base64.b64encode(raw).decode("ascii"))


def sasl_oauthbearer(user: str, token: str) -> str:
    """The OAUTHBEARER initial response (RFC 7628 section 3.1), base64: a GS2 header naming the
    user (`,` and `=` escaped), then the bearer token."""
    authzid = user.replace("=", "=3D").replace(",", "=2C")
    raw = f"n,a={authzid},\x01auth=Bearer {token}\x01\x01".encode()
    return logsafe.register(base64.b64encode(raw).decode("ascii"))


# The client's answer to a server's error challenge, after which the server says NO/535:
# RFC 7628 asks OAUTHBEARER clients for a lone %x01; XOAUTH2 clients send an empty line.
SASL_ABORT = {"OAUTHBEARER": "AQ==", "XOAUTH2": ""}


def sasl_initial(mechanism: str, user: str, token: str) -> str:
    return (sasl_oauthbearer if mechanism == "OAUTHBEARER" else sasl_xoauth2)(user, token)


def pick_mechanism(offered: set[str]) -> str:
    """OAUTHBEARER, the standard, where the server offers it; else XOAUTH2 (Google's and
    Microsoft's own, which both offer)."""
    return "OAUTHBEARER" if "OAUTHBEARER" in {m.upper() for m in offered} else "XOAUTH2"


class Tokens:
    """The current access token: fetched when missing, `margin` seconds before it expires, or
    when the caller says the server refused it (`refused`)."""

    def __init__(
        self,
        source: TokenSource,
        margin: float = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.margin = margin
        self.clock = clock
        self._current: AccessToken | None = None
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            current = self._current
            if current is None or current.expires_at - self.margin <= self.clock():
                current = self._current = self._fetch()
            return current.value

    def refused(self, token: str) -> None:
        """The server refused `token`: the next `get` asks the provider for a new one (unless
        another connection already did)."""
        with self._lock:
            if self._current is not None and self._current.value == token:
                self._current = None

    def _fetch(self) -> AccessToken:
        token = self.source.fetch()
        if not token.value:
            raise TokenUnavailable("the token source gave an empty token")
        logsafe.register(token.value)
        return token


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, replacing it atomically (never a moment world-
    readable, never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)


def _lifetime(data: dict[str, Any], now: float) -> float:
    expires_in = data.get("expires_in")
    if isinstance(expires_in, int | float) or (
        isinstance(expires_in, str) and expires_in.isdigit()
    ):
        return now + float(expires_in)
    return now + DEFAULT_LIFETIME


@dataclass
class CommandTokens:
    """`token_command`: its standard output is the token, or a JSON object with
    `access_token` and `expires_in` (what `oauth2l`, `az account get-access-token` and most
    helpers print)."""

    command: str
    timeout: float = 60

    def fetch(self) -> AccessToken:
        argv = shlex.split(self.command)
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TokenUnavailable(f"oauth2.token_command {argv[0]!r}: {exc}") from exc
        if done.returncode != 0:
            error = done.stderr.strip().splitlines()[-1:] or ["no message"]
            raise TokenUnavailable(
                f"oauth2.token_command {argv[0]!r} exited {done.returncode}: {error[0][:200]}"
            )
        out, now = done.stdout.strip(), time.time()
        if out.startswith("{"):
            try:
                data = json.loads(out)
            except json.JSONDecodeError as exc:
                raise TokenUnavailable(f"oauth2.token_command printed bad JSON: {exc}") from exc
            token = data.get("access_token") or data.get("accessToken") or ""
            return AccessToken(str(token), _lifetime(data, now))
        return AccessToken(out.splitlines()[0] if out else "", now + DEFAULT_LIFETIME)


def _scopes(cfg: OAuth2Config, default: tuple[str, ...]) -> list[str]:
    return list(cfg.scopes) or list(default)


@dataclass
class GoogleTokens:
    """Google Workspace: the refresh token stored by `cgbot auth login`, exchanged by
    google-auth for an access token."""

    cfg: OAuth2Config
    client_secret: str
    token_file: Path

    def fetch(self) -> AccessToken:
        from google.auth.exceptions import RefreshError
        from google.auth.transport.requests import Request
        from google.oauth2.credentials import Credentials

        refresh_token = _stored(self.token_file).get("refresh_token")
        if not refresh_token:
            raise TokenUnavailable(
                f"{self.token_file}: no refresh token stored; run `cgbot auth login` once"
            )
        creds = Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token=refresh_token,
            token_uri=self.cfg.token_url,
            client_id=self.cfg.client_id,
            client_secret=self.client_secret,
            scopes=_scopes(self.cfg, GOOGLE_MAIL),
        )
        try:
            creds.refresh(Request())  # type: ignore[no-untyped-call]
        except RefreshError as exc:
            raise TokenUnavailable(f"Google refused the refresh token: {exc}") from exc
        return AccessToken(str(creds.token or ""), _google_expiry(creds.expiry))

    def login(self, say: Callable[[str], None], timeout: float = 600) -> AccessToken:
        """Google's loopback sign-in (RFC 8252, with PKCE): the Secretariat opens the address
        shown on the machine where cgbot runs (or forwards the port), signs in as the
        mailbox, and the refresh token Google returns is stored."""
        from bot.mail.oauth_loopback import authorization_code

        code, redirect, verifier = authorization_code(
            self.cfg.auth_url, self.cfg.client_id, _scopes(self.cfg, GOOGLE_MAIL), say, timeout
        )
        data = _post_form(
            self.cfg.token_url,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "client_id": self.cfg.client_id,
                "client_secret": self.client_secret,
                "code_verifier": verifier,
            },
        )
        if not data.get("refresh_token"):
            raise TokenUnavailable(f"Google returned no refresh token: {data.get('error')}")
        write_private(self.token_file, json.dumps({"refresh_token": data["refresh_token"]}))
        return AccessToken(str(data.get("access_token", "")), _lifetime(data, time.time()))


def _google_expiry(expiry: datetime | None) -> float:
    if expiry is None:
        return time.time() + DEFAULT_LIFETIME
    return (expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)).timestamp()  # naive UTC


def _post_form(url: str, form: dict[str, Any]) -> dict[str, Any]:
    import requests

    try:
        answer = requests.post(url, data=form, timeout=30)
        data = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise TokenUnavailable(f"{url}: {exc}") from exc
    if not isinstance(data, dict):
        raise TokenUnavailable(f"{url}: answered {answer.status_code} without a JSON object")
    if answer.status_code != 200:
        raise TokenUnavailable(f"{url}: {data.get('error_description') or data.get('error')}")
    return data


@dataclass
class MicrosoftTokens:
    """Microsoft 365 through MSAL: an app's client credentials, or the account signed in once
    with a device code, whose refresh token MSAL keeps in its (private) cache file."""

    cfg: OAuth2Config
    client_secret: str | None
    token_file: Path

    @property
    def authority(self) -> str:
        base = self.cfg.authority or "https://login.microsoftonline.com"
        return f"{base.rstrip('/')}/{self.cfg.tenant}"

    def _cache(self) -> Any:
        import msal

        cache = msal.SerializableTokenCache()
        if self.token_file.exists():
            cache.deserialize(self.token_file.read_text(encoding="utf-8"))
        return cache

    def _save(self, cache: Any) -> None:
        if cache.has_state_changed:
            write_private(self.token_file, cache.serialize())

    def _app(self, cache: Any) -> Any:
        import msal

        # Another login host (a national cloud, an ADFS, the tests' own) is used as given:
        # MSAL's instance discovery would ask login.microsoftonline.com about it.
        where = {"authority": self.authority, "token_cache": cache}
        if self.cfg.authority:
            where["instance_discovery"] = False
        if self.cfg.flow == "client-credentials":
            return msal.ConfidentialClientApplication(
                self.cfg.client_id, client_credential=self.client_secret, **where
            )
        return msal.PublicClientApplication(self.cfg.client_id, **where)

    def fetch(self) -> AccessToken:
        cache = self._cache()
        app = self._app(cache)
        if self.cfg.flow == "client-credentials":
            result = app.acquire_token_for_client(scopes=_scopes(self.cfg, MICROSOFT_APP))
        else:
            accounts = app.get_accounts()
            if not accounts:
                raise TokenUnavailable(
                    f"{self.token_file}: no Microsoft account signed in; run `cgbot auth login`"
                )
            result = app.acquire_token_silent(
                _scopes(self.cfg, MICROSOFT_DELEGATED), account=accounts[0]
            )
        self._save(cache)
        return _msal_token(result)

    def login(self, say: Callable[[str], None]) -> AccessToken:
        """The device-code sign-in: the Secretariat opens the address shown, types the code and
        signs in as the mailbox; MSAL's cache (with the refresh token) is then stored."""
        cache = self._cache()
        app = self._app(cache)
        if self.cfg.flow == "client-credentials":
            result = app.acquire_token_for_client(scopes=_scopes(self.cfg, MICROSOFT_APP))
        else:
            flow = app.initiate_device_flow(scopes=_scopes(self.cfg, MICROSOFT_DELEGATED))
            if "user_code" not in flow:
                raise TokenUnavailable(f"Microsoft refused the device sign-in: {flow}")
            say(str(flow["message"]))
            result = app.acquire_token_by_device_flow(flow)
        self._save(cache)
        return _msal_token(result)


def _msal_token(result: dict[str, Any] | None) -> AccessToken:
    if not result or "access_token" not in result:
        detail = (result or {}).get("error_description") or (result or {}).get("error")
        raise TokenUnavailable(f"Microsoft gave no token: {detail or 'no cached sign-in'}")
    return AccessToken(str(result["access_token"]), _lifetime(result, time.time()))


def _stored(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise TokenUnavailable(f"{path}: cannot read the stored token: {exc}") from exc
    return data if isinstance(data, dict) else {}


def token_source(cfg: OAuth2Config, client_secret: str | None, token_file: Path) -> TokenSource:
    """The configured provider's source of access tokens."""
    if cfg.provider == "command":
        return CommandTokens(cfg.token_command)
    if cfg.provider == "google":
        return GoogleTokens(cfg, client_secret or "", token_file)
    return MicrosoftTokens(cfg, client_secret, token_file)


def tokens_for(settings: Settings) -> Tokens | None:
    """The tokens the mailbox and the SMTP server share, when either signs in with OAuth2."""
    cfg = settings.model
    if cfg.oauth2 is None or "oauth2" not in (cfg.mailbox.auth, cfg.smtp.auth):
        return None
    source = token_source(cfg.oauth2, settings.oauth2_client_secret, settings.oauth2_token_file)
    return Tokens(source, cfg.oauth2.refresh_margin_seconds)
