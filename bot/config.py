"""config.toml -> frozen, typed settings, validated once at start."""

from __future__ import annotations

import os
import re
import shlex
import stat
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError, format_validation_error

Security = Literal["ssl", "starttls", "none"]

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+$")


def _check_address(value: str) -> str:
    """A bare address (local@domain); display names belong in the `name` keys."""
    if not _ADDRESS.match(value.strip()):
        raise ValueError(f"not an email address: {value!r}")
    return value.strip()


EmailStr = Annotated[str, AfterValidator(_check_address)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class MailboxConfig(_WithSecret):
    host: str
    port: int = Field(ge=1, le=65535)
    security: Security = "ssl"
    username: str
    folder: str = "INBOX"
    poll_seconds: float = Field(default=60.0, gt=0)
    idle: bool = True
    timeout_seconds: float = Field(default=30.0, gt=0)
    ca_file: str | None = None  # trust this CA (PEM) instead of the system's, for TLS


class SmtpConfig(_WithSecret):
    host: str
    port: int = Field(ge=1, le=65535)
    security: Security = "starttls"
    username: str | None = None
    from_address: EmailStr
    from_name: str = "Coordination Group Secretariat (cgbot)"
    timeout_seconds: float = Field(default=30.0, gt=0)
    ca_file: str | None = None  # trust this CA (PEM) instead of the system's, for TLS
    max_per_address_per_hour: int = Field(default=30, ge=1)
    # The largest mail the server takes (its SIZE): the Chair's packet and its archive fit in it.
    max_message_bytes: int = Field(default=20_000_000, ge=1)
    # Inside the thread archive a larger attachment is left out, named with its SHA-256.
    archive_attachment_bytes: int = Field(default=2_000_000, ge=1)


class DatabaseConfig(_Strict):
    url: str = "sqlite:///cgbot.db"
    # A file members send with their feedback is kept (content-addressed) up to this size; a
    # larger one stays in the raw archive and the Secretariat is told.
    max_attachment_bytes: int = Field(default=25_000_000, ge=1)


def _check_tz(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class GroupConfig(_Strict):
    name: str
    rules: str = "ciwp-coordination-group"
    timezone: str = "UTC"
    secretariat: list[EmailStr] = Field(min_length=1)
    tag: str = Field(default="CG", pattern=r"^[A-Za-z][A-Za-z0-9]{0,15}$")

    _tz = field_validator("timezone")(_check_tz)


class Person(_Strict):
    name: str
    email: EmailStr
    aliases: list[EmailStr] = []
    timezone: str = "UTC"

    _tz = field_validator("timezone")(_check_tz)


class MemberConfig(Person):
    role: str
    language: str = "en"


class SecurityConfig(_Strict):
    """The secret that signs the bot's Message-ID tokens (generated and stored if not given)."""

    secret: str | None = Field(default=None, repr=False)
    secret_env: str | None = None
    secret_file: str | None = None
    trusted_authserv_ids: list[str] = []  # receiving servers whose Authentication-Results count
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

    @model_validator(mode="after")
    def _unique_addresses(self) -> ConfigModel:
        seen: dict[str, str] = {}
        people = [(f"members[{i}]", m) for i, m in enumerate(self.members)] + [
            ("chair", self.chair)
        ]
        for where, person in people:
            for addr in [person.email, *person.aliases]:
                key = addr.lower()
                if key in seen:
                    raise ValueError(f"{where}: address {addr} is also given for {seen[key]}")
                seen[key] = where
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

    @property
    def base_dir(self) -> Path:
        return self.path.parent


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
    return keys


def _named_secret_files(model: ConfigModel, base: Path) -> dict[Path, list[str]]:
    """Each file the config names as holding a secret, with the keys naming it (one file may serve
    both mailbox and smtp)."""
    named = [
        ("mailbox.password_file", model.mailbox.password_file),
        ("smtp.password_file", model.smtp.password_file),
        ("security.secret_file", model.security.secret_file),
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


def parse_config(text: str, path: Path) -> Settings:
    """Validate TOML text; every error names the file and the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        model = ConfigModel.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from exc
    base = path.parent
    model = _resolve_ca_files(model, base)
    mb, sm, sec = model.mailbox, model.smtp, model.security
    return Settings(
        model=model,
        path=path,
        mailbox_password=_resolve_secret(
            f"{path}: mailbox.password", mb.password, mb.password_env, mb.password_file, base
        ),
        smtp_password=_resolve_secret(
            f"{path}: smtp.password", sm.password, sm.password_env, sm.password_file, base
        ),
        secret=_resolve_secret(
            f"{path}: security.secret", sec.secret, sec.secret_env, sec.secret_file, base
        ),
        warnings=(),
    )


def load_config(path: Path) -> Settings:
    """Read config.toml; a missing file is an error that says which path was tried."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found (give --config PATH)") from exc
    return parse_config(text, path)
