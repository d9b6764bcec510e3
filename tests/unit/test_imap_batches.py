"""A catch-up's batches: planned from the sizes alone, and paired back from one UID FETCH."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.batches import plan_batches
from bot.mail.imap import fetched_messages


def test_batches_keep_mailbox_order_and_both_bounds() -> None:
    sized = [(uid, 100) for uid in range(1, 8)]
    assert plan_batches(sized, max_messages=3, max_bytes=10_000) == [[1, 2, 3], [4, 5, 6], [7]]
    assert plan_batches(sized, max_messages=50, max_bytes=250) == [[1, 2], [3, 4], [5, 6], [7]]


def test_a_message_larger_than_the_byte_bound_goes_alone() -> None:
    sized = [(1, 10), (2, 5_000), (3, 10), (4, 10)]
    assert plan_batches(sized, max_messages=50, max_bytes=1_000) == [[1], [2], [3, 4]]
    assert plan_batches([], max_messages=50, max_bytes=1_000) == []


def test_each_literal_is_paired_with_its_uid_and_arrival() -> None:
    lines = [
        b'1 FETCH (UID 41 INTERNALDATE "28-Nov-2026 10:00:00 +0000" BODY[] {5}',
        bytearray(b"first"),
        b")",
        b"2 FETCH (FLAGS (\\Seen))",  # unsolicited: another client read a message meanwhile
        b'3 FETCH (INTERNALDATE " 1-Dec-2026 09:30:00 +0100" BODY[] {6}',
        bytearray(b"second"),
        b" UID 43)",  # a server may name the UID after the literal
        b'4 FETCH (UID 99 INTERNALDATE "28-Nov-2026 10:00:00 +0000" BODY[] {5}',
        bytearray(b"other"),  # not asked for
        b")",
        b"Fetch completed (0.001 + 0.000 secs).",
    ]
    found = fetched_messages(lines, {41, 43, 44})
    assert found == {
        41: (b"first", datetime(2026, 11, 28, 10, tzinfo=UTC)),
        43: (b"second", datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
    }  # 44 was expunged meanwhile: absent, not an error
