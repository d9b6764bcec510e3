"""Acting as the Secretariat or the Chair needs one unambiguous From, proved by DMARC or DKIM."""

from __future__ import annotations

import hashlib

import dkim
import pytest
from dkim.canonicalization import CanonicalizationPolicy
from dkim.crypto import parse_pem_private_key

from bot.inbound.sender_check import (
    AmbiguousSender,
    Verification,
    _agreed,
    single_from,
    verify_sender,
)
from tests.signing import Signer, new_signer

SECRETARIAT = "secretariat@cg.example"
TRUSTED = frozenset({"mx.cg.example"})
SELECTOR = b"sel"


def mail(from_: str = f"Secretariat <{SECRETARIAT}>", above: str = "", body: str = "") -> bytes:
    """A command mail; `above` holds headers (CRLF-terminated) put on top, as servers add them."""
    text = (
        f"{above}From: {from_}\r\nTo: cg-bot@cg.example\r\nSubject: BALLOT: close CG-1\r\n"
        f"Message-ID: <c1@cg.example>\r\n\r\n{body or 'Close ballot CG-1 now.'}\r\n"
    )
    return text.encode()


def ar(value: str) -> str:
    return f"Authentication-Results: {value}\r\n"


def verify(raw: bytes, from_addr: str = SECRETARIAT) -> bool:
    """Verification with no DKIM key anywhere, so only the headers can prove anything."""
    return verify_sender(raw, from_addr, TRUSTED, lambda name: None).verified


# --- single_from ----------------------------------------------------------------------------

GOOD_FROM = [
    (f"Secretariat <{SECRETARIAT}>", SECRETARIAT),
    ("SECRETARIAT@CG.Example", SECRETARIAT),
    ('"Okafor, Grace" <chair@board.example>', "chair@board.example"),
    ("Grace O. Okafor <chair@board.example>", "chair@board.example"),
    ("=?UTF-8?Q?Chlo=C3=A9_Martin?= <chloe@members.example>", "chloe@members.example"),
    ("Chloé Martin <chloe@members.example>", "chloe@members.example"),
    ("chair@board.example (Grace Okafor)", "chair@board.example"),
]


@pytest.mark.parametrize(("value", "address"), GOOD_FROM)
def test_single_from_reads_ordinary_senders(value: str, address: str) -> None:
    # Strictness must not refuse the forms real members' clients write (commas, dots, UTF-8).
    assert single_from(mail(value)) == address


def test_sender_header_is_not_a_second_from() -> None:
    # A Sender header (lists, assistants) is a different header and does not make From ambiguous.
    assert single_from(mail(above="Sender: assistant@cg.example\r\n")) == SECRETARIAT


def test_no_from_header() -> None:
    # A mail without From names nobody, so nobody can be acted for.
    raw = b"To: cg-bot@cg.example\r\nSubject: x\r\n\r\nbody\r\n"
    with pytest.raises(AmbiguousSender, match="no From header"):
        single_from(raw)


def test_empty_from_header() -> None:
    # An empty From is no sender either.
    with pytest.raises(AmbiguousSender, match="empty"):
        single_from(mail(""))


def test_two_from_headers() -> None:
    # Readers disagree on which of two From headers counts (first, last, DMARC's), so refuse both.
    with pytest.raises(AmbiguousSender, match="2 From headers"):
        single_from(mail(above="From: attacker@evil.example\r\n"))


def test_obsolete_from_spelling_counts_as_a_second_from() -> None:
    # "From :" is dropped by Python's parser but read as From by lenient servers.
    with pytest.raises(AmbiguousSender, match="From headers"):
        single_from(mail(above="From : attacker@evil.example\r\n"))


def test_from_hidden_behind_a_bare_cr() -> None:
    # Python splits lines on a bare CR, other readers do not: the hidden From is a second From.
    with pytest.raises(AmbiguousSender, match="From headers"):
        single_from(mail(above="X-Note: hello\rFrom: attacker@evil.example\r\n"))


def test_from_after_a_broken_header_line() -> None:
    # Python stops reading headers at a line with no colon; a From further down still counts.
    raw = mail(above=f"From: {SECRETARIAT}\r\nnot a header\r\n").replace(
        f"From: Secretariat <{SECRETARIAT}>".encode(), b"From: attacker@evil.example"
    )
    with pytest.raises(AmbiguousSender):
        single_from(raw)


AMBIGUOUS_FROM = [
    # two addresses, plainly or after a quoted display name holding a comma
    f"{SECRETARIAT}, attacker@evil.example",
    f'"Okafor, Grace" <{SECRETARIAT}>, attacker@evil.example',
    f'"Secretariat, {SECRETARIAT}" <attacker@evil.example>',
    # the display name shows one address, the angle brackets hold another
    f'"{SECRETARIAT}" <attacker@evil.example>',
    f"{SECRETARIAT} <attacker@evil.example>",
    f"attacker@evil.example ({SECRETARIAT})",
    "=?utf-8?q?secretariat=40cg.example?= <attacker@evil.example>",
    # encoded words in the address part (the email package decodes them into an address)
    "=?utf-8?q?secretariat=40cg.example?=",
    "Secretariat <=?utf-8?q?secretariat?=@cg.example>",
    # unbalanced quotes, angle brackets and parentheses
    f"Secretariat <{SECRETARIAT}",
    f"Secretariat {SECRETARIAT}>",
    f'"Secretariat <{SECRETARIAT}>',
    f"(Secretariat <{SECRETARIAT}>",
    f"Secretariat) <{SECRETARIAT}>",
    f"Secretariat <<{SECRETARIAT}>>",
    # quoted local parts, two @, group syntax, source routes
    f'"{SECRETARIAT}"@evil.example',
    f"{SECRETARIAT}@evil.example",
    f"Board: {SECRETARIAT};",
    f"Secretariat <@relay.example:{SECRETARIAT}>",
]


@pytest.mark.parametrize("value", AMBIGUOUS_FROM)
def test_ambiguous_from_values(value: str) -> None:
    # Each of these is read as a different (or no) address by some parser or some mail client.
    with pytest.raises(AmbiguousSender):
        single_from(mail(value))


@pytest.mark.parametrize("separator", list('()<>[]@;:.",'))
def test_cve_2023_27043_payloads(separator: str) -> None:
    # CPython's own regression payloads: getaddresses on 3.11.7 returns alice for some of them.
    with pytest.raises(AmbiguousSender):
        single_from(mail(f"alice@example.org{separator}<bob@example.com>"))


@pytest.mark.parametrize(
    "value", [f"{SECRETARIAT} <attacker@evil.example>", f"alice@example.org)<{SECRETARIAT}>"]
)
def test_standard_library_readings_must_agree(value: str) -> None:
    # Second line of defence: no known payload gets past the strict reader, so check it alone.
    with pytest.raises(AmbiguousSender):
        _agreed(value, SECRETARIAT)


def test_ambiguous_sender_is_a_value_error() -> None:
    # Callers that already handle ValueError from parsing keep working.
    assert issubclass(AmbiguousSender, ValueError)


# --- verify_sender: Authentication-Results ---------------------------------------------------


def test_trusted_dmarc_pass_for_the_from_domain_is_verified() -> None:
    # The one way the receiving server's word proves the sender.
    raw = mail(
        above=ar(
            "mx.cg.example; spf=pass smtp.mailfrom=cg.example; dmarc=pass header.from=cg.example"
        )
    )
    result = verify_sender(raw, SECRETARIAT, TRUSTED, lambda name: None)
    assert result.verified
    assert "DMARC" in result.how and "mx.cg.example" in result.how


def test_authserv_id_and_header_from_compare_without_case() -> None:
    # Servers write host names in any case; DNS names are case-insensitive.
    assert verify(mail(above=ar("MX.CG.Example; dmarc=pass header.from=CG.Example")))


def test_no_authentication_results_and_no_dkim() -> None:
    # The hole this module closes: a bare From used to be enough.
    result = verify_sender(mail(), SECRETARIAT, TRUSTED, lambda name: None)
    assert not result.verified
    assert "no Authentication-Results" in result.how and "no DKIM signature" in result.how


def test_untrusted_authserv_id() -> None:
    # Anyone can write an Authentication-Results header naming their own server.
    result = verify_sender(
        mail(above=ar("mx.evil.example; dmarc=pass header.from=cg.example")),
        SECRETARIAT,
        TRUSTED,
        lambda name: None,
    )
    assert not result.verified and "mx.evil.example" in result.how


@pytest.mark.parametrize("outcome", ["none", "fail", "temperror", "permerror", "bestguesspass"])
def test_dmarc_other_than_pass(outcome: str) -> None:
    # dmarc=none (no policy published) proves nothing; only an explicit pass counts.
    assert not verify(mail(above=ar(f"mx.cg.example; dmarc={outcome} header.from=cg.example")))


def test_dkim_and_spf_pass_for_another_domain() -> None:
    # Unaligned passes prove only that evil.example sent something, not who wrote From.
    value = (
        "mx.cg.example; dkim=pass header.d=evil.example header.s=s1; "
        "spf=pass smtp.mailfrom=bounce@evil.example; dmarc=none header.from=cg.example"
    )
    assert not verify(mail(above=ar(value)))


def test_dkim_and_spf_pass_without_any_dmarc_result() -> None:
    # With no DMARC result nothing ties the passes to the From domain.
    value = "mx.cg.example; dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=evil.example"
    result = verify_sender(mail(above=ar(value)), SECRETARIAT, TRUSTED, lambda name: None)
    assert not result.verified and "no DMARC result" in result.how


def test_dmarc_pass_for_another_header_from() -> None:
    # The server checked a different From than the one we read.
    assert not verify(mail(above=ar("mx.cg.example; dmarc=pass header.from=evil.example")))


def test_dmarc_pass_without_header_from() -> None:
    # A pass that does not say which domain it was for cannot be tied to ours.
    assert not verify(mail(above=ar("mx.cg.example; dmarc=pass")))


def test_dmarc_pass_for_the_parent_of_the_from_domain() -> None:
    # header.from must equal the From domain; DMARC already did the organisational lookup.
    raw = mail(
        "Secretariat <secretariat@mail.cg.example>",
        ar("mx.cg.example; dmarc=pass header.from=cg.example"),
    )
    assert not verify(raw, "secretariat@mail.cg.example")


def test_one_dmarc_pass_next_to_a_dmarc_fail() -> None:
    # Two DMARC results in one header that disagree are not a pass.
    value = "mx.cg.example; dmarc=pass header.from=cg.example; dmarc=fail header.from=cg.example"
    assert not verify(mail(above=ar(value)))


def test_unparseable_trusted_header() -> None:
    # When authres cannot read the trusted server's header, we fail closed.
    value = "mx.cg.example; dmarc=pass header.from=cg.example,evil.example"
    result = verify_sender(mail(above=ar(value)), SECRETARIAT, TRUSTED, lambda name: None)
    assert not result.verified and "cannot be parsed" in result.how


@pytest.mark.parametrize(
    "value",
    [
        f"{SECRETARIAT}, attacker@evil.example",
        f'"{SECRETARIAT}" <attacker@evil.example>',
        f"alice@example.org)<{SECRETARIAT}>",
    ],
)
def test_dmarc_pass_with_an_ambiguous_from_value(value: str) -> None:
    # dmarc=pass header.from=evil.example is about one of several addresses: no proof for ours.
    raw = mail(value, ar("mx.cg.example; dmarc=pass header.from=evil.example"))
    assert not verify(raw)


def test_dmarc_pass_with_two_from_headers() -> None:
    # The server may have checked the other From header.
    above = ar("mx.cg.example; dmarc=pass header.from=evil.example") + "From: x@evil.example\r\n"
    result = verify_sender(mail(above=above), SECRETARIAT, TRUSTED, lambda name: None)
    assert not result.verified and "From headers" in result.how


def test_caller_address_must_be_the_from_address() -> None:
    # A caller passing a stale or wrong address gets no proof for it.
    raw = mail(above=ar("mx.cg.example; dmarc=pass header.from=cg.example"))
    assert not verify(raw, "chair@cg.example")


def test_sender_written_header_below_the_trusted_one_is_ignored() -> None:
    # The receiving server adds its header on top; a forged pass below its fail must not count.
    above = ar("mx.cg.example; dmarc=fail header.from=cg.example") + ar(
        "mx.cg.example; dmarc=pass header.from=cg.example"
    )
    assert not verify(mail(above=above))


def test_sender_written_fail_below_the_trusted_pass_does_not_matter() -> None:
    # Only the topmost trusted header counts, so a sender cannot spoil a real pass either.
    above = ar("mx.cg.example; dmarc=pass header.from=cg.example") + ar(
        "mx.cg.example; dmarc=fail header.from=cg.example"
    )
    assert verify(mail(above=above))


def test_untrusted_header_on_top_is_skipped() -> None:
    # A header from an untrusted id above the trusted one (an internal hop) decides nothing.
    above = ar("relay.evil.example; dmarc=pass header.from=cg.example") + ar(
        "mx.cg.example; dmarc=fail header.from=cg.example"
    )
    assert not verify(mail(above=above))


# --- verify_sender: DKIM --------------------------------------------------------------------


@pytest.fixture(scope="module")
def signer() -> Signer:
    return new_signer()


def signed(raw: bytes, signer: Signer, domain: bytes = b"cg.example", **options: object) -> bytes:
    return bytes(dkim.sign(raw, SELECTOR, domain, signer.private_pem, **options)) + raw


class Dns:
    """Serves the test key for every domain, and records what was asked."""

    def __init__(self, record: bytes) -> None:
        self.record = record
        self.asked: list[bytes] = []

    def __call__(self, name: bytes) -> bytes | None:
        self.asked.append(name)
        return self.record if name.startswith(SELECTOR + b"._domainkey.") else None


def test_aligned_dkim_signature_is_verified(signer: Signer) -> None:
    # A real signature made here, checked with the key served by the injected DNS: no network.
    dns = Dns(signer.dns_record)
    result = verify_sender(signed(mail(), signer), SECRETARIAT, TRUSTED, dns)
    assert result.verified and "DKIM" in result.how
    assert dns.asked == [b"sel._domainkey.cg.example."]


def test_dkim_signature_of_the_parent_domain_is_aligned(signer: Signer) -> None:
    # Relaxed alignment: mail.cg.example is below d=cg.example.
    raw = signed(mail("Secretariat <secretariat@mail.cg.example>"), signer)
    assert verify_sender(
        raw, "secretariat@mail.cg.example", TRUSTED, Dns(signer.dns_record)
    ).verified


def test_dkim_body_changed_after_signing(signer: Signer) -> None:
    # A command added to a genuinely signed mail must not ride on its signature.
    raw = signed(mail(), signer).replace(b"Close ballot CG-1 now.", b"Close ballot CG-2 now.")
    result = verify_sender(raw, SECRETARIAT, TRUSTED, Dns(signer.dns_record))
    assert not result.verified and "does not verify" in result.how


def test_dkim_signature_of_another_domain(signer: Signer) -> None:
    # evil.example can sign anything with its own key; that says nothing about cg.example.
    dns = Dns(signer.dns_record)
    raw = signed(mail(), signer, b"evil.example")
    result = verify_sender(raw, SECRETARIAT, TRUSTED, dns)
    assert not result.verified and "not aligned" in result.how
    assert dns.asked == []  # refused before any lookup


def test_dkim_signature_of_a_bare_tld(signer: Signer) -> None:
    # Without the public suffix list, d=example would "align" with every *.example domain.
    raw = signed(mail(), signer, b"example")
    assert not verify_sender(raw, SECRETARIAT, TRUSTED, Dns(signer.dns_record)).verified


def test_dkim_signature_with_a_body_length_limit(signer: Signer) -> None:
    # l= lets anyone append text (a command) after the signed part of the body.
    raw = signed(mail(), signer, length=True)
    result = verify_sender(raw, SECRETARIAT, TRUSTED, Dns(signer.dns_record))
    assert not result.verified and "l=" in result.how


def test_dkim_rsa_sha1_is_refused(signer: Signer) -> None:
    # RFC 8301: verifiers must not accept rsa-sha1 signatures.
    raw = signed(mail(), signer, signature_algorithm=b"rsa-sha1")
    assert not verify_sender(raw, SECRETARIAT, TRUSTED, Dns(signer.dns_record)).verified


def test_dkim_key_missing_from_dns(signer: Signer) -> None:
    # No published key, no proof.
    raw = signed(mail(), signer)
    assert not verify_sender(raw, SECRETARIAT, TRUSTED, lambda name: None).verified


def test_dkim_dns_failure(signer: Signer) -> None:
    # A resolver error is "not verified", never an exception out of the check.
    def broken(name: bytes) -> bytes | None:
        raise OSError("resolver unreachable")

    result = verify_sender(signed(mail(), signer), SECRETARIAT, TRUSTED, broken)
    assert not result.verified and "resolver unreachable" in result.how


def test_dkim_signature_with_a_second_from_added(signer: Signer) -> None:
    # dkimpy signs the bottom From; a From added on top must not borrow that signature.
    raw = b"From: attacker@evil.example\r\n" + signed(mail(), signer)
    assert not verify_sender(raw, SECRETARIAT, TRUSTED, Dns(signer.dns_record)).verified


def test_dkim_good_signature_after_an_unaligned_one(signer: Signer) -> None:
    # A list or relay may add its own signature on top; the aligned one below still proves From.
    raw = signed(signed(mail(), signer), signer, b"lists.example")
    assert verify_sender(raw, SECRETARIAT, TRUSTED, Dns(signer.dns_record)).verified


def test_dkim_rescues_a_missing_authentication_results(signer: Signer) -> None:
    # Either proof suffices: the server wrote nothing, the aligned signature proves the sender.
    raw = signed(mail(), signer)
    assert verify_sender(raw, SECRETARIAT, frozenset(), Dns(signer.dns_record)).verified


def test_dkim_signature_that_does_not_sign_from(signer: Signer) -> None:
    # RFC 6376 requires From to be signed, dkimpy does not check it; we refuse before any lookup.
    dns = Dns(signer.dns_record)
    raw = signed(mail(), signer, include_headers=[b"from", b"subject"])
    raw = raw.replace(b"h=from : subject", b"h=subject", 1)
    result = verify_sender(raw, SECRETARIAT, TRUSTED, dns)
    assert not result.verified and "does not sign the From header" in result.how
    assert dns.asked == []


def test_dkim_signer_that_never_saw_the_from(signer: Signer) -> None:
    # dkimpy splits lines on CRLF only, Python also on a bare CR: a From hidden behind a CR is
    # read by us but was not signed, so a cg.example signature over it proves nothing about it.
    raw = mail(above="X-Note: hi\r")
    assert single_from(raw) == SECRETARIAT
    sig = dkim.sign(
        raw, SELECTOR, b"cg.example", signer.private_pem, include_headers=[b"from", b"subject"]
    )
    result = verify_sender(bytes(sig) + raw, SECRETARIAT, TRUSTED, Dns(signer.dns_record))
    assert not result.verified and "another From header" in result.how


# --- verify_sender: an ARC set sealed by a trusted domain (Exchange Online) -----------------

SEALER = frozenset({"sealer.example"})
EXCHANGE_AR = (
    "spf=pass (sender IP is 192.0.2.7) smtp.mailfrom=cg.example; dkim=none (message not "
    "signed) header.d=none;dmarc=pass action=none header.from=cg.example;compauth=pass reason=100"
)


def sealed(raw: bytes, signer: Signer, results: str, domain: bytes = b"sealer.example") -> bytes:
    """`raw` as a receiving server passes it on: its own Authentication-Results (`results`, as
    mx.sealer.example found them) copied into an ARC set it seals with the test key."""
    server = b"mx." + domain
    with_results = f"Authentication-Results: {server.decode()}; {results}\r\n".encode() + raw
    arc = dkim.arc_sign(with_results, SELECTOR, domain, signer.private_pem, server)
    return b"".join(arc) + with_results


def by_arc(raw: bytes, signer: Signer) -> Verification:
    return verify_sender(raw, SECRETARIAT, TRUSTED, Dns(signer.dns_record), SEALER)


def test_dmarc_pass_in_an_arc_set_of_a_trusted_sealer_is_verified(signer: Signer) -> None:
    # Exchange Online's own Authentication-Results has no authserv-id to trust (it opens with
    # "spf=pass (sender IP is ...)"); the ARC set it seals as microsoft.com carries the verdict.
    raw = sealed(mail(above=ar(EXCHANGE_AR)), signer, "dmarc=pass header.from=cg.example")
    result = verify_sender(raw, SECRETARIAT, TRUSTED, Dns(signer.dns_record), SEALER)
    assert result.verified, result.how
    assert (
        "DMARC passed for cg.example at mx.sealer.example (in the ARC set sealer.example sealed)"
        in result.how
    )


def test_an_arc_set_is_not_read_unless_its_sealer_is_trusted(signer: Signer) -> None:
    raw = sealed(mail(), signer, "dmarc=pass header.from=cg.example")
    dns = Dns(signer.dns_record)
    assert not verify_sender(raw, SECRETARIAT, TRUSTED, dns).verified  # no sealer configured
    other = verify_sender(raw, SECRETARIAT, TRUSTED, dns, frozenset({"microsoft.com"}))
    assert not other.verified and "sealed by sealer.example" in other.how


@pytest.mark.parametrize(
    ("results", "why"),
    [
        ("dmarc=fail header.from=cg.example", "sealer.example sealed) says fail"),
        ("dmarc=pass header.from=elsewhere.example", "not for cg.example"),
        ("spf=pass smtp.mailfrom=cg.example; dkim=pass header.d=cg.example", "no DMARC"),
    ],
)
def test_a_trusted_seal_proves_only_a_dmarc_pass_for_the_from_domain(
    signer: Signer, results: str, why: str
) -> None:
    result = by_arc(sealed(mail(), signer, results), signer)
    assert not result.verified and why in result.how


def test_a_message_changed_after_sealing_is_not_verified(signer: Signer) -> None:
    raw = sealed(mail(body="Close ballot CG-1 now."), signer, "dmarc=pass header.from=cg.example")
    result = by_arc(raw.replace(b"CG-1 now", b"CG-2 now"), signer)
    assert not result.verified and "does not validate" in result.how


def test_a_seal_whose_key_cannot_be_had_is_not_verified(signer: Signer) -> None:
    raw = sealed(mail(), signer, "dmarc=pass header.from=cg.example")
    result = verify_sender(raw, SECRETARIAT, TRUSTED, lambda name: None, SEALER)
    assert not result.verified and "does not validate" in result.how


def test_a_sender_written_arc_set_under_the_trusted_one_does_not_count(signer: Signer) -> None:
    # An older set says dmarc=pass (sealed by sender.example, trusted here too); the newest set,
    # sealed by sealer.example, found DMARC failing: only the newest counts.
    forged = sealed(mail(), signer, "dmarc=pass header.from=cg.example", b"sender.example")
    raw = sealed(forged, signer, "arc=pass; dmarc=fail header.from=cg.example")
    assert b"ARC-Seal: i=2" in raw and b"d=sealer.example" in raw
    result = verify_sender(
        raw, SECRETARIAT, TRUSTED, Dns(signer.dns_record), SEALER | {"sender.example"}
    )
    assert not result.verified and "mx.sealer.example (in the ARC set" in result.how


def test_an_unsealed_arc_authentication_results_on_top_is_not_read(signer: Signer) -> None:
    raw = sealed(mail(), signer, "dmarc=fail header.from=cg.example")
    forged = (
        b"ARC-Authentication-Results: i=2; mx.sealer.example; dmarc=pass header.from=cg.example\r\n"
    )
    result = by_arc(forged + raw, signer)
    assert not result.verified and "the ARC set i=2 has 0 seals" in result.how


def _seal_reading_two_ways(raw: bytes, pem: bytes, domain: bytes) -> bytes:
    """`raw` under a set that dkimpy numbers 2 (the first "i=" it finds: in "xi=2") while its
    own i= tag says 0, sealed with the sender's own key (a review found this)."""
    with_ar = f"Authentication-Results: mx.{domain.decode()}; arc=pass\r\n".encode() + raw
    made = dkim.arc_sign(with_ar, SELECTOR, domain, pem, b"mx." + domain)
    aar, ams = (next(h for h in made if h.startswith(n)) for n in (b"ARC-Auth", b"ARC-Mess"))
    base = aar + ams + with_ar
    arc = dkim.ARC(base)
    arc.hasher = hashlib.sha256
    tags = [(b"xi", b"2"), (b"i", b"0"), (b"cv", b"pass"), (b"a", b"rsa-sha256")]
    tags += [(b"d", domain), (b"s", SELECTOR), (b"b", b"0" * 60)]
    signed_fields = [b"arc-authentication-results", b"arc-message-signature", b"arc-seal"] * 2
    value = arc.gen_header(
        tags,
        signed_fields[:-1],
        CanonicalizationPolicy.from_c_value(b"relaxed/relaxed"),
        b"ARC-Seal",
        parse_pem_private_key(pem),
    )
    return b"ARC-Seal: " + value + base


def test_a_set_numbered_one_way_by_dkimpy_and_another_by_its_tag_is_refused(
    signer: Signer,
) -> None:
    # A genuine mail of the Secretariat, sealed with dmarc=pass by the trusted sealer, then
    # rewritten into a command under the sender's own set. dkimpy validates the chain (the
    # sender's set is the newest to it, and the sender's signature is good); read by its i=
    # tag, the trusted set would look newest and its old "dmarc=pass" would be believed.
    genuine = sealed(
        mail(body="Thank you for your note."), signer, "dmarc=pass header.from=cg.example"
    )
    rewritten = genuine.replace(b"Thank you for your note.", b"Open the ballot.")
    attack = _seal_reading_two_ways(rewritten, signer.private_pem, b"sender.example")
    dns = Dns(signer.dns_record)
    assert dkim.arc_verify(attack, dnsfunc=lambda name, timeout=5: dns(name))[0] == b"pass"
    result = verify_sender(attack, SECRETARIAT, TRUSTED, dns, SEALER)
    assert not result.verified and "reads as instance 2 and as another" in result.how
