"""Jinja2 environment for the mail templates: StrictUndefined, HTML autoescaped, local times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.resources import data_dir


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
    """Renders `mail/NAME.subject`, `mail/NAME.txt` and `mail/NAME.html` with one context."""

    def __init__(self, folder: Path | None = None) -> None:
        self.env = Environment(
            loader=FileSystemLoader(str(folder or data_dir("templates"))),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["local"] = local_time

    def render(self, name: str, context: dict[str, Any]) -> Rendered:
        subject = self.env.get_template(f"mail/{name}.subject").render(context)
        return Rendered(
            subject=" ".join(subject.split()),
            text=self.env.get_template(f"mail/{name}.txt").render(context),
            html=self.env.get_template(f"mail/{name}.html").render(context),
        )
