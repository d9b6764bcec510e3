"""Wiring an installation: the database URL, the rules checked against the config, the secret."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import Session

from bot.config import Settings
from bot.domain.types import MeetingSeries
from bot.errors import ConfigError
from bot.inbound.address import normalise
from bot.rules import Rules, composition_warnings, load_rules, resolve_rules_path
from bot.store import repo
from bot.store.db import normalise_url


def database_url(settings: Settings) -> str:
    """A relative SQLite path is taken relative to the config file, not the working folder."""
    url = make_url(normalise_url(settings.model.database.url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute():
            url = url.set(database=str(settings.base_dir / path))
    return url.render_as_string(hide_password=False)


def rules_for(settings: Settings) -> tuple[Rules, list[str]]:
    """The group's rules, and warnings about config and composition (ToR 3.1)."""
    cfg = settings.model
    rules = load_rules(resolve_rules_path(cfg.group.rules, settings.base_dir))
    roles = [m.role for m in cfg.members]
    for i, role in enumerate(roles):
        if rules.seat(role) is None:
            known = ", ".join(s.role for s in rules.composition)
            raise ConfigError(
                f"{settings.path}: members[{i}].role: {role!r} is not a seat in the rules ({known})"
            )
    for name, when in cfg.meetings.items():
        known = ", ".join(rules.meetings)
        if name not in rules.meetings:
            raise ConfigError(
                f"{settings.path}: meetings.{name}: not a meeting in the rules ({known})"
            )
        if when.replaces and when.replaces not in cfg.meetings:
            raise ConfigError(
                f"{settings.path}: meetings.{name}.replaces: {when.replaces!r} is not configured"
            )
    return rules, [*settings.warnings, *composition_warnings(rules, roles)]


def meeting_series(settings: Settings, rules: Rules) -> tuple[MeetingSeries, ...]:
    """The regular meetings: the rules' cadence joined with the config's dates."""
    out = []
    for name, when in settings.model.meetings.items():
        rule = rules.meetings[name]
        out.append(
            MeetingSeries(
                name=name,
                label=rule.label,
                rrule=when.rrule,
                time=when.time,
                duration_minutes=when.duration_minutes,
                zone=settings.model.group.timezone,
                call_notice=rule.call_notice,
                agenda_notice=rule.agenda_notice,
                with_facilitators=rule.with_facilitators,
                where=when.where,
                dial_in=when.dial_in,
                replaces=when.replaces,
            )
        )
    return tuple(out)


def token_secret(s: Session, settings: Settings) -> str:
    """The configured secret, else one made on first start and kept in the database."""
    secret = settings.secret or repo.meta_get(s, "token_secret")
    if secret is None:
        secret = secrets.token_urlsafe(32)
        repo.meta_set(s, "token_secret", secret)
    return secret


def aliases(settings: Settings) -> dict[str, str]:
    """Other addresses a member or the Chair writes from -> their configured address."""
    cfg = settings.model
    return {
        normalise(alias): normalise(person.email)
        for person in [*cfg.members, cfg.chair]
        for alias in person.aliases
    }
