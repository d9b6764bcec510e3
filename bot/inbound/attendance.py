"""Whether a member's plain reply to a meeting call says they attend or send apologies (ToR 2.2.c).

A wrong reading is worse than none: an apology is recorded and told to the Secretariat, an
attendance counted. So a reply is read only when its first lines say one thing in words made
for it (an apology names what the member cannot do: attend, join, be there), and anything that
hedges, asks, or says both (a late reply's apology and a yes, "in person, no; online, yes") is
left to the Secretariat's review. A calendar client's answer is read elsewhere
(inbound/calendar.py)."""

from __future__ import annotations

import re
from typing import Literal

from bot.inbound.reply import postscript, retracts, signs_off

Attendance = Literal["attending", "apology"]

_LINES = 3  # the answer is at the top; a long reply's later lines are its reasons or agenda

# "cannot / won't be able to / unable to (really) attend" in English.
_NOT_EN = (
    r"(?:can ?not|can't|won't|will not|wouldn't|would not|couldn't|could not|shan't|"
    r"unable to|not able to|not be able to|won't be able to|will not be able to|"
    r"not going to be able to|not be in a position to)"
)
_COME_EN = (
    r"(?:make it|make (?:the|this|today's|tomorrow's) (?:meeting|call|session)|attend|join|"
    r"be there|be present|come|participate|take part|be with you)"
)
# What may follow the verb of an apology: nothing, or the meeting itself. "I cannot attend the
# dinner", "... on 5 May but could on 6 May" are about something else, or only in part.
_ENDS = (
    r"(?=\s*(?:$|[.,;!]|(?:(?:the|this|today's|tomorrow's|our) (?:meeting|call|session)|"
    r"this time|this one|this month|this week|today|tomorrow|on (?:mon|tues|wednes|thurs|fri|"
    r"satur|sun)day|that day|this day|ce jour(?:-là)?|ese día|nesse dia|naquele dia|"
    r"cette fois|cette réunion|esta vez|esta reunión|desta vez|esta reunião|"
    r"à la réunion|a la reunión|na reunião|à reunião)\s*(?:$|[.,;!])))"
)
_NEGATED_EN = rf"\b{_NOT_EN}\s+(?:really\s+|possibly\s+|unfortunately\s+)?{_COME_EN}\b"
_NOT_ATTENDING_EN = r"(?:\bnot|n't)\s+(?:be\s+)?(?:attending|joining|coming|participating)\b"
# The other languages' negated attendance ("je ne pourrai pas assister", "no podré asistir").
_NEGATED_FR = (
    r"\bje ne (?:pourrai|peux|vais) pas (?:pouvoir )?(?:y |me )?(?:assister|participer|venir|"
    r"être (?:là|présente?|des vôtres|parmi vous))\b"
    r"|\bje ne serai pas (?:là|présente?|disponible)\b"
    r"|\bje n'assisterai pas\b|\bje ne participerai pas\b|\bje ne viendrai pas\b"
)
_NEGATED_ES = (
    r"\bno (?:podré|puedo|voy a poder|me será posible) (?:\w+ )?(?:asistir|participar|"
    r"acompañar\w*|estar presente|estar allí|estar(?=\W*$))"
    r"|\bno (?:asistiré|participaré|estaré(?: disponible| presente| allí)?)\b"
)
_NEGATED_PT = (
    r"\bnão (?:poderei|posso|vou poder|conseguirei|consigo) (?:\w+ )?(?:participar|comparecer|"
    r"assistir|estar presente|estar lá|estar(?=\W*$))"
    r"|\bnão (?:participarei|comparecerei|estarei)\b|\bnão vou (?:participar|comparecer)\b"
)
# Any negated attendance, whatever follows: enough to leave a reply that also says yes to review.
_NEGATED = re.compile(
    "|".join((_NEGATED_EN, _NOT_ATTENDING_EN, _NEGATED_FR, _NEGATED_ES, _NEGATED_PT)),
    re.IGNORECASE,
)
_APOLOGY = re.compile(
    r"|".join(
        (
            _NEGATED_EN + _ENDS,
            _NOT_ATTENDING_EN + _ENDS,
            r"\b(?:send|sends|please accept) (?:my|our) (?:apologies|regrets)" + _ENDS,
            r"^\W*(?:my )?(?:apologies|regrets)\W*$",
            r"\b(?:will|have to|must|'ll|need to|going to) miss (?:the|this|today's|tomorrow's|"
            r"our|next week's) (?:meeting|call|session)" + _ENDS,
            r"\b(?:will be|am|'m) (?:absent|unavailable|not available)" + _ENDS,
            r"^\W*i (?:can't|cannot|won't)\W+(?:sorry|unfortunately|apologies)\W*$",
            r"\b(?:my|mon|mi|minha) (?:absence|ausencia|ausência)" + _ENDS,
            # fr, es, pt: their negated forms name the meeting's verb; then their own words
            f"(?:{_NEGATED_FR}){_ENDS}",
            r"\bje serai (?:malheureusement )?(?:absente?|indisponible|empêchée?)" + _ENDS,
            r"\bje suis (?:malheureusement )?(?:empêchée?|indisponible)" + _ENDS,
            r"^\W*(?:mes |toutes mes )?excuses\W*$",
            f"(?:{_NEGATED_ES}){_ENDS}",
            r"\b(?:estaré|estoy) ausente" + _ENDS + r"|^\W*(?:mis )?disculpas\W*$",
            f"(?:{_NEGATED_PT}){_ENDS}",
            r"\b(?:estarei|estou) (?:ausente|indisponível)"
            + _ENDS
            + r"|^\W*(?:as minhas )?desculpas\W*$",
        )
    ),
    re.IGNORECASE,
)
_ATTENDING = re.compile(
    r"(?:"
    + r"|".join(
        (
            r"\bi(?:'ll| will| shall| can| am able to)? (?:be there|attend|join(?: you)?|"
            r"be present|participate|make it)\b|\bi(?:'m| am| will be) attending\b",
            r"^\W*(?:yes,?\s+)?(?:will attend|will be there|attending)\b",
            r"^\W*(?:yes|confirmed|count me in|see you there)\W*$",
            r"\bi confirm my (?:attendance|participation|presence)\b",
            # fr
            r"\bje (?:serai|suis) (?:là|présente?|des vôtres|de la partie)\b|\bj'y serai\b",
            r"\bje (?:participerai|viendrai|pourrai (?:assister|participer|être là))\b",
            r"\bj'assisterai\b|\bje confirme ma (?:présence|participation)\b|^\W*oui\W*$",
            r"\bprésente? (?:à la réunion|en ligne)\b",
            # es
            r"\b(?:asistiré|participaré|allí estaré|estaré presente|podré asistir|"
            r"cuenten conmigo)\b|\bconfirmo mi (?:asistencia|participación)\b|^\W*sí\W*$",
            r"\bpresente en la reunión\b",
            # pt
            r"\b(?:estarei presente|estarei lá|participarei|vou participar|poderei participar|"
            r"contem comigo)\b|\bconfirmo a (?:minha )?(?:presença|participação)\b|^\W*sim\W*$",
            r"\bpresente na reunião\b",
        )
    )
    # ... and the answer ends there: "I'm attending a conference that week" is no yes.
    + r")(?=\s*(?:$|[.,;!]|this one|(?:the|this|today's|tomorrow's|our) (?:meeting|call|session)\s*"
    r"(?:$|[.,;!])|remotely|online|virtually|à la réunion|en ligne|a la reunión|en línea|"
    r"na reunião|remotamente|virtualmente))",
    re.IGNORECASE,
)
# Words that leave it open: the Secretariat reads those ("I may be late" may still be a yes,
# "I might not make it" is not yet a no, "Can I join remotely?" is a question).
_HEDGE = re.compile(
    r"\?|\b(?:maybe|perhaps|might|may (?:not|be|have)|possibly|probably|not sure|unsure|"
    r"tentative(?:ly)?|hope to|try to|if|unless|depending|depends|not yet|don't think|"
    r"do not think|unlikely|doubt|only|partly|first|second|half|except|instead|behalf|"
    r"alternate|deputy|colleague|either|delegate|in person|late|early|but not|not the|"
    r"provided|assuming|subject to|pending|tbc|think|guess|suppose|likely|part|drop off|"
    r"expect|a priori|possiv\w*|should be able|fingers crossed|all being well|barring|albeit|"
    r"step out|briefly|"
    r"so i can|so that i can|could you|"
    r"another|other|next time|last|wish|would like|until|before|physically|after all|morning|"
    r"afternoon|from|"
    r"(?:not|n't|never)\s+(?:\w+\s+){0,3}?miss|"
    r"can you|would you|please (?:send|confirm|share|resend) (?:the|a|me|us)|in case|"
    r"replace|hour|minutes|stay|leave|"
    r"peut-être|pas sûre?|probablement|si|sauf|j'essaierai|incertaine?|seulement|remplacer|"
    r"en personne|en retard|mais pas|première|partie|moitié|heure|ensuite|rester|partir|"
    r"autre|prochaine fois|dernière fois|j'aimerais|avant|jusqu'\w*|physiquement|à distance|"
    r"ne serai pas absente?|dernière|dernier|matin|après-midi|à confirmer|sous réserve|crois|"
    r"en principe|normalement|"
    r"au cas où|"
    r"quizás?|tal vez|no sé|no estoy segur[oa]|probablemente|intentaré|solo|sólo|salvo|"
    r"en persona|tarde|pero no|primera|primer|parte|mitad|hora|después|luego|quedarme|"
    r"en caso|reemplaz\w*|otra|otro|la próxima|próxima vez|última vez|me gustaría|antes|"
    r"no (?:estaré|estoy) ausente|última|último|pasada|pasado|por confirmar|a confirmar|"
    r"pendiente|en principio|posiblemente|supongo|pienso|creo|"
    r"talvez|não sei|não tenho certeza|provavelmente|vou tentar|se|só|apenas|pessoalmente|"
    r"atrasad[oa]|mas não|primeira|metade|depois|ficar|caso|substitu\w*|outra|outro|"
    r"gostaria|não (?:estarei|estou) ausente|última|último|passada|passado|manhã|tarde|"
    r"em princípio|penso|acredito|acho)\b",
    re.IGNORECASE,
)


# A later line that corrects the answer: the writer retracting it (`reply.retracts`), or,
# looser here, any word of a mistake ("Sorry - wrong meeting", "I misread the date").
_MISTAKE = re.compile(
    r"\b(?:wrong|misread|mistake|erreur|trompée?|error|equivoqu\w*|erro|engan\w*)\b",
    re.IGNORECASE,
)


def _corrects(text: str) -> bool:
    return retracts(text) or _MISTAKE.search(text) is not None


# A yes never stands beside a negation or a doubt: "Tampoco podré asistir", "Je ne serai
# malheureusement pas présente", "I hope I can attend", "I can't promise I'll be there".
_NOT_A_PLAIN_YES = re.compile(
    r"n't\b|n'|\b(?:not|no|never|ne|pas|non|não|tampoco|tampouco|nunca|whether|hope\w*|"
    r"espère|espero|believe|promise|sure|certain|cancel\w*|came up|creo|pense|acho|"
    r"confirm(?! my\b)|absent\w*|ausente|indispon\w*|unavailable|empêch\w*|"
    r"but|mais|pero|mas|represent\w*|représent\w*)\b",
    re.IGNORECASE,
)


def _joined(lines: list[str]) -> str:
    """The lines as one: a client's wrap (the next line goes on in lower case) joins with a
    space, a new line that starts a sentence ends the one before ("I'll be there / Get Outlook
    for Android / ... I can't attend")."""
    out = ""
    for line in lines:
        wrap = line[:1].islower()
        out += (" " if wrap else ". ") + line if out else line
    return out


def read_attendance(text: str, name: str = "") -> Attendance | None:
    """'attending' or 'apology' from a plain reply's first lines, or None (to review)."""
    lines = [line.strip() for line in text.replace("\u2019", "'").splitlines() if line.strip()]
    if any(postscript(line) for line in lines):  # "P.S. I cannot come after all"
        return None
    lines = [line for line in lines if not signs_off(line, name)]  # "Kind regards, / Ana"
    head = _joined(lines[:_LINES])
    later = _joined(lines[_LINES:])
    if later and (_corrects(later) or _NEGATED.search(later) or _APOLOGY.search(later)
                  or _ATTENDING.search(later)):  # fmt: skip
        return None  # "Correction: I can't make it after all" further down
    # A yes is kept back by anything further down ("Unfortunately only remotely and only for the
    # first hour"); an apology's reasons may go on ("I'm travelling that week").
    yes_kept_back = later and (_HEDGE.search(later) or _NOT_A_PLAIN_YES.search(later))
    if not head or _HEDGE.search(head):
        return None
    # A negation's own words ("not attending") are no attendance; a yes elsewhere is, and a
    # reply with both ("Apologies for the late reply, I'll attend"; "I can't attend the 5 May
    # meeting; I will attend the 12 May one") is read by the Secretariat.
    attending = _ATTENDING.search(_NEGATED.sub(" ", _APOLOGY.sub(" ", head))) is not None
    if attending:
        doubt = (
            _APOLOGY.search(head)
            or _NEGATED.search(head)
            or _NOT_A_PLAIN_YES.search(head)
            or _corrects(head)
        )
        return None if doubt or yes_kept_back else "attending"
    return "apology" if _APOLOGY.search(head) else None
