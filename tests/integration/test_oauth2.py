"""OAuth2 for real: Dovecot's oauth2 passdb and an XOAUTH2-only SMTP server, both asking a token
server on loopback; cgbot signs in with tokens from a command, from Google's refresh grant
(google-auth) and from `cgbot auth login`'s PKCE sign-in (issue 13)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from bot.mail.oauth import sasl_oauthbearer, sasl_xoauth2
from tests.conftest import BOT, MEMBERS, Bot, config_text
from tests.oauth_server import MicrosoftIdentity, TokenServer
from tests.servers import Dovecot, OAuthBearerSink, XOAuth2Sink, start_dovecot

pytestmark = pytest.mark.integration

NOW = "2026-12-01T09:00:00+00:00"

TOKEN_SCRIPT = """\
import json, pathlib, sys
here = pathlib.Path(sys.argv[1])
tokens = json.loads((here / "tokens.json").read_text())
count = here / "calls"
n = int(count.read_text()) if count.exists() else 0
count.write_text(str(n + 1))
print(json.dumps({"access_token": tokens[min(n, len(tokens) - 1)], "expires_in": 3600}))
"""


@pytest.fixture(scope="module")
def tokens() -> Iterator[TokenServer]:
    server = TokenServer()
    server.start()
    yield server
    server.stop()


def _dovecot(tokens: TokenServer, mechanisms: str) -> Iterator[Dovecot]:
    root = Path(tempfile.mkdtemp(prefix="cgbot-oauth-dovecot-"))
    root.chmod(0o755)  # Dovecot's unprivileged processes walk the path
    server = start_dovecot(root, oauth2_url=tokens.url, oauth2_mechanisms=mechanisms)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def oauth_dovecot(tokens: TokenServer) -> Iterator[Dovecot]:
    yield from _dovecot(tokens, "xoauth2 oauthbearer")


@pytest.fixture(scope="module")
def xoauth2_dovecot(tokens: TokenServer) -> Iterator[Dovecot]:
    """A server offering only XOAUTH2 (Gmail's IMAP, say): the mechanism cgbot falls back to."""
    yield from _dovecot(tokens, "xoauth2")


def _sink(kind: type[XOAuth2Sink], tokens: TokenServer) -> Iterator[Any]:
    server = kind(user_of=tokens.user_of)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def bearer_sink(tokens: TokenServer) -> Iterator[OAuthBearerSink]:
    yield from _sink(OAuthBearerSink, tokens)


@pytest.fixture
def sink(tokens: TokenServer) -> Iterator[XOAuth2Sink]:
    yield from _sink(XOAuth2Sink, tokens)


def oauth_bot(
    folder: Path, dovecot: Dovecot, sink: XOAuth2Sink, oauth2: str, db_url: str = ""
) -> Bot:
    """An installation whose mailbox and SMTP server take only XOAUTH2."""
    user, password = dovecot.new_user()
    text = config_text(
        dovecot.port,
        user,
        password,
        sink.port,
        db_url or folder / "cg.db",
        smtp_extra=f'username = "{user}"\nauth = "oauth2"\n',
    )
    text = text.replace(f'password = "{password}"\n', 'auth = "oauth2"\n', 1)
    config = folder / "config.toml"
    config.write_text(text + "\n[oauth2]\n" + oauth2)
    config.chmod(0o600)
    return Bot(folder, config, dovecot, user, password, db_url)


def command_source(folder: Path, tokens: list[str]) -> str:
    (folder / "tokens.json").write_text(json.dumps(tokens))
    script = folder / "issue_token.py"  # (not token.py: that would shadow the stdlib module)
    script.write_text(TOKEN_SCRIPT)
    return f'provider = "command"\ntoken_command = "{sys.executable} {script} {folder}"\n'


def stranger(to: str) -> bytes:
    return (
        f"From: Someone <someone@elsewhere.example>\r\nTo: {to}\r\nSubject: Hello\r\n"
        f"Message-ID: <s1@elsewhere.example>\r\nDate: Tue, 01 Dec 2026 08:00:00 +0000\r\n"
        "\r\nHello there.\r\n"
    ).encode()


@pytest.mark.parametrize("mechanism", ["OAUTHBEARER", "XOAUTH2"])
def test_a_refused_token_is_replaced_and_never_logged(
    tmp_path: Path,
    sink: XOAuth2Sink,
    tokens: TokenServer,
    db_url: str,
    mechanism: str,
    request: pytest.FixtureRequest,
) -> None:
    # A server offering both mechanisms gets OAUTHBEARER, one offering XOAUTH2 only gets that.
    server = "oauth_dovecot" if mechanism == "OAUTHBEARER" else "xoauth2_dovecot"
    bot = oauth_bot(tmp_path, request.getfixturevalue(server), sink, "", db_url)
    stale = tokens.issue(bot.user)
    tokens.revoke(stale)  # what an expired or withdrawn token looks like to the server
    fresh = tokens.issue(bot.user)
    with bot.config.open("a") as out:
        out.write(command_source(tmp_path, [stale, fresh]))
    bot.open_ballot("Adopt the 2027 shortlist", "Do you agree?", "2026-12-11T17:00:00Z", NOW)
    bot.append(stranger(BOT))

    proc = bot.run("-vv", "run", "--once", now=NOW)

    # SMTP signed in as the bot, with the refreshed token: once for the ballot mails, and once
    # more when what the run itself queued (it held the stranger's mail) came after they had
    # gone (the sender runs while the mailbox is read: which of the two happens is timing).
    assert sink.logins in ([bot.user], [bot.user, bot.user])
    sink.wait_for(5)
    assert all(len(sink.to(member[1])) == 1 for member in MEMBERS)  # the ballot mails went out
    assert bot.status()["inbound"] == {"quarantined": 1}  # the mailbox was read
    seen = [t for t in tokens.asked if t in (stale, fresh)]
    assert seen[:2] == [stale, fresh]  # IMAP: refused, a new token asked for, accepted
    assert (tmp_path / "calls").read_text() == "2"  # one refresh, shared by IMAP and SMTP
    log = proc.stdout + proc.stderr
    assert f"AUTHENTICATE {mechanism}" in log  # -vv logged the exchange...
    for token in (stale, fresh):
        for secret in (token, sasl_oauthbearer(bot.user, token), sasl_xoauth2(bot.user, token)):
            assert secret not in log  # ...but never a token, raw or inside a SASL string


def test_smtp_asks_for_a_new_token_when_its_own_is_refused(
    tmp_path: Path, oauth_dovecot: Dovecot, sink: XOAuth2Sink, tokens: TokenServer
) -> None:
    # No IMAP in this run (a local Maildir): SMTP is the first to meet the revoked token.
    bot = oauth_bot(tmp_path, oauth_dovecot, sink, "")
    stale = tokens.issue(bot.user)
    tokens.revoke(stale)
    fresh = tokens.issue(bot.user)
    with bot.config.open("a") as out:
        out.write(command_source(tmp_path, [stale, fresh]))
    bot.open_ballot("Adopt the 2027 shortlist", "Do you agree?", "2026-12-11T17:00:00Z", NOW)

    bot.run("run", "--once", "--maildir", str(tmp_path / "Maildir"), now=NOW)

    assert [t for t in tokens.asked if t in (stale, fresh)] == [stale, fresh]  # 535, then OK
    assert sink.logins == [bot.user]
    assert all(len(sink.to(member[1])) == 1 for member in MEMBERS)


def test_google_refresh_token_signs_in(
    tmp_path: Path,
    xoauth2_dovecot: Dovecot,
    bearer_sink: OAuthBearerSink,
    tokens: TokenServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # IMAP offers XOAUTH2 only, SMTP both: cgbot takes OAUTHBEARER where it can.
    google = (
        f'provider = "google"\nclient_id = "{tokens.client_id}"\n'
        f'client_secret_env = "CG_TEST_CLIENT_SECRET"\ntoken_url = "{tokens.url}/token"\n'
    )
    bot = oauth_bot(tmp_path, xoauth2_dovecot, bearer_sink, google)
    stored = tmp_path / "oauth2-token.json"
    stored.write_text(json.dumps({"refresh_token": tokens.refresh_token(bot.user)}))
    stored.chmod(0o600)
    monkeypatch.setenv("CG_TEST_CLIENT_SECRET", tokens.client_secret)
    bot.open_ballot("Adopt the 2027 shortlist", "Do you agree?", "2026-12-11T17:00:00Z", NOW)
    bot.append(stranger(BOT))

    bot.run("run", "--once", now=NOW)

    assert bot.status()["inbound"] == {"quarantined": 1}
    issued = [t for t in tokens.asked if tokens.valid.get(t) == bot.user]
    assert issued, "Dovecot was never asked about a token google-auth obtained"
    # Once or twice, as in test_a_refused_token_is_replaced_and_never_logged: the held notice
    # this run queued may come after the ballot mails' session has ended (timing).
    assert bearer_sink.logins in ([bot.user], [bot.user, bot.user])
    assert bearer_sink.mechanisms_used == ["OAUTHBEARER"] * len(bearer_sink.logins)
    stored.chmod(0o644)  # a refresh token anyone on the machine can read: refused
    proc = bot.run("run", "--once", now=NOW, check=False)
    assert proc.returncode != 0 and "oauth2-token.json" in proc.stderr


def test_auth_login_stores_the_refresh_token_privately(
    tmp_path: Path, oauth_dovecot: Dovecot, sink: XOAuth2Sink, tokens: TokenServer
) -> None:
    google = (
        f'provider = "google"\nclient_id = "{tokens.client_id}"\n'
        f'client_secret = "{tokens.client_secret}"\ntoken_url = "{tokens.url}/token"\n'
        f'auth_url = "{tokens.url}/authorize"\n'
    )
    bot = oauth_bot(tmp_path, oauth_dovecot, sink, google)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(bot.config), "auth", "login"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    shown = ""
    while "\nhttp" not in shown:
        shown += proc.stdout.readline()
    address = re.search(r"^(http\S+)$", shown, re.M)
    assert address is not None, shown
    asked = {k: v[0] for k, v in parse_qs(urlparse(address.group(1)).query).items()}
    assert asked["code_challenge_method"] == "S256"
    assert asked["scope"] == "https://mail.google.com/"
    with pytest.raises(urllib.error.HTTPError):  # an answer to another sign-in is turned away
        urllib.request.urlopen(f"{asked['redirect_uri']}?code=x&state=forged", timeout=10)
    code = tokens.expect_code(bot.user, asked["code_challenge"])
    query = urlencode({"code": code, "state": asked["state"]})
    with urllib.request.urlopen(f"{asked['redirect_uri']}?{query}", timeout=10) as answer:
        assert b"signed in" in answer.read()
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 0, err
    stored = tmp_path / "oauth2-token.json"
    assert stored.stat().st_mode & 0o777 == 0o600
    refresh = json.loads(stored.read_text())["refresh_token"]
    assert tokens.refresh[refresh] == bot.user
    assert refresh not in shown + out + err and code not in shown + out + err
    bot.append(stranger(BOT))
    bot.run("run", "--once", now=NOW)  # and the stored token now signs the bot in
    assert bot.status()["inbound"] == {"quarantined": 1}


@pytest.fixture
def microsoft(tokens: TokenServer, tmp_path: Path) -> Iterator[MicrosoftIdentity]:
    identity = MicrosoftIdentity(tokens, mailbox="")
    identity.start(tmp_path)
    yield identity
    identity.stop()


def microsoft_bot(tmp_path: Path, dovecot: Dovecot, sink: XOAuth2Sink, ms: MicrosoftIdentity,
                  flow: str) -> Bot:  # fmt: skip
    table = (
        f'provider = "microsoft"\nflow = "{flow}"\ntenant = "{ms.tenant}"\n'
        f'client_id = "11111111-2222-3333-4444-555555555555"\n'
        f'authority = "{ms.authority_host}"\n'
    )
    if flow == "client-credentials":
        table += f'client_secret = "{ms.client_secret}"\n'
    bot = oauth_bot(tmp_path, dovecot, sink, table)
    ms.mailbox = bot.user  # the mailbox the app registration was granted
    return bot


def test_microsoft_client_credentials_through_msal(
    tmp_path: Path,
    oauth_dovecot: Dovecot,
    sink: XOAuth2Sink,
    microsoft: MicrosoftIdentity,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", microsoft.ca_file)  # MSAL's HTTPS trusts the test CA
    bot = microsoft_bot(tmp_path, oauth_dovecot, sink, microsoft, "client-credentials")
    bot.append(stranger(BOT))

    bot.run("run", "--once", now=NOW)

    assert bot.status()["inbound"] == {"quarantined": 1}
    assert microsoft.grants == ["client_credentials"]  # one token, shared by IMAP and SMTP


def test_microsoft_device_code_sign_in_then_silent_tokens(
    tmp_path: Path,
    oauth_dovecot: Dovecot,
    sink: XOAuth2Sink,
    microsoft: MicrosoftIdentity,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", microsoft.ca_file)
    bot = microsoft_bot(tmp_path, oauth_dovecot, sink, microsoft, "device-code")
    refused = bot.run("run", "--once", now=NOW, check=False)
    assert refused.returncode != 0 and "cgbot auth login" in refused.stderr  # not signed in yet

    login = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(bot.config), "auth", "login"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert login.stdout is not None
    line = login.stdout.readline()
    code = re.search(r"enter the code (\w+)", line)
    assert code is not None, line
    microsoft.approve(code.group(1))  # the Secretariat signs in as the mailbox in a browser
    out, err = login.communicate(timeout=60)
    assert login.returncode == 0, err
    assert out.startswith("signed in (microsoft)")
    cache = tmp_path / "oauth2-token.json"
    assert cache.stat().st_mode & 0o777 == 0o600 and "RefreshToken" in cache.read_text()

    bot.append(stranger(BOT))
    bot.run("run", "--once", now=NOW)  # MSAL answers from its cache: no new sign-in

    assert bot.status()["inbound"] == {"quarantined": 1}
    assert microsoft.grants[0] == "urn:ietf:params:oauth:grant-type:device_code"
    assert "client_credentials" not in microsoft.grants
