"""Typed reasons a message is not acted on; each maps to one review-queue line and notice."""

from __future__ import annotations


class Refusal(Exception):
    """The message is kept and shown to the Secretariat, with `code` and a human `detail`."""

    code = "refused"
    summary = "could not be handled"

    def __init__(self, code: str | None = None, detail: str = "") -> None:
        super().__init__(detail or self.summary)
        self.code = code or self.code
        self.detail = detail


class Malformed(Refusal):
    code = "malformed"
    summary = "the message is damaged or incomplete"


class Unauthenticated(Refusal):
    code = "failed-authentication"
    summary = "the receiving server says the sender's domain did not authenticate it"


class UnknownSender(Refusal):
    code = "unknown-sender"
    summary = "the sender is not a member, the Chair or the Secretariat"


class AmbiguousSender(Refusal):
    code = "ambiguous-sender"
    summary = "the message names more than one sender (From headers or addresses)"


class Unverified(Refusal):
    code = "unverified"
    summary = "the message asks for something only a proven sender may do"


class Unmatched(Refusal):
    code = "unmatched"
    summary = "the message does not answer any mail of the bot"


class NotTheirs(Refusal):
    code = "not-theirs"
    summary = "the reply answers a mail that was sent to someone else"


class ItemGone(Refusal):
    code = "item-gone"
    summary = "the item the reply refers to does not exist"


class Crashed(Refusal):
    code = "internal-error"
    summary = "the bot failed while handling the message"
