"""When a token is asked for again, what a token command may print, and that no log line carries
a secret (issue 13)."""

from __future__ import annotations

import base64
import io
import logging
import sys
import time
from pathlib import Path

import pytest

from bot import logsafe
from bot.config import OAuth2Config
from bot.mail.oauth import (
    AccessToken,
    CommandTokens,
    Tokens,
    TokenUnavailable,
    pick_mechanism,
    sasl_oauthbearer,
    sasl_xoauth2,
    write_private,
)


class Counting:
    """A provider that hands out tok-1, tok-2, ... each valid `lifetime` seconds from `now`."""

    def __init__(self, clock: list[float], lifetime: float = 3600) -> None:
        self.clock, self.lifetime, self.calls = clock, lifetime, 0

    def fetch(self) -> AccessToken:
        self.calls += 1
        return AccessToken(f"token-number-{self.calls}", self.clock[0] + self.lifetime)


def test_a_token_is_kept_until_the_margin_before_it_expires() -> None:
    clock = [1000.0]
    source = Counting(clock)
    tokens = Tokens(source, margin=300, clock=lambda: clock[0])
    assert tokens.get() == "token-number-1"
    clock[0] += 3600 - 301
    assert tokens.get() == "token-number-1"  # still 301 s left
    clock[0] += 2
    assert tokens.get() == "token-number-2"  # 299 s left: renewed before it runs out
    assert source.calls == 2


def test_a_refused_token_is_replaced_once_however_many_connections_say_so() -> None:
    clock = [0.0]
    source = Counting(clock)
    tokens = Tokens(source, clock=lambda: clock[0])
    first = tokens.get()
    tokens.refused(first)  # the IMAP connection...
    second = tokens.get()
    tokens.refused(first)  # ...and, late, the SMTP one with the same old token
    assert (second, tokens.get(), source.calls) == ("token-number-2", "token-number-2", 2)


def test_an_empty_token_is_an_error_not_a_login() -> None:
    class Empty:
        def fetch(self) -> AccessToken:
            return AccessToken("", 0)

    with pytest.raises(TokenUnavailable, match="empty token"):
        Tokens(Empty()).get()


def command(tmp_path: Path, output: str, code: int = 0) -> CommandTokens:
    script = tmp_path / "tok.py"
    script.write_text(f"import sys\nsys.stdout.write({output!r})\nsys.exit({code})\n")
    return CommandTokens(f"{sys.executable} {script}")


def test_a_token_command_may_print_json_or_the_bare_token(tmp_path: Path) -> None:
    token = command(tmp_path, '{"access_token": "json-token-value", "expires_in": "120"}').fetch()
    assert token.value == "json-token-value"
    assert 100 < token.expires_at - time.time() <= 120
    assert command(tmp_path, "bare-token-value\n").fetch().value == "bare-token-value"


def test_a_failing_token_command_is_named_with_its_error(tmp_path: Path) -> None:
    script = tmp_path / "tok.py"
    script.write_text("import sys\nsys.stderr.write('not signed in\\n')\nsys.exit(3)\n")
    with pytest.raises(TokenUnavailable, match=r"exited 3: not signed in"):
        CommandTokens(f"{sys.executable} {script}").fetch()
    with pytest.raises(TokenUnavailable, match="no-such-helper"):
        CommandTokens("no-such-helper --token").fetch()


def test_oauthbearer_is_rfc_7628_and_preferred_where_offered() -> None:
    decoded = base64.b64decode(sasl_oauthbearer("cg,x=y@example.org", "ya29.abc"))
    assert decoded == b"n,a=cg=2Cx=3Dy@example.org,\x01auth=Bearer ya29.abc\x01\x01"
    assert pick_mechanism({"PLAIN", "XOAUTH2", "OAUTHBEARER"}) == "OAUTHBEARER"
    assert pick_mechanism({"plain", "xoauth2"}) == "XOAUTH2"


def test_sasl_string_is_the_documented_xoauth2_format() -> None:
    decoded = base64.b64decode(sasl_xoauth2("cg@example.org", "ya29.abc"))
    assert decoded == b"user=cg@example.org\x01auth=Bearer ya29.abc\x01\x01"


def test_no_log_line_carries_a_registered_secret(caplog: pytest.LogCaptureFixture) -> None:
    secret = logsafe.register("at-very-secret-token-1234")
    sasl = sasl_xoauth2("cg@example.org", secret)  # registered when made
    handler = logging.StreamHandler(stream := io.StringIO())
    logger = logging.getLogger("cgbot.test-logsafe")
    logger.addHandler(handler)
    logsafe.install(logger)
    try:
        logger.warning("Sending : %s", f"A1 AUTHENTICATE XOAUTH2 {sasl}".encode())
        try:
            raise RuntimeError(f"refused {secret}")
        except RuntimeError:
            logger.exception("login failed")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert secret not in written and sasl not in written
    assert written.count(logsafe.MASK) == 2  # in the SASL line and in the traceback


def test_private_files_are_written_whole_and_for_the_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "token.json"
    write_private(target, '{"refresh_token": "x"}')
    write_private(target, '{"refresh_token": "y"}')
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_text() == '{"refresh_token": "y"}'
    assert [p.name for p in target.parent.iterdir()] == ["token.json"]  # no temp file left


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ({"provider": "command"}, "needs token_command"),
        ({"provider": "microsoft"}, "needs client_id"),
        (
            {"provider": "microsoft", "client_id": "x", "flow": "client-credentials"},
            "needs client_secret",
        ),
        ({"provider": "google", "client_id": "x"}, "needs client_secret"),
        (
            {
                "provider": "google",
                "client_id": "x",
                "client_secret": "a",
                "client_secret_env": "B",
            },
            "only one of",
        ),
    ],
)
def test_an_incomplete_oauth2_table_is_refused(table: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        OAuth2Config.model_validate(table)
