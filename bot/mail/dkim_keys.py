"""DKIM public keys fetched before the pipeline runs, so that proving a sender (pure, in
inbound/sender_check.py) reads them as data and the core never opens a socket."""

from __future__ import annotations

import re
from collections.abc import Callable

import dkim.dnsplug

from bot.inbound.parse import read_headers

Lookup = Callable[[bytes], bytes | None]
_TAG = re.compile(rb"(?:^|;)\s*([a-z]+)\s*=\s*([^;]*)")
MAX_SIGNATURES = 5  # as sender_check: a sender may add any number of signatures


def _dns(name: bytes) -> bytes | None:
    try:
        found: bytes | None = dkim.dnsplug.get_txt(name, timeout=5)
    except Exception:  # no answer is no key: the proof fails closed
        return None
    return found


def key_names(raw: bytes) -> list[bytes]:
    """The DNS names of the keys the message's DKIM signatures and ARC sets point at (selector,
    domain), each once."""
    try:
        headers = read_headers(raw)
    except Exception:
        return []
    names: list[bytes] = []
    for field in ("dkim-signature", "arc-seal", "arc-message-signature"):
        for value in headers.get_all(field, [])[:MAX_SIGNATURES]:
            tags = dict(_TAG.findall(re.sub(rb"\s+", b"", str(value).encode())))
            name = tags.get(b"s", b"") + b"._domainkey." + tags.get(b"d", b"") + b"."
            if tags.get(b"s") and tags.get(b"d") and name not in names:
                names.append(name)
    return names


def fetch(raw: bytes, lookup: Lookup = _dns) -> dict[bytes, bytes | None]:
    """Each key named by the message's signatures, looked up once (None when not found)."""
    return {name: lookup(name) for name in key_names(raw)}
