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
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


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

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path.startswith("/introspect"):
                    user = owner.user_of(form.get("token", ""))
                    code, body = (
                        200,
                        ({"active": True, "username": user} if user else {"active": False}),
                    )
                elif self.path.startswith("/token"):
                    code, body = owner._token(form)
                else:
                    code, body = 404, {"error": "not_found"}
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
