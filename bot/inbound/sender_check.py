"""Who really sent a command mail: exactly one From address, proved by DMARC or an aligned DKIM.

Commands and determinations of the Secretariat or the Board Chair take effect on the strength of
the From address, so this module fails closed: anything it cannot read in exactly one way, and any
proof it cannot tie to the From domain, is "not verified", with the reason in a sentence for the
review queue. Pure: the only I/O is the DKIM key lookup inside dkimpy, which callers can inject."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.errors import HeaderParseError, InvalidHeaderDefect
from email.header import decode_header, make_header
from email.message import Message
from email.parser import Parser
from email.policy import compat32
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr
from typing import Any

import authres
import dkim
import dkim.util

DkimDns = Callable[[bytes], bytes | None]

# dot-atom local part @ a host name of at least two labels; quoted local parts, domain literals
# and anything non-ASCII are refused: no member needs them and each is a known parser confusion.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDR_SPEC = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@{_LABEL}(?:\.{_LABEL})+")
_WORD_END = set(' \t"()<>,[]:;\\')
_LINE = re.compile(r"([^\r\n]*)(?:\r\n|\r|\n|\Z)")  # lines as the standard library splits them
_RAW_FROM = re.compile(r"from[ \t]*:", re.IGNORECASE)  # also the obsolete "From :" spelling
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ALGORITHMS = (b"rsa-sha256", b"ed25519-sha256")
_MAX_SIGNATURES = 5  # each aligned signature costs a DNS lookup; a sender may add any number


class AmbiguousSender(ValueError):
    """The From header does not name exactly one sender in a way every reader agrees on."""


@dataclass(frozen=True)
class Verification:
    """Whether the From address is proved, and a sentence saying how, or why not."""

    verified: bool
    how: str


def _headers(raw: bytes) -> Message:
    """The header block as the standard library reads it; bad UTF-8 becomes U+FFFD, not a Header."""
    text = raw.decode("utf-8", "replace")
    return Parser(policy=compat32).parsestr(text, headersonly=True)


def _unfold(value: str) -> str:
    return _FOLD.sub("", value)


def _raw_from_count(raw: bytes) -> int:
    """From lines in the raw header block, counted the way a lenient receiving server might."""
    count = 0
    for line in _LINE.finditer(raw.decode("utf-8", "replace")):
        if not line.group(1):
            break
        count += bool(_RAW_FROM.match(line.group(1)))
    return count


def _quoted_end(value: str, start: int) -> int:
    """Index just past the quoted string that opens at `start`."""
    i = start + 1
    while i < len(value):
        if value[i] == "\\":
            i += 2
        elif value[i] == '"':
            return i + 1
        else:
            i += 1
    raise AmbiguousSender("the From header has an unbalanced quote")


def _comment_end(value: str, start: int) -> int:
    """Index just past the (possibly nested) comment that opens at `start`."""
    depth, i = 0, start
    while i < len(value):
        if value[i] == "\\":
            i += 2
            continue
        depth += {"(": 1, ")": -1}.get(value[i], 0)
        i += 1
        if depth == 0:
            return i
    raise AmbiguousSender("the From header has an unbalanced parenthesis")


def _tokens(value: str) -> list[tuple[str, str]]:
    """(kind, text) pairs of a From value; a stray special character makes it ambiguous."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(value):
        char = value[i]
        if char in " \t":
            i += 1
        elif char == '"':
            end = _quoted_end(value, i)
            out.append(("quoted", value[i + 1 : end - 1]))
            i = end
        elif char == "(":
            end = _comment_end(value, i)
            out.append(("comment", value[i + 1 : end - 1]))
            i = end
        elif char in "<>":
            out.append((char, char))
            i += 1
        elif char == ",":
            raise AmbiguousSender("the From header holds more than one address")
        elif char in ")[]:;\\":
            raise AmbiguousSender(f"the From header has a stray {char!r}")
        else:
            end = i
            while end < len(value) and value[end] not in _WORD_END:
                end += 1
            out.append(("word", value[i:end]))
            i = end
    return out


def _decoded(text: str) -> str:
    """Encoded words decoded, as a mail client would show them."""
    try:
        return str(make_header(decode_header(text)))
    except (HeaderParseError, LookupError, UnicodeDecodeError) as exc:
        raise AmbiguousSender(f"the From header has undecodable text: {exc}") from exc


def _check_shown(text: str, where: str) -> None:
    """A display name or comment must not look like an address: the reader would see that one."""
    shown = _decoded(text)
    if any(char in shown for char in "@<>"):
        raise AmbiguousSender(f"the From {where} {shown!r} looks like another address")


def _addr_spec(text: str) -> str:
    if "=?" in text or "?=" in text:
        raise AmbiguousSender(f"the From address {text!r} holds an encoded word")
    if not _ADDR_SPEC.fullmatch(text):
        raise AmbiguousSender(f"the From address {text!r} is not a plain address")
    return text.lower()


def _strict_address(value: str) -> str:
    """The one address of a From value read by RFC 5322's mailbox rule, without obsolete forms."""
    if "\r" in value or "\n" in value:
        raise AmbiguousSender("the From header holds a line break")
    tokens = _tokens(value)
    for kind, text in tokens:
        if kind == "comment":
            _check_shown(text, "comment")
    tokens = [(kind, text) for kind, text in tokens if kind != "comment"]
    kinds = [kind for kind, _ in tokens]
    if not tokens:
        raise AmbiguousSender("the From header is empty")
    if "<" not in kinds and ">" not in kinds:
        if kinds != ["word"]:
            raise AmbiguousSender(f"the From header {value!r} is not one plain address")
        return _addr_spec(tokens[0][1])
    if kinds.count("<") != 1 or kinds.count(">") != 1 or kinds[-3:] != ["<", "word", ">"]:
        raise AmbiguousSender(f"the From header {value!r} has unbalanced or extra angle brackets")
    name = " ".join(text for _, text in tokens[:-3])
    _check_shown(name, "display name")
    return _addr_spec(tokens[-2][1])


def _agreed(value: str, address: str) -> None:
    """The standard library's two address parsers must read the same single address."""
    pairs = getaddresses([value])
    if len(pairs) != 1 or pairs[0][1].lower() != address:
        raise AmbiguousSender(f"the From header {value!r} is read as {pairs} by getaddresses")
    if parseaddr(value)[1].lower() != address:
        raise AmbiguousSender(f"the From header {value!r} is read differently by parseaddr")
    header: Any = default_policy.header_factory("From", value)
    modern = [a.addr_spec.lower() for a in header.addresses]
    invalid = any(isinstance(d, InvalidHeaderDefect) for d in header.defects)
    if modern != [address] or invalid:
        raise AmbiguousSender(f"the From header {value!r} is read as {modern} by the email package")


def single_from(raw: bytes) -> str:
    """The one lower-cased From address; AmbiguousSender when any reading finds another or none."""
    values = [_unfold(str(v)) for v in _headers(raw).get_all("from", [])]
    if not values:
        raise AmbiguousSender("the message has no From header")
    found = max(len(values), _raw_from_count(raw))
    if found > 1:
        raise AmbiguousSender(f"the message has {found} From headers")
    address = _strict_address(values[0])
    _agreed(values[0], address)
    return address


def _authres(value: str) -> Any:
    """The parsed header, or None; authres raises several types on hostile input."""
    try:
        return authres.core_features().parse_value(value)
    except Exception:
        return None


def _lexical_id(value: str) -> str:
    """The authserv-id as written, for a header authres cannot parse."""
    head = re.sub(r"\([^()]*\)", " ", value.partition(";")[0]).split()
    return head[0].lower() if head else ""


def _dmarc_verdict(header: Any, domain: str, sealer: str = "") -> Verification:
    """What the trusted server's DMARC result proves about the From domain (`sealer`: the
    domain whose ARC seal vouches for the result, when it came in an ARC set)."""
    server = str(header.authserv_id) + (f" (in the ARC set {sealer} sealed)" if sealer else "")
    results = [r for r in header.results if str(r.method).lower() == "dmarc"]
    if not results:
        seen = ", ".join(f"{r.method}={r.result}" for r in header.results) or "none"
        return Verification(False, f"{server} reports no DMARC result ({seen})")
    for result in results:
        outcome = str(result.result).lower()
        if outcome != "pass":
            return Verification(False, f"DMARC at {server} says {outcome}")
        checked = [
            str(p.value).strip().lower()
            for p in result.properties
            if str(p.type).lower() == "header" and str(p.name).lower() == "from"
        ]
        if checked != [domain]:
            said = ", ".join(checked) or "no domain"
            return Verification(False, f"DMARC at {server} passed for {said}, not for {domain}")
    return Verification(True, f"DMARC passed for {domain} at {server}")


def _by_dmarc(values: list[str], domain: str, trusted: frozenset[str]) -> Verification:
    """Only the topmost trusted header counts: the receiving server adds its own on top."""
    trusted = frozenset(t.lower() for t in trusted)
    seen: list[str] = []
    for value in values:
        header = _authres(value)
        server = str(header.authserv_id) if header is not None else _lexical_id(value)
        if server not in trusted:
            seen.append(server or "?")
            continue
        if header is None:
            return Verification(False, f"the Authentication-Results of {server} cannot be parsed")
        return _dmarc_verdict(header, domain)
    if not values:
        return Verification(False, "no Authentication-Results header")
    return Verification(
        False, f"no Authentication-Results from a trusted server ({', '.join(seen)})"
    )


def _aligned(domain: str, signer: str) -> bool:
    """Relaxed alignment: the From domain is d= or below it.

    We do not consult the public suffix list, so a d= that is a registry suffix would align with
    every domain below it; at least refuse a bare TLD (d= must have two labels)."""
    if "." not in signer.strip("."):
        return False
    return domain == signer or domain.endswith("." + signer)


def _lookup(dkim_dns: DkimDns) -> Callable[..., bytes | None]:
    """dkimpy calls dnsfunc(name, timeout=...); the injected function takes only the name."""

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        return dkim_dns(name)

    return dnsfunc


def _signature_problem(tags: dict[bytes, bytes], signer: str, domain: str) -> str | None:
    """Why a signature could not prove the From domain even if it verified, or None."""
    if not _aligned(domain, signer):
        return f"DKIM signature by {signer or 'no domain'} is not aligned with {domain}"
    if b"l" in tags:
        return f"DKIM signature by {signer} covers only part of the body (l=)"
    if tags.get(b"a", b"").strip().lower() not in _ALGORITHMS:
        return f"DKIM signature by {signer} uses a refused algorithm (RFC 8301 forbids rsa-sha1)"
    signed = [h.strip().lower() for h in tags.get(b"h", b"").split(b":")]
    if b"from" not in signed:
        return f"DKIM signature by {signer} does not sign the From header"
    return None


def _dkim_from(checker: Any) -> list[str]:
    """The From addresses as dkimpy split the headers (its reader is not the email package's)."""
    values = [v for n, v in checker.headers if n.strip().lower() == b"from"]
    found = []
    for value in values:
        try:
            found.append(_strict_address(_unfold(value.decode("utf-8", "replace")).strip()))
        except AmbiguousSender:
            found.append("?")
    return found


def _one_signature(
    checker: Any, idx: int, value: bytes, from_addr: str, dkim_dns: DkimDns | None
) -> Verification:
    """One signature: refused before any DNS lookup unless it could prove the From domain."""
    domain = from_addr.rpartition("@")[2]
    try:
        tags = dkim.util.parse_tag_value(value)
    except dkim.util.InvalidTagValueList:
        return Verification(False, "a DKIM signature cannot be read")
    signer = tags.get(b"d", b"").decode("ascii", "replace").strip().lower().rstrip(".")
    problem = _signature_problem(tags, signer, domain)
    if problem:
        return Verification(False, problem)
    try:
        if dkim_dns is None:
            ok = checker.verify(idx=idx)
        else:
            ok = checker.verify(idx=idx, dnsfunc=_lookup(dkim_dns))
    except dkim.DKIMException as exc:  # a changed body is an exception, a wrong key a False
        return Verification(False, f"DKIM signature by {signer} does not verify ({exc})")
    except Exception as exc:  # the DNS lookup raises its own types
        return Verification(False, f"DKIM key of {signer} cannot be fetched ({exc})")
    if not ok:
        return Verification(False, f"DKIM signature by {signer} does not verify with its key")
    if _dkim_from(checker) != [from_addr]:
        return Verification(False, f"DKIM signature by {signer} covers another From header")
    return Verification(True, f"DKIM signature by {signer} verified, aligned with {domain}")


def _by_dkim(raw: bytes, from_addr: str, dkim_dns: DkimDns | None) -> Verification:
    """The first DKIM signature that verifies and is aligned with the From domain, if any."""
    try:
        checker: Any = dkim.DKIM(raw)
    except dkim.DKIMException as exc:
        return Verification(False, f"DKIM cannot read the message ({exc})")
    values = [v for n, v in checker.headers if n.lower() == b"dkim-signature"]
    if not values:
        return Verification(False, "no DKIM signature")
    reasons = []
    for idx, value in enumerate(values[:_MAX_SIGNATURES]):
        outcome = _one_signature(checker, idx, value, from_addr, dkim_dns)
        if outcome.verified:
            return outcome
        reasons.append(outcome.how)
    return Verification(False, "; ".join(reasons))


_ARC_FIELDS = (b"arc-seal", b"arc-message-signature", b"arc-authentication-results")
_AAR_INSTANCE = re.compile(rb"^\s*i\s*=\s*(\d+)\s*;")


def _own_instance(name: bytes, value: bytes) -> int | None:
    """The i= an ARC header states as its own field (the tag list, or the AAR's leading i=)."""
    if name.lower() == b"arc-authentication-results":
        found = _AAR_INSTANCE.match(value)
        return int(found.group(1)) if found else None
    try:
        return int(dkim.util.parse_tag_value(value)[b"i"])
    except (dkim.util.InvalidTagValueList, KeyError, ValueError):
        return None


def _newest_seal(raw: bytes) -> tuple[int, str] | str:
    """The newest ARC set's instance and sealing domain, as dkimpy numbers the sets, or why the
    ARC headers cannot be read one way only (dkimpy takes the first "i=" it finds anywhere in a
    header, so a header whose own i= tag says otherwise is refused, not read two ways)."""
    try:
        arc: Any = dkim.ARC(raw)
        newest, numbered = arc.sorted_arc_headers()
    except Exception as exc:  # hostile headers raise several types inside dkimpy
        return f"the ARC headers cannot be read ({exc})"
    if newest == 0:
        return "no ARC set"
    if len(numbered) != sum(name.strip().lower() in _ARC_FIELDS for name, _ in arc.headers):
        return "an ARC header has no instance number"
    sealers = []
    for instance, (name, value) in numbered:
        if _own_instance(name, value) != instance:
            return f"an ARC header reads as instance {instance} and as another"
        if name.lower() == b"arc-seal" and instance == newest:
            try:
                domain = dkim.util.parse_tag_value(value).get(b"d", b"")
            except dkim.util.InvalidTagValueList:
                return f"the ARC-Seal i={newest} cannot be read"
            sealers.append(domain.decode("ascii", "replace").strip().lower())
    if len(sealers) != 1:
        return f"the ARC set i={newest} has {len(sealers)} seals"
    return newest, sealers[0]


def _aar_header(value: bytes) -> Any:
    """An ARC-Authentication-Results value without its i= tag, parsed as Authentication-Results."""
    text = _unfold(value.decode("utf-8", "replace")).strip()
    return _authres(text.split(";", 1)[1] if ";" in text else "")


def _by_arc(
    raw: bytes, domain: str, sealers: frozenset[str], dkim_dns: DkimDns | None
) -> Verification:
    """DMARC as a trusted sealer found it: the newest ARC set, sealed by a domain the
    configuration trusts (Exchange Online seals as microsoft.com, and writes its own
    Authentication-Results with no authserv-id to trust), in a chain that validates."""
    newest = _newest_seal(raw)
    if isinstance(newest, str):
        return Verification(False, newest)
    instance, sealer = newest
    if sealer not in sealers:  # refused before any DNS lookup
        return Verification(False, f"the newest ARC set (i={instance}) is sealed by {sealer}")
    kwargs = {} if dkim_dns is None else {"dnsfunc": _lookup(dkim_dns)}
    try:
        cv, sets, reason = dkim.arc_verify(raw, **kwargs)
    except Exception as exc:  # hostile ARC headers raise several types inside dkimpy
        return Verification(False, f"the ARC chain cannot be read ({exc})")
    if cv != b"pass":
        return Verification(False, f"the ARC chain sealed by {sealer} does not validate ({reason})")
    top = sets[0]  # dkimpy lists the sets newest first, and checked the newest one's signature
    if top.get("instance") != instance or top.get("as-domain", b"").lower() != sealer.encode():
        return Verification(False, f"the ARC set i={instance} is not the one {sealer} sealed")
    header = _aar_header(top.get("aar-value", b""))
    if header is None:
        return Verification(
            False, f"the ARC-Authentication-Results sealed by {sealer} cannot be parsed"
        )
    return _dmarc_verdict(header, domain, sealer)


def verify_sender(
    raw: bytes,
    from_addr: str,
    trusted_authserv_ids: frozenset[str],
    dkim_dns: DkimDns | None = None,
    trusted_arc_sealers: frozenset[str] = frozenset(),
) -> Verification:
    """Is `from_addr` proved to have sent `raw`? Trusted DMARC pass (in the receiving server's
    Authentication-Results, or in an ARC set a trusted domain sealed), else an aligned DKIM pass."""
    from_addr = from_addr.strip().lower()
    try:
        actual = single_from(raw)
    except AmbiguousSender as exc:
        return Verification(False, f"Not verified: {exc}.")
    if actual != from_addr:
        return Verification(
            False, f"Not verified: the From header holds {actual}, not {from_addr}."
        )
    values = [_unfold(str(v)).strip() for v in _headers(raw).get_all("authentication-results", [])]
    domain = actual.rpartition("@")[2]
    by_dmarc = _by_dmarc(values, domain, trusted_authserv_ids)
    if by_dmarc.verified:
        return Verification(True, f"Verified: {by_dmarc.how}.")
    reasons = [by_dmarc.how]
    if trusted_arc_sealers:
        by_arc = _by_arc(raw, domain, trusted_arc_sealers, dkim_dns)
        if by_arc.verified:
            return Verification(True, f"Verified: {by_arc.how}.")
        reasons.append(by_arc.how)
    by_dkim = _by_dkim(raw, actual, dkim_dns)
    if by_dkim.verified:
        return Verification(True, f"Verified: {by_dkim.how}.")
    return Verification(False, f"Not verified: {'; '.join([*reasons, by_dkim.how])}.")
