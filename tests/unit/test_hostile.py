"""Hostile and broken input through the whole inbound path: no crash, nothing lost (issue 4)."""

from __future__ import annotations

import base64
import resource
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store.db import session
from bot.store.models import Inbound, Outbox
from bot.store.repo import sha256
from tests.conftest import BOT, MEMBERS, T0, mail_to, make_app, open_ballot

AMINA, A_MAIL = MEMBERS[0][0], MEMBERS[0][1]
FINAL = {"processed", "ignored", "quarantined", "duplicate"}


def ballot_app(folder: Path) -> tuple[App, clients.Original]:
    app = make_app(folder, secret="fuzz")
    open_ballot(app)
    return app, mail_to(app, A_MAIL)


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
_charsets = st.sampled_from(
    [
        "utf-8",
        "us-ascii",
        "iso-8859-1",
        "x-klingon",
        "utf-7",
        "gb2312",
        "shift_jis",
        "",
        'utf-8"; foo="',
        "koi8-r",
    ]
)
_encodings = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", ""])


@st.composite
def part(draw: st.DrawFn, depth: int = 0) -> bytes:
    """A MIME part: text in some charset and encoding, or a multipart, possibly broken."""
    if depth < 6 and draw(st.booleans()):
        boundary = draw(st.sampled_from(["b1", "=_x", "", "a" * 80, "b1 b2"]))
        children = draw(st.lists(part(depth + 1), max_size=3))
        close = draw(st.sampled_from([f"--{boundary}--", "", f"--{boundary}"]))
        body = b"".join(f"--{boundary}\r\n".encode() + c for c in children)
        sub = draw(st.sampled_from(["mixed", "alternative", "report", "related", "digest"]))
        head = f'Content-Type: multipart/{sub}; boundary="{boundary}"\r\n\r\n'.encode()
        return head + body + close.encode() + b"\r\n"
    charset, cte = draw(_charsets), draw(_encodings)
    payload = draw(
        st.one_of(_text.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=300))
    )
    if cte == "base64" and draw(st.booleans()):
        payload = base64.b64encode(payload)
    kind = draw(
        st.sampled_from(
            [
                "text/plain",
                "text/html",
                "message/rfc822",
                "message/delivery-status",
                "application/zip",
                "image/png",
            ]
        )
    )
    name = draw(st.sampled_from(["", "../../etc/passwd", "a" * 300, "x\x00y.txt", "=?utf-8?q?é?="]))
    disp = f'Content-Disposition: attachment; filename="{name}"\r\n' if name else ""
    return (
        (
            f'Content-Type: {kind}; charset="{charset}"\r\nContent-Transfer-Encoding: {cte}\r\n'
            f"{disp}\r\n"
        ).encode()
        + payload
        + b"\r\n"
    )


@st.composite
def message(draw: st.DrawFn, token: str) -> bytes:
    sender = draw(
        st.sampled_from(
            [
                f"{AMINA} <{A_MAIL}>",
                "x@evil.example",
                "",
                "<>",
                "=?utf-8?b?!!!?= <a@b>",
                "MAILER-DAEMON@x.example",
            ]
        )
    )
    headers = [f"From: {sender}"]
    if draw(st.booleans()):
        headers.append(f"Message-ID: <{draw(st.integers(0, 10**9))}@fuzz.example>")
    if draw(st.booleans()):
        headers.append(f"In-Reply-To: {draw(st.sampled_from([token, '<x@y>', '<<>>', '']))}")
    subject = draw(_text).replace("\r", " ").replace("\n", " ")
    headers.append(
        f"Subject: {draw(st.sampled_from(['', 'Re: [CG-1] ', '=?x?q?', 'BALLOT: ']))}{subject}"
    )
    for _ in range(draw(st.integers(0, 3))):
        headers.append(f"X-Junk: {'j' * draw(st.integers(0, 5000))}")
    if draw(st.booleans()):
        headers.append(f"Auto-Submitted: {draw(st.sampled_from(['auto-replied', 'no', '???']))}")
    raw = "\r\n".join(headers).encode("utf-8", "surrogatepass")
    return raw + b"\r\nMIME-Version: 1.0\r\n" + draw(part())


@pytest.mark.slow
def test_fuzzed_messages_never_stop_the_pipeline(
    tmp_path_factory: pytest.TempPathFactory, matrix: dict[str, list[str]]
) -> None:
    app, ballot = ballot_app(tmp_path_factory.mktemp("fuzz"))
    seen = {"n": 0, "slowest": 0.0}

    @settings(
        max_examples=2000,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.one_of(message(ballot.message_id), st.binary(max_size=2000)))
    def feed(raw: bytes) -> None:
        started = time.perf_counter()
        state = app.handle(Fetched("fuzz", raw))
        seen["slowest"] = max(seen["slowest"], time.perf_counter() - started)
        seen["n"] += 1
        assert state in FINAL
        with session(app.engine) as s:  # archived, byte for byte, whatever became of it
            row = s.exec(select(Inbound).where(Inbound.sha256 == sha256(raw))).one()
        assert row.raw == raw

    feed()
    with session(app.engine) as s:
        archived = len(s.exec(select(Inbound.id)).all())
    assert seen["n"] >= 1000 and archived > 0
    assert seen["slowest"] < 10, f"one message took {seen['slowest']:.1f}s"
    matrix.setdefault("fuzzed messages", []).append(
        f"{seen['n']} generated, {archived} distinct archived, none crashed, "
        f"slowest {seen['slowest'] * 1000:.0f} ms"
    )


HOSTILE = {
    "20 MB body": lambda: (
        b"From: a@b.example\r\nMessage-ID: <big@b>\r\nSubject: big\r\n\r\n"
        + b"A" * (20 * 1024 * 1024)
    ),
    "200 nested multiparts": lambda: (
        b"From: a@b.example\r\nMessage-ID: <deep@b>\r\n"
        + b"".join(
            f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode()
            for i in range(200)
        )
        + b"Content-Type: text/plain\r\n\r\nhi\r\n"
    ),
    "zip-bomb-like attachment": lambda: (
        b"From: a@b.example\r\nMessage-ID: <zip@b>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="z"\r\n\r\n--z\r\nContent-Type: text/plain\r\n'
        b"\r\nsee attached\r\n--z\r\nContent-Type: application/zip\r\nContent-Disposition: "
        b'attachment; filename="../../../tmp/evil.zip"\r\nContent-Transfer-Encoding: base64\r\n'
        b"\r\n" + base64.encodebytes(b"PK\x03\x04" + b"\x00" * 5_000_000) + b"\r\n--z--\r\n"
    ),
    "1 MB header line": lambda: (
        b"From: a@b.example\r\nMessage-ID: <hdr@b>\r\nSubject: "
        + b"s" * 1_000_000
        + b"\r\n\r\nbody\r\n"
    ),
    "10,000 headers": lambda: (
        b"From: a@b.example\r\nMessage-ID: <many@b>\r\n" + b"X-A: b\r\n" * 10_000 + b"\r\nbody\r\n"
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_message_is_kept_and_the_next_one_counts(
    tmp_path: Path, name: str, matrix: dict[str, list[str]]
) -> None:
    app, ballot = ballot_app(tmp_path)
    raw = HOSTILE[name]()
    started = time.perf_counter()
    state = app.handle(Fetched("test", raw))
    took = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert state in FINAL and took < 60 and peak_mb < 2048
    with session(app.engine) as s:
        assert s.exec(select(Inbound).where(Inbound.sha256 == sha256(raw))).one().raw == raw
    good = clients.gmail(ballot, AMINA, A_MAIL, BOT, T0, "Agree")
    assert app.handle(Fetched("test", good)) == "processed"
    matrix.setdefault("hostile messages", []).append(
        f"{name}: {state} in {took:.1f}s (process peak {peak_mb:.0f} MB)"
    )
    assert not Path("/tmp/evil.zip").exists()


def test_members_words_are_escaped_in_html_mail(tmp_path: Path) -> None:
    app, ballot = ballot_app(tmp_path)
    answer = 'Object: <script>alert("x")</script> & <img src=x onerror=y>'
    assert app.handle(Fetched("t", clients.gmail(ballot, AMINA, A_MAIL, BOT, T0, answer))) == (
        "processed"
    )
    with session(app.engine) as s:
        confirm = s.exec(select(Outbox).where(Outbox.purpose == "confirm")).one()
    body = message_from_bytes(confirm.raw, policy=default).get_body(("html",))
    assert body is not None
    markup = body.get_content()
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert "<img" not in markup
    assert "<script>" in clients.Original(confirm.raw).text  # plain text keeps them as written
