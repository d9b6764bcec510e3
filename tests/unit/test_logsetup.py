"""The log's levels: what the service's journal (-v) shows, and what only -vv does."""

from __future__ import annotations

import logging

import pytest

from bot.logsetup import configure


@pytest.fixture(autouse=True)
def restore_logging() -> object:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name in ("apscheduler", "mailparser"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_the_schedulers_routine_is_not_in_the_journal_but_its_warnings_are() -> None:
    configure(1)  # the service runs with -v
    scheduler = logging.getLogger("apscheduler.executors.default")
    assert logging.getLogger("cgbot.daemon").isEnabledFor(logging.INFO)
    assert not scheduler.isEnabledFor(logging.INFO)  # "Running job ...", "Added job ..."
    assert scheduler.isEnabledFor(logging.WARNING)  # "Run time of job ... was missed"
    configure(2)
    assert scheduler.isEnabledFor(logging.DEBUG)
