"""Read a member's position from their new words, in any language the rules know.

Conservative by design: a reply is counted only when its answer is clear. Mixed, hedged or
negated answers come back as ambiguous, to be confirmed by the member and seen in review.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from bot.rules import Rules

_TOKEN = re.compile(r"[+-]1(?![\w])|[\w']+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?;\n]")


@dataclass(frozen=True)
class Reading:
    """What the bot reads in a reply: a position key or None, the member's reason, and why."""

    position: str | None
    reason: str
    why: str

    @property
    def ambiguous(self) -> bool:
        return self.position is None


@dataclass(frozen=True)
class _Hit:
    position: str
    phrase: str
    start: int  # token index
    end: int
    weak: bool


def fold(text: str) -> str:
    """Lower-case, typographic apostrophes made plain, accents removed: 'Não' == 'nao'."""
    text = text.replace("\u2019", "'").replace("\u02bc", "'").lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


@dataclass(frozen=True)
class _Lexicon:
    phrases: tuple[tuple[tuple[str, ...], str], ...]  # (tokens, position), longest first
    weak: frozenset[tuple[str, ...]]
    negators: frozenset[tuple[str, ...]]
    hedges: tuple[tuple[str, ...], ...]
    greetings: frozenset[tuple[str, ...]]


_LEXICONS: dict[int, tuple[Rules, _Lexicon]] = {}


def _lexicon(rules: Rules) -> _Lexicon:
    """Built once per rules object (rules are frozen and live as long as the process)."""
    cached = _LEXICONS.get(id(rules))
    if cached is not None and cached[0] is rules:
        return cached[1]
    lexicon = _build_lexicon(rules)
    _LEXICONS[id(rules)] = (rules, lexicon)
    return lexicon


def _build_lexicon(rules: Rules) -> _Lexicon:
    phrases = {
        tuple(tokens(word)): key
        for key, pos in rules.positions.items()
        for words in pos.words.values()
        for word in words
        if tokens(word)
    }
    langs = rules.languages.values()
    return _Lexicon(
        phrases=tuple(sorted(phrases.items(), key=lambda kv: -len(kv[0]))),
        weak=frozenset(tuple(tokens(w)) for lang in langs for w in lang.weak),
        negators=frozenset(tuple(tokens(w)) for lang in langs for w in lang.negators),
        hedges=tuple(tuple(tokens(w)) for lang in langs for w in lang.hedges),
        greetings=frozenset(tuple(tokens(w)) for lang in langs for w in lang.greetings),
    )


def _hits(toks: list[str], lex: _Lexicon) -> list[_Hit]:
    """Longest phrase wins at every place: 'no objection' hides 'no' and 'objection'."""
    taken = [False] * len(toks)
    hits: list[_Hit] = []
    for phrase, key in lex.phrases:
        n = len(phrase)
        for i in range(len(toks) - n + 1):
            if tuple(toks[i : i + n]) == phrase and not any(taken[i : i + n]):
                taken[i : i + n] = [True] * n
                hits.append(_Hit(key, " ".join(phrase), i, i + n, phrase in lex.weak))
    return sorted(hits, key=lambda h: h.start)


def _contains(toks: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(toks[i : i + n]) == phrase for i in range(len(toks) - n + 1))


def _negated(toks: list[str], hit: _Hit, lex: _Lexicon) -> bool:
    window = toks[max(0, hit.start - 3) : hit.start]
    return any(_contains(window, neg) for neg in lex.negators)


def _is_greeting(line: str, lex: _Lexicon) -> bool:
    toks = tokens(line)
    if not toks or len(toks) > 5:
        return False
    return any(toks[: len(g)] == list(g) for g in lex.greetings) and not line.rstrip().endswith(".")


def _answer_line(lines: list[str], lex: _Lexicon) -> int | None:
    for i, line in enumerate(lines):
        if line.strip() and not _is_greeting(line, lex):
            return i
    return None


def _reason(lines: list[str], index: int, hit: _Hit | None) -> str:
    first = lines[index]
    if hit is not None:
        # drop the answer word itself and the punctuation after it
        words = list(re.finditer(r"[+-]1(?![\w])|[\w'\u2019]+", first))
        if hit.end <= len(words):
            first = first[words[hit.end - 1].end() :]
        first = first.lstrip(" .,:;-–—!)")
    rest = [first, *lines[index + 1 :]]
    return "\n".join(rest).strip()


def read_position(text: str, rules: Rules, offered: Collection[str] | None = None) -> Reading:
    """The member's position, or an ambiguous reading that says why none was taken.

    A position the ballot does not offer is not counted either: the member is asked again."""
    reading = _read(text, rules)
    if reading.position is not None and offered is not None and reading.position not in offered:
        label = rules.positions[reading.position].label
        why = f"{label} is not one of the answers this ballot offers"
        return Reading(None, reading.reason, why)
    return reading


def _read(text: str, rules: Rules) -> Reading:
    lex = _lexicon(rules)
    lines = [ln.strip() for ln in text.strip().splitlines()]
    index = _answer_line(lines, lex)
    if index is None:
        return Reading(None, "", "the reply has no text of its own")
    lines = _split_first_sentence(lines, index)
    answer_toks = tokens(lines[index])
    answer_hits = _hits(answer_toks, lex)
    rest_toks = tokens("\n".join(lines[index + 1 :]))
    rest_hits = [h for h in _hits(rest_toks, lex) if not h.weak]

    for toks, hits in ((answer_toks, answer_hits), (rest_toks, rest_hits)):
        for hit in hits:
            if _negated(toks, hit, lex):
                return Reading(None, text.strip(), f"'{hit.phrase}' is negated")
    if any(_contains(answer_toks, h) for h in lex.hedges):
        return Reading(None, text.strip(), "the answer is qualified (a hedge such as 'but')")

    answer_positions = {h.position for h in answer_hits}
    if len(answer_positions) > 1:
        return Reading(None, text.strip(), f"the answer names {sorted(answer_positions)}")
    if answer_positions:
        position = answer_positions.pop()
        others = sorted({h.position for h in rest_hits} - {position})
        if others:
            return Reading(
                None, text.strip(), f"the answer says {position} but the text also {others}"
            )
        return Reading(
            position,
            _reason(lines, index, answer_hits[0]),
            f"'{answer_hits[0].phrase}' on the answer line",
        )

    found = {h.position for h in rest_hits}
    if len(found) == 1:
        hit = rest_hits[0]
        sentence = _sentence_around(lines, index, hit.phrase)
        if any(_contains(tokens(sentence), h) for h in lex.hedges):
            return Reading(None, text.strip(), "the answer is qualified (a hedge such as 'but')")
        return Reading(found.pop(), text.strip(), f"'{hit.phrase}' in the reply")
    if found:
        return Reading(None, text.strip(), f"the reply names {sorted(found)}")
    return Reading(None, text.strip(), "no position word found")


def _split_first_sentence(lines: list[str], index: int) -> list[str]:
    """The answer is the first sentence of the answer line; the rest of it joins the reason."""
    match = re.search(r"[.!?;](?:\s|$)", lines[index])
    if not match or not lines[index][match.end() :].strip():
        return lines
    head, tail = lines[index][: match.end()].strip(), lines[index][match.end() :].strip()
    return [*lines[:index], head, tail, *lines[index + 1 :]]


def _sentence_around(lines: list[str], index: int, phrase: str) -> str:
    body = fold("\n".join(lines[index:]))
    at = body.find(phrase)
    if at < 0:
        return body
    start = max((m.end() for m in _SENTENCE_END.finditer(body, 0, at)), default=0)
    end_match = _SENTENCE_END.search(body, at)
    return body[start : end_match.start() if end_match else len(body)]
