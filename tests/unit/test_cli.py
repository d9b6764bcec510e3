"""The command line without servers: explain, check-config and its errors, status, demo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, config_text


def cgbot(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(config_text(1, "u", "p", 1, tmp_path / "cg.db", secret="explain-test-secret"))
    path.chmod(0o600)
    return path


def test_explain_prints_member_item_kind_position_and_text(config: Path, tmp_path: Path) -> None:
    # Acceptance: explain on a fixture names the member, the item, its kind and the new text;
    # it reads an Outlook reply in French, with a display name and address case that differ.
    question = tmp_path / "q.txt"
    question.write_text("Do you agree?")
    opened = cgbot(
        "--config",
        str(config),
        "--now",
        "2026-12-01T09:00:00Z",
        "ballot",
        "open",
        "--title",
        "Adopt the 2027 shortlist",
        "--question-file",
        str(question),
        "--deadline",
        "2026-12-11T17:00:00Z",
    )
    assert opened.returncode == 0, opened.stderr
    fixture = FIXTURES / "replies" / "outlook_fr_objection.eml"
    out = cgbot("--config", str(config), "explain", str(fixture))
    assert out.returncode == 0, out.stderr
    assert "Amina Diallo <amina@members.example> (member)" in out.stdout
    assert "#1 Adopt the 2027 shortlist [open]" in out.stdout
    assert "kind:      ballot  (matched by token)" in out.stdout
    assert "position:  object" in out.stdout
    assert "le point 2 recoupe le programme existant" in out.stdout
    assert "Cordialement" not in out.stdout and "HOW TO ANSWER" not in out.stdout

    record = json.loads(cgbot("--config", str(config), "explain", "--json", str(fixture)).stdout)
    assert record["member"]["email"] == "amina@members.example"
    assert (record["item"]["id"], record["kind"], record["position"]) == (1, "ballot", "object")
    assert record["extracted_text"].startswith("Je ne suis pas d'accord")

    status = json.loads(cgbot("--config", str(config), "status", "--json").stdout)
    assert status["inbound"] == {} and status["items"][0]["responses"] == {}  # no side effects


BAD_CONFIGS = [
    # (what to change, the key the error must name)
    (lambda t: t.replace("[smtp]\n", '[smtp]\ncolour = "blue"\n'), "smtp.colour: unknown key"),
    (
        lambda t: t.replace('email = "bruno@members.example"\n', ""),
        "members[1] (Bruno Carvalho).email",
    ),
    (lambda t: t.replace("port = 1\n", 'port = "imap"\n', 1), "mailbox.port"),
    (
        lambda t: t.replace('timezone = "Europe/Paris"', 'timezone = "Mars/Olympus"'),
        "members[2] (Chloé Martin <chloe@members.example>).timezone",
    ),
    (lambda t: t.replace('rules = "ciwp-coordination-group"', 'rules = "nope.toml"'), "nope.toml"),
]


@pytest.mark.parametrize(("change", "key"), BAD_CONFIGS)
def test_bad_config_exits_non_zero_naming_the_key(tmp_path: Path, change, key: str) -> None:  # type: ignore[no-untyped-def]
    # Acceptance: a bad config exits non-zero with a message that names the key, before any
    # connection is tried (the mailbox port here is closed: a connection error would show).
    path = tmp_path / "config.toml"
    path.write_text(change(config_text(1, "u", "p", 1, tmp_path / "cg.db")))
    for command in (["check-config"], ["run", "--once"]):
        out = cgbot("--config", str(path), *command)
        assert out.returncode != 0
        assert key in out.stderr, out.stderr
        assert "cannot connect" not in out.stderr


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    # config.example.toml is the documentation of every key: it must stay valid.
    example = Path(__file__).parents[2] / "config.example.toml"
    env = {"CGBOT_IMAP_PASSWORD": "x", "CGBOT_SMTP_PASSWORD": "y"}
    out = cgbot("--config", str(example), "check-config", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert "OK" in out.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`cgbot demo` run once for the tests that read what it printed and left."""
    folder = tmp_path_factory.mktemp("demo")
    out = cgbot("demo", "--out", str(folder / "demo"), cwd=folder)  # the installed package
    assert out.returncode == 0, out.stderr
    return folder / "demo", out.stdout


def test_demo_prints_its_timeline_and_leaves_the_mail(demo: tuple[Path, str]) -> None:
    # The README's first command ends in `cgbot demo`: it must run on a machine with no server.
    folder, stdout = demo
    for line in (
        "opened ballot #1",
        "recorded: Amina Diallo AGREE",
        "escalation to the Board Chair",
        "state DETERMINED",
    ):
        assert line in stdout, line
    sent = sorted((folder / "sent").glob("*.eml"))
    received = sorted((folder / "received").glob("*.eml"))
    # Nine received since issue 8 (the Chair's CONFIRM to the read-back), thirteen since
    # issue 9 (an apology, a declined invitation, an agenda item, the Secretariat's paper),
    # eighteen since issue 10 (two commands, two answers to the feedback round, one "done").
    assert len(sent) >= 20 and len(received) == 18
    assert "the final agenda goes out, with the paper" in stdout
    # The command the demo suggests at its end works on what it left (a private config).
    after = cgbot("--config", str(folder / "config.toml"), "status", cwd=folder)
    assert after.returncode == 0, after.stderr


# "Wed 09 Dec 09:01  what happens" is a narrated step; "Wed 09 Dec 09:01    -> ..." is under it.
_LINE = re.compile(r"^\w{3} (\d\d \w{3} \d\d:\d\d)  ( *)(\S.*)$")


def _steps(stdout: str) -> list[tuple[str, str, list[str]]]:
    """The demo's timeline: each narrated step, its time, and the lines printed under it."""
    steps: list[tuple[str, str, list[str]]] = []
    for line in stdout.splitlines():
        found = _LINE.match(line)
        if found and not found.group(2):
            steps.append((found.group(1), found.group(3), []))
        elif found and steps:
            steps[-1][2].append(found.group(3))
    return steps


def test_the_demo_timeline_runs_forward_and_each_step_shows_what_it_did(
    demo: tuple[Path, str],
) -> None:
    # The reminders' step was narrated after two later steps (the clock moved back to it), the
    # reminder it announced having gone out under the feedback round's step, whose compilation
    # came only at the next step after the round's deadline.
    from datetime import datetime

    _, stdout = demo
    steps = _steps(stdout)
    times = [datetime.strptime(f"2026 {when}", "%Y %d %b %H:%M") for when, _, _ in steps]
    assert len(steps) > 20 and times == sorted(times), [when for when, _, _ in steps]
    assert [what for _, what, under in steps if not under] == []  # each step shows its effect
    under = {what.split(":")[0]: " | ".join(lines) for _, what, lines in steps}
    assert "daniel.tupa@example.org: Reminder: [CG-1]" in under["three days before the deadline"]
    compiled = under["the feedback deadline has passed"]
    assert "secretariat@example.org: [CG-2] Feedback compiled" in compiled


def test_demo_compiles_a_feedback_round_closes_an_action_and_sends_digests(
    demo: tuple[Path, str],
) -> None:
    # Issue 10: the demo shows a feedback round compiled, an action done, and a digest.
    folder, stdout = demo
    lines = stdout.splitlines()
    assert any("secretariat@example.org: [CG-2] Feedback compiled" in x for x in lines)
    assert any("[CG-3] Action done by Bruno Carvalho" in x for x in lines)
    assert any("secretariat@example.org: [CG] Digest" in x for x in lines)
    status = json.loads(cgbot("--config", str(folder / "config.toml"), "status", "--json").stdout)
    kinds = {i["id"]: (i["kind"], i["state"]) for i in status["items"]}
    assert kinds[2] == ("feedback", "closed") and kinds[3] == ("action", "done")


def test_the_report_on_the_demo_data_is_html_a_chart_and_a_pdf_naming_the_decisions(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    # Issue 10: `cgbot report --period` writes the HTML, the chart images and the PDF, and the
    # PDF's text (extracted as a reader's tool would) names the decision taken that month.
    from pypdf import PdfReader

    folder, _ = demo
    config = str(folder / "config.toml")
    out = cgbot("--config", config, "report", "--period", "2026-12", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [
        "report-2026-12-attendance.png",
        "report-2026-12-response-times.png",
        "report-2026-12.html",
        "report-2026-12.pdf",
    ]
    printed = out.stdout.split()  # the page first, the PDF last, the charts between
    assert sorted(printed) == sorted(str(tmp_path / n) for n in written)
    assert printed[0].endswith(".html") and printed[-1].endswith(".pdf")
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and png.stat().st_size > 5000
    html = (tmp_path / "report-2026-12.html").read_text()
    assert '<img src="report-2026-12-response-times.png"' in html
    pages = PdfReader(tmp_path / "report-2026-12.pdf").pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert "progress report, December 2026" in text
    assert "#1 2027 CIWP topic shortlist" in text and "determined by the Board Chair" in text
    assert "Draft 2026 progress note" in text  # the feedback round completed
    assert "Circulate the budget note" in text  # the action done
    bad = cgbot("--config", config, "report", "--period", "2026-13", "--out", str(tmp_path))
    assert bad.returncode != 0 and "period '2026-13': expected YYYY-MM" in bad.stderr


def test_kinds_lists_each_registered_kind_with_its_states_and_commands() -> None:
    # The Secretariat can see which email commands exist without reading the code.
    out = cgbot("kinds")
    assert out.returncode == 0, out.stderr
    assert "ballot: consensus ballot" in out.stdout
    assert "open, consensus, escalated, determined, closed" in out.stdout
    assert "Subject: BALLOT: ..." in out.stdout


def test_meetings_lists_what_is_called_and_what_is_to_be_called(tmp_path: Path) -> None:
    # The example config's cadence: the Secretariat sees the coming meetings and their calls.
    example = (Path(__file__).parents[2] / "config.example.toml").read_text()
    config = tmp_path / "config.toml"
    config.write_text(
        example.replace('url = "sqlite:///cgbot.db"', f'url = "sqlite:///{tmp_path}/cg.db"')
    )
    config.chmod(0o600)
    env = {"CGBOT_IMAP_PASSWORD": "x", "CGBOT_SMTP_PASSWORD": "y"}
    out = cgbot("--config", str(config), "--now", "2026-12-02T09:00:00Z", "meetings", env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # In the group's zone (Europe/London, so 14:00 in winter), to the minute (issue 11).
    assert any("2027-01-05 14:00" in line and "to be called" in line for line in lines)
    assert any("2027-03-02 14:00" in line and "Monthly" in line for line in lines)
    assert any("2027-03-16 14:00" in line and "Quarterly" in line for line in lines)


def test_explain_reads_an_mbox_and_a_maildir_one_line_each(config: Path, tmp_path: Path) -> None:
    import mailbox

    bounces = sorted((FIXTURES / "corpus" / "mikel-mail").rglob("report_*.eml"))[:2]
    samples = [FIXTURES / "replies" / "outlook_fr_objection.eml", *bounces]
    assert len(samples) == 3
    box = mailbox.mbox(str(tmp_path / "saved.mbox"))
    for sample in samples:
        box.add(sample.read_bytes())
    box.close()
    folder = mailbox.Maildir(str(tmp_path / "Maildir"))
    for sample in samples:
        folder.add(sample.read_bytes())

    for path, label in ((tmp_path / "saved.mbox", "saved.mbox#"), (tmp_path / "Maildir", "")):
        out = cgbot("--config", str(config), "explain", str(path))
        assert out.returncode == 0, out.stderr
        lines = [line for line in out.stdout.splitlines()[1:] if line.strip()]
        assert len(lines) == 3, out.stdout  # the header, then one line per message
        assert all(label in line for line in lines)
        assert "amina@members.example" in out.stdout and "ignored" in out.stdout
        records = json.loads(cgbot("--config", str(config), "explain", "--json", str(path)).stdout)
        assert len(records) == 3 and {r["outcome"] for r in records} >= {"ignored"}


def test_a_local_maildir_runs_without_servers_and_health_follows_the_polls(
    config: Path, tmp_path: Path
) -> None:
    import mailbox

    inbox, sent = tmp_path / "Maildir", tmp_path / "sent"
    mailbox.Maildir(str(inbox)).add(
        (FIXTURES / "replies" / "outlook_fr_objection.eml").read_bytes()
    )
    base = ["--config", str(config), "--now", "2026-12-01T09:00:00Z"]
    never = cgbot(*base, "health")
    assert never.returncode == 1 and "never been read" in never.stderr

    run = cgbot(*base, "--log-format", "json", "-vv", "run", "--once", "--maildir", str(inbox),
                "--outbox-dir", str(sent))  # fmt: skip

    assert run.returncode == 0, run.stderr
    logged = [json.loads(line) for line in run.stderr.splitlines() if line.strip()]
    assert logged and {"time", "level", "logger", "message"} <= set(logged[0])
    assert not list((inbox / "new").iterdir()) and len(list((inbox / "cur").iterdir())) == 1
    status = json.loads(cgbot(*base, "status", "--json").stdout)
    assert status["inbound"] == {"quarantined": 1}  # no ballot is open: held for review
    assert status["service"]["last_poll"].startswith("2026-12-01T09:00:")  # --now's clock
    assert status["service"]["quarantined"] == 1
    healthy = cgbot(*base, "health")
    assert healthy.returncode == 0 and healthy.stdout.startswith("healthy"), healthy.stderr
    later = ["--config", str(config), "--now", "2026-12-01T09:11:00Z"]
    stale = cgbot(*later, "health")
    assert stale.returncode == 1 and re.search(r"poll 6[56]\d s ago \(bound 600 s\)", stale.stderr)
    assert cgbot(*later, "health", "--max-age", "900").returncode == 0
    plain = cgbot(*base, "status").stdout
    assert "last poll: " in plain and "quarantined: 1" in plain
