"""A small OAuth2 authorization server on loopback for the tests: Dovecot's `oauth2` passdb asks
its introspection endpoint (RFC 7662) whether a token is good, google-auth refreshes tokens at
its token endpoint, and `cgbot auth login` exchanges a PKCE code there.

It issues opaque tokens, can revoke them (what an expired or withdrawn token looks like to a
mail server), and records each token it was asked about, so a test can show which token a
login used without ever reading the bot's log for it."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import trustme


class JsonHandler(BaseHTTPRequestHandler):
    """Form posts in, JSON out, nothing logged (a token endpoint's traffic holds tokens)."""

    def form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        return {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}

    def reply(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(
    handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def shut(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


@dataclass
class TokenServer:
    client_id: str = "cgbot-test-client"
    client_secret: str = "client-secret-for-tests"
    valid: dict[str, str] = field(default_factory=dict)  # access token -> user
    refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> user
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (user, challenge)
    asked: list[str] = field(default_factory=list)  # tokens introspected, in order
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def issue(self, user: str) -> str:
        token = "at-" + secrets.token_urlsafe(24)
        with self.lock:
            self.valid[token] = user
        return token

    def revoke(self, token: str) -> None:
        with self.lock:
            self.valid.pop(token, None)

    def user_of(self, token: str) -> str | None:
        with self.lock:
            self.asked.append(token)
            return self.valid.get(token)

    def refresh_token(self, user: str) -> str:
        token = "rt-" + secrets.token_urlsafe(24)
        with self.lock:
            self.refresh[token] = user
        return token

    def expect_code(self, user: str, challenge: str) -> str:
        code = "code-" + secrets.token_urlsafe(12)
        with self.lock:
            self.codes[code] = (user, challenge)
        return code

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type")
        if grant == "refresh_token":
            user = self.refresh.get(form.get("refresh_token", ""))
            if user is None:
                return 400, {"error": "invalid_grant", "error_description": "unknown token"}
            return 200, {
                "access_token": self.issue(user),
                "expires_in": 3599,
                "token_type": "Bearer",
            }
        if grant == "authorization_code":
            user, challenge = self.codes.pop(form.get("code", ""), (None, ""))
            verifier = form.get("code_verifier", "").encode()
            made = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if user is None or made.decode() != challenge:
                return 400, {"error": "invalid_grant"}
            return 200, {
                "access_token": self.issue(user),
                "refresh_token": self.refresh_token(user),
                "expires_in": 3599,
                "token_type": "Bearer",
            }
        return 400, {"error": "unsupported_grant_type"}

    def start(self) -> None:
        owner = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                form = self.form()
                if self.path.startswith("/introspect"):
                    user = owner.user_of(form.get("token", ""))
                    self.reply(
                        200, {"active": True, "username": user} if user else {"active": False}
                    )
                elif self.path.startswith("/token"):
                    self.reply(*owner._token(form))
                else:
                    self.reply(404, {"error": "not_found"})

        self.server = serve(Handler)

    def stop(self) -> None:
        shut(self.server)
        self.server = None


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    """An id_token as MSAL reads it (it decodes the claims; the signature is the server's
    business, and this test server is the only issuer)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


@dataclass
class MicrosoftIdentity:
    """Enough of Microsoft's identity platform (v2.0 endpoints, over HTTPS) for MSAL: the
    tenant's OpenID configuration, client credentials, the device-code flow and refresh
    tokens. Access tokens are issued by `tokens`, so Dovecot's introspection accepts them."""

    tokens: TokenServer
    mailbox: str  # the user every token is for
    tenant: str = "contoso.example"
    client_secret: str = "ms-client-secret-for-tests"
    approved: set[str] = field(default_factory=set)  # user codes the "person" has entered
    devices: dict[str, str] = field(default_factory=dict)  # device code -> user code
    grants: list[str] = field(default_factory=list)  # grant types asked for, in order
    server: ThreadingHTTPServer | None = None
    ca_file: str = ""

    @property
    def authority_host(self) -> str:
        assert self.server is not None
        return f"https://127.0.0.1:{self.server.server_port}"

    def approve(self, user_code: str) -> None:
        self.approved.add(user_code)

    def _configuration(self) -> dict[str, Any]:
        base = f"{self.authority_host}/{self.tenant}"
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        }

    def _tokens_for(self, client_id: str, with_refresh: bool) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": 3599,
            "access_token": self.tokens.issue(self.mailbox),
            "scope": "https://outlook.office.com/IMAP.AccessAsUser.All",
        }
        if with_refresh:
            now = int(time.time())
            answer["refresh_token"] = self.tokens.refresh_token(self.mailbox)
            answer["id_token"] = _unsigned_jwt(
                {"iss": self._configuration()["issuer"], "aud": client_id, "sub": "s1",
                 "oid": "o1", "tid": "t1", "preferred_username": self.mailbox,
                 "iat": now, "nbf": now, "exp": now + 3600}
            )  # fmt: skip
            answer["client_info"] = (
                base64.urlsafe_b64encode(json.dumps({"uid": "o1", "utid": "t1"}).encode())
                .decode()
                .rstrip("=")
            )
        return answer

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        self.grants.append(grant)
        if grant == "client_credentials":
            if form.get("client_secret") != self.client_secret:
                return 401, {"error": "invalid_client"}
            return 200, self._tokens_for(form.get("client_id", ""), with_refresh=False)
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            user_code = self.devices.get(form.get("device_code", ""))
            if user_code is None:
                return 400, {"error": "expired_token"}
            if user_code not in self.approved:
                return 400, {"error": "authorization_pending"}
            return 200, self._tokens_for(form.get("client_id", ""), with_refresh=True)
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.tokens.refresh:
                return 400, {"error": "invalid_grant"}
            return 200, self._tokens_for(form.get("client_id", ""), with_refresh=True)
        return 400, {"error": "unsupported_grant_type"}

    def _device(self) -> dict[str, Any]:
        device, user_code = secrets.token_urlsafe(16), secrets.token_hex(4).upper()
        self.devices[device] = user_code
        return {
            "device_code": device,
            "user_code": user_code,
            "verification_uri": f"{self.authority_host}/devicelogin",
            "expires_in": 900,
            "interval": 1,
            "message": f"To sign in, open {self.authority_host}/devicelogin and enter the code "
            f"{user_code} to authenticate.",
        }

    def start(self, folder: Path) -> None:
        owner = self
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(folder / "identity-ca.pem"))
        self.ca_file = str(folder / "identity-ca.pem")

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0].endswith("/v2.0/.well-known/openid-configuration"):
                    self.reply(200, owner._configuration())
                else:
                    self.reply(404, {"error": "not_found"})

            def do_POST(self) -> None:
                if self.path.endswith("/oauth2/v2.0/token"):
                    self.reply(*owner._token(self.form()))
                elif self.path.endswith("/oauth2/v2.0/devicecode"):
                    self.reply(200, owner._device())
                else:
                    self.reply(404, {"error": "not_found"})

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self.server = serve(Handler, context)

    def stop(self) -> None:
        shut(self.server)
        self.server = None
