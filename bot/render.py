"""Jinja2 environment for the mail templates: StrictUndefined, HTML autoescaped, local times.

Templates live by kind (`templates/ballot/`, `templates/common/`, or a registered workflow's own
folder), one file per part and language: `confirm.en.subject`, `confirm.en.txt`,
`confirm.en.html`. A language is added by writing `confirm.fr.*` beside them; a part missing in
a language falls back to English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from bot.resources import data_dir

DEFAULT_LANGUAGE = "en"
PARTS = ("subject", "txt", "html")


def local_time(value: datetime | None, tz: str = "UTC") -> str:
    """A deadline as the reader sees it: '2026-12-10 17:00 (Europe/Paris)'."""
    if value is None:
        return "-"
    return f"{value.astimezone(ZoneInfo(tz)):%A %d %B %Y, %H:%M} ({tz})"


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
        )
        self.env.filters["local"] = local_time

    def _file(self, name: str, language: str, part: str) -> str:
        for lang in dict.fromkeys((language, DEFAULT_LANGUAGE)):
            candidate = f"{name}.{lang}.{part}"
            try:
                self.env.loader.get_source(self.env, candidate)  # type: ignore[union-attr]
            except TemplateNotFound:
                continue
            return candidate
        raise TemplateNotFound(f"{name}.{DEFAULT_LANGUAGE}.{part}")

    def has(self, name: str) -> bool:
        try:
            self._file(name, DEFAULT_LANGUAGE, "txt")
        except TemplateNotFound:
            return False
        return True

    def render(
        self, name: str, context: dict[str, Any], language: str = DEFAULT_LANGUAGE
    ) -> Rendered:
        def part(kind: str) -> str:
            return self.env.get_template(self._file(name, language, kind)).render(context)

        return Rendered(
            subject=" ".join(part("subject").split()), text=part("txt"), html=part("html")
        )
