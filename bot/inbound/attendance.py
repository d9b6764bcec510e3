"""Whether a member's plain reply to a meeting call says they attend or send apologies (ToR 2.2.c).

Read from the first lines of the new text, in the members' languages. Apologies are looked for
first: most are negated attendance ("I won't be able to attend", "je ne pourrai pas assister").
A reply that hedges ("I may have to leave early", "not sure yet") or says neither is left to the
Secretariat's review, never guessed; a calendar client's answer is read elsewhere
(inbound/calendar.py)."""

from __future__ import annotations

import re
from typing import Literal

Attendance = Literal["attending", "apology"]

_LINES = 3  # the answer is at the top; a long reply's later lines are its reasons or agenda

# "cannot / won't be able to / unable to ... attend" with up to two words between (" really",
# " be able to"), in English; the other languages' own negated forms follow.
_NOT_EN = (
    r"(?:can ?not|can't|cant|won't|will not|wouldn't|would not|couldn't|could not|shan't|"
    r"unable to|not able to|not be able to|won't be able to|will not be able to|"
    r"not going to be able to|am not able to|'m not able to|not be in a position to)"
)
_COME_EN = (
    r"(?:make it|make (?:the|this|today's|tomorrow's) (?:meeting|call|session|one)|attend|"
    r"join|be there|be present|come|participate|take part|dial in|connect|be available|"
    r"be with you)"
)
_APOLOGY = re.compile(
    r"|".join(
        (
            rf"\b{_NOT_EN}\s+(?:\w+\s+){{0,2}}?{_COME_EN}\b",
            r"\bapolog(?:y|ies|ise|ize|ising|izing)\b",
            r"\bregrets?\b|\bregretfully\b",
            r"\b(?:will|have to|must|'ll|need to|going to) miss\b",
            r"\b(?:be|am|'m|will be) (?:absent|unavailable|not available|away)\b",
            r"\bsorry,? (?:i|but i) (?:can't|cannot|won't|will not|am unable)\b",
            r"\b(?:absence|ausencia|ausência)\b",  # "je confirme mon absence"
            r"^\W*i (?:can't|cannot|won't)\W+(?:sorry|unfortunately|apolog)",
            # fr
            r"\bje ne (?:pourrai|peux|serai|vais) (?:\w+ ){0,2}?pas\b",
            r"\bne pourrai pas\b|\bne serai pas (?:là|présente?|disponible)\b",
            r"\b(?:serai|suis) (?:absente?|indisponible|empêchée?)\b|\bempêchée?\b",
            r"\bexcuses\b|\bje m'excuse\b|\bm'excuser\b",
            # es
            r"\bno (?:podré|puedo|voy a poder|me será posible|estaré|asistiré|participaré)\b",
            r"\bdisculp\w*|\bexcusas\b|\bme excuso\b|\b(?:estaré|estoy) ausente\b",
            # pt
            r"\bnão (?:poderei|posso|vou poder|conseguirei|consigo|estarei|vou|irei)\b",
            r"\bpeço desculpa\w*|\bdesculp\w*|\b(?:estarei|estou) (?:ausente|indisponível)\b",
        )
    ),
    re.IGNORECASE,
)
_ATTENDING = re.compile(
    r"|".join(
        (
            r"\bi(?:'ll| will| shall| can| am able to)? (?:be there|attend|join|be present|"
            r"participate|make it|dial in)\b",
            r"\b(?:will|shall) (?:attend|be there|join)\b|\battending\b|\bcount me in\b",
            r"\b(?:yes|confirmed|confirming)\b",
            # fr
            r"\bje (?:serai|suis) (?:là|présente?|disponible|de la partie)\b|\bj'y serai\b",
            r"\bje (?:participerai|viendrai|pourrai (?:assister|participer|être là))\b",
            r"\bje confirme\b|\boui\b",
            # es
            r"\b(?:asistiré|participaré|estaré|allí estaré|podré asistir|cuenten conmigo)\b",
            r"\bconfirmo\b|\bsí\b",
            # pt
            r"\b(?:estarei|participarei|vou participar|poderei participar|contem comigo)\b",
            r"\bsim\b",
        )
    ),
    re.IGNORECASE,
)
# Words that leave it open: the Secretariat reads those ("I may be late" is still a yes, "I
# might not make it" is not yet a no).
_HEDGE = re.compile(
    r"\b(?:maybe|perhaps|might|may (?:not|be|have)|possibly|probably|not sure|unsure|"
    r"tentative(?:ly)?|hope to|try to|if i can|depending|not yet|"
    r"peut-être|pas sûre?|probablement|si je peux|j'essaierai|incertaine?|"
    r"quizás?|tal vez|no estoy segur[oa]|probablemente|intentaré|si puedo|"
    r"talvez|não tenho certeza|provavelmente|vou tentar|se puder)\b",
    re.IGNORECASE,
)


def read_attendance(text: str) -> Attendance | None:
    """'attending' or 'apology' from a plain reply's first lines, or None (to review)."""
    head = " ".join(text.strip().splitlines()[:_LINES]).replace("\u2019", "'")
    if _HEDGE.search(head):
        return None
    if _APOLOGY.search(head):
        return "apology"
    if _ATTENDING.search(head):
        return "attending"
    return None
