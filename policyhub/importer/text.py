"""Line patterns and small text helpers shared by the cleaning, numbering and assembling stages."""

from __future__ import annotations

import re

_MULTI_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,3})+)\.?(?:\s+|$)(.*)$")
_SINGLE_RE = re.compile(r"^(\d{1,2})([.)]?)\s+(\S.*)$")
_PAREN_NUM_RE = re.compile(r"^\((\d{1,2})\)\s+(\S.*)$")
_ALPHA_RE = re.compile(r"^(?:\(([A-Za-z]|[ivxIVX]{1,5})\)|([A-Za-z]|[ivx]{1,5})\)|([a-z]|[ivx]{1,5})\.)\s+(\S.*)$")
_BULLET_GLYPHS = "•●▪■◦○·‣⁃∙◆◇►▸➢➤✓✔❖□–—*-o\uf0b7\uf0a7\uf076\uf0d8\uf0fc\uf0a8\uf06e\uf0a1"
_BULLET_RE = re.compile(r"^([" + re.escape(_BULLET_GLYPHS) + r"])\s+(\S.*)$")

_PAGE_NUMBER_RES = [
    re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.I),
    re.compile(r"^[-–—]\s*\d{1,4}\s*[-–—]$"),
    re.compile(r"^\d{1,4}\s*\|\s*p\s?a\s?g\s?e$", re.I),  # Word's "3 | Page", also letter-spaced "3 | P a g e"
    re.compile(r"^p\s?a\s?g\s?e\s*\|\s*\d{1,4}$", re.I),
]
_NAV_RE = re.compile(r"^(?:back|return) to (?:the )?(?:contents|top|index|table of contents)\.?$", re.I)
_CONTENTS_RE = re.compile(r"^(?:table of )?contents:?$", re.I)
_DOT_LEADER_RE = re.compile(r"(?:\.\s?){4,}\s*\d{1,4}$|…+\s*\d{1,4}$")
_CLOSERS = "”’\"')]»"


_ABBREVIATION_END_RE = re.compile(r"(?:\b(?:e\.g|i\.e|cf|viz|approx|Mr|Mrs|Ms|Dr|No|St)\.)$", re.I)
_CONNECTOR_END_RE = re.compile(
    r"\b(?:the|a|an|and|or|of|to|in|on|for|with|via|by|as|at|from|such|their|its|our|your|any|all|this|that)$", re.I
)


def _ends_terminal(s: str) -> bool:
    s = s.rstrip()
    if s.endswith(":-") or s.endswith(":–"):
        return True
    s = s.rstrip(_CLOSERS)
    if _ABBREVIATION_END_RE.search(s):
        return False  # "... purposes e.g." continues on the next line
    return bool(s) and s[-1] in ".!?:;"


def _first_alpha(s: str) -> str:
    for ch in s:
        if ch.isalpha():
            return ch
    return ""


def _starts_lower(s: str) -> bool:
    s = s.lstrip(_CLOSERS + "“‘(\"'")
    return bool(s) and s[0].islower()


def _is_caps_heading(s: str, indented: bool) -> bool:
    letters = [c for c in s if c.isalpha()]
    if len(letters) < 2 or any(c.islower() for c in letters):
        return False
    if len(s) > 100 or len(s.split()) > 14 or s.rstrip().endswith((".", ";", ",")):
        return False
    if _BULLET_RE.match(s) or _MULTI_RE.match(s):
        return False
    # an acronym such as "SLT" on its own is more likely a list item than a heading
    return not (len(s.split()) == 1 and len(letters) < (6 if indented else 4))


def _title_like(s: str, max_words: int = 12) -> bool:
    s = s.strip()
    if not s or len(s) > 90 or len(s.split()) > max_words:
        return False
    first = s[0]
    if not (first.isupper() or (first in "“‘\"'" and _first_alpha(s).isupper())):
        return False
    if s.endswith((".", ";", ",", ":", ":-", "-", "–")) or s.rstrip(_CLOSERS).endswith((".", ";", ",", "?", "!")):
        return False
    return not re.search(r"[.;?!]\s+[A-Z]", s)  # no sentence break inside


_SUB_BULLETS = "o◦○\uf0a8"  # Word's default second-level bullets
_SUB2_BULLETS = "▪■\uf0a7"  # ... and third-level


def _bullet_style(glyph: str) -> str:
    """List-level style of a bullet glyph; other glyphs (•, -, *, ●, ...) count as one first-level style."""
    if glyph in _SUB_BULLETS:
        return "bullet2"
    if glyph in _SUB2_BULLETS:
        return "bullet3"
    return "bullet"


def _normalise_ref(ref: str) -> str:
    return ref.strip().rstrip(".")


def _section_number_from_heading(num: str) -> str:
    parts = num.rstrip(".").split(".")
    while len(parts) > 1 and parts[-1].strip("0") == "":
        parts.pop()
    return ".".join(str(int(p)) if p.isdigit() else p for p in parts)


def _to_roman(n: int) -> str:
    out = ""
    for value, numeral in (
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ):
        while n >= value:
            out += numeral
            n -= value
    return out


def _to_letters(n: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


def _roman_value(s: str) -> int:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    total = 0
    prev = 0
    for ch in reversed(s.lower()):
        v = values.get(ch, 0)
        total = total - v if v < prev else total + v
        prev = max(prev, v)
    return total


# Words that often follow a hyphen in compounds ("up-to-date", "self-harm"): a line ending "self-" and a next line
# starting "harm" is a compound, not one word broken in two.
_COMPOUND_TAILS = frozenset(
    [
        "to",
        "up",
        "in",
        "on",
        "off",
        "out",
        "by",
        "day",
        "date",
        "time",
        "term",
        "year",
        "led",
        "free",
        "based",
        "wide",
        "like",
        "safe",
        "harm",
        "face",
        "care",
        "law",
        "mail",
        "line",
        "site",
        "made",
        "run",
        "use",
        "end",
        "age",
        "old",
    ]
)


def _join(lines: list[str], vocabulary: set[str] | None = None, doubts: list[str] | None = None) -> str:
    """The lines of one clause as one line of text.

    A word hyphenated across a line break (``reputa-`` / ``tion``) is joined up when the whole word occurs elsewhere
    in the document (``vocabulary``), or, failing that, when the second part is too short to be a word of a compound
    (then the guess is noted in ``doubts``). Otherwise the hyphen stays: ``video-image-`` + ``sharing``.
    """
    text = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if text and re.search(r"[^\W\d_]-$", text) and line[:1].islower():
            head = re.search(r"([^\W\d_]+)-$", text).group(1)
            tail = re.match(r"[^\W\d_]+", line).group(0)
            whole = (head + tail).lower()
            if vocabulary is not None and whole in vocabulary:
                text = text[:-1] + line
            elif (
                vocabulary is not None
                and f"{head}-{tail}".lower() not in vocabulary
                and len(tail) <= 4
                and len(head) >= 3
                and tail not in _COMPOUND_TAILS
            ):
                text = text[:-1] + line
                if doubts is not None:
                    doubts.append(f"“{head}-{tail}” was joined up as “{head}{tail}”, a word broken across lines.")
            else:
                text += line  # "video-image-" + "sharing": keep the hyphen, drop the line break
        elif text:
            text += " " + line
        else:
            text = line
    return re.sub(r"\s+", " ", text).strip()
