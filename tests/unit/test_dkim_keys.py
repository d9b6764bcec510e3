"""The shell fetches the DKIM keys a message's signatures name, before the pure pipeline runs."""

from __future__ import annotations

from bot.mail.dkim_keys import fetch, key_names

SIGNED = (
    b"DKIM-Signature: v=1; a=rsa-sha256; d=cg.example; s=sel1;\r\n h=from:to; bh=abc; b=xyz\r\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; d=relay.example;\r\n s=r2; h=from; bh=a; b=b\r\n"
    b"From: Secretariat <secretariat@cg.example>\r\n\r\nbody"
)


def test_each_signature_names_its_selector_and_domain() -> None:
    # The names dkimpy asks for: selector._domainkey.domain. with the trailing dot.
    assert key_names(SIGNED) == [b"sel1._domainkey.cg.example.", b"r2._domainkey.relay.example."]


def test_each_key_is_looked_up_once_through_the_given_resolver() -> None:
    asked: list[bytes] = []

    def lookup(name: bytes) -> bytes | None:
        asked.append(name)
        return b"v=DKIM1; k=rsa; p=AAAA" if name.startswith(b"sel1") else None

    keys = fetch(SIGNED, lookup)
    assert asked == key_names(SIGNED)
    assert keys[b"sel1._domainkey.cg.example."] == b"v=DKIM1; k=rsa; p=AAAA"


def test_an_unsigned_message_asks_nothing() -> None:
    assert fetch(b"From: a@cg.example\r\n\r\nbody", lambda name: b"never") == {}
