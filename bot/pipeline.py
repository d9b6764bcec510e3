"""The ordered stages every inbound message goes through, declared once, as data.

Each stage is pure: it takes what the earlier stages learned (an Inspection) and the read-only
World, and either adds to the inspection or ends with an Outcome. The shell archives the raw
message before the first stage and applies the outcome after the last, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime

from bot.domain.effects import AddressHealth, Effect, Mail, ToReview
from bot.domain.message import InboundMessage
from bot.domain.refusals import (
    AmbiguousSender,
    ItemGone,
    NotTheirs,
    Refusal,
    Unauthenticated,
    UnknownSender,
    Unmatched,
)
from bot.domain.types import (
    Directory,
    ItemView,
    MeetingSeries,
    PersonKind,
    PersonView,
    ResponseView,
)
from bot.inbound import authres
from bot.inbound.address import normalise
from bot.inbound.bounce import bounced_people
from bot.inbound.calendar import read_reply
from bot.inbound.classify import Automatic, Verdict, classify
from bot.inbound.match import find_token, is_own_message_id, read_token, subject_tag
from bot.inbound.parse import parse_message
from bot.inbound.reply import extract_reply
from bot.inbound.sender_check import AmbiguousSender as FromNotSingle
from bot.inbound.sender_check import DkimDns, single_from, verify_sender
from bot.rules import Rules
from bot.workflows.base import (
    CalendarAnswer,
    CommandError,
    CommandMail,
    Registry,
    Reply,
    Situation,
    carry_out,
)


@dataclass(frozen=True)
class ItemRecord:
    """The one read a reply costs: its item and each person's standing response to it."""

    item: ItemView
    responses: dict[int, ResponseView]
    answered: str = ""  # the purpose of the bot's mail this one answers ("readback", ...)
    unclear_in_a_row: dict[int, int] = field(default_factory=dict)  # per person
    latest: dict[int, ResponseView] = field(default_factory=dict)  # per person, any status


@dataclass(frozen=True)
class World:
    """What the stages may read: plain data from config and the database, read once."""

    secret: str
    tag: str
    zone: str  # the group's time zone, for dates written without one
    group_name: str
    rules: Rules
    now: datetime
    trusted_authserv_ids: frozenset[str]  # whose Authentication-Results headers count
    own_addresses: frozenset[str]
    people: Directory
    registry: Registry
    load_item: Callable[[int, str], ItemRecord | None]  # (item, token id): once, by `load`
    command_policy: str = "unless-verified"  # or "always": see config [security]
    plus_domains: frozenset[str] = frozenset()  # name+tag@ is name@ at these domains
    awaiting_confirmation: frozenset[int] = frozenset()  # senders with a command awaiting OK
    series: tuple[MeetingSeries, ...] = ()  # the group's regular meetings
    sender_address: str = ""
    dkim_dns: DkimDns | None = None  # DKIM keys the shell fetched for this message (name -> key)
    trusted_arc_sealers: frozenset[str] = frozenset()  # whose ARC seals vouch for DMARC

    def person(self, address: str) -> PersonView | None:
        """Who writes from `address`: case, quotes, a trailing dot and +tags set aside."""
        return self.people.by_email(normalise(address, self.plus_domains))

    def situation(self, record: ItemRecord | None = None) -> Situation:
        return Situation(
            rules=self.rules,
            now=self.now,
            group_name=self.group_name,
            tag=self.tag,
            zone=self.zone,
            people=self.people,
            responses=record.responses if record else {},
            unclear_in_a_row=record.unclear_in_a_row if record else {},
            latest=record.latest if record else {},
            series=self.series,
            sender_address=self.sender_address,
            registry=self.registry,
        )


@dataclass(frozen=True)
class Inspection:
    """What is known about the message so far; `explain` prints it."""

    raw: bytes
    message: InboundMessage | None = None
    person: PersonView | None = None
    item_id: int | None = None
    record: ItemRecord | None = None
    matched_by: str = ""
    token_person_id: int | None = None
    token_message_id: str = ""
    held_because: str = ""  # why it must not count though it looks like a person's reply
    arrived_at: datetime | None = None  # when the server received it (else its Date, bounded)
    calendar: CalendarAnswer | None = None  # an iTIP REPLY it carries
    calendar_uid: str = ""
    calendar_attendee: str = ""
    text: str = ""

    @property
    def item(self) -> ItemView | None:
        return self.record.item if self.record else None


@dataclass(frozen=True)
class Handled:
    effects: list[Effect]


@dataclass(frozen=True)
class Ignored:
    reason: str
    detail: str
    effects: list[Effect] = field(default_factory=list)  # e.g. an address marked as failing


@dataclass(frozen=True)
class Quarantined:
    refusal: Refusal


Outcome = Handled | Ignored | Quarantined
StageResult = Inspection | Outcome


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: Callable[[Inspection, World], StageResult]


def _parse(insp: Inspection, world: World) -> StageResult:
    message = parse_message(insp.raw)
    answer = read_reply(insp.raw)
    calendar = CalendarAnswer(answer.partstat, answer.comment, answer.sequence) if answer else None
    return replace(
        insp,
        message=message,
        arrived_at=insp.arrived_at or _sent(message, world),
        calendar=calendar,
        calendar_uid=answer.uid if answer else "",
        calendar_attendee=normalise(answer.attendee, world.plus_domains) if answer else "",
    )


def _sent(message: InboundMessage, world: World) -> datetime:
    """When no server says when the mail arrived: its Date header, never later than now."""
    try:
        written = parsedate_to_datetime(message.header("date"))
    except (TypeError, ValueError, IndexError):
        return world.now
    if written.tzinfo is None:
        return world.now
    return min(written, world.now)


def _own_mail(insp: Inspection, world: World) -> StageResult:
    msg = _msg(insp)
    if normalise(msg.from_addr) in world.own_addresses or is_own_message_id(
        msg.message_id, world.secret
    ):
        return Ignored("own-mail", "a copy of the bot's own mail (loop guard)")
    return insp


def _automatic(insp: Inspection, world: World) -> StageResult:
    msg = _msg(insp)
    verdict: Verdict | None = classify(msg)
    if verdict is None:
        return insp
    if insp.calendar is not None and world.person(msg.from_addr) is not None:
        return insp  # a calendar client's Accept/Decline: an answer, however it is marked
    if verdict.weak and _writes_to_own_token(msg, world):
        # A member's genuine reply through a gateway that marks everything as bulk: never
        # binned silently; it goes on, held for review, and its writer is told why.
        return replace(insp, held_because=f"it looks automatic ({verdict.why})")
    effects: list[Effect] = []
    if verdict.kind == Automatic.BOUNCE:
        effects = _bounce_effects(msg, insp.raw, world)
    return Ignored(str(verdict.kind), verdict.why, effects)


def _writes_to_own_token(msg: InboundMessage, world: World) -> bool:
    """The From address is a person's, and the mail answers a mail the bot sent to them."""
    person = world.person(msg.from_addr)
    token = find_token(msg, world.secret)
    return person is not None and token is not None and token.person_id == person.id


def _bounce_effects(msg: InboundMessage, raw: bytes, world: World) -> list[Effect]:
    """Mark each bounced address as failing; tell the Secretariat the first time only."""
    effects: list[Effect] = []
    secretariat = world.people.secretariat
    failed = bounced_people(msg, raw, world.secret, world.person, world.people.by_id)
    for person_id, detail in failed.items():
        person = world.people.by_id(person_id)
        assert person is not None
        if person.failing:
            continue
        effects.append(AddressHealth(person_id, True, detail))
        ctx = {"person": person, "detail": detail, "subject": msg.subject}
        effects.append(Mail("common/address_failing", secretariat, "notice", ctx, personal=False))
    return effects


def _integrity(insp: Inspection, world: World) -> StageResult:
    """A person's mail whose words cannot be trusted (damaged MIME, no Message-ID) is held."""
    problems = _msg(insp).problems
    if problems:
        raise problems[0]
    return insp


def _authenticity(insp: Inspection, world: World) -> StageResult:
    """A DMARC (or DKIM and SPF) failure reported by a trusted receiving server: held."""
    result = authres.verdict(_msg(insp).auth_results, world.trusted_authserv_ids)
    failure = result.failure() if result else None
    if failure:
        raise Unauthenticated(detail=f"{failure}: {result.results if result else ''}")
    return insp


def _sender(insp: Inspection, world: World) -> StageResult:
    msg = _msg(insp)
    if msg.from_count != 1:
        raise AmbiguousSender(detail=f"{msg.from_count} From headers or addresses")
    person = world.person(msg.from_addr)
    if person is None:
        raise UnknownSender(detail=f"{msg.from_addr} is not in the configuration")
    return replace(insp, person=person)


def _no_keys(name: bytes) -> bytes | None:
    return None


def proven_sender(insp: Inspection, world: World) -> str | None:
    """How DKIM or an aligned DMARC pass proves the From address, or None (fail closed).

    Read strictly: a From that any parser could read another way is refused outright."""
    msg = _msg(insp)
    try:
        address = single_from(insp.raw)
    except FromNotSingle as exc:
        raise AmbiguousSender(detail=str(exc)) from exc
    if address != msg.from_addr:
        raise AmbiguousSender(detail=f"From reads as {address} and as {msg.from_addr}")
    keys = world.dkim_dns or _no_keys  # fetched by the shell beforehand: no DNS from here
    proof = verify_sender(
        insp.raw, address, world.trusted_authserv_ids, keys, world.trusted_arc_sealers
    )
    return proof.how if proof.verified else None


def _command(insp: Inspection, world: World) -> StageResult:
    """A Secretariat mail whose subject is a command (BALLOT: ...) is carried out or refused."""
    msg, person = _msg(insp), insp.person
    assert person is not None
    found = world.registry.command_for(msg.subject)
    if person.kind != PersonKind.SECRETARIAT or found is None:
        return insp
    command, argument = found
    proof = proven_sender(insp, world)
    # What an unproven command causes is paid from its own budget, never the Secretariat's.
    budget = "" if proof is not None else f"unproven:{person.email}"
    mail = CommandMail(argument, extract_reply(msg.text), person, msg)
    sit = world.situation()
    try:
        effects = carry_out(command, mail, sit)
    except CommandError as exc:
        return Handled([refused(msg, person, exc.problems, world.zone, budget)])
    if proof is not None and world.command_policy == "unless-verified":
        return Handled(effects)
    # Not proven (or always asked): nothing happens until the configured address answers OK.
    holder = world.registry.holder
    if holder is None or holder.hold is None or person.id in world.awaiting_confirmation:
        why = f"an unproven command while another from {person.email} awaits its OK"
        return Handled([ToReview("unproven-command", why, None, person.id, notify=True)])
    why = "the sender is not proven by DKIM or DMARC" if proof is None else "always asked"
    return Handled([holder.hold(mail, sit, why)])


def refused(
    msg: InboundMessage, person: PersonView, problems: list[str], zone: str, budget: str = ""
) -> Mail:
    ctx = {"subject": msg.subject, "problems": problems, "zone": zone}
    return Mail("common/command_refused", (person,), "command", ctx, reply_to=msg, cap_key=budget)


def _match(insp: Inspection, world: World) -> StageResult:
    msg = _msg(insp)
    token = find_token(msg, world.secret)
    if token is not None:
        return replace(
            insp,
            item_id=token.item_id,
            matched_by="token",
            token_person_id=token.person_id,
            token_message_id=token.message_id,
        )
    tagged = subject_tag(msg.subject, world.tag)
    if tagged is not None:
        return replace(insp, item_id=tagged, matched_by="subject-tag")
    if insp.calendar_uid:
        token = read_token(f"<{insp.calendar_uid}>", world.secret)
        if token is not None and token.item_id:
            # A calendar client's answer names the event, not the mail: the UID is our token.
            return replace(insp, item_id=token.item_id, matched_by="calendar")
    raise Unmatched(detail="no token of ours in In-Reply-To/References and no subject tag")


def _load(insp: Inspection, world: World) -> StageResult:
    """The one read of the item this message answers: the item and its standing responses."""
    assert insp.item_id is not None
    record = world.load_item(insp.item_id, insp.token_message_id)
    if record is None:
        how = (
            f"its token names item {insp.item_id}"
            if insp.matched_by == "token"
            else f"subject tag [{world.tag}-{insp.item_id}] names no item"
        )
        raise ItemGone(detail=how)
    return replace(insp, record=record)


def _authenticate(insp: Inspection, world: World) -> StageResult:
    person = insp.person
    assert person is not None
    if insp.matched_by == "calendar" and insp.calendar_attendee != person.email:
        attendee = world.person(insp.calendar_attendee)
        if attendee is None or attendee.id != person.id:
            raise NotTheirs(
                detail=f"{person.email} sent a calendar answer for {insp.calendar_attendee}"
            )
    if insp.matched_by == "token" and insp.token_person_id not in (0, person.id):
        raise NotTheirs(
            detail=f"{person.email} answered a mail sent to person #{insp.token_person_id}"
        )
    return insp


def _extract(insp: Inspection, world: World) -> StageResult:
    return replace(insp, text=extract_reply(_msg(insp).text))


def _interpret(insp: Inspection, world: World) -> StageResult:
    record, person = insp.record, insp.person
    assert record is not None and person is not None
    item = record.item
    workflow = world.registry.get(item.kind)
    if workflow is None:
        raise Unmatched(detail=f"no workflow reads replies to {item.kind} items")
    trusted = (
        insp.matched_by == "token" and insp.token_person_id == person.id
    ) or insp.matched_by == "calendar"
    # Only a determination without read-back needs proof; DKIM costs a DNS lookup.
    needs_proof = person.kind == PersonKind.CHAIR and not world.rules.consensus.chair_readback
    proof = proven_sender(insp, world) if needs_proof else None
    reply = Reply(
        item=item,
        person=person,
        message=_msg(insp),
        text=insp.text,
        trusted=trusted,
        matched_by=insp.matched_by,
        verified=proof,
        answered=record.answered,
        calendar=insp.calendar,
        held_because=insp.held_because,
        arrived_at=insp.arrived_at,
    )
    effects = workflow.on_reply(world.situation(record), reply)
    if person.failing:  # they wrote to us, so their address works again
        effects = [AddressHealth(person.id, False), *effects]
    return Handled(effects)


def _msg(insp: Inspection) -> InboundMessage:
    assert insp.message is not None, "the parse stage runs first"
    return insp.message


STAGES: tuple[Stage, ...] = (
    Stage("parse", "read MIME structure and headers; damaged mail is held", _parse),
    Stage("own-mail", "drop copies of the bot's own mail (loop guard)", _own_mail),
    Stage("automatic", "drop auto-replies, bounces and list mail, never answer them", _automatic),
    Stage("integrity", "hold damaged mail: broken MIME, bad charset, no Message-ID", _integrity),
    Stage("authenticity", "hold mail a trusted server says failed DMARC/DKIM/SPF", _authenticity),
    Stage("sender", "find the member, Chair or Secretariat by From address", _sender),
    Stage("command", "carry out or refuse the Secretariat's email commands", _command),
    Stage("match", "find the item by signed Message-ID token, then by subject tag", _match),
    Stage("load", "read that item and its standing responses, once", _load),
    Stage("authenticate", "a token minted for someone else does not count", _authenticate),
    Stage("extract", "take the new text: no quote, signature or mobile footer", _extract),
    Stage("interpret", "hand the reply to its item kind's workflow", _interpret),
)


def quarantine_effects(
    refusal: Refusal,
    raw: bytes,
    item_id: int | None = None,
    person_id: int | None = None,
    tell: PersonView | None = None,
    message: InboundMessage | None = None,
) -> list[Effect]:
    """What holding a message means: a review line that the Secretariat hears of in the next
    hourly notice (the original attached; app/notices.py), and (`tell`) a word to the member or
    Chair whose mail it was, once per item."""
    effects: list[Effect] = [
        ToReview(refusal.code, refusal.detail[:2000], item_id, person_id, notify=True)
    ]
    if tell is not None:
        subject = message.subject if message else _subject(raw)
        told = {"summary": refusal.summary, "subject": subject[:300]}
        effects.append(Mail("common/held", (tell,), "held", told, item_id, reply_to=message))
    return effects


def _subject(raw: bytes) -> str:
    try:
        return str(BytesHeaderParser(policy=compat32).parsebytes(raw).get("subject", ""))
    except Exception:  # headers too broken even to read
        return ""


@dataclass(frozen=True)
class Result:
    inspection: Inspection
    outcome: Outcome
    stages_run: tuple[str, ...] = field(default=())


def inspect(raw: bytes, world: World, arrived_at: datetime | None = None) -> Result:
    """Run the stages in order; the first refusal, ignore or handling ends the run.

    `arrived_at` is when the mail server received it (on the bot's clock); it decides whether a
    reply was in time, whenever the bot gets to read it."""
    insp = Inspection(raw=raw, arrived_at=arrived_at)
    ran: list[str] = []
    for stage in STAGES:
        ran.append(stage.name)
        try:
            result = stage.run(insp, world)
        except Refusal as refusal:
            return Result(insp, Quarantined(refusal), tuple(ran))
        if not isinstance(result, Inspection):
            return Result(insp, result, tuple(ran))
        insp = result
    raise AssertionError("the interpret stage always ends the run")
