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


def test_the_keys_of_arc_seals_and_message_signatures_are_named_each_once() -> None:
    # A trusted sealer's ARC set is checked in the pure core too, with keys fetched here first.
    sealed = (
        b"ARC-Seal: i=2; cv=pass; a=rsa-sha256; d=microsoft.com; s=arcselector9901; b=x\r\n"
        b"ARC-Message-Signature: i=2; a=rsa-sha256; d=microsoft.com;\r\n s=arcselector9901; "
        b"h=from; bh=a; b=b\r\n"
        b"ARC-Seal: i=1; cv=none; a=rsa-sha256; d=relay.example; s=r1; b=y\r\n" + SIGNED
    )
    assert key_names(sealed) == [
        b"sel1._domainkey.cg.example.",
        b"r2._domainkey.relay.example.",
        b"arcselector9901._domainkey.microsoft.com.",
        b"r1._domainkey.relay.example.",
    ]
