"""Errors that name the file and key they are about."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails


class ConfigError(Exception):
    """A configuration or rules file is wrong; the message names file and key."""


def person_label(where: str, person: Mapping[str, Any]) -> str:
    """`members[2] (Bruno Costa <bruno@x.org>)`: an index alone makes the reader count blocks."""
    name, email = person.get("name"), person.get("email")
    parts = [name] if isinstance(name, str) else []
    parts += [f"<{email}>"] if isinstance(email, str) else []
    return f"{where} ({' '.join(parts)})" if parts else where


def _loc(parts: tuple[int | str, ...], raw: object = None) -> str:
    """The key as written in the file, a listed person named by name and email."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
            raw = raw[part] if isinstance(raw, list) and 0 <= part < len(raw) else None
            if isinstance(raw, Mapping) and ("name" in raw or "email" in raw):
                out = person_label(out, raw)
        else:
            out += f".{part}" if out else str(part)
            raw = raw.get(part) if isinstance(raw, Mapping) else None
    return out


def _shown(value: object) -> str:
    """What the file gave, named by its TOML type, so a quoted number is seen as a string."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return f"a {type(value).__name__}"


_EXPECTED = {
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string in quotes",
    "list_type": "a list [...]",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


def _quoted_literal(kind: str, given: object) -> bool:
    """A string that would be right without its quotes: `port = "993"`, `idle = "true"`."""
    if not isinstance(given, str):
        return False
    if kind == "bool_type":
        return given.strip() in ("true", "false")
    if kind in ("int_type", "float_type"):
        try:
            (int if kind == "int_type" else float)(given.replace("_", ""))
        except ValueError:
            return False
        return True
    return False


def _message(err: ErrorDetails) -> str:
    """What is wrong, in the file's terms: the type expected and the one given, a choice's
    options, a validator's own sentence."""
    kind, given = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in _EXPECTED:
        hint = " (write it without quotes)" if _quoted_literal(kind, given) else ""
        return f"expected {_EXPECTED[kind]}, got {_shown(given)}{hint}"
    if kind == "literal_error" and "expected" in err.get("ctx", {}):
        return f"expected {err['ctx']['expected']}, got {_shown(given)}"
    if kind == "value_error" and "error" in err.get("ctx", {}):
        return str(err["ctx"]["error"])
    return err["msg"]


def validation_lines(
    path: Path, exc: ValidationError, raw: Mapping[str, Any] | None = None
) -> list[str]:
    """One line per problem, `file: key.path: what is wrong`; given the raw file, a listed
    person is named (`members[2] (Bruno Costa <bruno@x.org>).language`)."""
    return [
        f"{path}: {_loc(tuple(err['loc']), raw) or '(top level)'}: {_message(err)}"
        for err in exc.errors()
    ]


def format_validation_error(
    path: Path, exc: ValidationError, raw: Mapping[str, Any] | None = None
) -> str:
    """Every problem of one validation, one per line."""
    return "\n".join(validation_lines(path, exc, raw))
