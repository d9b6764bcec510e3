"""The member's new words: quoted original, quote headers, signatures and mobile footers removed.

mail-parser-reply does the multilingual signature, disclaimer and header work. In front of it
sits a small layer of our own for what it misses (measured on 1.36): Portuguese has no patterns,
the Spanish `El ... escribió:` header only matches when quoted, the French `Le ... a écrit :`
header split over two lines makes a bogus extra reply, and a `-1` answer reads as a signature.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from mailparser_reply import EmailMessage
from mailparser_reply import EmailMessage as _LibraryMessage  # not the name tests replace

_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs", "ja", "ko", "zh"]

# "On <date>, <name> wrote:" and its cousins; a header may be split over up to three lines.
_LEAD = r"(?:On|Le|El|Em|Am|Il|Op|W dniu|Den|Dne|På|Il giorno|Στις|Dana)\b"
_VERB = (
    r"(?:wrote|a écrit|a ecrit|escribió|escribio|escreveu|schrieb|ha scritto|scrisse|schreef|"
    r"napisał|napisal|skrev|napsal|kirjoitti|написал|написала|написав|пишет|пише|έγραψε|"
    r"je napisao|a scris|va escriure|yazdı|írta)"
)
_WROTE = re.compile(
    rf"^{_LEAD}.{{0,300}}?{_VERB}(?:\s*:?\s*$|\b.{{0,200}}:\s*$)", re.IGNORECASE | re.DOTALL
)
# "<date> <name> <address>:" with no verb at all (Gmail in Russian, Chinese, Japanese, ...).
_DATED_ADDRESS = re.compile(
    r"^(?=.{0,300}\d).{0,300}[<(\[]?[\w.+-]+@[\w-]+(?:\.[\w-]+)+[>)\]]?\)?\s*:\s*$"
)
# "<date> ... <verb>:" with no lead word ("tir. 18. apr. 2017 kl. 13:09 skrev X <x@y>:").
_DATED_VERB = re.compile(rf"^(?=.{{0,300}}\d).{{0,300}}{_VERB}\b.{{0,200}}:\s*$", re.IGNORECASE)
# "<name> <address> <verb>" opening a line, as clients write it, not a sentence naming someone:
# a short name with no sentence punctuation, the address in angle brackets, the verb at once.
_NAME_ADDRESS_VERB = rf"^[^,;:!?<>]{{0,80}}<[\w.+-]+@[\w-]+(?:\.[\w-]+)+>\s*{_VERB}\b"
_OPENS_AS_HEADER = re.compile(_NAME_ADDRESS_VERB, re.IGNORECASE)
# ... then ":" at once ("Jan <jan@x.org> schrieb:"), or a date before it ("schrieb am Fr., 28.
# Apr. 2017 um 11:53 Uhr:"); "wrote that she agrees, but I object:" is the writer's sentence.
_ADDRESS_VERB = re.compile(
    rf"{_NAME_ADDRESS_VERB}(?:\s*|[^:]{{0,80}}\d[^:]{{0,80}}):\s*$", re.IGNORECASE
)
_DASHED_WROTE = re.compile(rf"^\s*-{{2,}}\s*{_LEAD}.*{_VERB}\s*-{{2,}}\s*$", re.IGNORECASE)
# "-----Original Message-----", "-------- Oprindelig besked --------", ... in any language, in
# bold when it came from HTML ("*-------- Original Message --------*").
_ORIGINAL = re.compile(r"^\s*\*?-{3,}\s*[^\W\d][^-]{2,40}?\s*-{3,}\*?\s*$")
# The fields of an Outlook-style header block, in the languages mail clients write them.
_FIELD = re.compile(
    r"^\s*\**(?:From|De|Von|Da|Van|Od|Från|Fra|Message du|Sent|Date|To|Subject|Envoyé(?: le)?|"
    r"Enviado(?: el)?|Enviada|Gesendet|Inviato|Verzonden|Wysłano|Skickat|Sendt|Data|Datum|Fecha|"
    r"Para|À|A|An|Aan|Til|Till|Do|Cc|Objet|Sujet|Asunto|Assunto|Betreff|Oggetto|Onderwerp|Temat|"
    r"Ämne|Emne|От|Отправлено|Кому|Тема|发件人|发送时间|收件人|主题)\s*\**\s*[:：]",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^\s*[_=-]{20,}\s*$")
# A mobile footer is short: "Sent from my desk, is much easier ..." is a sentence, not a footer.
_MOBILE = re.compile(
    r"^\s*(?:Sent from my|Sent from|Get Outlook for|Envoyé de mon|Envoyé depuis|Envoyé à partir|"
    r"Enviado desde mi|Enviado desde|Enviado do meu|Enviado de meu|Enviado do|Enviado a partir|"
    r"Obtenha o Outlook|Obtener Outlook|Télécharger Outlook|Von meinem|Gesendet von|Inviato da|"
    r"Verzonden vanaf|Skickat från|Sendt fra)\b[^,;.!?]{0,60}(?:<[^>\s]{0,120}>)?\s*$",
    re.IGNORECASE,
)
# The mark that mail-tracking add-ons for Gmail (Streak, Mailtrack) put on a line of its own.
_TRACKER = "\u1427"
_SIG_DASHES = re.compile(r"^--\s*$")
# "-Abhishek Kona": capitalised words (a list item has a space; "-except annex B" is no name).
_DASH_NAME = re.compile(r"^-[^\W\d_](?<=[A-ZÀ-ÞĀ-ſ])[\w.'’-]*(?: [^\W\d_][\w.'’-]*){0,2}$")
_INITIAL = re.compile(r"[^\W\d_]\.")  # "A." in "A. Lima"; a lone "I" is a word, not an initial
# A postscript after the closing is the writer's too ("PS: actually 3 is not possible").
_POSTSCRIPT = re.compile(
    r"^\s*(?:p\.?\s?[sd]\.?|p\.-s\.|pps|n\.?\s?b\.?|obs\.?)(?:\s|:|$)", re.IGNORECASE
)  # P.S., P.D. (es), P.-S. (fr), N.B., Obs. (pt)
# Words that take back or limit an answer: a line holding one is no signature, whatever it
# looks like ("-Except Annex B", "Annex 2 to follow", "Not 3 after all").
_TAKES_BACK = re.compile(
    r"\b(?:except|but|not|only|pending|follow\w*|withdraw\w*|object\w*|after all|actually|"
    r"correction|sauf|mais|pas|salvo|pero|falta|excepto|exceto|mas|não|no)\b",
    re.IGNORECASE,
)
# The writer taking an answer back in so many words ("Refused - by mistake, please ignore",
# "Correction: ...", "Actually, ...", "En fait", "Na verdade"), in the languages the bot writes.
_RETRACTS = re.compile(
    r"\b(?:by mistake|in error|please (?:ignore|disregard)|ignore (?:this|that|my)|"
    r"disregard (?:this|that|my)|scratch that|my bad|wrong (?:action|thread|mail|message|item)|"
    r"correction|actually|no wait|par erreur|par mégarde|(?:merci d'|veuillez )ignorer|"
    r"ne pas tenir compte|en fait|por error|por equivocación|una equivocación|"
    r"(?:favor de |por favor,? )?ignor(?:e|en|ar) (?:este|el)|en realidad|por engano|por erro|"
    r"desconsider\w*|na verdade)\b",
    re.IGNORECASE,
)
# A closing formula, after which only a few short lines (name, title) may follow.
_CLOSING = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest|many)?\s*(?:regards|wishes)|best|cheers|all the best|"
    r"thanks(?: a lot| again| so much)?|thank you|many thanks|sincerely|"
    r"yours(?: truly| sincerely)?|"
    r"um abraço|abraços?|atenciosamente|cumprimentos|saudações|obrigad[oa]|"
    r"(?:bien )?cordialement|bien (?:à|a) (?:vous|toi)|salutations(?: distinguées)?|"
    r"merci(?: beaucoup)?|amitiés|bises|"
    r"saludos(?: cordiales)?|un saludo|atentamente|(?:muchas )?gracias|un abrazo|abrazos|"
    r"mit freundlichen grüßen|viele grüße|beste grüße|grüße|met vriendelijke groet(?:en)?|"
    r"groeten|(?:distinti|cordiali) saluti|saluti)\s*[,.!]*\s*$",
    re.IGNORECASE,
)


def postscript(line: str) -> bool:
    """A line that opens a P.S. (or N.B.): the writer's words, which may take back the answer."""
    return _POSTSCRIPT.match(line) is not None


def retracts(text: str) -> bool:
    """The writer takes an answer back in so many words: 'by mistake, please ignore',
    'Correction:', 'Actually, ...' (a reason that only speaks of a mistake does not)."""
    return _RETRACTS.search(text) is not None


def answer_line(text: str, name: str) -> str | None:
    """The one line a short answer is given on ("Done", "2 and 3", "No comments"), apostrophes
    made plain, when nothing but a closing and the writer's `name` follows it; else None."""
    lines = [ln.strip() for ln in text.replace("\u2019", "'").splitlines() if ln.strip()]
    if not lines or not all(signs_off(line, name) for line in lines[1:]):
        return None
    return lines[0]


def signs_off(line: str, name: str) -> bool:
    """A line that only closes or signs a reply: "Thanks,", "Best regards", or the writer's own
    `name` ("Bruno", "Ana Lima", "A. Lima"). The readers of one-line answers ("done", "no
    comments") let such lines follow them; any other word after them is read by a person."""
    line = line.strip()
    if _CLOSING.match(line):
        return True
    own = {w.lower() for w in re.split(r"[\s.,-]+", name) if w}
    words = [w.strip(",-") for w in line.split()]
    return 0 < len(words) <= 4 and all(
        w.rstrip(".").lower() in own or _INITIAL.fullmatch(w) for w in words if w
    )


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _outlook_header_at(lines: list[str], i: int) -> bool:
    """An Outlook-style header: everything after it is the original, never inline answers."""
    line = lines[i]
    if _ORIGINAL.match(line) or _DASHED_WROTE.match(line):
        return True
    if _SEPARATOR.match(line):
        return _field_block_at(lines, i + 1)
    return _field_block_at(lines, i)


def _header_at(lines: list[str], i: int) -> int:
    """Length (in lines) of a quote header starting at line i, or 0."""
    if _outlook_header_at(lines, i):
        return 1
    first = lines[i].strip()
    # A header does not start with a finished sentence, unless it opens as one and breaks after
    # a date's abbreviation ("Max <max@x.de> schrieb am Fr., 28." / "Apr. 2017 um 11:53 Uhr:").
    if not first or (first[-1] in ".!?" and not _OPENS_AS_HEADER.match(first)):
        return 0
    for span in (1, 2, 3):
        part = [s.strip() for s in lines[i : i + span]]
        if i + span > len(lines) or not all(part):
            break
        joined = " ".join(part)
        dated = any(c.isdigit() for c in first)
        if (
            _WROTE.match(joined)
            or _ADDRESS_VERB.match(joined)
            or (dated and (_DATED_ADDRESS.match(joined) or _DATED_VERB.match(joined)))
        ):
            return span
    return 0


def _field_block_at(lines: list[str], j: int) -> bool:
    """Two header fields within three lines ('From: x' then 'Sent: y', a wrapped line between)."""
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j >= len(lines) or not _FIELD.match(lines[j]):
        return False
    return any(_FIELD.match(ln) for ln in lines[j + 1 : j + 3])


def _only_salutation(lines: list[str]) -> bool:
    """Nothing above the quote but 'Hi,' or 'Dear all,': the answers are inline below it."""
    text = [ln.strip() for ln in lines if ln.strip()]
    return not text or (len(text) == 1 and len(text[0]) <= 40 and text[0].endswith(","))


def _cut_at_quote(lines: list[str]) -> list[str]:
    """Top-posted text above the first quote header, or the inline answers under it."""
    for i in range(len(lines)):
        if _is_quoted(lines[i]):
            continue
        span = _header_at(lines, i)
        if not span:
            continue
        above = [ln for ln in lines[:i] if not _is_quoted(ln)]
        below = lines[i + span :]
        first = next((ln for ln in below if ln.strip()), "")
        inline = not _outlook_header_at(lines, i) and _is_quoted(first)
        if _outlook_header_at(lines, i):  # all below is the original: nothing above, no answer
            return above
        if not inline or not _only_salutation(above):
            return above if any(ln.strip() for ln in above) else below
        for j in range(len(below)):  # an unquoted header below the inline answers ends them
            if not _is_quoted(below[j]) and _header_at(below, j):
                below = below[:j]
                break
        return above + [ln for ln in below if not _is_quoted(ln)]
    return [ln for ln in lines if not _is_quoted(ln)]


def _signature_like(line: str) -> bool:
    """A line of a signature block: a name, a title, an organisation, a number or an address
    ("Ana Lima", "Executive Secretary, ICVCM", "+44 20 7946 0000"), not a sentence that goes
    on after the closing ("Pending: the annex")."""
    if _TAKES_BACK.search(line):
        return False
    if re.search(r"@|www\.|https?:", line) or re.fullmatch(
        r"[^\d]{0,12}[+(]?\d[\d\s().-]{6,}", line
    ):
        return True  # an address, a site, or a telephone number ("Tel: +44 20 7946 0000")
    if re.search(r"\d", line):
        return False  # "Annex 2 to follow"
    words = [w for w in re.findall(r"[^\W\d_][\w'’.-]*", line)]
    capital = [w for w in words if w[0].isupper()]
    return len(words) <= 2 or 2 * len(capital) >= len(words)


def _drop_footer(lines: list[str]) -> list[str]:
    """Cut at a '-- ' signature line or a mobile footer, then at a closing formula near the end."""
    for i, line in enumerate(lines):
        if not (_SIG_DASHES.match(line) or _MOBILE.match(line)):
            continue
        # What follows after a blank line is the original a phone quotes unmarked; a line right
        # under the footer that no signature holds is the writer's ("Sent from my iPhone /
        # Except annex 2"), and nothing is cut.
        below = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if below and not (_MOBILE.match(below) or _signature_like(below)):
            break
        lines = lines[:i]
        break
    content = [i for i, ln in enumerate(lines) if ln.strip()]
    for i in content[1:]:  # never the first line: that is the answer
        tail = [ln for ln in lines[i + 1 :] if ln.strip()]
        short_tail = len(tail) <= 4 and all(len(ln.strip()) <= 60 for ln in tail)
        if short_tail and _CLOSING.match(lines[i]) and all(map(_signature_like, tail)):
            return lines[:i]
        dash_name = _DASH_NAME.match(lines[i].strip()) and not _TAKES_BACK.search(lines[i])
        if dash_name and len(content) - content.index(i) <= 6:
            return lines[:i]
    return lines


_PATTERN_FIELDS = ("_header_regex", "_disclaimers_regex", "_signature_regex")


@functools.cache
def library_patterns() -> dict[str, re.Pattern[str]]:
    """mail-parser-reply's three patterns, built once: it builds them for every message (0.05
    of a reply's 0.18 ms on the bench's mix), though they depend on the languages alone.
    Handed over through the fields it caches them in; a version without them builds its own."""
    names = {f.name for f in dataclasses.fields(EmailMessage)}
    if not all(name in names for name in _PATTERN_FIELDS):
        return {}
    built = EmailMessage(text="", languages=list(_LANGUAGES), keep_hyphen_lists=True)
    return dict(
        zip(
            _PATTERN_FIELDS,
            (built.HEADER_REGEX, built.DISCLAIMERS_REGEX, built.SIGNATURE_REGEX),
            strict=True,
        )
    )


@functools.cache
def _library_headers() -> tuple[re.Pattern[str], ...]:
    """mail-parser-reply's quote-header and disclaimer patterns, as it builds them."""
    built = _LibraryMessage(text="", languages=list(_LANGUAGES), keep_hyphen_lists=True)
    return (built.HEADER_REGEX, built.DISCLAIMERS_REGEX)


# What a real disclaimer speaks of; "Warning: the annex is still missing" is the writer's.
_DISCLAIMER_WORDS = re.compile(
    r"\b(?:confidential\w*|intended|recipient|originated|privileged|outside|external|virus\w*|"
    r"destinataire|confidentiel\w*|destinatario|confidencial\w*|destinatário)\b",
    re.IGNORECASE,
)


def _library_header_at_start(cut: str) -> bool:
    """mail-parser-reply's quote-header (or a real disclaimer) pattern matches on the cut's
    first line."""
    first_line = len(cut.split("\n", 1)[0])
    header, disclaimer = _library_headers()
    found = header.search(cut)
    if found is not None and found.start() <= first_line:
        return True
    found = disclaimer.search(cut)
    return found is not None and found.start() <= first_line and bool(_DISCLAIMER_WORDS.search(cut))


def _library_trim(text: str) -> str:
    """mail-parser-reply's signature and disclaimer removal, never allowed to eat the answer."""
    try:
        message = EmailMessage(
            text=text, languages=list(_LANGUAGES), keep_hyphen_lists=True, **library_patterns()
        ).read()
    except Exception:  # a library failure must not lose the member's words
        return text
    if not message.replies:
        return text
    body: str = message.replies[0].body.strip()
    if not body:
        return text
    # What it cut after a closing must look like a signature block: "Thanks, / Ana / Pending:
    # the annex" keeps its last line, which a reader of one-line answers must see.
    cut = text[len(body) :].splitlines() if text.startswith(body) else []
    lines = [ln.strip() for ln in cut if ln.strip()]
    if not lines:
        return body
    # It cuts at any line that starts like a closing ("Thanks, but I object to Annex B"): only
    # a whole closing, a footer or "--" may begin the cut, and a signature block follow it.
    first = lines[0]
    if _library_header_at_start("\n".join(lines)):
        return body  # a quote header (or disclaimer) ours missed: what follows is not theirs
    if not (_CLOSING.match(first) or _MOBILE.match(first) or _SIG_DASHES.match(first)):
        return text
    for k, line in enumerate(lines[1:], 1):
        if _FIELD.match(line) or _library_header_at_start("\n".join(lines[k:])):
            break  # the quoted original begins: the signature block ended above it
        if not _signature_like(line):
            return text
    return body


def extract_reply(text: str) -> str:
    """The new text of a reply, as the member wrote it."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [ln for ln in lines if ln.strip() != _TRACKER]
    lines = _cut_at_quote(lines)
    if any(postscript(ln) for ln in lines):  # nothing is cut: the P.S. may take back
        return "\n".join(lines).strip()  # what the lines above it say
    own = "\n".join(_drop_footer(lines)).strip()
    if not own:
        return ""
    return _library_trim(own)
