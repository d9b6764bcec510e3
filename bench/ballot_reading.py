"""How well replies to a ballot are read, through the whole pure pipeline.

Each labelled case in tests/fixtures/ballot-replies.json becomes a full MIME reply in its
client's style, quoting the real ballot mail (which lists every option), and is explained by a
real App (parse, classify, match, extract, read). Prints the share read right, the share sent
to review instead, and the wrong counts (which must be zero), then the throughput of the
pipeline relative to the standard library's full parse of the same bytes.

    python bench/ballot_reading.py
"""

from __future__ import annotations

import email
import sys
import tempfile
import time
from email.policy import default
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ballot_corpus import replies  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        app, cases = replies(Path(tmp))
        right = review = wrong = 0
        for case, raw in cases:
            got = app.explain_record(raw)["position"]
            if got == case["expected"]:
                right += 1
            elif got is None:
                review += 1
            else:
                wrong += 1
                print(f"WRONG: {case['answer']!r} read as {got}, expected {case['expected']}")
        n = len(cases)
        print(f"replies: {n}")
        print(
            f"read right: {right / n:.1%}   sent to review instead: {review / n:.1%}   "
            f"counted wrongly: {wrong / n:.1%}"
        )

        raws = [raw for _, raw in cases] * 5
        started = time.perf_counter()
        for raw in raws:
            email.message_from_bytes(raw, policy=default).get_body(("plain", "html"))
        stdlib = time.perf_counter() - started
        started = time.perf_counter()
        for raw in raws:
            app.explain(raw)
        ours = time.perf_counter() - started
        print(f"pipeline time per message relative to a stdlib full parse: {ours / stdlib:.1f}x")
        return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
