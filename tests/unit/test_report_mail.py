"""The monthly draft of the progress report (issue 10, item 4): on the first of the month the
Secretariat receives last month's report in the mail, its charts inline and its PDF attached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from io import BytesIO

from pypdf import PdfReader
from sqlmodel import col, select

from bot.app import App
from bot.demo import clients
from bot.domain.types import Fetched
from bot.store.db import session
from bot.store.models import Outbox
from tests.conftest import BOT, MEMBERS, SECRETARIAT, T0, mail_to, open_ballot


def reports(app: App) -> list[Outbox]:
    with session(app.engine) as s:
        query = select(Outbox).where(Outbox.purpose == "report").order_by(col(Outbox.id))
        return list(s.exec(query))


def test_the_first_of_the_month_brings_last_months_report_with_its_chart_and_pdf(
    app: App,
) -> None:
    open_ballot(app, "Adopt the 2027 workplan")
    for hours, (name, address, *_) in enumerate(MEMBERS, start=2):
        raw = clients.gmail(
            mail_to(app, address), name, address, BOT, T0 + timedelta(hours=hours), "Agree."
        )
        app.handle(Fetched("test", raw))
    app.run_due()
    app.clock.jump_to(T0 + timedelta(days=10, minutes=1))
    app.run_due()  # the deadline: consensus
    assert reports(app) == []
    app.clock.jump_to(datetime(2027, 1, 1, 8, 1, tzinfo=UTC))
    app.run_due()
    (row,) = reports(app)
    assert row.recipients == [SECRETARIAT]
    msg = message_from_bytes(row.raw, policy=default)
    assert "Progress report for December 2026" in str(msg["Subject"])
    html = msg.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "#1 Adopt the 2027 workplan" in content and "consensus" in content
    # The chart is inside the HTML part (multipart/related), named by its Content-ID.
    related = [p for p in msg.walk() if p.get_content_type() == "multipart/related"]
    (image,) = [p for p in related[0].iter_parts() if p.get_content_type() == "image/png"]
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in content
    assert image.get_content().startswith(b"\x89PNG")
    (pdf,) = [a for a in msg.iter_attachments() if a.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == "progress-report-2026-12.pdf"
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf.get_content())).pages)
    assert "Adopt the 2027 workplan" in text
    app.clock.jump_to(datetime(2027, 1, 2, 8, 1, tzinfo=UTC))
    app.run_due()
    assert len(reports(app)) == 1  # once a month
