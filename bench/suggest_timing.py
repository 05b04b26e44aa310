"""Time clause suggestion: building a policy's index, and ranking one concern against it.

Run with ``python bench/suggest_timing.py``. Uses the largest shared policy (Ashgrove, 119 clauses, read by
the importer) or, without shared/, the demo policy repeated to over 100 clauses, and every concern of the
labelled set as queries. Prints the median and 95th percentile per concern (ranking only: the index of a
published version is built once per process and cached), and the cost of building the index.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")


def main() -> int:
    import django

    django.setup()
    from suggest_labelled import CASES
    from suggest_score import SHARED_NAMES, demo_docs, shared_dir

    from policyhub.importer import parse_text
    from policyhub.suggest import ClauseDoc, Index, docs_from_parsed

    folder = shared_dir()
    if folder is not None:
        docs = docs_from_parsed(parse_text((folder / SHARED_NAMES["ashgrove"]).read_text(encoding="utf-8")))
        name = "Ashgrove"
    else:
        base = demo_docs()
        docs = [ClauseDoc(f"{i}-{d.ref}", d.text, d.heading, d.parent_text) for i in range(3) for d in base]
        name = "demo x3"
    builds = []
    for _ in range(20):
        start = time.perf_counter()
        index = Index.build(docs)
        builds.append(time.perf_counter() - start)
    texts = [text for _, text, _ in CASES]
    for text in texts[:5]:  # warm the stemmer's cache as a running server would be
        index.rank(text)
    times = []
    for _ in range(5):
        for text in texts:
            start = time.perf_counter()
            index.rank(text, top=5)
            times.append(time.perf_counter() - start)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"policy {name}: {len(docs)} clauses; {len(times)} rankings of {len(texts)} concerns")
    print(f"rank one concern: median {statistics.median(times) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms")
    print(f"build the index:  median {statistics.median(builds) * 1000:.1f} ms (once per published version)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
