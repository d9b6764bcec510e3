"""Whose address a bounce is about: the report's failed recipients, else our quoted token."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.domain.message import InboundMessage
from bot.domain.types import PersonView
from bot.inbound.match import read_token

_OUR_IDS = re.compile(rb"<cg\.\d+\.\d+\.[a-z2-7]+\.[a-z2-7]+@[\w.-]+>")


def bounced_people(
    msg: InboundMessage,
    raw: bytes,
    secret: str,
    person_by_email: Callable[[str], PersonView | None],
    person_by_id: Callable[[int], PersonView | None],
) -> dict[int, str]:
    """Person id -> what failed. A delayed or successful delivery report names nobody."""
    found: dict[int, str] = {}
    for block in msg.delivery:
        if block.action == "failed" or block.status.startswith("5"):
            person = person_by_email(block.recipient)
            if person is not None:
                found[person.id] = f"{block.recipient}: {block.action or 'failed'} {block.status}"
    if found or msg.delivery:
        return found
    # No machine-readable report (older MTAs): the bounced mail is quoted, with our token.
    for mid in dict.fromkeys(_OUR_IDS.findall(raw)):
        token = read_token(mid.decode("ascii"), secret)
        person = person_by_id(token.person_id) if token else None
        if person is not None:
            found[person.id] = f"{person.email}: bounced (no delivery report)"
    return found
