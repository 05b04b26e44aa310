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
    _PAREN_NUM_RE,
    _SINGLE_RE,
    _ends_terminal,
    _title_like,
)


def _furniture_key(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", s)).strip().casefold()


# Document metadata: "Approved by: ...", "Next review: March 2026", "Signed: ...", "Date: ...". A short label naming
# approval, review, signature, ownership or a date, a colon, and a short value; never a sentence.
_META_LABEL_RE = re.compile(
    r"^(?P<label>[A-Za-z][A-Za-z/&' ]{0,45}?)\s*[:\u2013\u2014]\s*(?P<value>.*)$",
)
_META_WORDS_RE = re.compile(
    r"\b(?:approv\w*|adopt\w*|ratif\w*|agreed|review\w*|signed|signature|date|dated|version|owner|author|"
    r"issued?|effective|chair(?:person)?|head ?teacher|principal|clerk|responsible|ceo|status|name|position|role)\b",
    re.I,
)
# "Signed", "Signature: ____", "Signed by the Principal", "Signed on behalf of the governing board"
_SIGNATURE_ONLY_RE = re.compile(r"^(?:signed|signature)\b", re.I)
_VERSION_RE = re.compile(r"^(?:version|v)\s*\d+(?:\.\d+)*\b[^.]{0,40}$", re.I)
# Image descriptions left by converters and screen-reader text: "[Image: the school crest]", "![logo](x.png)",
# "Image: ...", or a bare noun phrase naming a signature, logo or crest ("A handwritten signature in blue ink").
_IMAGE_TAG_RE = re.compile(
    r"^(?:!?\[(?:image|picture|photo\w*|figure|logo|graphic)\b[^\]]*\](?:\([^)]*\))?|"
    r"(?:image|picture|figure|graphic|logo)\s*:.*)$",
    re.I,
)
_IMAGE_PHRASE_RE = re.compile(
    r"^(?:an?|the)?\s*(?:[\w-]+\s+){0,3}(?:signature|logo|crest|emblem|insignia)\b(?:\s+(?:of|in|on|with|showing|for)\b.*)?$",
    re.I,
)
_VERB_RE = re.compile(r"\b(?:must|should|will|shall|may|can|could|would|is|are|was|were|be|been|do|does|not)\b", re.I)


def _is_metadata(s: str) -> bool:
    """Whether a (non-numbered) line is an approval, review or signature line rather than policy text."""
    if (_SIGNATURE_ONLY_RE.match(s) or _VERSION_RE.match(s)) and not _VERB_RE.search(s) and len(s.split()) <= 12:
        return True
    if len(s) > 110 or len(s.split()) > 14:
        return False
    m = _META_LABEL_RE.match(s)
    label = m.group("label") if m else ""
    if not m or not _META_WORDS_RE.search(label) or len(label.split()) > 5 or _VERB_RE.search(label):
        return False  # "The head teacher will:" introduces a list
    value = m.group("value").strip()
    if not value and not _META_WORDS_RE.match(label):
        return False
    # "Review: staff will be reminded of this policy each year." is a clause, not a record of a review
    return not (_VERB_RE.search(value) and value.rstrip().endswith("."))


# The name or role printed under a signature: "Chair of Governors", "Mrs K. Patel", "J. Whitfield", "Ann Lee".
_SIGNATORY_RE = re.compile(
    r"^\(?(?:(?:mr|mrs|ms|miss|dr|rev|prof)\.?\s|[A-Z]\.\s?[A-Z]|name\b|position\b|role\b|"
    r"[A-Z][a-z'-]+(?:\s[A-Z][a-z'-]+){1,2}\)?$|"
    r".*\b(?:chair\w*|head\s?teacher|headmaster|headmistress|head|principal|governors?|trustees?|clerk|ceo|"
    r"executive|director|manager|officer|deputy)\b)",
    re.I,
)


def _is_image_description(s: str, previous: str | None) -> bool:
    if _IMAGE_TAG_RE.match(s):
        return True
    # A phrase such as "A handwritten signature in blue ink" stands on its own line: never part of a sentence
    # wrapped from the line before ("... must not use the" / "school logo" / "on personal accounts").
    stands_alone = previous is None or _ends_terminal(previous) or _title_like(previous) or _is_metadata(previous)
    return bool(
        s[:1].isupper()
        and stands_alone
        and _IMAGE_PHRASE_RE.match(s)
        and len(s.split()) <= 15
        and not _VERB_RE.search(s)
        and not s.endswith((";", ","))
    )


def _split_metadata(lines: list[str]) -> tuple[list[str], list[str]]:
    """(policy lines, metadata lines): approval/review/signature lines, image descriptions, and the name or role
    line printed under a signature ("Chair of Governors")."""
    kept: list[str] = []
    metadata: list[str] = []
    after_signature = 0
    previous: str | None = None
    for line in lines:
        s = line.strip()
        signature_line = bool(re.match(r"^(?:signed|signature)\b", s, re.I))
        is_meta = _is_metadata(s) or _is_image_description(s, previous)
        previous = s
        if is_meta:
            metadata.append(s)
            after_signature = 2 if signature_line else (after_signature - 1 if after_signature else 0)
            continue
        if (
            after_signature
            and len(s.split()) <= 5
            and not s.endswith((".", ";", ":"))
            and not _MULTI_RE.match(s)
            and _SIGNATORY_RE.match(s)
        ):
            metadata.append(s)  # the signatory's name or role under "Signed:"
            after_signature -= 1
            continue
        after_signature = 0
        kept.append(line)
    return kept, metadata


# A list label on a line of its own, its text on the next line (common in text taken from PDFs): "1.2", "(a)", "•".
_LONE_LABEL_RE = re.compile(
    r"^(?:\d{1,2}(?:\.\d{1,3})+\.?|\d{1,2}[.)]|\(\d{1,2}\)|\(?[a-z]\)|\(?[ivx]{1,5}\)|[•●▪■◦‣∙➢➤\uf0b7])$"
)


def _join_lone_labels(lines: list[str]) -> list[str]:
    out: list[str] = []
    carry = ""
    for line in lines:
        s = line.strip()
        if _LONE_LABEL_RE.match(s):
            if carry:
                out.append(carry)
            carry = line.rstrip()
            continue
        if carry:
            out.append(f"{carry} {s}")
            carry = ""
            continue
        out.append(line)
    if carry:
        out.append(carry)
    return out


def _remove_furniture(text: str, metadata: list[str] | None = None) -> list[str]:
    """Lines of ``text`` without page numbers, navigation links, running headers/footers or a contents list.

    Approval, review and signature lines and image descriptions are left out too, and appended to ``metadata``
    when a list is given.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    text = text.replace("\t", "    ")
    pages = [p.split("\n") for p in text.split("\f")]

    def is_structural(s: str) -> bool:
        # "4 Staff must ..." (a sentence after a bare number) is a clause however alike its neighbours look;
        # "4 Social Media Policy" (no full stop) may well be a footer.
        numbered_sentence = bool((_SINGLE_RE.match(s) or _PAREN_NUM_RE.match(s)) and _ends_terminal(s))
        return bool(_MULTI_RE.match(s) or _BULLET_RE.match(s) or _ALPHA_RE.match(s) or numbered_sentence)

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
        # A running header can land anywhere in a page's extracted text (PDF text order follows drawing order).
        # Anywhere on the page, a short non-sentence line counts when it recurs on most pages: at least three, or
        # two when it has the "Trust | Title" shape that body text practically never has.
        anywhere: Counter[str] = Counter()
        for page in real_pages:
            anywhere.update(
                {
                    _furniture_key(line)
                    for line in (x.strip() for x in page)
                    if line and not is_structural(line) and len(line.split()) <= 12 and not line.endswith((".", ":"))
                }
            )
        furniture |= {
            k
            for k, n in anywhere.items()
            if n >= threshold and len(k) > 1 and (n >= 3 or "|" in k) and len(k.split()) >= 2
        }
    counts = Counter(_furniture_key(line) for page in pages for line in page if line.strip())
    for line in (line.strip() for page in pages for line in page):
        key = _furniture_key(line)
        if (
            line
            and (counts[key] >= 3 or (counts[key] >= 2 and "|" in key))
            and not is_structural(line)
            and ("#" in key or "|" in key or len(key.split()) >= 3)
            and len(line) <= 120
        ):
            furniture.add(key)

    # A line repeated only twice is furniture too when one copy cuts a sentence in two: the line before it is
    # unfinished and the line after it carries on in lower case (a page header printed mid-paragraph).
    flat = [line.strip() for page in pages for line in page if line.strip()]
    for k, line in enumerate(flat[1:-1], start=1):
        key = _furniture_key(line)
        if (
            counts[key] >= 2
            and key not in furniture
            and not is_structural(line)
            and len(line.split()) >= 2
            and len(line) <= 120
            and not _ends_terminal(flat[k - 1])
            and flat[k + 1][:1].islower()
            and not line[:1].islower()
        ):
            furniture.add(key)

    # "3. Staff use of social media" in the contents and again as the heading near the foot of a page is the same
    # numbered line twice, not a footer: a footer's number changes from page to page ("3 Social Media Policy").
    variants: dict[str, set[str]] = {}
    for line in flat:
        variants.setdefault(_furniture_key(line), set()).add(re.sub(r"\s+", " ", line).casefold())
    furniture = {
        k
        for k in furniture
        if not (
            len(variants.get(k, ())) == 1 and all(_SINGLE_RE.match(v) or _PAREN_NUM_RE.match(v) for v in variants[k])
        )
    }

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
    out = _join_lone_labels(out)
    out, found = _split_metadata(out)
    if metadata is not None:
        metadata.extend(found)
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
