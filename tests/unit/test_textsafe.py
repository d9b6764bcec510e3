"""Stranger-written text cannot inject mail headers or terminal escapes (CVE-2024-6923)."""

from __future__ import annotations

import base64
import sys
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import formataddr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.textsafe import header_text, mailbox, one_line, terminal_text


def b_word(text: str) -> str:
    """An RFC 2047 b-encoded word for `text`, as a hostile mailer would write it."""
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


REPLY_TO_Q = "=?utf-8?q?=0D=0AReply-To:_attacker@evil.example?="
REPLY_TO_B = b_word("\r\nReply-To: attacker@evil.example")
FORGED_BODY = b_word("\r\n\r\nforged body")
NESTED = b_word("=?utf-8?q?=0D=0AX:_y?=")
FULLWIDTH = {ord(ch): chr(ord(ch) + 0xFEE0) for ch in '"(),.:;<>@[\\]'}
SEEN = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u202e", "\u2066", "\u200b"]

HOSTILE = [
    REPLY_TO_Q,
    REPLY_TO_B,
    FORGED_BODY,
    NESTED,
    "Re: budget" + REPLY_TO_Q + "Bcc: all@evil.example",
    "=?utf-8?q?=0A?=\tX-Tab: 1",
    "=?iso-8859-1?q?=0D=0AX:_y?= =?utf-8?q?=0A=0AZ:_z?=",
    "=?utf-8*fr?Q?=0D=0AX-Lang:_fr?=",
    "=?x-klingon?q?=0D=0AX:_y?=",
    "=?utf-8?b?!!!?=",
    "=?idna?b?DQo=?=",
    "=?unicode_escape?q?\\u2028X:_y\\ud800?=",
    "plain\r\nReply-To: attacker@evil.example",
    "\r\n\r\nforged body",
    "nul\x00byte\nX-Injected: 1",
    "lone \ud800 surrogate",
    "\u2028Reply-To: a@evil.example\u2029\x85Cc: b@evil.example",
    "Shortlist \u202eexe.fdp\u202c",
    "\x1b[31mred\x1b]0;title\x07\x9b2J",
    '"quoted" <attacker@evil.example>, x@evil.example',
    "Réunion, de Chloé <attacker@evil.example>",
    "Chloé; x@evil.example",
    'é "<x@evil.example>',
    "X: y\u00e9",
    "<x@evil.example>" * 5,
    "a" * 80 + " <x@evil.example>",
    "((((",
    '"' * 50,
    "\r\n. \ud800",
    "=\x00?utf-8?q?=0D=0AX:_y?=",
    "=?" * 1000,
    "a" * 500,
]


def reparse(subject: str, sender: str) -> EmailMessage:
    """Serialise a message the way the bot sends one and parse it back as a receiver would."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    parsed = message_from_bytes(msg.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def assert_no_injection(value: str) -> None:
    """Only our two headers come back and the body stays empty: nothing was injected."""
    clean = header_text(value)
    parsed = reparse(clean, formataddr((clean, "bot@example.org")))
    assert set(parsed.keys()) == {"Subject", "From"}
    assert parsed.get_payload() == ""


def assert_mailbox_keeps_address(value: str) -> None:
    """Our address is the only address in the From, whatever the name."""
    parsed = reparse("s", mailbox(value, "bot@example.org"))
    assert [address.addr_spec for address in parsed["From"].addresses] == ["bot@example.org"]


def assert_round_trip(value: str) -> None:
    """A receiver reads the Subject and the name we wrote (Python may move a space as it folds)."""
    clean = header_text(value)
    parsed = reparse(clean, mailbox(value, "bot@example.org"))
    assert parsed["Subject"].replace(" ", "") == clean.replace(" ", "")
    shown = parsed["From"].addresses[0].display_name
    assert shown.replace(" ", "") == clean.translate(FULLWIDTH).replace(" ", "")


# The CVE as reported: an encoded word decoding to CRLF + a header.
def test_encoded_crlf_reply_to_becomes_plain_text() -> None:
    assert header_text(REPLY_TO_Q) == "Reply-To: attacker@evil.example"
    assert header_text(REPLY_TO_B) == "Reply-To: attacker@evil.example"


# A blank line decoded from an encoded word would start a forged body.
def test_encoded_blank_line_cannot_start_a_body() -> None:
    assert header_text(FORGED_BODY) == "forged body"


# Raw CR, LF and NUL from a sloppy parser or a hand-made value.
def test_raw_cr_lf_nul() -> None:
    assert header_text("a\r\nb\x00c\td\x7fe") == "a bc de"


# A right-to-left override in a title makes "fdp.exe" read as "exe.pdf".
def test_bidi_override_removed_from_headers_and_shown_on_terminal() -> None:
    title = "Shortlist \u202eexe.fdp\u202c \u2066x\u2069 \u200f"
    assert header_text(title) == "Shortlist exe.fdp x"
    assert terminal_text(title) == "Shortlist \\u202eexe.fdp\\u202c \\u2066x\\u2069 \\u200f"


# C1 controls: U+009B is a one-byte CSI for some terminals, U+0085 a line break.
def test_c1_controls() -> None:
    assert header_text("a\x85b\x9b2Jc\x80") == "a b2Jc"
    assert terminal_text("\x9b2J\x85") == "\\x9b2J\\x85"


# An encoded word that decodes to another encoded word must not be decoded twice downstream.
def test_nested_encoded_word_is_decoded_once_and_neutralised() -> None:
    assert header_text(NESTED) == "= ?utf-8?q?=0D=0AX:_y?="


# Honest encoded words from real mailers still read as the sender wrote them.
def test_real_encoded_words_are_decoded() -> None:
    split = "=?utf-8?q?R=C3=A9union?= =?ISO-8859-1?Q?_du_conseil_=E0_Paris?="
    assert header_text(split) == "Réunion du conseil à Paris"
    assert header_text("会議 " + b_word("Chloé") + " café") == "会議 Chloé café"


# A broken encoded word is kept as text (never an exception), but can no longer be decoded.
def test_broken_encoded_words_are_kept_raw_and_neutralised() -> None:
    assert header_text("=?utf-8?b?A?=") == "= ?utf-8?b?A?="
    assert header_text("=?x-klingon?q?abc?=") == "= ?x-klingon?q?abc?="


# Emoji sequences, Indic conjuncts and Persian words need ZWJ / ZWNJ; hiding characters go.
def test_zero_width_joiners_kept_hiding_characters_removed() -> None:
    samples = ["👩\u200d💻 dev", "क्\u200dष", "می\u200cخواهم"]
    for sample in samples:
        assert header_text(sample) == sample
        assert terminal_text(sample) == sample
    assert header_text("pay\u200bpal\ufeff\u2060") == "paypal"


# Long subjects are cut between words, and "…" says so.
def test_cut_at_word_boundary_with_ellipsis() -> None:
    cut = header_text("word " * 60, limit=42)
    assert cut == "word " * 7 + "word…"
    assert len(cut) <= 42


# With no space near the limit the cut is hard, still within the limit.
def test_hard_cut_without_a_space() -> None:
    assert header_text("x" * 300, limit=50) == "x" * 49 + "…"
    assert header_text("short", limit=5) == "short"
    with pytest.raises(ValueError):
        header_text("x", limit=0)


# Committee members write French, Portuguese and CJK; nothing of it may be lost.
def test_international_text_kept_intact() -> None:
    samples = [
        "Réunion du 12 mai\u00a0: ordre du jour «\u202frévisé\u202f»",
        "Ação necessária: aprovação do orçamento de 2027",
        "会議の議題について確認をお願いします",
        "회의 안건\u3000확인",
    ]
    for sample in samples:
        assert header_text(sample) == sample
        assert terminal_text(sample) == sample
        assert_no_injection(sample)
        assert_round_trip(sample)


# White space of any kind collapses, so folding and column widths stay predictable.
def test_whitespace_collapsed() -> None:
    assert header_text("  a \t\t b \u2003\u2003 c  ") == "a b c"


# The sanitiser is applied at several layers; a second pass must change nothing.
@pytest.mark.parametrize("value", HOSTILE)
def test_idempotent_on_hostile_inputs(value: str) -> None:
    once = header_text(value)
    assert header_text(once) == once
    short = header_text(value, limit=20)
    assert header_text(short, limit=20) == short


# The promise that matters: nothing a stranger writes adds a header or a body to our mail.
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_input_cannot_inject_headers(value: str) -> None:
    clean = header_text(value)
    assert not any(ch in clean for ch in "\r\n\x00")
    assert "=?" not in clean
    assert_no_injection(value)


# A stranger's display name must not become, or add, an address in the From we send.
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_display_name_cannot_change_the_address(value: str) -> None:
    assert_mailbox_keeps_address(value)
    assert_round_trip(value)


# Honest names stay readable; specials turn into their full-width look-alikes.
def test_mailbox_keeps_names_readable() -> None:
    def shown(name: str) -> str:
        return reparse("s", mailbox(name, "bot@example.org"))["From"].addresses[0].display_name

    assert shown("Chloé Martin") == "Chloé Martin"
    assert shown("Dr. Bruno Carvalho") == "Dr． Bruno Carvalho"
    assert shown("Martin, Chloé (Secretariat)") == "Martin， Chloé （Secretariat）"
    assert mailbox("\r\n", "bot@example.org") == "bot@example.org"


# Why mailbox exists: on 3.11.7 a long quoted name loses its quotes and its "<x@y>" wins.
def test_formataddr_alone_lets_a_long_name_become_the_address() -> None:
    name = header_text("a" * 80 + "<x@evil.example>")
    addresses = reparse("s", formataddr((name, "bot@example.org")))["From"].addresses
    if [a.addr_spec for a in addresses] == ["bot@example.org"]:
        pytest.skip("this Python keeps the quotes when it folds a display name")
    assert [a.addr_spec for a in addresses] == ["x@evil.example"]


# Guards the injection tests: on this interpreter the raw value does inject, and they would see it.
@pytest.mark.skipif(sys.version_info >= (3, 11, 10), reason="CVE-2024-6923 fixed in 3.11.10")
def test_unsanitised_encoded_word_injects_on_this_python() -> None:
    assert "Reply-To" in reparse(REPLY_TO_Q, "bot@example.org")


_pieces = st.sampled_from(
    [
        *["\r\n", "\n", "=?utf-8?q?", "=?utf-8?b?", "?=", "=0D=0A", "_", "Reply-To: ", "DQo="],
        *["=", "?", " ", "\u00a0", "\u200d", "\u2028", "\u202e", "\x1b", "\x85", "\ud800"],
        *[",", ";", ":", "<", ">", "@", '"', "\\", "(", ")", "<x@evil.example>", "é", "会"],
    ]
)
_hostile_text = st.lists(st.one_of(_pieces, st.text(max_size=5)), max_size=30).map("".join)


# Idempotence for any text, not just the inputs we thought of.
@settings(deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=300))
def test_idempotent_for_any_text(value: str, limit: int) -> None:
    once = header_text(value, limit)
    assert header_text(once, limit) == once
    assert len(once) <= limit


# Idempotence and safety for text built from encoded-word, line-break and address fragments.
# No round trip here: Python 3.11.7's folder garbles a few long mixed-script values (it splits an
# encoded word in two), which loses text but adds no header and no address.
@settings(deadline=None)
@given(_hostile_text)
def test_fragments_cannot_inject_headers(value: str) -> None:
    once = header_text(value)
    assert header_text(once) == once
    assert_no_injection(value)
    assert_mailbox_keeps_address(value)


# Any text survives the round trip through the mail library with only our two headers.
@settings(deadline=None)
@given(st.text())
def test_any_text_cannot_inject_headers(value: str) -> None:
    assert_no_injection(value)
    assert_mailbox_keeps_address(value)


# `cgbot review` prints stranger text: colour, OSC title and bell must come out as visible text.
def test_terminal_escape_sequences_are_shown_not_emitted() -> None:
    shown = terminal_text("\x1b[31mred\x1b]0;title\x07")
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert shown == "\\x1b[31mred\\x1b]0;title\\x07"


# Newlines keep a message readable; TAB and CR (which overwrites a line) are shown.
def test_terminal_keeps_newline_only() -> None:
    assert terminal_text("a\nb\tc\rd\ud800") == "a\nb\\tc\\rd\\ud800"


def _control(ch: str) -> bool:
    """C0, DEL or C1."""
    return ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0


# Whatever the input, the output has nothing a terminal acts on and encodes as UTF-8.
@settings(deadline=None)
@given(st.text(st.characters(exclude_categories=())))
def test_terminal_text_is_always_inert(value: str) -> None:
    shown = terminal_text(value)
    shown.encode("utf-8")
    assert not any(ch in shown for ch in SEEN)
    assert not any(_control(ch) and ch != "\n" for ch in shown)


# Table columns: first line only, escaped, cut, and "…" when more lines were left out.
def test_one_line() -> None:
    assert one_line("\n\nTitle\x1b[2J\r\nsecond line", 40) == "Title\\x1b[2J…"
    assert one_line("Approve the budget", 40) == "Approve the budget"
    assert one_line("Approve the budget for 2027 now", 20) == "Approve the budget…"
    assert one_line("", 10) == ""
    assert len(one_line("x" * 10 + "\nmore", 10)) == 10
