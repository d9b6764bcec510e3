"""The Secretariat's console on the command line (issue 11, parts 4 and 5): items, show, members,
ballot open with --dry-run, extend, cancel, remind, --version, and output a person reads.

Acceptance: "`cgbot show ID` lists the members who still owe an answer"."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlmodel import col, select

from bot.app import App
from bot.cli import cli
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store.db import session
from bot.store.models import Item, Outbox
from tests.conftest import BOT, MEMBERS, T0, config_text, make_app, open_ballot

Cgbot = Callable[..., Result]
ANSI = re.compile(r"\x1b\[")
BOX = re.compile("[─│┃━┏┓┗┛╭╮╰╯┌┐└┘├┤┬┴┼]")


@pytest.fixture
def installation(tmp_path: Path) -> tuple[App, Cgbot]:
    """An app in process (to feed replies) and the CLI on the same config and database."""
    app = make_app(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(config_text(1, "u", "p", 1, tmp_path / "cg.db"))
    config.chmod(0o600)

    def cgbot(*args: str, ok: bool = True) -> Result:
        now = app.clock.now().isoformat()
        result = CliRunner().invoke(cli, ["--config", str(config), "--now", now, *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return app, cgbot


def _reply(app: App, member: int, text: str, days: float) -> None:
    app.clock.jump_to(T0 + timedelta(days=days))
    name, email = MEMBERS[member][0], MEMBERS[member][1]
    with session(app.engine) as s:
        rows = s.exec(select(Outbox).order_by(col(Outbox.id)))
        raw = [r.raw for r in rows if email in r.recipients and r.purpose == "ballot"][-1]
    reply = clients.gmail(clients.Original(raw), name, email, BOT, app.clock.now(), text)
    assert app.handle(Fetched("test", reply)) == "processed"


def test_show_lists_the_members_who_still_owe_an_answer(
    installation: tuple[App, Cgbot],
) -> None:
    # Acceptance: who answered what, who still owes an answer, the mails, the next step.
    app, cgbot = installation
    item_id = open_ballot(app, "Adopt the 2027 topic shortlist", "Do you agree?")
    _reply(app, 0, "Agree, a good list.", 1)
    _reply(app, 1, "Agree in principle, but not with para 3.", 1.5)  # unclear: still owes
    out = cgbot("show", str(item_id)).stdout
    owe = next(line for line in out.splitlines() if line.startswith("Still owe an answer"))
    assert owe == (
        "Still owe an answer (3): Bruno Carvalho <bruno@members.example>, "
        "Chloé Martin <chloe@members.example>, Daniel Tupa <daniel@members.example>"
    )
    assert "Answers: 1 counted of 4 members asked" in out
    assert re.search(
        r"Amina Diallo <amina@members.example>\s+AGREE\s+counted\s+2026-12-02 09:00", out
    )
    assert re.search(r"Bruno Carvalho <bruno@members.example>\s+-\s+review", out)
    assert re.search(r"2026-12-01 09:00\s+ballot\s+4 people\s+pending", out)
    assert "Next: reminder 2026-12-08 09:00 (in 5 days); reminder 2026-12-10 09:00" in out
    assert "close 2026-12-11 09:00 (in 8 days)" in out
    assert "deadline  2026-12-11 09:00 (Europe/London), in 8 days" in out

    record = json.loads(cgbot("show", str(item_id), "--json").stdout)
    assert [o["email"] for o in record["owing"]] == [m[1] for m in MEMBERS[1:]]
    for key in ("id", "kind", "state", "deadline", "responses", "determination", "options"):
        assert key in record  # the keys status --json gives an item, all kept
    assert cgbot("show", "99", ok=False).exit_code == 2


def test_items_lists_every_kind_and_filters_by_state(installation: tuple[App, Cgbot]) -> None:
    app, cgbot = installation
    first = open_ballot(app, "First")
    second = open_ballot(app, "Second")
    app.act(second, "cancel", {"reason": "Merged with the first."})
    out = cgbot("items").stdout
    assert "2 items (times in Europe/London)" in out
    assert re.search(rf"{first}\s+ballot\s+open\s+First\s+2026-12-11 09:00\s+4 members", out)
    assert re.search(rf"{second}\s+ballot\s+cancelled\s+Second", out)
    only = json.loads(cgbot("items", "--state", "open", "--json").stdout)
    assert [i["id"] for i in only] == [first]
    assert cgbot("items", "--kind", "meeting").stdout == "no items in that state\n"


def test_members_puts_names_first(installation: tuple[App, Cgbot]) -> None:
    _, cgbot = installation
    lines = cgbot("members").stdout.splitlines()
    assert lines[0] == "4 members and 2 others"
    assert lines[1].split() == [
        "Name",
        "Address",
        "Kind",
        "Role",
        "Time",
        "zone",
        "Language",
        "Mail",
        "Salutation",
    ]
    assert lines[2].startswith("Amina Diallo") and "amina@members.example" in lines[2]
    assert lines[2].endswith("(the language's)")  # no salutation configured: the language's own
    assert any(line.startswith("Grace Okafor") and " chair " in line for line in lines)


def test_ballot_open_shows_each_deadline_in_its_zone_and_dry_run_sends_nothing(
    installation: tuple[App, Cgbot], tmp_path: Path
) -> None:
    app, cgbot = installation
    question = tmp_path / "q.txt"
    question.write_text("Do you agree?")
    args = ("ballot", "open", "--title", "Shortlist", "--question-file", str(question))
    dry = cgbot(*args, "--deadline", "2026-12-11 17:00", "--dry-run").stdout
    assert "Personal ballot mails would be sent: 4 members" in dry
    assert re.search(
        r"Daniel Tupa\s+daniel@members.example\s+en\s+Fri 11 Dec 2026 13:00 "
        r"\(America/La_Paz\)",
        dry,
    )
    assert "Fri 11 Dec 2026 18:00 (Europe/Paris)" in dry
    assert "Subject: [CG-1] Ballot: Shortlist" in dry
    assert "Also would be sent: notice to Executive Secretariat" in dry
    assert dry.rstrip().endswith("Dry run: nothing was opened or sent.")
    with session(app.engine) as s:
        assert s.exec(select(Item)).all() == [] and s.exec(select(Outbox)).all() == []
    real = cgbot(*args, "--deadline", "2026-12-11 17:00").stdout
    assert real.split()[-1] == "1"  # the id is the last word, as tools read it
    assert len(app.item_detail(1)["sent"]) == 5


def test_extend_cancel_and_remind_from_the_cli(installation: tuple[App, Cgbot]) -> None:
    app, cgbot = installation
    item_id = open_ballot(app)
    _reply(app, 0, "Agree", 1)
    said = cgbot("remind", str(item_id)).stdout
    assert said == f"reminded Bruno Carvalho, Chloé Martin and Daniel Tupa (item {item_id})\n"
    said = cgbot("ballot", "extend", str(item_id), "--deadline", "2026-12-18").stdout
    assert said == (
        f"ballot {item_id}: deadline moved from 2026-12-11 09:00 to 2026-12-18 17:00 "
        "(Europe/London); told 4 members\n"
    )
    refused = cgbot("ballot", "extend", str(item_id), "--deadline", "2026-12-15", ok=False)
    assert refused.exit_code == 2
    assert "the new deadline 2026-12-15 17:00 (Europe/London) is not after the current" in (
        refused.stderr
    )
    said = cgbot("ballot", "cancel", str(item_id), "--reason", "Superseded.").stdout
    assert said == f"cancelled ballot {item_id}; told 4 members and Executive Secretariat\n"
    assert "Next: nothing scheduled." in cgbot("show", str(item_id)).stdout  # none will act
    again = cgbot("remind", str(item_id), ok=False)
    assert f"ballot {item_id} is cancelled: it cannot be chased" in again.stderr


def test_a_reply_to_a_cancelled_ballot_is_kept_and_answered_once(
    installation: tuple[App, Cgbot],
) -> None:
    app, _ = installation
    item_id = open_ballot(app)
    app.act(item_id, "cancel", {"reason": "Superseded."})
    _reply(app, 2, "D'accord", 1)
    chloe = next(a for a in app.item_detail(item_id)["answers"] if a["name"] == "Chloé Martin")
    assert chloe["status"] == "late"
    with session(app.engine) as s:
        rows = [r for r in s.exec(select(Outbox)) if r.recipients == [MEMBERS[2][1]]]
    assert [r.purpose for r in rows] == ["ballot", "cancelled", "late"]


def test_human_output_reads_like_a_person_wrote_it_and_pipes_plain(
    installation: tuple[App, Cgbot],
) -> None:
    # What was seen: "2026-12-03T11:00:00.027899+00:00", addresses instead of names,
    # "entr(y/ies)"; and a pipe must get neither colour codes nor a box cut at 80 columns.
    app, cgbot = installation
    item_id = open_ballot(app, "A title long enough to take the table past the eightieth column")
    _reply(app, 1, "Agree in principle, but not with para 3.", 1)
    status = cgbot("status").stdout
    assert "Bruno Carvalho <bruno@members.example>" in status
    assert "review queue: 1 entry;" in status
    for out in (status, cgbot("show", str(item_id)).stdout, cgbot("review").stdout):
        assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", out)  # no microseconds anywhere
        assert "T09:00" not in out and "+00:00" not in out
        assert not ANSI.search(out) and not BOX.search(out)
    items = cgbot("items").stdout
    wide = [line for line in items.splitlines() if len(line) > 80]
    assert len(wide) == 2 and wide[1].endswith("4 members")  # whole, not cut at 80


def test_version_and_the_new_email_commands_are_listed() -> None:
    runner = CliRunner()
    assert re.fullmatch(r"cgbot \S+\n", runner.invoke(cli, ["--version"]).output)
    kinds = runner.invoke(cli, ["kinds"]).output
    for prefix in ("EXTEND", "CANCEL", "REMIND"):
        assert f"Subject: {prefix}: ..." in kinds
    assert "open, consensus, escalated, determined, closed, cancelled" in kinds


def test_the_chairs_determination_is_shown_but_not_counted_as_a_members_answer(
    tmp_path: Path,
) -> None:
    # `show` said "5 counted of 4 members asked" once the Chair had determined: her answer is
    # kept in the list, marked as nobody's answer among the members.
    from tests.unit.test_register import escalated_and_determined

    app, _ = escalated_and_determined(tmp_path)
    detail = app.item_detail(1)
    members = [a for a in detail["answers"] if a["member"]]
    chair = [a for a in detail["answers"] if not a["member"]]
    assert len(members) == 2 and [a["position"] for a in chair] == ["determination"]
