"""Jinja2 environment for the mail templates: StrictUndefined, HTML autoescaped, local times.

Templates live by kind (`templates/ballot/`, `templates/common/`, or a registered workflow's own
folder), one file per part and language: `confirm.en.subject`, `confirm.en.txt`,
`confirm.en.html`. A language is added by writing `confirm.fr.*` beside them; a part missing in
a language falls back to English.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from bot.resources import data_dir

DEFAULT_LANGUAGE = "en"
PARTS = ("subject", "txt", "html")


# The locale each language is written in: British English for an international body.
LOCALES = {"en": "en_GB", "fr": "fr", "es": "es", "pt": "pt", "de": "de", "it": "it", "nl": "nl"}


# The same deadline is written into every mail of an item: each form is built once (CLDR
# formatting costs a tenth of a millisecond a call).
@functools.lru_cache(maxsize=1024)
def local_time(value: datetime | None, tz: str = "UTC", language: str = DEFAULT_LANGUAGE) -> str:
    """A deadline as the reader sees it, in their language and zone (Babel's CLDR data):
    'Thursday, 10 December 2026, 17:00 (Europe/Paris)', 'jeudi 10 décembre 2026, 17:00 (...)'."""
    if value is None:
        return "-"
    at = value.astimezone(ZoneInfo(tz))
    locale = LOCALES.get(language, language)
    day = format_date(at, "full", locale=locale)
    return f"{day}, {format_time(at, 'HH:mm', locale=locale)} ({tz})"


@functools.lru_cache(maxsize=1024)
def local_day(value: datetime | None, tz: str = "UTC", language: str = DEFAULT_LANGUAGE) -> str:
    """A day as the reader writes it: '14 December 2026', '14 décembre 2026'."""
    if value is None:
        return "-"
    return format_date(
        value.astimezone(ZoneInfo(tz)), "long", locale=LOCALES.get(language, language)
    )


@pass_context
def _day_filter(ctx: Context, value: datetime | None, tz: str = "UTC") -> str:
    """`{{ when | day(tz) }}` in the language the template is rendered in."""
    return local_day(value, tz, str(ctx.get("language", DEFAULT_LANGUAGE)))


@pass_context
def _brief_filter(ctx: Context, value: datetime | None, tz: str = "UTC") -> str:
    """`{{ when | brief(tz) }}`: a date and time in a list, 'Thu 10 Dec, 17:00', 'jeu. 10 déc.,
    17:00', in the template's language."""
    if value is None:
        return "-"
    at = value.astimezone(ZoneInfo(tz))
    language = str(ctx.get("language", DEFAULT_LANGUAGE))
    locale = LOCALES.get(language, language)
    day = format_skeleton("MMMEd", at, locale=locale)
    return f"{day}, {format_time(at, 'HH:mm', locale=locale)}"


@pass_context
def _month_filter(ctx: Context, value: datetime) -> str:
    """`{{ period.start | month }}`: a month as a heading says it, 'December 2026',
    'décembre 2026', 'diciembre de 2026' (CLDR's stand-alone month and year)."""
    language = str(ctx.get("language", DEFAULT_LANGUAGE))
    return format_skeleton("yMMMM", value, locale=LOCALES.get(language, language))


@pass_context
def _position_filter(ctx: Context, value: Any) -> str:
    """A ballot position as a reader of the template's language writes it: `{{ pos | position }}`
    for a rules Position, `{{ "AGREE" | position }}` or `{{ "agree" | position }}` for its label
    or key; anything else ("no answer") is shown as it is."""
    rules = ctx.get("rules")
    positions = getattr(rules, "positions", {})
    if isinstance(value, str):
        value = next((p for k, p in positions.items() if value in (k, p.label)), value)
    if isinstance(value, str) or not hasattr(value, "labels"):
        return str(getattr(value, "label", value))
    language = str(ctx.get("language", DEFAULT_LANGUAGE))
    return str(value.labels.get(language, value.label))


@pass_context
def _local_filter(ctx: Context, value: datetime | None, tz: str = "UTC") -> str:
    """`{{ when | local(tz) }}` in the language the template is rendered in."""
    return local_time(value, tz, str(ctx.get("language", DEFAULT_LANGUAGE)))


def duration(hours: float | None) -> str:
    """A time span as a reader says it: '40 minutes', '5 hours', '2 days 3 hours'."""
    if hours is None:
        return "-"
    if hours < 1:
        minutes = round(hours * 60)
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    whole = round(hours)
    days, rest = divmod(whole, 24)
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in ((days, "day"), (rest, "hour")) if n
    ]
    return " ".join(parts)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Renderer:
    """Renders `KIND/NAME` (subject, text and HTML) in a language, with one context."""

    def __init__(self, folders: Mapping[str, Path] | None = None, root: Path | None = None) -> None:
        loaders: list[BaseLoader] = []
        if folders:
            loaders.append(PrefixLoader({k: FileSystemLoader(str(p)) for k, p in folders.items()}))
        loaders.append(FileSystemLoader(str(root or data_dir("templates"))))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # shipped files: read once, not checked on disk for every mail
        )
        self._compiled: dict[tuple[str, str, str], tuple[Template, str]] = {}
        self.env.filters["local"] = _local_filter
        self.env.filters["duration"] = duration
        self.env.filters["day"] = _day_filter
        self.env.filters["position"] = _position_filter
        self.env.filters["month"] = _month_filter
        self.env.filters["brief"] = _brief_filter

    def _template(self, name: str, language: str, part: str) -> tuple[Template, str]:
        """The compiled template for this part in this language (else English) and the
        language it is written in, found and compiled once: Jinja's get_template builds a
        cache key and a globals map for every call, three per mail."""
        key = (name, language, part)
        if key not in self._compiled:
            self._compiled[key] = self._compile(name, language, part)
        return self._compiled[key]

    def _compile(self, name: str, language: str, part: str) -> tuple[Template, str]:
        for lang in dict.fromkeys((language, DEFAULT_LANGUAGE)):
            candidate = f"{name}.{lang}.{part}"
            try:
                return self.env.get_template(candidate), lang
            except TemplateNotFound as missing:
                if missing.name != candidate:  # not this file: one it needs
                    raise
        raise TemplateNotFound(f"{name}.{DEFAULT_LANGUAGE}.{part}")

    def has(self, name: str) -> bool:
        try:
            self._template(name, DEFAULT_LANGUAGE, "txt")
        except TemplateNotFound:
            return False
        return True

    def render(
        self, name: str, context: dict[str, Any], language: str = DEFAULT_LANGUAGE
    ) -> Rendered:
        def part(kind: str) -> str:
            template, written_in = self._template(name, language, kind)
            return template.render({**context, "language": written_in})

        return Rendered(
            subject=" ".join(part("subject").split()), text=part("txt"), html=part("html")
        )


def languages(root: Path | None = None) -> tuple[str, ...]:
    """The languages the bot writes in: those with a complete set of the shipped templates
    (every `NAME.en.*` part has its `NAME.LANG.*`), English first."""
    base = root or data_dir("templates")
    english = {p.relative_to(base).as_posix() for p in base.glob("*/*.en.*")}
    found = {p.name.split(".")[-2] for p in base.glob("*/*.*.*")}
    complete = [
        lang
        for lang in sorted(found - {DEFAULT_LANGUAGE})
        if all((base / e.replace(".en.", f".{lang}.")).is_file() for e in english)
    ]
    return (DEFAULT_LANGUAGE, *complete)
