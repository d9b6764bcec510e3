"""Signed Message-ID tokens: they name item and person, and cannot be made up."""

from __future__ import annotations

from bot.inbound.match import mint_message_id, read_token, subject_tag


def test_token_round_trip() -> None:
    mid = mint_message_id("s3cret", "cg.example", 12, 3)
    token = read_token(mid, "s3cret")
    assert token is not None and (token.item_id, token.person_id) == (12, 3)
    assert mid != mint_message_id("s3cret", "cg.example", 12, 3)  # a fresh nonce each time


def test_forged_or_foreign_tokens_are_not_ours() -> None:
    mid = mint_message_id("s3cret", "cg.example", 12, 3)
    assert read_token(mid, "another secret") is None
    assert read_token(mid.replace("cg.12.3.", "cg.12.4."), "s3cret") is None  # another person
    assert read_token("<CAF=abc@mail.gmail.com>", "s3cret") is None


def test_subject_tag() -> None:
    assert subject_tag("RE: AW: [CG-42] Ballot: x", "CG") == 42
    assert subject_tag("Re: [cg-7] x", "CG") == 7
    assert subject_tag("Re: CG-7 x", "CG") is None
