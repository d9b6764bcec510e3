"""The labelled reply set through the whole pure pipeline: nothing is ever counted wrongly."""

from __future__ import annotations

from pathlib import Path

from tests.ballot_corpus import labelled, replies


def test_at_least_forty_labelled_replies_in_four_languages() -> None:
    cases = labelled()
    assert len(cases) >= 40
    assert {str(c["client"]).split("_")[-1] for c in cases} >= {"fr", "es", "pt", "outlook"}
    assert sum(c["expected"] is None for c in cases) >= 8  # ambiguous ones, to go to review


def test_no_reply_is_counted_wrongly(tmp_path: Path) -> None:
    # Ambiguous replies must come back with no position (review), never with a guess; clear
    # ones must be read as labelled. bench/ballot_reading.py prints the shares.
    app, cases = replies(tmp_path)
    for case, raw in cases:
        record = app.explain_record(raw)
        assert record["outcome"] == "handled", (case, record)
        assert record["position"] == case["expected"], (case["answer"], record["why"])
