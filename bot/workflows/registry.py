"""The item kinds cgbot ships, registered explicitly in one place: one line a kind."""

from __future__ import annotations

from bot.workflows import action, ballot, confirmation, digest, feedback, meeting, poll, report
from bot.workflows.base import Registry

STANDARD = Registry(
    (
        ballot.WORKFLOW,
        confirmation.WORKFLOW,
        meeting.WORKFLOW,
        poll.WORKFLOW,
        action.WORKFLOW,
        feedback.WORKFLOW,
        digest.WORKFLOW,
        report.WORKFLOW,
    )
)
