"""A mail that is only its text and its HTML (every confirmation) is built without the email
package's header objects, for speed (issue 12). It must be the same mail as EmailMessage
builds: the same headers once decoded, the same parts, the same text to the character."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

import pytest

from bot.mail.compose import Envelope, _text_and_html, _with_parts, from_header
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
