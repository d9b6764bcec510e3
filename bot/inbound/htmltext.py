"""HTML body -> plain text, leaving out the quoted original the mail clients mark up."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_SKIP = {"style", "script", "head", "title", "xml"}
_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "pre"}
# Class or id markers of the quoted part: Gmail, Yahoo, Thunderbird, Apple Mail.
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote")
# Markers after which everything is the quoted original (Outlook, Outlook on the web, Apple Mail).
_CUT_IDS = ("divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container")


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0  # inside a skipped element (counts nested tags of any kind)
        self._stack: list[tuple[str, bool]] = []  # open tags: (name, starts a skipped region)
        self.cut = False

    def _starts_quote(self, tag: str, attrs: dict[str, str]) -> bool:
        if tag in _SKIP or tag == "blockquote":
            return True
        cls = attrs.get("class", "").lower()
        return any(marker in cls for marker in _QUOTE_CLASSES)

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k.lower(): (v or "") for k, v in attrs_list}
        if attrs.get("id", "").lower() in _CUT_IDS:
            self.cut = True
        if tag in _BLOCK and not self._skip_depth:
            self.parts.append("\n")
        if tag in ("br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr"):
            return  # void elements have no end tag
        skip = self._skip_depth > 0 or self._starts_quote(tag, attrs)
        self._stack.append((tag, skip))
        if skip:
            self._skip_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if not any(name == tag for name, _ in self._stack):
            return  # a stray end tag: browsers ignore it, so do we
        while self._stack:  # close what the author left open inside it
            name, skip = self._stack.pop()
            if skip:
                self._skip_depth -= 1
            if name == tag:
                break
        if tag in _BLOCK and not self._skip_depth:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth and not self.cut:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable text of the new part of an HTML mail (quotes and styles left out)."""
    if not markup.strip():
        return ""
    parser = _Extractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # html.parser is lenient; anything left is unreadable markup
        return re.sub(r"<[^>]+>", " ", html.unescape(markup))
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
