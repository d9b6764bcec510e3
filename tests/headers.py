"""Every mail the bot sends has exactly the headers it means to send (issue 8, item 2).

The suite's fixtures run this on each mail the bot queues in process and on each mail the test
SMTP server receives from a cgbot process, so an injected header anywhere fails the test that
caused it."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from email.utils import getaddresses

REQUIRED = frozenset(
    {
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        "Reply-To",
        "MIME-Version",
        "Content-Type",
    }
)
OPTIONAL = frozenset({"In-Reply-To", "References"})
CHECKED: list[str] = []  # Message-IDs checked in this run, for the trust matrix


def check_headers(raw: bytes, bot_address: str) -> None:
    """Raise AssertionError naming what is wrong with one outgoing mail's header set."""
    msg = message_from_bytes(raw, policy=default)
    names = list(msg.keys())
    where = f"mail {msg.get('Message-ID', '?')}"
    assert len(names) == len(set(names)), f"{where}: a header twice: {names}"
    assert REQUIRED <= set(names) <= REQUIRED | OPTIONAL, f"{where}: headers {names}"
    for name in ("From", "Reply-To"):
        found = [addr.lower() for _, addr in getaddresses([str(msg[name])])]
        assert found == [bot_address.lower()], f"{where}: {name} is {msg[name]!r}"
    assert all("@" in a for _, a in getaddresses([str(msg["To"])])), f"{where}: To {msg['To']!r}"
    assert msg.get_content_type() == "multipart/mixed" or msg.is_multipart(), where
    assert msg.get_body(("plain",)) is not None, f"{where}: no text part"
    CHECKED.append(str(msg["Message-ID"]))
