"""Read a member's position from the answer in their reply, in any language the rules know.

The answer is the first sentence of the new text after any greeting; a sentence may run over a
line break ("Yes,\\nprovided ..."), and an inline answer under the quoted question reaches this
module as the new text (see reply.py). A position is taken from the answer alone, never from the
prose after it: that prose can make a reply ambiguous (by naming another position or negating
one) but never gives it a position. Conservative by design: a mixed, hedged, conditional, negated
or questioning answer comes back ambiguous, to be confirmed by the member and seen in review.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from bot.rules import Rules

# A word; an elided article or preposition is a word of its own ("l'objection" holds
# "objection", "dell'obiezione" "obiezione"), a contraction is not ("don't", "s'il").
_TOKEN = re.compile(r"[+-]1(?!\w)|\w{1,4}['\u2019\u02bc](?=\w{3})|[\w'\u2019\u02bc]+")
# What ends a clause between two words: punctuation, a line break, or a dash set apart by a space
# (so "No - see para 3" ends one, "no-one" does not).
_CLAUSE_END = re.compile(r"[,.;:!?\u2026()\[\]\n\u2014]|\s[-\u2013]|[-\u2013]\s")
_STOP = re.compile(r"[,.;:!?\u2026()\[\]\u2014]|\s[-\u2013]|[-\u2013]\s|\n\s*\n")
# Between two words, nothing but an opening or a closing bracket: an insertion inside a clause.
_OPENS = re.compile(r"\s*\(\s*")
_CLOSES = re.compile(r"\s*\)\s*")
# A word written two ways at once, with and without its negation: "I (dis)agree", "I do(n't)
# agree", "I can('t) support", "(des)acuerdo" ("the annex(es)" is a plural). Read folded.
_NEGATING = r"\((?:dis|un|in|im|non|n't|'t|not|des|ne)\)"
_TWO_WAYS = re.compile(rf"\w{_NEGATING}|{_NEGATING}\w")
# A sentence ends at . ! ? or an ellipsis followed by a space, or at a blank line (a semicolon
# joins two clauses of one answer: "I need to check first; I will probably agree").
_SENTENCE_END = re.compile(r"[.!?\u2026]+(?=\s|$)|\n[ \t]*\n")
_QUALIFIED = "the answer is qualified (a hedge such as 'but')"  # the hedged doubt's words
# Words a greeting may carry after its greeting word: a name or two, "all", "for the paper";
# more on a salutation line of its own ("Dear Ms. Okafor and colleagues,").
_GREETING_TAIL = 3
_SALUTATION_TAIL = 6


# Why no position was taken, as codes: each mail to a member says it in their language.
DOUBTS = (
    "question", "no-text", "no-position", "later-prose", "negated", "hedged", "several",
    "another-view", "partly-negated", "contradicted", "not-offered",
)  # fmt: skip


@dataclass(frozen=True)
class Reading:
    """What the bot reads in a reply: a position key or None, the member's reason, and why."""

    position: str | None
    reason: str
    why: str  # for the Secretariat and the record, in English
    # Why no position was taken, as a code a mail in any language can say in its own words:
    # one of DOUBTS; "" when a position was taken. `detail` is the word concerned.
    code: str = ""
    detail: str = ""

    @property
    def ambiguous(self) -> bool:
        return self.position is None


@dataclass(frozen=True)
class _Doubt:
    code: str
    why: str
    detail: str = ""


@dataclass(frozen=True)
class _Token:
    """A word as read (folded) and where it stands in the text it came from."""

    text: str
    accented: bool  # the writer typed a diacritic ("já", "sí"), which a word must then have
    start: int
    end: int
    clause_end: bool  # nothing but punctuation or a line break before the next word
    # Punctuation or a blank line before the next word, not a bare line break: mail clients wrap
    # long lines ("I have no\nobjection"), so a phrase may run over one, not over a comma.
    stop: bool = False


@dataclass(frozen=True)
class _Hit:
    position: str
    phrase: str
    start: int  # token index
    end: int
    objection: bool
    weak: bool
    langs: frozenset[str]


_Phrase = tuple[_Token, ...]


def fold(text: str) -> str:
    """Lower-case, typographic apostrophes made plain, accents removed: 'Não' == 'nao'."""
    text = text.replace("\u2019", "'").replace("\u02bc", "'").lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _tokens(text: str, offset: int = 0) -> list[_Token]:
    """The words of `text`, positions counted from `offset` in the text it was cut from."""
    matches = list(_TOKEN.finditer(text))
    out = []
    for i, m in enumerate(matches):
        gap = text[m.end() : matches[i + 1].start()] if i + 1 < len(matches) else "."
        decomposed = unicodedata.normalize("NFKD", m.group().lower())
        accented = any(unicodedata.combining(c) for c in decomposed)
        out.append(
            _Token(
                fold(m.group()),
                accented,
                offset + m.start(),
                offset + m.end(),
                bool(_CLAUSE_END.search(gap)),
                bool(_STOP.search(gap)),
            )
        )
    return out


def _read_through_insertions(
    toks: list[_Token], text: str, end: int, lex: _Lexicon
) -> list[_Token]:
    """A few words in brackets inside a clause do not end it: 'No (further) objection.' is
    read as 'No further objection.', not as 'No.' and 'Objection.', and 'No (objection).' as
    'No objection.'. Brackets that hold a word that negates or sets a condition ('I do (not)
    object', 'Agree (no further comments).'), or that other punctuation follows ('Agree
    (fully), no further comments'), stay where a clause ends. `end`: where the answer ends."""
    out = list(toks)
    for i in range(len(out) - 1):
        if not _OPENS.fullmatch(text, out[i].end, out[i + 1].start):
            continue
        for j in range(i + 1, min(i + 4, len(out))):
            last = j + 1 == len(out)
            gap = (out[j].end, end if last else out[j + 1].start)
            closes = _CLOSES.match(text, *gap)
            if closes and not text[closes.end() : gap[1]].strip(" .!" if last else ""):
                if not any(_function_word(out[k], lex) for k in range(i + 1, j + 1)):
                    out[i] = replace(out[i], clause_end=False, stop=False)
                    # "No (objection)." ends where the answer does
                    out[j] = replace(out[j], clause_end=last, stop=last)
                break
            if out[j].clause_end:
                break
    return out


def _phrase(words: str) -> _Phrase:
    return tuple(_tokens(unicodedata.normalize("NFC", words)))


def _same(token: _Token, word: _Token) -> bool:
    """'nao' is 'não', but 'já' (Portuguese: already) is not 'ja' (German and Dutch: yes)."""
    return token.text == word.text and (word.accented or not token.accented)


@dataclass(frozen=True)
class _Entry:
    """A position phrase of the rules, as matched."""

    words: _Phrase
    position: str
    objection: bool
    weak: bool
    langs: frozenset[str]  # the languages whose word lists hold it

    @property
    def flags(self) -> tuple[bool, bool, frozenset[str]]:
        return self.objection, self.weak, self.langs


# Phrases filed under their first word (folded), longest first: a reply is read word by word.
_Index = dict[str, tuple[_Phrase, ...]]


@dataclass(frozen=True)
class _Lexicon:
    phrases: dict[str, tuple[_Entry, ...]]
    negators: _Index
    hedges: _Index
    greetings: _Index
    asides: _Index
    # Single words that negate or set a condition, with whether the rules spell them accented.
    function_words: dict[str, frozenset[bool]]
    # The languages of each one-word hedge: Italian 'ma' (but) is French 'ma' (my).
    hedge_langs: dict[tuple[str, bool], frozenset[str]]
    kinds: dict[str, str]  # each position's kind: support, objection, neutral
    # Joining someone else's view (see `_joins_another_view`), each a set of folded words.
    joins: frozenset[str]
    before_names: frozenset[str]
    titles: frozenset[str]
    concerns: frozenset[str]


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
    langs = rules.languages.values()
    weak = {_key(_phrase(w)) for lang in langs for w in lang.weak}
    entries: dict[tuple[tuple[str, bool], ...], _Entry] = {}
    for key, pos in rules.positions.items():
        for code, words in pos.words.items():
            for phrase in filter(None, map(_phrase, words)):
                k = _key(phrase)
                known = entries[k].langs if k in entries else frozenset()
                objection = pos.kind == "objection"
                entries[k] = _Entry(phrase, key, objection, k in weak, known | {code})
    by_first: dict[str, list[_Entry]] = {}
    for entry in sorted(entries.values(), key=lambda e: -len(e.words)):
        by_first.setdefault(entry.words[0].text, []).append(entry)
    negators = _index(w for lang in langs for w in lang.negators)
    hedges = _index(w for lang in langs for w in lang.hedges)
    singles: dict[str, set[bool]] = {}
    for phrases in (*negators.values(), *hedges.values()):
        for one in (p[0] for p in phrases if len(p) == 1):
            singles.setdefault(one.text, set()).add(one.accented)
    hedge_langs: dict[tuple[str, bool], set[str]] = {}
    for code, lang in rules.languages.items():
        for hedge in map(_phrase, lang.hedges):
            if len(hedge) == 1:
                hedge_langs.setdefault(_key(hedge)[0], set()).add(code)
    return _Lexicon(
        phrases={first: tuple(es) for first, es in by_first.items()},
        negators=negators,
        hedges=hedges,
        greetings=_index(w for lang in langs for w in lang.greetings),
        asides=_index(w for lang in langs for w in lang.asides),
        function_words={text: frozenset(flags) for text, flags in singles.items()},
        hedge_langs={k: frozenset(v) for k, v in hedge_langs.items()},
        kinds={key: pos.kind for key, pos in rules.positions.items()},
        joins=_words(w for lang in langs for w in lang.joins),
        before_names=_words(w for lang in langs for w in (*lang.before_names, *lang.titles)),
        titles=_words(w for lang in langs for w in lang.titles),
        concerns=_words(w for lang in langs for w in lang.concerns),
    )


def _words(words: Iterable[str]) -> frozenset[str]:
    return frozenset(tok.text for w in words for tok in _tokens(w))


def _key(phrase: _Phrase) -> tuple[tuple[str, bool], ...]:
    return tuple((t.text, t.accented) for t in phrase)


def _index(words: Iterable[str]) -> _Index:
    by_first: dict[str, list[_Phrase]] = {}
    for phrase in sorted(filter(None, map(_phrase, words)), key=lambda p: -len(p)):
        by_first.setdefault(phrase[0].text, []).append(phrase)
    return {first: tuple(ps) for first, ps in by_first.items()}


def _at(toks: Sequence[_Token], i: int, phrase: _Phrase) -> bool:
    n = len(phrase)
    return i + n <= len(toks) and all(_same(toks[i + k], phrase[k]) for k in range(n))


def _find(
    toks: Sequence[_Token], index: _Index, lo: int, hi: int, skip: Collection[int] = ()
) -> _Phrase | None:
    """The first phrase of `index` found wholly in toks[lo:hi], touching no index in `skip`."""
    for i in range(max(lo, 0), hi):
        for phrase in index.get(toks[i].text, ()):
            n = len(phrase)
            if i + n <= hi and _at(toks, i, phrase) and not any(j in skip for j in range(i, i + n)):
                return phrase
    return None


def _function_word(token: _Token, lex: _Lexicon) -> bool:
    """'no', 'non', an unaccented 'si': words that also negate or set a condition."""
    flags = lex.function_words.get(token.text, frozenset())
    return True in flags or (False in flags and not token.accented)


def _hits(toks: Sequence[_Token], lex: _Lexicon) -> list[_Hit]:
    """Longest phrase wins at every place: 'no objection' hides 'no' and 'objection'.

    A word that is also a negator or a hedge answers only when it stands alone: 'No.' objects,
    'No concerns' does not, and the Spanish 'Si se retira ...' is a condition, not a yes."""
    where: dict[str, list[int]] = {}
    for i, tok in enumerate(toks):
        where.setdefault(tok.text, []).append(i)
    candidates = {e.words: e for first in where for e in lex.phrases.get(first, ())}
    taken = [False] * len(toks)
    hits: list[_Hit] = []
    for entry in sorted(candidates.values(), key=lambda e: -len(e.words)):
        n = len(entry.words)
        for i in where[entry.words[0].text]:
            if any(taken[i : i + n]) or not _at(toks, i, entry.words):
                continue
            if any(toks[j].stop for j in range(i, i + n - 1)):  # "No, me opongo"
                continue
            if n == 1 and not toks[i].clause_end and _function_word(toks[i], lex):
                continue
            taken[i : i + n] = [True] * n
            phrase = _spell(entry.words)
            hits.append(_Hit(entry.position, phrase, i, i + n, *entry.flags))
    return sorted(hits, key=lambda h: h.start)


def _spell(words: _Phrase) -> str:
    """A phrase as the member reads it in a notice: "d'accord", not "d' accord"."""
    return "".join(t.text + ("" if t.text.endswith("'") else " ") for t in words).strip()


def _taken(hits: Iterable[_Hit]) -> set[int]:
    return {i for h in hits for i in range(h.start, h.end)}


def _hedge(
    toks: Sequence[_Token], hits: Sequence[_Hit], lex: _Lexicon, answer: Sequence[_Hit] = ()
) -> _Phrase | None:
    """A hedge or condition in `toks`, unless it lies inside the words of one of its `hits`:
    the 'bedenken' of 'keine Bedenken' is no hedge, the 'consent' of 'informed consent' no
    answer. Its language is judged by the `answer` (by default, these hits)."""
    for i, tok in enumerate(toks):
        for hedge in lex.hedges.get(tok.text, ()):
            n = len(hedge)
            inside = any(h.start <= i and i + n <= h.end for h in hits)
            if not inside and _at(toks, i, hedge) and _spoken(hedge, answer or hits, lex):
                return hedge
    return None


def _spoken(hedge: _Phrase, hits: Sequence[_Hit], lex: _Lexicon) -> bool:
    """A one-word hedge counts in its own languages only, those the answer's words are from:
    the 'ma' of 'pas de veto de ma part' is French, the 'se' of 'no se consultó' Spanish. A
    sign ('+1') belongs to every language, and so does a hedge of several words."""
    if len(hedge) > 1 or any(not any(c.isalpha() for c in h.phrase) for h in hits):
        return True
    spoken = frozenset().union(*(h.langs for h in hits))
    return bool(lex.hedge_langs.get(_key(hedge)[0], spoken) & spoken)


# Words that may close an aside's clause: "no further comments from my side", "de ma part".
_ASIDE_TAIL = frozenset(
    ("from", "me", "my", "our", "side", "on", "this", "here", "either", "de", "ma", "notre",
     "part", "mi", "nuestra", "parte", "por", "da", "minha", "nossa")
)  # fmt: skip


def _asides(toks: Sequence[_Token], lex: _Lexicon) -> set[int]:
    """Where the answer's asides are ("no further comments"): their negators negate nothing. An
    aside is a clause of its own; "No comments or objection" is one clause, and its "no" stays."""
    found: set[int] = set()
    for i, tok in enumerate(toks):
        for phrase in lex.asides.get(tok.text, ()):
            n = len(phrase)
            if not _at(toks, i, phrase) or any(t.stop for t in toks[i : i + n - 1]):
                continue
            end = i + n  # "from me", "de ma part" may close the aside's clause
            while end < len(toks) and not toks[end - 1].stop and toks[end].text in _ASIDE_TAIL:
                end += 1
            if (i == 0 or toks[i - 1].stop) and (end == len(toks) or toks[end - 1].stop):
                found.update(range(i, end))
    return found


def _negated(
    toks: Sequence[_Token], hit: _Hit, lex: _Lexicon, taken: set[int], window: int | None
) -> bool:
    """A negator before the word that no phrase explains: anywhere before it in the answer ('I
    do not think we should agree', 'I cannot, unfortunately, support this'), among the three
    words before it in later prose; 'sans veto', 'no objection' are phrases of their own."""
    lo = 0 if window is None else hit.start - window
    return _find(toks, lex.negators, lo, hit.start, taken) is not None


def _negated_after(toks: Sequence[_Token], hit: _Hit, lex: _Lexicon, taken: set[int]) -> bool:
    """A negator after the answer word that no phrase explains: in its own clause ('Dagegen
    habe ich nichts'), or, after agreeing, anywhere in the answer ('Agree with 1 and 2, not
    3', 'Yes, this is not acceptable'); after abstaining, opening a later clause. Reasons for
    objecting or standing aside are often negative ('Object - the budget is not included', 'Ich
    enthalte mich, da ich nicht teilnehmen konnte'), so those later negators do not count."""
    end = next((i + 1 for i in range(hit.end - 1, len(toks)) if toks[i].clause_end), len(toks))
    if _find(toks, lex.negators, hit.end, end, taken) is not None:
        return True
    if lex.kinds.get(hit.position) == "support":
        return _find(toks, lex.negators, end, len(toks), taken) is not None
    if hit.objection:
        return False
    opens = [i + 1 for i in range(end - 1, len(toks) - 1) if toks[i].clause_end]
    return any(
        i not in taken and any(_at(toks, i, neg) for neg in lex.negators.get(toks[i].text, ()))
        for i in opens
    )


# Words of objecting that the position lists do not hold as answers ("the objectors", "those
# who oppose", "rejected", "unacceptable"), whole and folded (a prefix would take "objectives",
# "contrato", "blockchain"): after AGREE they mean a person must read the answer ("I agree with
# the objectors", "Yes, I agree it should be rejected").
# fmt: off
_OBJECTING = frozenset((
    "object", "objects", "objected", "objecting", "objection", "objections", "objector",
    "objectors", "oppose", "opposes", "opposed", "opposing", "opposition", "reject", "rejects",
    "rejected", "rejecting", "rejection", "veto", "vetoes", "vetoed", "block", "blocks",
    "blocked", "blocking", "unacceptable", "disagree", "disagrees", "disagreement", "against",
    "objecter", "objectent", "opposent", "opposer", "rejet", "rejette", "rejeter", "rejetee",
    "bloquer", "bloque", "bloquent", "inacceptable", "desaccord", "contre", "objecion",
    "objeciones", "oponen", "opone", "oponer", "oponerse", "rechazo", "rechazar", "rechaza",
    "rechazado", "rechazada", "bloquear", "bloqueo", "inaceptable", "desacuerdo", "contra",
    "objecao", "objecoes", "opoem", "opoe", "opor", "rejeito", "rejeitar", "rejeitado",
    "rejeitada", "bloqueio", "inaceitavel", "desacordo",
))
# fmt: on


def _objecting_after(toks: Sequence[_Token], hits: Sequence[_Hit], taken: set[int]) -> bool:
    """A word of objecting after an AGREE or ABSTAIN answer, outside the phrases read."""
    first = hits[0]
    return not first.objection and any(
        i not in taken and toks[i].text in _OBJECTING for i in range(first.end, len(toks))
    )


def _names(people: Iterable[str]) -> frozenset[str]:
    """The words of people's names as the reader folds them ('Chloé Martin': chloe, martin)."""
    return frozenset(w.text for name in people for w in _tokens(name) if len(w.text) > 1)


def _joins_another_view(
    text: str, toks: Sequence[_Token], hits: Sequence[_Hit], lex: _Lexicon, names: frozenset[str]
) -> bool:
    """Agreeing with a colleague or with concerns, right after the answer word: 'I agree with
    Ana', 'I support Bruno's position', 'Concordo com as preocupações'. Their view is their
    position, which the words do not give (Ana may have objected). A name is one of `names`,
    written with a capital; 'the proposal circulated by Ana' only says who wrote it. The words
    are the rules' `joins`, `before_names`, `titles` and `concerns` of every language."""
    first = hits[0]
    if lex.kinds.get(first.position) != "support":
        return False
    i = first.end
    if i < len(toks) and toks[i].text in lex.joins:
        i += 1
    while i < len(toks) and toks[i].text in lex.before_names and i - first.end < 3:
        i += 1
    if i >= len(toks) or any(
        toks[k].stop and toks[k].text not in lex.titles for k in range(first.end - 1, i)
    ):  # (an abbreviated title's full stop, "Sr.", "Dr.", goes on to the name)
        return False
    word = toks[i].text
    person = word.removesuffix("'s").removesuffix("'")
    capital = text[toks[i].start : toks[i].start + 1].isupper()
    return (capital and person in names) or word in lex.concerns


def _negated_objection(toks: Sequence[_Token], hits: Sequence[_Hit], lex: _Lexicon) -> _Hit | None:
    """An objection word after a phrase that holds its own negator, in the same clause: 'Não
    estou de acordo com a objeção', 'I cannot support the veto' say the opposite of OBJECT.
    ('I don't agree and I object' goes to review with them: the words cannot tell them apart.)"""
    for first in hits:
        if _find(toks, lex.negators, first.start, first.end) is None:
            continue
        end = next((i + 1 for i in range(first.end - 1, len(toks)) if toks[i].stop), len(toks))
        later = [h for h in hits if first.end <= h.start and h.end <= end and h.objection]
        if later:
            return later[0]
    return None


def _is_greeting(toks: Sequence[_Token], lex: _Lexicon, tail: int = _GREETING_TAIL) -> bool:
    """'Dear all,' 'Hi Amina,' 'Thanks for this.': a greeting word, a few words, no answer."""
    greetings = lex.greetings.get(toks[0].text, ())
    if not any(_at(toks, 0, g) and len(toks) - len(g) <= tail for g in greetings):
        return False
    return not _hits(toks, lex) and not any(
        _find(toks, index, 0, len(toks)) for index in (lex.negators, lex.hedges)
    )


def _answer_span(text: str, lex: _Lexicon) -> tuple[int, int] | None:
    """Where the answer is: the first sentence that is not a greeting, skipping greeting lines."""
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return None
        line_end = text.find("\n", at)
        line_end = len(text) if line_end < 0 else line_end
        line = _tokens(text[at:line_end], at)
        salutation = text[at:line_end].rstrip().endswith((",", ":"))
        tail = _SALUTATION_TAIL if salutation else _GREETING_TAIL
        if line and _is_greeting(line, lex, tail):
            at = line_end
            continue
        match = _SENTENCE_END.search(text, at)
        end = match.end() if match else len(text)
        sentence = _tokens(text[at:end], at)
        if sentence and _is_greeting(sentence, lex):
            at = end
            continue
        return at, end


def _reason(text: str, start: int, last: _Token) -> str:
    """The member's own words, line by line as written: after the answer word when it stands
    apart ('Object - para 3 ...'), else from the answer on ('I can live with it', not 'it')."""
    rest = text[last.end :] if last.clause_end else text[start:]
    rest = rest.lstrip(" .,:;-\u2013\u2014!)")
    return "\n".join(line.strip() for line in rest.splitlines()).strip()


def _quoted(answer: str) -> str:
    flat = " ".join(answer.split())
    return flat if len(flat) <= 60 else flat[:57].rsplit(" ", 1)[0] + "..."


def read_position(
    text: str, rules: Rules, offered: Collection[str] | None = None, others: Iterable[str] = ()
) -> Reading:
    """The member's position, or an ambiguous reading that says why none was taken.

    A position the ballot does not offer is not counted either: the member is asked again.
    `others`: the names of the other people of the group ('I agree with Ana' is not counted)."""
    reading = _read(text, rules, _names(others))
    if reading.position is not None and offered is not None and reading.position not in offered:
        label = rules.positions[reading.position].label
        why = f"{label} is not one of the answers this ballot offers"
        return Reading(None, reading.reason, why, "not-offered", reading.position)
    return reading


def _read(text: str, rules: Rules, names: frozenset[str]) -> Reading:
    lex = _lexicon(rules)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    span = _answer_span(text, lex)
    if span is None:
        return Reading(None, "", "the reply has no text of its own", "no-text")
    start, end = span
    answer = text[start:end].strip()
    toks = _read_through_insertions(_tokens(text[start:end], start), text, end, lex)
    hits = _hits(toks, lex)
    rest = _tokens(text[end:], end)
    later = _hits(rest, lex)
    rest_hits = [h for h in later if not h.weak]
    after = _SENTENCE_END.search(text, rest[0].start) if rest else None
    following = [t for t in rest if after is None or t.start < after.start()]
    doubt = _doubt(text, answer, toks, hits, rest, rest_hits, lex, bool(later), names)
    doubt = doubt or _qualified_later(following, hits, lex)
    if doubt is not None:
        return Reading(None, text, doubt.why, doubt.code, doubt.detail)
    first = hits[0]
    reason = _reason(text, start, toks[first.end - 1])
    return Reading(first.position, reason, f"'{first.phrase}' on the answer line")


def _doubt(
    text: str,
    answer: str,
    toks: Sequence[_Token],
    hits: Sequence[_Hit],
    rest: Sequence[_Token],
    rest_hits: Sequence[_Hit],
    lex: _Lexicon,
    named_later: bool,
    names: frozenset[str],
) -> _Doubt | None:
    """Why the answer cannot be counted, or None when it gives one clear position."""
    if answer.rstrip().endswith("?") or answer.startswith("\u00bf"):
        return _Doubt("question", f"the answer ('{_quoted(answer)}') is a question")
    if _TWO_WAYS.search(fold(answer)):
        return _Doubt("several", f"the answer ('{_quoted(answer)}') writes a word two ways")
    if not hits:
        if named_later:
            why = (
                f"its first sentence ('{_quoted(answer)}') gives no position, and words "
                "further down are not counted"
            )
            return _Doubt("later-prose", why)
        return _Doubt("no-position", "no position word found")
    taken = _taken(hits) | _asides(toks, lex)
    rest_taken = _taken(rest_hits) | _asides(rest, lex)
    for seq, found, used, window in ((toks, hits, taken, None), (rest, rest_hits, rest_taken, 3)):
        for hit in found:
            if _negated(seq, hit, lex, used, window):
                return _Doubt("negated", f"'{hit.phrase}' is negated", hit.phrase)
    if _hedge(toks, hits, lex) is not None:
        return _Doubt("hedged", _QUALIFIED)
    positions = sorted({h.position for h in hits})
    if len(positions) > 1:
        return _Doubt("several", f"the answer names {positions}")
    twice = _negated_objection(toks, hits, lex)
    if twice is not None:
        return _Doubt("negated", f"'{twice.phrase}' is negated", twice.phrase)
    if _objecting_after(toks, hits, taken):
        return _Doubt("several", f"the answer says {positions[0]} and speaks of objecting")
    if _joins_another_view(text, [*toks, *rest], hits, lex, names):  # "... com o Sr. / Carvalho"
        why = (
            f"the answer ('{_quoted(answer)}') joins someone else's view, not a position of its own"
        )
        return _Doubt("another-view", why)
    position = positions[0]
    negator = next((h for h in hits if _negated_after(toks, h, lex, taken)), None)
    if negator is not None:
        why = f"the answer is partly negated (after '{negator.phrase}')"
        return _Doubt("partly-negated", why, negator.phrase)
    others = sorted({h.position for h in rest_hits} - {position})
    if others:
        return _Doubt("contradicted", f"the answer says {position} but the text also {others}")
    return None


def _qualified_later(
    following: Sequence[_Token], hits: Sequence[_Hit], lex: _Lexicon
) -> _Doubt | None:
    """The sentence after the answer qualifies it: 'Agree. Provided the annex is updated.',
    'Einverstanden. Ich habe aber Bedenken zu Punkt 3.' After an objection only a sentence that
    opens with a hedge does ('Object. Unless ...'): reasons for objecting often say 'but'."""
    if not hits or not following:
        return None
    if any(h.objection for h in hits):
        first = lex.hedges.get(following[0].text, ())
        opens = any(_at(following, 0, h) and _spoken(h, hits, lex) for h in first)
        return _Doubt("hedged", _QUALIFIED) if opens else None
    qualified = _hedge(following, _hits(following, lex), lex, hits) is not None
    # ... or opens with a negator that is no aside: "Agree. Not annex B." ("Agree. No further
    # comments." is an aside).
    opens_negated = 0 not in _asides(following, lex) and any(
        _at(following, 0, neg) for neg in lex.negators.get(following[0].text, ())
    )
    return _Doubt("hedged", _QUALIFIED) if qualified or opens_negated else None
