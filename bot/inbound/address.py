"""One spelling per mailbox, so a member's From address matches the address configured for them."""

from __future__ import annotations

import re

_SURROUNDING = re.compile(r"\A[\s<>]+|[\s<>]+\Z")
# RFC 5322 atext, plus the non-ASCII characters RFC 6531 (SMTPUTF8) admits in a local part.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]"
_DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
# Only a dot after a real label ends a fully qualified name; `x..` and `x>.` are left as they are,
# so that normalising twice gives what normalising once gave.
_ROOT_DOT = re.compile(r"(?<=[^\s<>.])\.$")


def _domain(domain: str) -> str:
    """Domains are case-insensitive; non-ASCII (IDNA) ones stay in Unicode, only lower-cased."""
    return _ROOT_DOT.sub("", domain.lower())


def _unquote(local: str) -> str:
    """`"amina"` -> `amina` when the quotes add nothing; a local part that needs them keeps them."""
    if len(local) < 2 or not (local.startswith('"') and local.endswith('"')):
        return local
    bare = _QUOTED_PAIR.sub(r"\1", local[1:-1])
    return bare if _DOT_ATOM.fullmatch(bare) else local


def _drop_tag(local: str) -> str:
    """`amina+cg` -> `amina`; a quoted or tag-only local part is left alone."""
    if local.startswith('"'):
        return local
    head = local.partition("+")[0]
    return head or local


def normalise(address: str, plus_domains: frozenset[str] = frozenset()) -> str:
    """The form in which two spellings of one mailbox compare equal; never raises.

    The local part is lower-cased although RFC 5321 makes it case-sensitive: no real provider
    treats it so, and the bot only compares against addresses it was configured with. `+tag` is
    dropped only for `plus_domains`, where the provider is known to deliver tags to one mailbox."""
    bare = _SURROUNDING.sub("", address)
    if "@" not in bare:
        return bare.lower()
    local, _, domain = bare.rpartition("@")
    domain = _domain(domain)
    local = _unquote(local).lower()
    if domain in {_domain(d) for d in plus_domains}:
        local = _drop_tag(local)
    return f"{local}@{domain}"
