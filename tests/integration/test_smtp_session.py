"""One SMTP session per batch (issue 12): the outbox's mails go out over one connection, each
still its own transaction, and a refused mail does not stop the ones after it."""

from __future__ import annotations

import pytest

from bot.config import SmtpConfig
from bot.mail.transport import PermanentFailure, SmtpTransport, finish
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration


def mail(n: int) -> bytes:
    return f"From: bot@cg.example\r\nTo: m@x.example\r\nSubject: {n}\r\n\r\nbody {n}\r\n".encode()


class RefusesOne(SmtpSink):
    """Refuses the third mail for good, as a server refuses an oversized one."""

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        if b"Subject: 3\r\n" in (envelope.original_content or b""):  # type: ignore[attr-defined]
            return "552 message too large"
        return await super().handle_DATA(server, session, envelope)  # type: ignore[arg-type]


async def test_a_batch_goes_out_over_one_session_and_survives_a_refusal() -> None:
    sink = RefusesOne()
    sink.start()
    try:
        config = SmtpConfig.model_validate(
            {
                "host": "127.0.0.1",
                "port": sink.port,
                "security": "none",
                "from_address": "bot@cg.example",
            }
        )
        transport = SmtpTransport(config, None)
        refused = []
        for n in range(1, 7):
            try:
                await transport.send("bot@cg.example", ["m@x.example"], mail(n))
            except PermanentFailure as exc:
                refused.append((n, str(exc)))
        await finish(transport)
        assert [m.raw.split(b"Subject: ")[1][:1] for m in sink.messages] == [
            b"1",
            b"2",
            b"4",
            b"5",
            b"6",
        ]
        assert refused == [(3, "552 message too large")]
        # Two sessions: the first until the refusal ended it, a new one for the rest.
        assert len(sink.sessions) == 2
        await transport.send("bot@cg.example", ["m@x.example"], mail(7))  # after finish: anew
        await finish(transport)
        assert len(sink.sessions) == 3 and len(sink.messages) == 6
    finally:
        sink.stop()
