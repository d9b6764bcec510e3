"""config.toml -> frozen, typed settings, validated once at start."""

from __future__ import annotations

import os
import re
import shlex
import stat
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot import logsafe
from bot.errors import ConfigError, person_label, validation_lines
from bot.render import languages
from bot.rules import Rules, composition_warnings, load_rules, resolve_rules_path

Security = Literal["ssl", "starttls", "none"]

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+$")


def _check_address(value: str) -> str:
    """A bare address (local@domain); display names belong in the `name` keys."""
    if not _ADDRESS.match(value.strip()):
        raise ValueError(f"not an email address: {value!r}")
    return value.strip()


EmailStr = Annotated[str, AfterValidator(_check_address)]


def _check_language(value: str, info: ValidationInfo) -> str:
    """Only a language the bot writes in: any other would silently get English."""
    known: tuple[str, ...] = (info.context or {}).get("languages") or languages()
    if value not in known:
        raise ValueError(f"{value!r} is not a language cgbot writes (choices: {', '.join(known)})")
    return value


LanguageCode = Annotated[str, AfterValidator(_check_language)]


class _Strict(BaseModel):
    """TOML gives real types, so none is coerced: `port = "993"` or `idle = 0` is a mistake."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _WithSecret(_Strict):
    """A password may be inline, named by an environment variable, or read from a file."""

    password: str | None = Field(default=None, repr=False)
    password_env: str | None = None
    password_file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> _WithSecret:
        given = [k for k in ("password", "password_env", "password_file") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(
                f"give only one of password, password_env, password_file (got {given})"
            )
        return self


Auth = Literal["password", "oauth2"]  # oauth2: SASL XOAUTH2 with a token from [oauth2]


class MailboxConfig(_WithSecret):
    host: str
    port: int = Field(ge=1, le=65535)
    security: Security = "ssl"
    username: str
    auth: Auth = "password"
    folder: str = "INBOX"
    poll_seconds: float = Field(default=60.0, gt=0)
    idle: bool = True
    timeout_seconds: float = Field(default=30.0, gt=0)
    ca_file: str | None = None  # trust this CA (PEM) instead of the system's, for TLS


class SmtpConfig(_WithSecret):
    host: str
    port: int = Field(ge=1, le=65535)
    security: Security = "starttls"
    username: str | None = None  # with auth = "oauth2", the mailbox signed in (from_address)
    auth: Auth = "password"
    from_address: EmailStr
    from_name: str = "Coordination Group Secretariat (cgbot)"
    timeout_seconds: float = Field(default=30.0, gt=0)
    ca_file: str | None = None  # trust this CA (PEM) instead of the system's, for TLS
    max_per_address_per_hour: int = Field(default=30, ge=1)
    # The largest mail the server takes (its SIZE): the Chair's packet and its archive fit in it.
    max_message_bytes: int = Field(default=20_000_000, ge=1)
    # Inside the thread archive a larger attachment is left out, named with its SHA-256.
    archive_attachment_bytes: int = Field(default=2_000_000, ge=1)


class OAuth2Config(_Strict):
    """Where the access tokens for `auth = "oauth2"` come from (see bot/mail/oauth.py)."""

    provider: Literal["microsoft", "google", "command"]
    # microsoft: "device-code" (the mailbox's owner signs in once with `cgbot auth login`) or
    # "client-credentials" (an app registration granted the mailbox, with a client secret).
    flow: Literal["device-code", "client-credentials"] = "device-code"
    client_id: str = ""
    tenant: str = "organizations"  # microsoft: the directory (tenant) ID or domain
    client_secret: str | None = Field(default=None, repr=False)
    client_secret_env: str | None = None
    client_secret_file: str | None = None
    token_command: str = ""  # command: prints the token, or JSON with access_token/expires_in
    token_file: str = "oauth2-token.json"  # refresh token / MSAL cache, private, by the config
    scopes: list[str] = []  # empty: the provider's mail scopes
    authority: str = ""  # microsoft: another cloud's login host (default login.microsoftonline.com)
    auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"  # google
    token_url: str = "https://oauth2.googleapis.com/token"  # google
    refresh_margin_seconds: int = Field(default=300, ge=0)

    @model_validator(mode="after")
    def _complete(self) -> OAuth2Config:
        secrets = [
            k
            for k in ("client_secret", "client_secret_env", "client_secret_file")
            if getattr(self, k)
        ]
        if len(secrets) > 1:
            raise ValueError(f"give only one of {', '.join(secrets)}")
        if self.provider == "command" and not self.token_command.strip():
            raise ValueError('provider "command" needs token_command')
        if self.provider in ("microsoft", "google") and not self.client_id:
            raise ValueError(f'provider "{self.provider}" needs client_id (the app registration)')
        needs_secret = self.provider == "google" or self.flow == "client-credentials"
        if self.provider != "command" and needs_secret and not secrets:
            raise ValueError(
                f'provider "{self.provider}" needs client_secret, client_secret_env or '
                "client_secret_file"
            )
        return self


class DatabaseConfig(_Strict):
    url: str = "sqlite:///cgbot.db"
    # A file members send with their feedback is kept (content-addressed) up to this size; a
    # larger one stays in the raw archive and the Secretariat is told.
    max_attachment_bytes: int = Field(default=25_000_000, ge=1)


def _check_tz(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (an IANA name such as Europe/London or America/Lima)"
        ) from exc
    return value


class GroupConfig(_Strict):
    name: str
    rules: str = "ciwp-coordination-group"
    timezone: str = "UTC"
    secretariat: list[EmailStr] = Field(min_length=1)
    secretariat_language: LanguageCode = "en"  # the Secretariat's notices, digest and report mail
    tag: str = Field(default="CG", pattern=r"^[A-Za-z][A-Za-z0-9]{0,15}$")

    _tz = field_validator("timezone")(_check_tz)


def _check_salutation(value: str) -> str:
    """One line of text (no-break spaces allowed, as French typography wants them): it opens
    mail bodies only, never a header, but a line break or a control character has no place."""
    text = value.strip()
    controls = [ch for ch in text if unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029"]
    if len(text) > 120 or controls:
        raise ValueError(
            f"{value!r}: one line of at most 120 characters without control characters, "
            "such as 'Dear Dr Okafor'"
        )
    return text


class Person(_Strict):
    name: str
    email: EmailStr
    aliases: list[EmailStr] = []
    timezone: str = "UTC"
    language: LanguageCode = "en"  # every mail to this person is written in it
    # How mail to this person opens, in their language, without the comma ("Madame la
    # Coprésidente"); empty: the language's own ("Dear Chloé Martin", "Madame, Monsieur", ...).
    salutation: str = ""

    _tz = field_validator("timezone")(_check_tz)
    _salutation = field_validator("salutation")(_check_salutation)


class MemberConfig(Person):
    role: str


class SecurityConfig(_Strict):
    """The secret that signs the bot's Message-ID tokens (generated and stored if not given)."""

    secret: str | None = Field(default=None, repr=False)
    secret_env: str | None = None
    secret_file: str | None = None
    trusted_authserv_ids: list[str] = []  # receiving servers whose Authentication-Results count
    # Domains whose ARC seal (the d= of ARC-Seal) vouches for the DMARC result in their
    # ARC-Authentication-Results: "microsoft.com" for a mailbox at Exchange Online.
    trusted_arc_sealers: list[str] = []

    @field_validator("trusted_arc_sealers")
    @classmethod
    def _sealers(cls, values: list[str]) -> list[str]:
        """Compared with an ARC-Seal's d= as written: a domain name, lower case, no final dot."""
        domains = [value.strip().lower().rstrip(".") for value in values]
        for value, domain in zip(values, domains, strict=True):
            if not re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", domain):
                raise ValueError(f"{value!r} is not a domain name, such as 'microsoft.com'")
        return domains

    # When a Secretariat command takes effect: "unless-verified" (at once when DKIM or an aligned
    # DMARC pass proves the sender, else after the Secretariat answers a confirmation request)
    # or "always" (every command waits for that answer).
    require_confirmation: Literal["unless-verified", "always"] = "unless-verified"
    plus_domains: list[str] = []  # domains whose mail servers deliver name+tag@ to name@


class MeetingSeriesConfig(_Strict):
    """When the meetings of one series of the rules' [meetings] take place (ToR 4.1)."""

    rrule: str  # RFC 5545 recurrence in the group's time zone: "FREQ=MONTHLY;BYDAY=1TU"
    time: str = Field(pattern=r"^\d{1,2}:\d{2}$")  # local start time, "14:00"
    duration_minutes: int = Field(default=90, ge=5, le=24 * 60)
    where: str = ""  # the joining link or the room
    dial_in: str = ""
    replaces: str = ""  # a series this one replaces in the months it meets ("monthly")

    @field_validator("rrule")
    @classmethod
    def _rule(cls, value: str) -> str:
        from dateutil.rrule import rrulestr

        try:
            rrulestr(value, dtstart=datetime(2026, 1, 1))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not an RFC 5545 RRULE: {value!r} ({exc})") from exc
        return value


class ConfigModel(_Strict):
    mailbox: MailboxConfig
    smtp: SmtpConfig
    database: DatabaseConfig = DatabaseConfig()
    group: GroupConfig
    members: list[MemberConfig] = Field(min_length=1)
    chair: Person
    facilitators: list[Person] = []
    security: SecurityConfig = SecurityConfig()
    meetings: dict[str, MeetingSeriesConfig] = {}  # keyed like the rules' [meetings.*]
    oauth2: OAuth2Config | None = None

    @model_validator(mode="after")
    def _oauth_source(self) -> ConfigModel:
        users = [k for k in ("mailbox", "smtp") if getattr(self, k).auth == "oauth2"]
        if users and self.oauth2 is None:
            raise ValueError(f'{" and ".join(users)}: auth = "oauth2" needs an [oauth2] table')
        return self


@dataclass(frozen=True)
class Settings:
    """Validated configuration plus where it came from and its resolved secrets."""

    model: ConfigModel
    path: Path
    mailbox_password: str | None
    smtp_password: str | None
    secret: str | None
    warnings: tuple[str, ...]
    oauth2_client_secret: str | None = None

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def oauth2_token_file(self) -> Path:
        """Where the refresh token or MSAL's cache is kept (relative to the config file)."""
        assert self.model.oauth2 is not None
        return _secret_path(self.model.oauth2.token_file, self.base_dir)


def _secret_path(file: str, base: Path) -> Path:
    """A relative secret file is relative to the config file, wherever the bot is started."""
    return Path(file) if Path(file).is_absolute() else base / file


def _resolve_secret(
    where: str, inline: str | None, env: str | None, file: str | None, base: Path
) -> str | None:
    if inline is not None:
        return inline
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(f"{where}_env: environment variable {env} is not set")
        return value
    if file is not None:
        secret_path = _secret_path(file, base)
        try:
            return secret_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}_file: cannot read {secret_path}: {exc.strerror}") from exc
    return None


def _inline_secret_keys(model: ConfigModel) -> list[str]:
    """The keys whose secret is written in the config file itself."""
    keys = [f"{k}.password" for k in ("mailbox", "smtp") if getattr(model, k).password is not None]
    if model.security.secret is not None:
        keys.append("security.secret")
    if model.oauth2 is not None and model.oauth2.client_secret is not None:
        keys.append("oauth2.client_secret")
    return keys


def _named_secret_files(model: ConfigModel, base: Path) -> dict[Path, list[str]]:
    """Each file the config names as holding a secret, with the keys naming it (one file may serve
    both mailbox and smtp)."""
    named = [
        ("mailbox.password_file", model.mailbox.password_file),
        ("smtp.password_file", model.smtp.password_file),
        ("security.secret_file", model.security.secret_file),
    ]
    if model.oauth2 is not None:
        named += [
            ("oauth2.client_secret_file", model.oauth2.client_secret_file),
            ("oauth2.token_file", model.oauth2.token_file),
        ]
    files: dict[Path, list[str]] = {}
    for key, file in named:
        if file is not None:
            files.setdefault(_secret_path(file, base), []).append(key)
    return files


def _exposure(path: Path) -> str | None:
    """How path is exposed and the fix, or None when only its owner may read it (or it is gone:
    a missing file is reported where it is read, not here)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    who = "others" if mode & stat.S_IROTH else "its group"
    fix = f"chmod 600 {shlex.quote(str(path.absolute()))}"
    return f"is readable by {who} (mode {mode:04o}): run {fix}"


def _config_file_problems(path: Path, model: ConfigModel) -> list[str]:
    """The config file itself, when it holds an inline secret that group or others can read."""
    keys = _inline_secret_keys(model)
    exposure = _exposure(path) if keys else None
    if exposure is None:
        return []
    noun = "password" if all(k.endswith(".password") for k in keys) else "secret"
    held = f"an inline {noun}" if len(keys) == 1 else f"inline {noun}s"
    return [f"{path.name} holds {held} ({', '.join(keys)}) and {exposure}"]


def secret_file_problems(settings: Settings) -> list[str]:
    """One line per file holding a secret that group or others can read, naming the fix.

    Only reads file modes; whether to refuse to run is the caller's decision."""
    problems = _config_file_problems(settings.path, settings.model)
    for path, keys in _named_secret_files(settings.model, settings.base_dir).items():
        exposure = _exposure(path)
        if exposure is not None:
            problems.append(f"{path.name} ({', '.join(keys)}) {exposure}")
    return problems


def _resolve_ca_files(model: ConfigModel, base: Path) -> ConfigModel:
    """A relative ca_file is relative to the config file, like password_file."""
    updates: dict[str, BaseModel] = {}
    for key in ("mailbox", "smtp"):
        section = getattr(model, key)
        if section.ca_file and not Path(section.ca_file).is_absolute():
            updates[key] = section.model_copy(update={"ca_file": str(base / section.ca_file)})
    return model.model_copy(update=updates) if updates else model


Raw = dict[str, Any]


def _table(raw: Raw, key: str) -> Raw:
    """A table of the file, or an empty one when it is missing or not a table."""
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _listed(raw: Raw, key: str) -> list[tuple[str, Raw]]:
    """Each entry of a [[key]] list that is a table, labelled `members[2] (Name <email>)`."""
    items = raw.get(key)
    if not isinstance(items, list):
        return []
    return [(person_label(f"{key}[{i}]", p), p) for i, p in enumerate(items) if isinstance(p, dict)]


def _duplicate_addresses(raw: Raw) -> list[str]:
    """An address given for two people (members, Chair) would make a reply's author ambiguous."""
    chair = [("chair", raw["chair"])] if isinstance(raw.get("chair"), dict) else []
    seen: dict[str, str] = {}
    problems: list[str] = []
    for where, person in [*_listed(raw, "members"), *chair]:
        aliases = person.get("aliases")
        given = [("email", person.get("email"))]
        given += [("aliases", a) for a in aliases] if isinstance(aliases, list) else []
        for key, addr in given:
            if not isinstance(addr, str):
                continue  # a wrong type is reported by validation
            folded = addr.strip().lower()
            if folded in seen:
                problems.append(f"{where}.{key}: {addr} is also given for {seen[folded]}")
            seen.setdefault(folded, where)
    return problems


def _unknown_replaced(raw: Raw) -> list[str]:
    """A series may replace only another configured series."""
    meetings = _table(raw, "meetings")
    problems = []
    for name, when in meetings.items():
        replaces = when.get("replaces") if isinstance(when, dict) else None
        if isinstance(replaces, str) and replaces and replaces not in meetings:
            choices = ", ".join(m for m in meetings if m != name) or "none"
            problems.append(
                f"meetings.{name}.replaces: {replaces!r} is not configured (choices: {choices})"
            )
    return problems


def _rules_named(raw: Raw, path: Path) -> tuple[Rules | None, list[str]]:
    """The rules that group.rules names, or why they cannot be read."""
    name = _table(raw, "group").get("rules", GroupConfig.model_fields["rules"].default)
    if not isinstance(name, str):
        return None, []  # a wrong type is reported by validation
    try:
        return load_rules(resolve_rules_path(name, path.parent)), []
    except ConfigError as exc:
        return None, [f"{path}: group.rules: {line}" for line in str(exc).splitlines()]


def _against_rules(raw: Raw, rules: Rules) -> list[str]:
    """Each member sits on a seat of the rules, each meeting series is one of its meetings."""
    seats = ", ".join(s.role for s in rules.composition)
    problems = [
        f"{where}.role: {m['role']!r} is not a seat in the rules (choices: {seats})"
        for where, m in _listed(raw, "members")
        if isinstance(m.get("role"), str) and rules.seat(m["role"]) is None
    ]
    problems += [
        f"meetings.{name}: not a meeting in the rules (choices: {', '.join(rules.meetings)})"
        for name in _table(raw, "meetings")
        if name not in rules.meetings
    ]
    return problems


def _roles(raw: Raw) -> list[str]:
    return [m["role"] for _, m in _listed(raw, "members") if isinstance(m.get("role"), str)]


def _settings(model: ConfigModel, path: Path) -> tuple[Settings | None, list[str]]:
    """The settings with their secrets resolved, or every secret that cannot be read."""
    base = path.parent
    model = _resolve_ca_files(model, base)
    mb, sm, sec = model.mailbox, model.smtp, model.security
    sources = {
        "mailbox.password": (mb.password, mb.password_env, mb.password_file),
        "smtp.password": (sm.password, sm.password_env, sm.password_file),
        "security.secret": (sec.secret, sec.secret_env, sec.secret_file),
    }
    if (oa := model.oauth2) is not None:
        sources["oauth2.client_secret"] = (
            oa.client_secret,
            oa.client_secret_env,
            oa.client_secret_file,
        )
    resolved: dict[str, str | None] = {}
    errors: list[str] = []
    for key, (inline, env, file) in sources.items():
        try:
            resolved[key] = _resolve_secret(f"{path}: {key}", inline, env, file, base)
            logsafe.register(resolved[key] or "")  # never in a log line, whoever prints it
        except ConfigError as exc:
            errors.append(str(exc))
    if errors:
        return None, errors
    settings = Settings(
        model=model,
        path=path,
        mailbox_password=resolved["mailbox.password"],
        smtp_password=resolved["smtp.password"],
        secret=resolved["security.secret"],
        oauth2_client_secret=resolved.get("oauth2.client_secret"),
        warnings=(),
    )
    return settings, []


@dataclass(frozen=True)
class Checked:
    """One reading of a config: every error and warning, and the settings and rules when they
    are valid (settings only when there is no error at all)."""

    settings: Settings | None
    rules: Rules | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def check_config_text(text: str, path: Path) -> Checked:
    """Every problem of a config in one pass (types, keys, languages, zones, addresses, secrets,
    the rules and their seats), so that fixing one never uncovers the next.

    The cross-field checks read the raw file, so they run even when a type is wrong elsewhere;
    a missing seat of the composition (ToR 3.1) is a warning, not an error."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Checked(None, None, (f"{path}: not valid TOML: {exc}",), ())
    model: ConfigModel | None = None
    errors: list[str] = []
    try:
        model = ConfigModel.model_validate(raw, context={"languages": languages()})
    except ValidationError as exc:
        errors += validation_lines(path, exc, raw)
    errors += [f"{path}: {p}" for p in _duplicate_addresses(raw) + _unknown_replaced(raw)]
    rules, rules_errors = _rules_named(raw, path)
    errors += rules_errors
    warnings: list[str] = []
    if rules is not None:
        errors += [f"{path}: {p}" for p in _against_rules(raw, rules)]
        if _listed(raw, "members"):  # no members at all is an error, not a vacant seat
            warnings += composition_warnings(rules, _roles(raw))
    settings = None
    if model is not None:
        settings, secret_errors = _settings(model, path)
        errors += secret_errors
    return Checked(None if errors else settings, rules, tuple(errors), tuple(warnings))


def check_config_file(path: Path) -> Checked:
    """Read and check config.toml; a missing file is an error that says which path was tried."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Checked(None, None, (f"{path}: config file not found (give --config PATH)",), ())
    return check_config_text(text, path)


def _settings_or_raise(checked: Checked) -> Settings:
    if checked.settings is None:
        raise ConfigError("\n".join(checked.errors))
    return checked.settings


def parse_config(text: str, path: Path) -> Settings:
    """Validate TOML text; every error, each naming the file and the key, in one ConfigError."""
    return _settings_or_raise(check_config_text(text, path))


def load_config(path: Path) -> Settings:
    """Read and validate config.toml, all its errors at once."""
    return _settings_or_raise(check_config_file(path))
