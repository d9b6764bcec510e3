"""Reading the headers from the header block alone gives what a headers-only parse of the
whole message gives: same headers in the same order, same defects, whatever the line ends."""

from __future__ import annotations

from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.inbound.parse import header_block, id_and_sender, read_headers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = sorted(FIXTURES.rglob("*.eml"))


def _whole(raw: bytes) -> Message:
    return BytesHeaderParser(policy=compat32).parsebytes(raw)


def _same(raw: bytes) -> None:
    whole, block = _whole(raw), read_headers(raw)
    assert block.items() == whole.items()
    assert [type(d) for d in block.defects] == [type(d) for d in whole.defects]
    assert block.get_unixfrom() == whole.get_unixfrom()


def test_the_corpus_has_mail_to_compare() -> None:
    assert len(CORPUS) > 100


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_reads_the_same_headers(path: Path) -> None:
    _same(path.read_bytes())


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n",
        b"\n\nbody",
        b"Subject: no body and no end of line",
        b"Subject: a\r\nFrom: b@x.example\r\n",
        b"Subject: a\r\n\r\nFrom: not-a-header@x.example\r\n",
        b"Subject: a\n\nFrom: body@x.example\n",
        b"Subject: a\r\rFrom: body@x.example\r",
        b"Subject: a\r\r\nFrom: body@x.example\r\n",
        b"Subject: a\n\r\nFrom: body@x.example\r\n",
        b"Subject: a\r\n\nFrom: body@x.example\r\n",
        b"Subject: a\r\n\rFrom: body@x.example\r\n",
        b"Subject: folded\r\n across\r\n\tlines\r\nTo: t@x.example\r\n\r\nbody",
        b"Subject: a\r\nthis line is no header\r\nTo: t@x.example\r\n\r\nbody",
        b"From sender@x.example Thu Jan  1 00:00:00 2026\nSubject: mbox\n\nbody",
        b"Subject: a\r\n \r\nTo: t@x.example\r\n\r\nbody",  # a folded line of white space only
        b"Subject: caf\xc3\xa9 \xff\r\nFrom: a@x.example\r\n\r\n\xff\xfe",
    ],
)
def test_line_ends_and_oddities_read_the_same(raw: bytes) -> None:
    _same(raw)


_PIECES = st.sampled_from(
    [b"Subject: s", b"From: a@x.example", b" folded", b"\tfolded", b"no colon", b"X:", b""]
)
_ENDS = st.sampled_from([b"\r\n", b"\n", b"\r"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_PIECES, _ENDS), max_size=12), st.binary(max_size=40))
def test_any_mix_of_lines_reads_the_same(lines: list[tuple[bytes, bytes]], tail: bytes) -> None:
    _same(b"".join(text + end for text, end in lines) + tail)


def test_the_block_stops_at_the_first_empty_line() -> None:
    raw = b"Message-ID: <a@x.example>\r\nFrom: A <a@x.example>\r\n\r\n" + b"x" * 100_000
    assert header_block(raw) == raw[: raw.index(b"\r\n\r\n") + 4]
    assert id_and_sender(raw) == ("<a@x.example>", "a@x.example")
