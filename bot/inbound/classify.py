"""Is this mail written by a machine? Auto-replies, bounces and list mail are never answered."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.message import InboundMessage


class Automatic(StrEnum):
    BOUNCE = "bounce"
    AUTO_REPLY = "auto-reply"
    LIST = "list"
    AUTO_GENERATED = "auto-generated"


@dataclass(frozen=True)
class Verdict:
    kind: Automatic
    why: str
    weak: bool = False  # a sign that gateways also add to people's mail (Precedence, List-Id)


# Auto-replies and bounces put their marker at the start of the subject; a person's reply keeps
# "Re: <our subject>", which may itself contain words like "leave" or "absent".
_OOO_SUBJECT = re.compile(
    r"^\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?reply|autoreply|"
    r"auto(?:matic)? response|away from (?:the|my) office|i am (?:out|away)|on (?:annual )?leave\b|"
    r"abwesenheit|automatische antwort|absence du bureau|réponse automatique|absent du bureau|"
    r"respuesta automática|fuera de la oficina|resposta automática|fora do escritório|ausência|"
    r"risposta automatica|fuori sede|afwezig|automatisch antwoord|autosvar|frånvaro|"
    r"automatyczna odpowied)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:fwd?:\s*)?(?:undeliver(?:ed|able)|delivery (?:status|failure|has failed|notification)|"
    r"returned mail|mail delivery (?:failed|system|status)|failure notice|non[- ]?delivery|"
    r"(?:mail|message) (?:could not be|not) delivered|permanent delivery failure|failure delivery|"
    r"delayed mail|mail failed|mail system error|warning: could not send|"
    r"(?:mail )?delivery warning|"
    r"postfix smtp server: errors|loop alert|complaint about message|unzustellbar|non remis|"
    r"no entregado|não entregue|"
    r"メッセージを配信できません|配信不能|未送達|退信)",
    re.IGNORECASE,
)
# Phrases that mark a bounce wherever they stand in the subject (a person would not write them).
_BOUNCE_ANYWHERE = re.compile(r"\(delivery failed\)|: non remis\b", re.IGNORECASE)
_GENERATED_SUBJECT = re.compile(r"^\s*\[auto[- ]?generated\]", re.IGNORECASE)
_DAEMON = re.compile(r"^(?:mailer-daemon|mail-daemon|post_?master|mailer)[@+\-]", re.IGNORECASE)
# Robots' own addresses: no-reply senders and mailing-list machinery (Mailman, fml, ...).
_NO_REPLY = re.compile(
    r"^(?:no-?reply|do-?not-?reply|bounces?|notifications?)[@+\-._]|"
    r"^[^@]+-(?:admin|owner|bounces|request)@",
    re.IGNORECASE,
)
_REPORT_PARTS = {
    "message/delivery-status": Automatic.BOUNCE,
    "message/global-delivery-status": Automatic.BOUNCE,
    "message/feedback-report": Automatic.AUTO_GENERATED,
}


def _header_verdict(msg: InboundMessage) -> Verdict | None:
    auto = msg.header("auto-submitted").strip().lower()
    if auto and not auto.startswith("no"):
        kind = Automatic.AUTO_REPLY if auto.startswith("auto-replied") else Automatic.AUTO_GENERATED
        return Verdict(kind, f"Auto-Submitted: {auto}")
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-auto-response"):
        if msg.header(name):
            return Verdict(Automatic.AUTO_REPLY, f"{name} header")
    suppress = msg.header("x-auto-response-suppress").lower()
    if suppress and ("all" in suppress or "oof" in suppress) and _OOO_SUBJECT.search(msg.subject):
        return Verdict(Automatic.AUTO_REPLY, f"X-Auto-Response-Suppress: {suppress}")
    precedence = msg.header("precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return Verdict(Automatic.AUTO_GENERATED, f"Precedence: {precedence}", weak=True)
    if msg.header("list-id") or msg.header("list-unsubscribe"):
        return Verdict(Automatic.LIST, "mailing-list headers", weak=True)
    return None


def classify(msg: InboundMessage) -> Verdict | None:
    """A verdict when a machine wrote the mail, None when a person did.

    Structure first (delivery status and feedback reports), then the sender (MAILER-DAEMON),
    then the headers robots set (RFC 3834 and its cousins), then the subjects robots write."""
    for part in msg.part_types:
        if part in _REPORT_PARTS:
            return Verdict(_REPORT_PARTS[part], f"{part} part (RFC 3464/5965 report)")
    if msg.content_type == "multipart/report":
        return Verdict(Automatic.BOUNCE, "multipart/report (RFC 6522)")
    if _DAEMON.match(msg.from_addr):
        return Verdict(Automatic.BOUNCE, f"sent by {msg.from_addr}")
    verdict = _header_verdict(msg)
    if verdict:
        return verdict
    if _BOUNCE_SUBJECT.search(msg.subject) or _BOUNCE_ANYWHERE.search(msg.subject):
        return Verdict(Automatic.BOUNCE, f"bounce subject: {msg.subject!r}")
    if _GENERATED_SUBJECT.search(msg.subject):
        return Verdict(Automatic.AUTO_GENERATED, f"subject: {msg.subject!r}")
    if _OOO_SUBJECT.search(msg.subject):
        return Verdict(Automatic.AUTO_REPLY, f"out-of-office subject: {msg.subject!r}")
    if _NO_REPLY.match(msg.from_addr):
        return Verdict(Automatic.AUTO_GENERATED, f"sent from a no-reply address {msg.from_addr}")
    return None
