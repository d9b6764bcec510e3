"""Make text written by strangers safe for the headers we send and the terminal we print to.

Python 3.11 before 3.11.10 writes CR/LF decoded from an RFC 2047 encoded word back out as real
header lines (CVE-2024-6923), so a Subject or display name can smuggle in `Reply-To:` or a forged
body. The defence lives here, in code, rather than in an interpreter upgrade.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.header import decode_header
from email.utils import formataddr

ELLIPSIS = "…"

# An RFC 2047 encoded word. Unlike email.header.ecre, the charset and the encoded text may not
# contain "?" (valid q and b encodings never do): matching stays linear on input like "=?" * 10**5.
_ENCODED_WORD = re.compile(r"=\?[^?\r\n]*\?[bBqQ]\?[^?\r\n]*\?=")

# A space cannot occur inside an encoded word, so "= ?" is never decoded again, by Python or by a
# mail client, and a reader still sees both characters the sender typed.
_OPENER, _NEUTRAL_OPENER = "=?", "= ?"

# Characters that end a line or separate words (str.splitlines' list, plus TAB): a space keeps
# the words on either side apart.
_BREAKS = "\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029"
_CONTROLS = "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
# Bidi embeddings, overrides, isolates and marks reorder what a reader sees (a title can hide
# "exe.pdf" as "fdp.exe").
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# Zero-width space, word joiner and BOM hide text; ZWJ (U+200D) and ZWNJ (U+200C) are kept
# because emoji sequences, Indic and Persian scripts need them.
_HIDDEN = "\u200b\u2060\ufeff"
_SURROGATES = range(0xD800, 0xE000)

# Lone single spaces that typography needs (French no-break spaces, the CJK full-width space).
_KEPT_ALONE = frozenset("\u00a0\u202f\u3000")
_SPACE_RUN = re.compile(r"\s+")

# TAB and CR read better in their short Python form.
_SHORT_ESCAPES = {0x09: "\\t", 0x0D: "\\r"}

# RFC 5322 specials, which make a display name a quoted string, a comment, a group or an address.
# Python 3.11.7 drops the quotes when it folds a long quoted name, and leaves specials bare after a
# non-ASCII word, so "…<x@evil.example>" becomes the address (and a bare leading "." crashes its
# parser). The full-width forms read the same (NFKC maps them back) and mean nothing to a parser.
_FULLWIDTH_SPECIALS = {ord(ch): chr(ord(ch) + 0xFEE0) for ch in '"(),.:;<>@[\\]'}

# Only this many characters back from the limit do we look for a space to cut at.
_BOUNDARY_WINDOW = 30


def _header_table() -> dict[int, str | None]:
    """Deleted, spaced and replaced characters for header_text, built once."""
    table: dict[int, str | None] = dict.fromkeys(map(ord, _CONTROLS + _BIDI + _HIDDEN))
    table.update(dict.fromkeys(map(ord, _BREAKS), " "))
    # A lone surrogate (from a surrogateescape'd 8-bit header) would crash serialisation.
    table.update(dict.fromkeys(_SURROGATES, "\ufffd"))
    return table


def _escape(code: int) -> str:
    """Python-style escape of one code point, so the reader sees what was there."""
    return _SHORT_ESCAPES.get(code) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def _terminal_table() -> dict[int, str]:
    """Escapes for every character a terminal would act on or hide, except LF."""
    unsafe = [*map(ord, _CONTROLS + "\u2028\u2029" + _BIDI + _HIDDEN), *_SURROGATES]
    return {code: _escape(code) for code in unsafe if code != 0x0A}


_HEADER_TABLE = _header_table()
_TERMINAL_TABLE = _terminal_table()


def _decode_word(word: str) -> str:
    """Decode one encoded word; a broken one (bad base64, unknown charset) stays as it was."""
    try:
        parts = decode_header(word)
        if len(parts) != 1 or not isinstance(parts[0][0], bytes) or parts[0][1] is None:
            return word
        payload, charset = parts[0]
        # RFC 2231 lets a charset carry a language: "utf-8*fr".
        return str(payload.decode(str(charset).partition("*")[0], "replace"))
    except (HeaderParseError, LookupError, ValueError):
        return word


def _decode_words(text: str) -> str:
    """Decode every encoded word in `text`, leaving the text around them untouched.

    Word by word rather than make_header(decode_header(text)): that round trip turns non-ASCII
    text next to an encoded word into "\\u65e5" escapes or fails on it.
    """
    pieces: list[str] = []
    end = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[end : match.start()]
        # RFC 2047: white space between two adjacent encoded words is not displayed.
        if not (end and gap.isspace()):
            pieces.append(gap)
        pieces.append(_decode_word(match[0]))
        end = match.end()
    pieces.append(text[end:])
    return "".join(pieces)


def _one_space(match: re.Match[str]) -> str:
    """A run of white space becomes one space, unless it is one typographic space."""
    return match[0] if match[0] in _KEPT_ALONE else " "


def _cut(text: str, limit: int, *, more: bool = False) -> str:
    """Shorten to at most `limit` characters, at a space near the end when there is one.

    "…" marks that something is missing: the cut part, or (`more`) text that was never shown.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    if len(text) <= limit and not more:
        return text
    if len(text) < limit:
        return text.rstrip() + ELLIPSIS
    room = limit - len(ELLIPSIS)
    space = text.rfind(" ", max(room - _BOUNDARY_WINDOW, 0), room + 1)
    head = text[:space] if space > 0 else text[:room]
    return head.rstrip() + ELLIPSIS


def header_text(value: str, limit: int = 200) -> str:
    """Return `value` as one clean line, safe as an outgoing header value such as a Subject.

    Idempotent, never longer than `limit` (ValueError below 1). For a name in From/To: mailbox.
    """
    text = _decode_words(value).translate(_HEADER_TABLE)
    text = text.replace(_OPENER, _NEUTRAL_OPENER)
    text = _SPACE_RUN.sub(_one_space, text).strip()
    return _cut(text, limit)


def mailbox(name: str, address: str, limit: int = 200) -> str:
    """Return "name <address>" for From or To, where no name a stranger writes adds an address.

    Use it instead of formataddr((header_text(name), address)), which is not enough on 3.11.7.
    """
    return formataddr((header_text(name, limit).translate(_FULLWIDTH_SPECIALS), address))


def terminal_text(value: str) -> str:
    """Return `value` with control, bidi and zero-width characters shown as escapes (`\\x1b`).

    Only newlines survive, so printing it can never move the cursor, recolour or retitle a
    terminal, or reorder or hide what the Secretariat reads.
    """
    return value.translate(_TERMINAL_TABLE)


def one_line(value: str, limit: int) -> str:
    """Return the first line of `value` for a table column, escaped and at most `limit` long.

    "…" ends it when it was cut or when further lines were left out.
    """
    lines = value.strip().splitlines() or [""]
    return _cut(terminal_text(lines[0]), limit, more=len(lines) > 1)
