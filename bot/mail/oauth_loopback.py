"""The OAuth2 authorization-code sign-in of a native app (RFC 8252 loopback redirect, RFC 7636
PKCE): show the provider's sign-in address, receive the code on 127.0.0.1, once.

Google does not offer its mail scope to the device-code flow, so `cgbot auth login` for a
Google mailbox uses this; the state parameter ties the answer to this sign-in and PKCE keeps a
code seen by another program on the machine useless."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlparse


class SignInFailed(Exception):
    """The provider sent an error back, or nobody signed in before the timeout."""


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_code(
    auth_url: str,
    client_id: str,
    scopes: list[str],
    say: Callable[[str], None],
    timeout: float = 600,
) -> tuple[str, str, str]:
    """(code, redirect_uri, PKCE verifier) once the mailbox's owner has signed in."""
    state = secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    answer: dict[str, str] = {}
    received = threading.Event()

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            if query.get("state") != state:
                self.send_error(400, "not this sign-in")
                return
            answer.update(query)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"cgbot: signed in; you can close this window.\n")
            received.set()

        def log_message(self, format: str, *args: object) -> None:
            """The query holds the code: never printed."""

    server = HTTPServer(("127.0.0.1", 0), Callback)
    redirect = f"http://127.0.0.1:{server.server_port}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        query = urlencode(
            {
                "client_id": client_id,
                "redirect_uri": redirect,
                "response_type": "code",
                "scope": " ".join(scopes),
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "access_type": "offline",  # Google: give a refresh token
                "prompt": "consent",  # ...even if this account consented before
            }
        )
        say(f"Open this address in a browser and sign in as the mailbox:\n{auth_url}?{query}")
        if not received.wait(timeout):
            raise SignInFailed(f"nobody signed in within {timeout:.0f} s")
    finally:
        server.shutdown()
        server.server_close()
    if "code" not in answer:
        raise SignInFailed(f"the provider answered: {answer.get('error', 'no code')}")
    return answer["code"], redirect, verifier
