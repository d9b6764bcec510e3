"""Automatic mail is recognised before anything else, and people's mail is not."""

from __future__ import annotations

import pytest

from bot.inbound.classify import Automatic, classify
from bot.inbound.parse import parse_message
from tests.conftest import FIXTURES


def msg(headers: str, body: str = "Hello") -> bytes:
    base = "From: Ana <ana@x.org>\r\nTo: bot@cg.example\r\nMessage-ID: <m1@x.org>\r\n"
    return (base + headers + "\r\n" + body + "\r\n").encode()


AUTOMATIC = [
    ("Auto-Submitted: auto-replied\r\nSubject: Re: ballot\r\n", Automatic.AUTO_REPLY),
    ("Auto-Submitted: auto-generated\r\nSubject: report\r\n", Automatic.AUTO_GENERATED),
    ("X-Autoreply: yes\r\nSubject: Re: ballot\r\n", Automatic.AUTO_REPLY),
    ("Precedence: bulk\r\nSubject: news\r\n", Automatic.AUTO_GENERATED),
    ("List-Id: <cg.lists.example>\r\nSubject: Re: [CG-1] x\r\n", Automatic.LIST),
    ("Subject: Automatic reply: [CG-1] Ballot\r\n", Automatic.AUTO_REPLY),
    ("Subject: Réponse automatique : [CG-1] Ballot\r\n", Automatic.AUTO_REPLY),
    ("Subject: Resposta automática: [CG-1] Ballot\r\n", Automatic.AUTO_REPLY),
    ("Subject: Out of Office: [CG-1] Ballot\r\n", Automatic.AUTO_REPLY),
    ("Subject: Undeliverable: [CG-1] Ballot\r\nReturn-Path: <>\r\n", Automatic.BOUNCE),
    (
        "Subject: Delivery Status Notification\r\nContent-Type: multipart/report; "
        'report-type=delivery-status; boundary="b"\r\n',
        Automatic.BOUNCE,
    ),
]


@pytest.mark.parametrize(("headers", "kind"), AUTOMATIC)
def test_automatic_mail(headers: str, kind: Automatic) -> None:
    body = "--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--" if "report" in headers else "x"
    verdict = classify(parse_message(msg(headers, body)))
    assert verdict is not None and verdict.kind == kind


PEOPLE = [
    "Subject: Re: [CG-1] Ballot: leave policy\r\n",
    "Subject: Re: [CG-1] Ballot: out of office hours support\r\n",
    "Subject: Apologies: I will be absent on Monday\r\n",
    "Auto-Submitted: no\r\nSubject: Re: [CG-1] Ballot\r\n",
]


@pytest.mark.parametrize("headers", PEOPLE)
def test_people_are_not_robots(headers: str) -> None:
    assert classify(parse_message(msg(headers))) is None


def test_gitlab_auto_reply_fixture() -> None:
    raw = (FIXTURES / "corpus/gitlab/spec/fixtures/emails/auto_reply.eml").read_bytes().lstrip()
    raw = b"Message-ID: <fixture@test>\r\n" + raw if b"message-id:" not in raw.lower() else raw
    verdict = classify(parse_message(raw))
    assert verdict is not None and verdict.kind == Automatic.AUTO_REPLY
