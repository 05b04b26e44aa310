"""Score clause suggestion on the labelled set (bench/suggest_labelled.py).

Run with ``python bench/suggest_score.py`` (``-v`` prints every miss with the ranking). For each concern it
ranks the clauses of its policy and counts a top-1 hit when the first suggestion is one of the acceptable
refs and a top-3 hit when any of the first three is. It prints the rates on the development part, on the
held-out part (every fourth concern of each policy, not looked at while tuning) and on all.

The three shared policies are read by the importer from ``shared/policies/`` beside the checkout
(skipped, and said so, when absent); the demo policy from policyhub/demo_policy.py. No database is used.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")

SHARED_NAMES = {
    "ashgrove": "ashgrove-primary.txt",
    "gloucestershire": "gloucestershire-model-policy.txt",
    "st-elisabeths": "st-elisabeths-one-education.txt",
}


def shared_dir() -> Path | None:
    for candidate in (ROOT.parent / "shared" / "policies", ROOT.parent.parent / "shared" / "policies"):
        if candidate.is_dir():
            return candidate
    return None


def demo_docs():
    from policyhub.demo_policy import SECTIONS
    from policyhub.suggest import ClauseDoc

    docs = []
    for _number, heading, clauses in SECTIONS:
        texts = dict(clauses)
        refs = {ref for ref, _ in clauses}
        for ref, text in clauses:
            parent = ref.rsplit(".", 1)[0] if ref.count(".") >= 2 else None
            has_children = any(r.startswith(ref + ".") for r in refs)
            docs.append(ClauseDoc(ref, text, heading, texts.get(parent, "") if parent else "", has_children))
    return docs


def indexes() -> dict:
    from policyhub.importer import parse_text
    from policyhub.suggest import Index, docs_from_parsed

    result = {"demo": Index.build(demo_docs())}
    folder = shared_dir()
    if folder is None:
        print("shared/policies not found: scoring the demo policy only", file=sys.stderr)
        return result
    for key, name in SHARED_NAMES.items():
        result[key] = Index.build(docs_from_parsed(parse_text((folder / name).read_text(encoding="utf-8"))))
    return result


def score(cases, idx, verbose=False) -> tuple[int, int, int]:
    top1 = top3 = n = 0
    for policy, text, refs in cases:
        if policy not in idx:
            continue
        n += 1
        ranked = [s.ref for s in idx[policy].rank(text, top=3)]
        top1 += bool(ranked[:1] and ranked[0] in refs)
        hit3 = any(r in refs for r in ranked)
        top3 += hit3
        if verbose and not hit3:
            print(f"MISS [{policy}] {text}\n     want {refs}, got {ranked}")
    return top1, top3, n


def main(argv) -> int:
    import django

    django.setup()
    from suggest_labelled import CASES, split

    verbose = "-v" in argv
    idx = indexes()
    dev, held = split(CASES)
    for name, cases in (("development", dev), ("held-out", held), ("all", CASES)):
        t1, t3, n = score(cases, idx, verbose and name != "all")
        if n:
            print(f"{name:12} {n:3} concerns  top-1 {t1 / n:6.1%}  top-3 {t3 / n:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
