"""The progress report to the Governing Board, made from the record: the content compiled by
workflows/report.py, charts drawn with matplotlib, the HTML rendered from templates/report/, and
the PDF printed from that same HTML by WeasyPrint. `cgbot report` writes the files; the monthly
draft mails them to the Secretariat."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.app.status import snapshot
from bot.domain.effects import Mail
from bot.domain.types import Attachment, PersonView
from bot.render import Renderer
from bot.store import register
from bot.workflows.base import Registry, Situation
from bot.workflows.report import compile_report, period

PDF_TYPE = "application/pdf"


@dataclass(frozen=True)
class Chart:
    name: str  # the file's stem: "response-times"
    alt: str  # what it shows, for a reader who cannot see it
    png: bytes


def content(s: Session, sit: Situation, registry: Registry, name: str) -> dict[str, Any]:
    """The report's content for the month `name` ("YYYY-MM"), from one read of the record."""
    p = period(name, sit.zone)
    items = snapshot(s, sit, registry)["items"]
    events = [e for e in register.rows(s) if datetime.fromisoformat(e["at"]) < p.end]
    names = {person.email: person.name for person in sit.people.people}
    return compile_report(p, items, events, names, frozenset(m.id for m in sit.members))


def charts(report: dict[str, Any]) -> list[Chart]:
    """The pictures a reader would rather look at than read: response time per round and
    attendance per meeting (each only when the month has something to draw)."""
    out = []
    timed = [r for r in report["rounds"] if r["median_hours"] is not None]
    if timed:
        out.append(_response_times(timed))
    if report["meetings"]:
        out.append(_attendance(report["meetings"]))
    return out


def _figure(height: float) -> Any:
    """A figure drawn without pyplot: no global state, no display, safe in any thread."""
    from matplotlib.figure import Figure

    return Figure(figsize=(7.5, height), dpi=110, layout="constrained")


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _short(title: str, limit: int = 38) -> str:
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


def _response_times(rounds: list[dict[str, Any]]) -> Chart:
    fig = _figure(1.2 + 0.45 * len(rounds))
    ax = fig.add_subplot()
    labels = [f"#{r['id']} {_short(r['title'])}" for r in rounds]
    median = [r["median_hours"] / 24 for r in rounds]
    slowest = [r["slowest_hours"] / 24 for r in rounds]
    ax.barh(labels, slowest, color="#d0d7de", label="slowest answer")
    ax.barh(labels, median, color="#0969da", height=0.5, label="median answer")
    ax.invert_yaxis()
    ax.set_xlabel("days from opening to answer")
    ax.set_title("Response time per round")
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    text = "; ".join(
        f"{label}: median {m:.1f} days" for label, m in zip(labels, median, strict=True)
    )
    return Chart("response-times", f"Response time per round: {text}", _png(fig))


def _attendance(meetings: list[dict[str, Any]]) -> Chart:
    fig = _figure(1.2 + 0.45 * len(meetings))
    ax = fig.add_subplot()
    labels = [f"{m['starts_at']:%d %b} {_short(m['title'], 30)}" for m in meetings]
    groups = [
        ("attending", "#1a7f37", [len(m["attending"]) + len(m["tentative"]) for m in meetings]),
        ("apologies", "#bf8700", [len(m["apologies"]) for m in meetings]),
        ("no answer", "#d0d7de", [len(m["no_answer"]) for m in meetings]),
    ]
    left = [0] * len(meetings)
    for label, colour, counts in groups:
        ax.barh(labels, counts, left=left, color=colour, label=label)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("invitees")
    ax.xaxis.get_major_locator().set_params(integer=True)  # people come whole
    ax.set_title("Attendance per meeting")
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    text = "; ".join(
        f"{label}: {n} attending" for label, n in zip(labels, groups[0][2], strict=True)
    )
    return Chart("attendance", f"Attendance per meeting: {text}", _png(fig))


def html(
    renderer: Renderer,
    report: dict[str, Any],
    pictures: list[Chart],
    src: Callable[[Chart], str],
    base: dict[str, Any],
) -> str:
    """The report as a standalone HTML document (what the PDF is printed from)."""
    ctx = {**base, "r": report, "charts": [{"src": src(c), "alt": c.alt} for c in pictures]}
    return renderer.env.get_template("report/_document.html").render(ctx)


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot print here: the system's Pango is missing."""


PANGO_HINT = "Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"


def pdf(document: str, base_url: Path) -> bytes:
    """Print the HTML as PDF; images are read relative to `base_url`."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # WeasyPrint loads Pango when it is imported
        raise PdfUnavailable(f"the PDF needs WeasyPrint and Pango ({PANGO_HINT}): {exc}") from exc
    data = HTML(string=document, base_url=str(base_url)).write_pdf()
    assert isinstance(data, bytes)
    return data


def write(
    renderer: Renderer, report: dict[str, Any], out: Path, base: dict[str, Any]
) -> list[Path]:
    """Write report-PERIOD.html, one PNG per chart and report-PERIOD.pdf into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"report-{report['period'].name}"
    pictures = charts(report)
    written = []
    for chart in pictures:
        path = out / f"{stem}-{chart.name}.png"
        path.write_bytes(chart.png)
        written.append(path)
    document = html(renderer, report, pictures, lambda c: f"{stem}-{c.name}.png", base)
    page = out / f"{stem}.html"
    page.write_text(document, encoding="utf-8")
    printed = out / f"{stem}.pdf"
    printed.write_bytes(pdf(document, out))  # last: without Pango, the page and charts remain
    return [page, *written, printed]


def draft_mail(
    renderer: Renderer, report: dict[str, Any], to: tuple[PersonView, ...], base: dict[str, Any]
) -> Mail:
    """The monthly draft for the Secretariat: the report in the mail (charts inline) and the PDF
    attached, printed with the charts embedded."""
    pictures = charts(report)
    with tempfile.TemporaryDirectory(prefix="cgbot-report-") as folder:
        for chart in pictures:  # where WeasyPrint reads them from
            (Path(folder) / f"{chart.name}.png").write_bytes(chart.png)
        document = html(renderer, report, pictures, lambda c: f"{c.name}.png", base)
        try:
            printed: bytes | None = pdf(document, Path(folder))
        except PdfUnavailable:  # the draft still goes, in the mail's HTML; the text says so
            printed = None
    name = report["period"].name
    inline = tuple(
        Attachment(f"{c.name}.png", c.png, "image/png", content_id=f"{c.name}.{name}@cgbot")
        for c in pictures
    )
    ctx = {
        "r": report,
        "zone": base["zone"],
        "charts": [{"src": f"cid:{c.name}.{name}@cgbot", "alt": c.alt} for c in pictures],
        "pdf": printed is not None,
    }
    if printed is not None:
        inline = (*inline, Attachment(f"progress-report-{name}.pdf", printed, PDF_TYPE))
    attachments = inline
    return Mail("report/draft", to, "report", ctx, personal=False, attachments=attachments)
