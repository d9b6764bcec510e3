"""The mailbox over TLS: implicit TLS (imaps) and STARTTLS, verified against a configured CA."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.demo import clients
from tests.conftest import BOT, MEMBERS, Bot
from tests.servers import Dovecot, SmtpSink

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_reply_read_over_tls(bot: Bot, smtp: SmtpSink, dovecot: Dovecot, security: str) -> None:
    port = dovecot.imaps_port if security == "ssl" else dovecot.port
    text = bot.config.read_text().replace(f"port = {dovecot.port}", f"port = {port}", 1)
    text = text.replace(
        'security = "none"', f'security = "{security}"\nca_file = "{dovecot.ca_file}"', 1
    )
    bot.config.write_text(text)
    bot.open_and_send(smtp, NOW)
    name, email = MEMBERS[2][0], MEMBERS[2][1]
    original = clients.Original(smtp.to(email)[0].raw)
    bot.append(clients.apple_mail(original, name, email, BOT, datetime.now(UTC), "Abstain"))
    bot.run("run", "--once", now="2026-12-02T09:00:00Z")
    assert bot.status()["items"][0]["responses"][email]["position"] == "abstain"


def test_an_untrusted_certificate_is_refused(bot: Bot, dovecot: Dovecot) -> None:
    # Without the test CA, the server's certificate cannot be verified: no connection, a clear
    # error, and nothing read.
    text = (
        bot.config.read_text()
        .replace(f"port = {dovecot.port}", f"port = {dovecot.imaps_port}", 1)
        .replace('security = "none"', 'security = "ssl"', 1)
    )
    bot.config.write_text(text)
    out = bot.run("run", "--once", now=NOW, check=False)
    assert out.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in out.stderr, out.stderr
