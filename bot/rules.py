"""The terms of reference as typed data, loaded from rules/*.toml and validated once."""

from __future__ import annotations

import tomllib
from datetime import date, time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import ConfigError, format_validation_error
from bot.resources import data_dir


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Body(_Strict):
    name: str
    source: str = ""


class Seat(_Strict):
    role: str
    label: str
    count: int = Field(ge=1)
    ref: str = ""


class MeetingRule(_Strict):
    ref: str = ""
    label: str
    every: Literal["month", "quarter"]
    with_facilitators: bool = False
    call_notice: timedelta
    agenda_notice: timedelta = timedelta(days=5)  # the final agenda and papers go out then


class Apologies(_Strict):
    ref: str = ""
    notify_secretariat: bool = True
    ask_before: timedelta


class Consensus(_Strict):
    ref: str = ""
    path: list[Literal["meeting", "email", "chair"]]
    email_round: timedelta
    silence_is_consent: bool
    chair_response: timedelta
    chair_reminders: list[timedelta] = []
    # The Chair's reply is read back ("you determined: ...; reply CONFIRM") before it is
    # recorded and circulated. Off: only a reply the bot can verify (DKIM/DMARC) is recorded.
    chair_readback: bool = True


class Feedback(_Strict):
    ref: str = ""
    default_timeframe: timedelta


class Actions(_Strict):
    """Following up agreed actions (ToR 6.2.b): a reminder before, a chase after the due date."""

    ref: str = ""
    remind_before: timedelta = timedelta(days=3)
    chase_every: timedelta = timedelta(days=7)


class Reminders(_Strict):
    before_deadline: list[timedelta]


class Deadlines(_Strict):
    """What a date written alone means, and what the Chair's whole days end at (ToR 4.3).

    A time written with the date is kept as written: only a date alone (or a count of whole
    days) is the end of business, and only such a deadline moves off a weekend."""

    ref: str = ""
    end_of_business: time = time(17, 0)  # in the group's time zone
    weekend: Literal["next-working-day", "keep"] = "keep"
    # Days the Secretariat is closed: "12-25" every year, or "2027-04-02" once. With
    # weekend = "next-working-day" a whole-day deadline moves off them as off a weekend.
    holidays: list[str] = []

    @field_validator("holidays")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        for day in value:
            try:
                date.fromisoformat(day if len(day) == 10 else f"2000-{day}")
            except ValueError as exc:
                raise ValueError(f"holidays: {day!r} is not MM-DD or YYYY-MM-DD") from exc
        return value

    def closed(self, day: date) -> bool:
        """Not a working day: a weekend or a holiday, when the rules move deadlines off them."""
        if self.weekend != "next-working-day":
            return False
        return day.weekday() >= 5 or f"{day:%m-%d}" in self.holidays or str(day) in self.holidays


class Position(_Strict):
    label: str  # the word a mail in English asks for ("AGREE")
    labels: dict[str, str] = {}  # the same in other languages ("D'ACCORD"); English otherwise
    kind: Literal["support", "objection", "neutral"]
    asks_reason: bool = False
    words: dict[str, list[str]]

    @field_validator("words")
    @classmethod
    def _lower(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {lang: [w.strip().lower() for w in ws if w.strip()] for lang, ws in value.items()}


class Language(_Strict):
    negators: list[str] = []
    hedges: list[str] = []
    weak: list[str] = []
    greetings: list[str] = []
    # Phrases beside an answer that say nothing of it, whose "no" negates nothing: "Agree, no
    # further comments", "D'accord, rien à ajouter".
    asides: list[str] = []
    # Agreeing with someone else's view, not counted: "I agree with [my colleague] Ana", "I
    # agree with the concerns raised by ...". Words that join the answer to a view, words that
    # may stand before a name (the abbreviated titles among them also listed in `titles`), and
    # words of concern.
    joins: list[str] = []
    before_names: list[str] = []
    titles: list[str] = []
    concerns: list[str] = []


class Rules(_Strict):
    """Everything the bot knows about how the group works."""

    body: Body
    composition: list[Seat]
    meetings: dict[str, MeetingRule]
    apologies: Apologies
    consensus: Consensus
    feedback: Feedback
    actions: Actions = Actions()
    reminders: Reminders
    deadlines: Deadlines = Deadlines()
    positions: dict[str, Position]
    languages: dict[str, Language] = {}

    def seat(self, role: str) -> Seat | None:
        return next((s for s in self.composition if s.role == role), None)


def shipped_rules() -> tuple[str, ...]:
    """The names of the rules files that come with cgbot, the choices for a bare name."""
    return tuple(sorted(p.stem for p in data_dir("rules").glob("*.toml")))


def resolve_rules_path(name_or_path: str, base: Path | None = None) -> Path:
    """A bare name finds a shipped rules file; anything with a slash or suffix is a path.

    An unknown name is refused with the choices: the path it would have meant lies inside the
    installed package, which tells the reader nothing."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or "/" in name_or_path:
        return candidate if candidate.is_absolute() or base is None else base / candidate
    shipped = shipped_rules()
    if name_or_path not in shipped:
        raise ConfigError(
            f"{name_or_path!r} is not a shipped rules name (choices: {', '.join(shipped)}; "
            "or the path of your own .toml)"
        )
    return data_dir("rules") / f"{name_or_path}.toml"


def load_rules(path: Path) -> Rules:
    """Read and validate a rules file; errors name the file and the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: rules file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return Rules.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from exc


def composition_warnings(rules: Rules, roles: list[str]) -> list[str]:
    """Compare configured members' roles with the composition (ToR 3.1)."""
    warnings: list[str] = []
    for seat in rules.composition:
        have = roles.count(seat.role)
        if have < seat.count:
            warnings.append(
                f"composition ({seat.ref or 'rules'}): {seat.count} {seat.label} seat(s), "
                f"{have} configured (role {seat.role!r})"
            )
        elif have > seat.count:
            warnings.append(
                f"composition ({seat.ref or 'rules'}): {have} members with role {seat.role!r}, "
                f"the rules provide {seat.count}"
            )
    return warnings
