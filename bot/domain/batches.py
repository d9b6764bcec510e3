"""How many messages are read and applied at once: a catch-up reads this much per UID FETCH
and per database transaction (few round trips and commits), and holds at most this batch and
the next, fetched ahead, in memory whatever the backlog."""

from __future__ import annotations

BATCH_MESSAGES = 50
BATCH_BYTES = 5 * 1024 * 1024


def plan_batches(
    sized: list[tuple[int, int]],
    max_messages: int = BATCH_MESSAGES,
    max_bytes: int = BATCH_BYTES,
) -> list[list[int]]:
    """Group (key, size) pairs, in order, into batches of at most `max_messages` messages and
    `max_bytes` bytes; a message larger than `max_bytes` goes alone."""
    batches: list[list[int]] = []
    current: list[int] = []
    total = 0
    for key, size in sized:
        if current and (len(current) >= max_messages or total + size > max_bytes):
            batches.append(current)
            current, total = [], 0
        current.append(key)
        total += size
    if current:
        batches.append(current)
    return batches
