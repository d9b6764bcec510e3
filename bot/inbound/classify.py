"""Is this mail written by a machine? Auto-replies, bounces and list mail are never answered."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.inbound.parse import InboundMessage


class Automatic(StrEnum):
    BOUNCE = "bounce"
    AUTO_REPLY = "auto-reply"
    LIST = "list"
    AUTO_GENERATED = "auto-generated"


@dataclass(frozen=True)
class Verdict:
    kind: Automatic
    why: str


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
    r"^\s*(?:undeliver(?:ed|able)|delivery (?:status notification|failure|has failed)|"
    r"returned mail|mail delivery (?:failed|system)|failure notice|non[- ]?delivery|"
    r"delivery notification|message could not be delivered|unzustellbar|non remis|no entregado|"
    r"não entregue|message not delivered|mail system error|warning: could not send)",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|bounces?|no-?reply)[@+\-]", re.I)


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
        return Verdict(Automatic.AUTO_GENERATED, f"Precedence: {precedence}")
    if msg.header("list-id") or msg.header("list-unsubscribe"):
        return Verdict(Automatic.LIST, "mailing-list headers")
    return None


def classify(msg: InboundMessage) -> Verdict | None:
    """A verdict when the mail is automatic, None when a person wrote it."""
    if msg.content_type == "multipart/report" or "report-type=delivery-status" in msg.header(
        "content-type"
    ).lower().replace(" ", ""):
        return Verdict(Automatic.BOUNCE, "delivery status notification (RFC 3464)")
    if _DAEMON.match(msg.from_addr) and _BOUNCE_SUBJECT.search(msg.subject):
        return Verdict(Automatic.BOUNCE, f"bounce from {msg.from_addr}")
    verdict = _header_verdict(msg)
    if verdict:
        return verdict
    if _BOUNCE_SUBJECT.search(msg.subject) and (
        _DAEMON.match(msg.from_addr) or msg.header("return-path").strip() in ("<>", "")
    ):
        return Verdict(Automatic.BOUNCE, f"bounce subject: {msg.subject!r}")
    if _OOO_SUBJECT.search(msg.subject):
        return Verdict(Automatic.AUTO_REPLY, f"out-of-office subject: {msg.subject!r}")
    return None
