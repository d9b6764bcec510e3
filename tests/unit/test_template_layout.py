"""The plain-text parts keep their lines: Jinja's trim_blocks drops the newline after a block tag,
so a line of text that ends with `{% endif %}` or `{% endfor %}` ran into the next one (the Board
Chair's packet gave its whole timeline as one line, the digest every ballot's answers)."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

from bot.render import Renderer
from bot.resources import data_dir
from tests.unit.test_translations import NOW, RULES, samples

_TAG = re.compile(r"\{%-?.*?[-+]?%\}")


def _runs_on(path: Path) -> list[str]:
    """Lines of text ending with a block tag whose newline trim_blocks eats, with text (not a
    blank line that stands in for the newline) after them."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found = []
    for n, (line, after) in enumerate(pairwise(lines), start=1):
        end = line.rstrip()
        if not end.endswith("%}") or end.endswith(("-%}", "+%}")) or not _TAG.sub("", end).strip():
            continue
        if after.strip():
            found.append(f"{path.name}:{n}")
    return found


def test_no_line_of_text_runs_into_the_next() -> None:
    texts = sorted(data_dir("templates").rglob("*.txt"))
    assert len(texts) > 200
    assert [run for path in texts for run in _runs_on(path)] == []


def test_the_chairs_packet_gives_one_line_per_event_of_the_round() -> None:
    for language in ("en", "fr", "es", "pt"):
        contexts = samples(language)
        me = contexts.pop("_recipient")
        base = {"group_name": "G", "tag": "CG", "rules": RULES, "now": NOW, "recipient": me}
        context = {**base, **contexts["ballot/escalation"]}
        text = Renderer().render("ballot/escalation", context, language).text
        events = len(context["timeline"])
        timeline = [line for line in text.splitlines() if "(America/Lima)  " in line]
        assert len(timeline) == events, (language, timeline)
