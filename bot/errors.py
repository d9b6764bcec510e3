"""Errors that name the file and key they are about."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class ConfigError(Exception):
    """A configuration or rules file is wrong; the message names file and key."""


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def format_validation_error(path: Path, exc: ValidationError) -> str:
    """One line per problem: `file: key.path: what is wrong`."""
    lines = []
    for err in exc.errors():
        key = _loc(tuple(err["loc"])) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"{path}: {key}: {msg}")
    return "\n".join(lines)
