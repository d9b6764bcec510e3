"""A mail that is only its text and its HTML (every confirmation) is built without the email
package's header objects, for speed (issue 12). It must be the same mail as EmailMessage
builds: the same headers once decoded, the same parts, the same text to the character."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import compat32, default

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mail.compose import (
    _SHORT_LINES_AS_IS,
    Envelope,
    _text_and_html,
    _with_parts,
    from_header,
)
from bot.render import Rendered

WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
REFS = tuple(f"<cg.1.{n}.{'a' * 24}@cg.example>" for n in range(25))
LONG_WORD = "x" * 300
TEXT = (
    "Dear Aroha,\n\nYour answer to \u201cAdopt the 2027 shortlist\u201d was recorded: AGREE.\n"
    "From the Secretariat, with = signs, =3D and a trailing space \n.\n"
    f"{LONG_WORD}\r\nCR LF above, a lone CR here\rand a form feed\x0chere, a line\u2028separator\n"
    "Kia ora, M\u0101ori macrons; \u4f1a\u8bae\u7eaa\u8981; emoji \U0001f44d; tab\tend"
)
HTML = "<p>" + TEXT.replace("\n", "<br>\n") + "</p>"
SUBJECTS = [
    "Recorded: AGREE",
    "Re: [CG-12] Enregistr\u00e9 : D\u2019ACCORD \u2014 programme de travail 2027",
    "Re: " + " ".join(["shortlist"] * 40),
    "Re: " + LONG_WORD[:240],
    "\u4f1a\u8bae\u901a\u77e5\uff1a" + "\u5de5\u4f5c\u8ba1\u5212" * 30,
    "Kia ora: M\u0101ori \u0101, =?utf-8?q?not_a_word?= and \U0001f44d",
]
SENDERS = [
    ("Coordination Group bot", "cg-bot@cg.example"),
    ("Secr\u00e9tariat ex\u00e9cutif \u2014 GC", "cg-bot@cg.example"),
]


def envelope(sender: tuple[str, str], references: tuple[str, ...]) -> Envelope:
    return Envelope(
        from_header(*sender),
        sender[1],
        ("amina@members.example", "bruno@members.example"),
        "<cg.1.2.abcdefabcdefabcdefabcdef@cg.example>",
        WHEN,
        references[-1] if references else "",
        references,
    )


def parsed(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> list[tuple[str, str | None]]:
    return [(p.get_content_type(), p.get("Content-Transfer-Encoding")) for p in msg.walk()]


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("references", [(), REFS])
def test_the_fast_mail_is_the_mail_email_message_builds(
    subject: str, sender: tuple[str, str], references: tuple[str, ...]
) -> None:
    env, body = envelope(sender, references), Rendered(subject, TEXT, HTML)
    fast_raw = _text_and_html(env, body)
    fast, usual = parsed(fast_raw), parsed(_with_parts(env, body, (), None))

    assert fast_raw.isascii()
    assert max(len(line) for line in fast_raw.splitlines()) <= 998
    assert fast.keys() == usual.keys()  # the same headers, in the same order
    for name in usual:
        if name != "Content-Type":  # its boundary is random
            assert str(fast[name]) == str(usual[name]), name
    assert not fast.defects and not usual.defects
    assert parts(fast) == parts(usual)
    for kind in ("plain", "html"):
        mine, theirs = fast.get_body((kind,)), usual.get_body((kind,))
        assert mine is not None and theirs is not None
        assert mine.get_content() == theirs.get_content()
        assert mine.get_content_charset() == "utf-8"


_HEADER_NAMES = st.sampled_from(["Subject", "To", "From", "Message-ID", "References", "X-A"])
_PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)


@settings(max_examples=3000, deadline=None)
@given(_HEADER_NAMES, st.text(alphabet=_PRINTABLE, max_size=90))
def test_a_short_printable_header_is_written_as_compat32_folds_it(name: str, value: str) -> None:
    assert _SHORT_LINES_AS_IS.fold_binary(name, value) == compat32.fold_binary(name, value)


@pytest.mark.parametrize(
    "value",
    ["caf\u00e9", "tab\there", "form\x0cfeed", "x" * 80, "a\r\n b", "=?utf-8?q?w?= " * 9],
)
def test_other_headers_are_folded_by_compat32(value: str) -> None:
    assert _SHORT_LINES_AS_IS.fold_binary("Subject", value) == compat32.fold_binary(
        "Subject", value
    )


def test_the_boundary_cannot_occur_in_the_parts() -> None:
    env = envelope(SENDERS[0], ())
    fake = "--" + "=" * 15 + "1" * 19 + "=="
    text = "\n".join([fake, fake + "--", "=" * 200, "==", "--=="])
    raw = _text_and_html(env, Rendered("Boundary", text, f"<pre>{text}</pre>"))
    msg = parsed(raw)
    boundary = msg.get_boundary()
    assert boundary is not None and boundary.startswith("=" * 15) and boundary.endswith("==")
    assert raw.count(f"--{boundary}".encode()) == 3  # two parts and the closing line
    assert not msg.defects
    body = msg.get_body(("plain",))
    assert body is not None and body.get_content() == text + "\n"
