"""How well replies to a ballot are read, through the whole pure pipeline.

Each labelled case in tests/fixtures/ballot-replies.json becomes a full MIME reply in its
client's style, quoting the real ballot mail (which lists every option), and is explained by a
real App (parse, classify, match, extract, read). Prints the share read right, the share sent
to review instead, and the wrong counts (which must be zero), overall and by class and language
of the case (a class whose wrong count is not zero names where the reader guesses), then the
throughput of the pipeline relative to the standard library's full parse of the same bytes.

    python bench/ballot_reading.py
"""

from __future__ import annotations

import email
import sys
import tempfile
import time
from collections import Counter, defaultdict
from email.policy import default
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ballot_corpus import replies  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        app, cases = replies(Path(tmp))
        tally: dict[str, Counter[str]] = defaultdict(Counter)
        for case, raw in cases:
            got = app.explain_record(raw)["position"]
            if got == case["expected"]:
                outcome = "right"
            elif got is None:
                outcome = "review"
            else:
                outcome = "wrong"
                print(f"WRONG: {case['answer']!r} read as {got}, expected {case['expected']}")
            for key in ("all", f"class {case.get('class', '-')}", f"lang {case.get('lang', '-')}"):
                tally[key][outcome] += 1
        total = tally["all"]
        n = total.total()
        print(f"replies: {n}")
        print(
            f"read right: {total['right'] / n:.1%}   "
            f"sent to review instead: {total['review'] / n:.1%}   "
            f"counted wrongly: {total['wrong'] / n:.1%} ({total['wrong']})"
        )
        print(f"{'':24}{'replies':>8}{'right':>8}{'review':>8}{'wrong':>8}")
        for key in sorted(k for k in tally if k != "all"):
            row = tally[key]
            print(f"{key:24}{row.total():>8}{row['right']:>8}{row['review']:>8}{row['wrong']:>8}")
        wrong = total["wrong"]

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
