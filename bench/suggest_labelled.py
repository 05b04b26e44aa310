"""The labelled set for clause suggestion (bench/suggest_labelled.tsv): concerns as a reporter might write
them, in our own words, each with the clause refs of its policy that a head could reasonably cite (any of
them counts as a hit).

Policies: the three in ../shared/policies (read by the importer) and the demo policy
(policyhub/demo_policy.py). Every fourth concern of each policy is held out: the ranker's vocabulary and
weights were adjusted looking only at the others, and bench/suggest_score.py reports both figures.
"""

from __future__ import annotations

from pathlib import Path

FILE = Path(__file__).with_suffix(".tsv")


def load(path: Path = FILE) -> list[tuple[str, str, list[str]]]:
    """(policy, concern, acceptable refs) for every line of the set."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        policy, refs, text = line.split("\t")
        cases.append((policy, text, refs.split(",")))
    return cases


CASES = load()


def split(cases=CASES) -> tuple[list, list]:
    """(dev, held_out): every fourth case of each policy is held out."""
    dev, held, seen = [], [], {}
    for case in cases:
        n = seen[case[0]] = seen.get(case[0], 0) + 1
        (held if n % 4 == 0 else dev).append(case)
    return dev, held
