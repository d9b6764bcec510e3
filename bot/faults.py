"""Named crash points, so tests can kill the process with SIGKILL at an exact step.

Set CGBOT_CRASH_AT to a point's name (and optionally CGBOT_CRASH_SKIP to pass it N times first).
Unset, a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "archived",  # raw message stored, nothing interpreted yet
    "applied",  # effects and outbox rows committed, checkpoint advanced
    "before-send",  # outbox row picked, not yet marked as sending
    "sent",  # the SMTP server accepted the mail, the row is not yet marked sent
)
_passed: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Kill this process at once if CGBOT_CRASH_AT names this point."""
    if os.environ.get("CGBOT_CRASH_AT") != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] > int(os.environ.get("CGBOT_CRASH_SKIP", "0")):
        os.kill(os.getpid(), signal.SIGKILL)
