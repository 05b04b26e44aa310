"""Stage 2, clean: lines of the text without page furniture (page numbers, running headers, contents lists)."""

from __future__ import annotations

import re
from collections import Counter

from .text import (
    _ALPHA_RE,
    _BULLET_RE,
    _CONTENTS_RE,
    _DOT_LEADER_RE,
    _MULTI_RE,
    _NAV_RE,
    _PAGE_NUMBER_RES,
    _title_like,
)


def _furniture_key(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", s)).strip().casefold()


def _remove_furniture(text: str) -> list[str]:
    """Lines of ``text`` without page numbers, navigation links, running headers/footers or a contents list."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    text = text.replace("\t", "    ")
    pages = [p.split("\n") for p in text.split("\f")]

    def is_structural(s: str) -> bool:
        return bool(_MULTI_RE.match(s) or _BULLET_RE.match(s) or _ALPHA_RE.match(s))

    # Running headers and footers: lines near the top/bottom of many pages (digits ignored, so "... 4" and "... 5"
    # match), or, with no page breaks to go by, short lines that recur three or more times.
    furniture: set[str] = set()
    real_pages = [p for p in pages if any(line.strip() for line in p)]
    if len(real_pages) >= 2:
        counts: Counter[str] = Counter()
        for page in real_pages:
            lines = [line.strip() for line in page if line.strip() and not is_structural(line.strip())]
            counts.update({_furniture_key(line) for line in lines[:3] + lines[-3:]})
        threshold = max(2, (len(real_pages) + 1) // 2)
        furniture |= {k for k, n in counts.items() if n >= threshold and len(k) > 1}
    counts = Counter(_furniture_key(line) for page in pages for line in page if line.strip())
    for line in (line.strip() for page in pages for line in page):
        key = _furniture_key(line)
        if (
            line
            and counts[key] >= 3
            and not is_structural(line)
            and ("#" in key or "|" in key or len(key.split()) >= 3)
            and len(line) <= 120
        ):
            furniture.add(key)

    out: list[str] = []
    for page in pages:
        for raw in page:
            line = raw.rstrip()
            s = line.strip()
            if not s:
                continue
            if any(r.match(s) for r in _PAGE_NUMBER_RES) or _NAV_RE.match(s) or _DOT_LEADER_RE.search(s):
                continue
            if _furniture_key(s) in furniture:
                continue
            out.append(line)
    return _drop_contents(out)


def _drop_contents(lines: list[str]) -> list[str]:
    """Remove a table-of-contents block: a "Contents" line and the entries after it.

    An entry is a short title-like line ending in a page number, or one whose text (numbering aside) re-appears
    later in the document as a heading. The real headings and their text come later, so nothing is lost.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        if _CONTENTS_RE.match(lines[i].strip()):
            later_keys = [_toc_key(x) for x in lines[i + 1 :]]
            j = i + 1
            while j < len(lines):
                t = lines[j].strip()
                paged = re.match(r"^(.*?\S)\s+\d{1,3}$", t)
                key = _toc_key(paged.group(1) if paged else t)
                body = re.sub(r"^[\d.]+\s*", "", paged.group(1) if paged else t)
                if (paged and _title_like(body, 16)) or (key and later_keys[j - i :].count(key) >= 1):
                    j += 1
                    continue
                break
            i = j  # the "Contents" line itself goes too
            continue
        out.append(lines[i])
        i += 1
    return out


def _toc_key(s: str) -> str:
    """A line's text for matching contents entries to headings: numbering, case and spacing ignored."""
    s = re.sub(r"^\s*(?:\d{1,2}(?:\.\d{1,3})*\.?|[A-Z]\.)\s+", "", s.strip())
    return re.sub(r"\s+", " ", s).strip().casefold()
