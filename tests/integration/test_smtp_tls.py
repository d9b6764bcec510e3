"""Outgoing mail over TLS: STARTTLS and implicit TLS to aiosmtpd, verified against a test CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.conftest import Bot
from tests.servers import SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"


@pytest.fixture
def ca(tmp_path: Path) -> Iterator[tuple[trustme.CA, Path]]:
    authority = trustme.CA()
    pem = tmp_path / "smtp-ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    yield authority, pem


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_ballot_mails_go_out_over_tls(
    bot: Bot, smtp: SmtpSink, ca: tuple[trustme.CA, Path], security: str
) -> None:
    authority, pem = ca
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_ctx)
    smtp.stop()
    tls_sink = SmtpSink(
        port=smtp.port,
        tls={
            "starttls": {"tls_context": server_ctx, "require_starttls": True},
            "ssl": {"ssl_context": server_ctx},
        }[security],
    )
    tls_sink.start()
    try:
        text = bot.config.read_text()
        head, _, tail = text.partition("[smtp]")
        tail = tail.replace('security = "none"', f'security = "{security}"\nca_file = "{pem}"', 1)
        bot.config.write_text(head + "[smtp]" + tail)
        bot.open_ballot("Shortlist", "Agree?", "2026-12-11T17:00:00Z", NOW)
        bot.run("run", "--once", now=NOW)
        assert len(tls_sink.wait_for(5)) == 5
        assert bot.status()["outbox"] == {"sent": 5}
    finally:
        tls_sink.stop()
