"""Which item and person a reply answers: by the bot's signed Message-ID tokens, then a subject tag.

The bot mints one Message-ID per personal mail: `<cg.I.P.NONCE.SIG@domain>` where I is the
item, P the person it was sent to, and SIG an HMAC of the rest under the installation's secret.
A reply carries it in In-Reply-To/References, so the reply names its item and intended reader
without trusting the From line, and a token cannot be made up without the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from bot.domain.message import InboundMessage

_TOKEN = re.compile(r"^<cg\.(\d+)\.(\d+)\.([a-z2-7]{8,})\.([a-z2-7]{16})@([^>@\s]+)>$")


@dataclass(frozen=True)
class Token:
    item_id: int  # 0 when the mail was not about an item
    person_id: int  # 0 when the mail went to a group of addresses
    message_id: str


def _sign(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:16]


def mint_message_id(secret: str, domain: str, item_id: int | None, person_id: int | None) -> str:
    """A new, unguessable Message-ID that names the item and the person it is for."""
    nonce = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    body = f"{item_id or 0}.{person_id or 0}.{nonce}"
    return f"<cg.{body}.{_sign(secret, body)}@{domain}>"


def stable_token(secret: str, domain: str, item_id: int) -> str:
    """The same signed token for an item every time (a calendar event's UID, without <>):
    an update or a cancellation must name the event the calendar already holds."""
    seed = hmac.new(secret.encode(), f"uid.{item_id}".encode(), hashlib.sha256).digest()[:10]
    nonce = base64.b32encode(seed).decode().lower()
    body = f"{item_id}.0.{nonce}"
    return f"cg.{body}.{_sign(secret, body)}@{domain}"


def read_token(message_id: str, secret: str) -> Token | None:
    """The token in one of our Message-IDs, or None if it is not ours or its signature is wrong."""
    match = _TOKEN.match(message_id.strip().lower())
    if not match:
        return None
    item, person, nonce, sig = match.group(1, 2, 3, 4)
    if not hmac.compare_digest(_sign(secret, f"{item}.{person}.{nonce}"), sig):
        return None
    return Token(int(item), int(person), message_id.strip())


def find_token(msg: InboundMessage, secret: str) -> Token | None:
    """The most recent mail of ours this one answers: In-Reply-To first, then References."""
    for mid in (*msg.in_reply_to, *reversed(msg.references)):
        token = read_token(mid, secret)
        if token is not None and token.item_id:
            return token
    return None


def subject_tag(subject: str, tag: str) -> int | None:
    """The item number in a subject tag such as `[CG-12]`."""
    match = re.search(rf"\[{re.escape(tag)}-(\d+)\]", subject, re.IGNORECASE)
    return int(match.group(1)) if match else None


def is_own_message_id(message_id: str, secret: str) -> bool:
    return read_token(message_id, secret) is not None
