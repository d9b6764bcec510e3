"""Short answers to the bot's own questions: "OK" to a confirmation request, "CONFIRM" to a
read-back; and the replies that are no answer at all (an absence notice without the headers
robots set, a question back). Pure; English, French, Spanish and Portuguese."""

from __future__ import annotations

import re
from enum import StrEnum


class Assent(StrEnum):
    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"


_YES = re.compile(
    r"^(?:ok(?:ay)?|yes|confirm(?:ed)?|i confirm|approved?|go ahead|"
    r"oui|je confirme|confirm[ée]|d'accord|"
    r"s[ií]|confirmo|confirmado|de acuerdo|adelante|"
    r"sim|confirmada|pode seguir)\b[\s.!,:;]*",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^(?:no|non|não|nao|cancel(?:led)?|do not|don't|annule[rz]?|cancelar|cancele|"
    r"ne pas|no lo|não o)\b",
    re.IGNORECASE,
)

_QUESTION_OPENERS = re.compile(
    r"^(?:could|can|would|will|may|might) (?:you|i|we)\b|^please (?:send|share|provide|"
    r"clarify|explain|confirm whether|let me know)|^(?:pourriez|pouvez)[- ]vous|"
    r"^merci de m'envoyer|"
    r"^(?:podr[ií]a|puede|pueden|podr[ií]an)\b|^¿|^(?:poderia|pode|podem|poderiam)\b",
    re.IGNORECASE,
)
_ABSENCE = re.compile(
    r"\b(?:i am|i'm|i will be|i shall be) (?:currently )?(?:travell?ing|away|out of (?:the )?"
    r"office|on (?:annual |sick |parental )?leave|absent|on holiday|on vacation)\b|"
    r"\blimited access to (?:e-?mail|my e-?mail|my inbox)\b|"
    r"\bje suis (?:actuellement )?(?:absente?|en d[ée]placement|en cong[ée])\b|"
    r"\b(?:estoy|estar[ée]) (?:fuera|de viaje|de vacaciones|ausente)\b|"
    r"\b(?:estou|estarei) (?:fora|em viagem|de f[ée]rias|ausente)\b",
    re.IGNORECASE,
)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def read_assent(text: str) -> Assent:
    """YES or NO when the first line starts with a word of assent or refusal, else UNCLEAR."""
    line = _first_line(text)
    if _NO.match(line):
        return Assent.NO
    if _YES.match(line):
        return Assent.YES
    return Assent.UNCLEAR


def not_an_answer(text: str) -> str | None:
    """Why a reply is no answer at all (an absence notice, a question), or None."""
    paragraph = text.strip().split("\n\n", 1)[0].strip()
    if not paragraph:
        return "it has no text of its own"
    if _ABSENCE.search(paragraph):
        return "it reads as an absence notice"
    first_sentence = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0].strip()
    if first_sentence.endswith("?") or _QUESTION_OPENERS.match(first_sentence):
        return "it reads as a question"
    return None
