"""Stage 3, number: read each cleaned line as a heading, numbered clause, list item or continuation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import (
    _ALPHA_RE,
    _BULLET_RE,
    _CONNECTOR_END_RE,
    _CONTENTS_RE,
    _MULTI_RE,
    _PAREN_NUM_RE,
    _SINGLE_RE,
    _bullet_style,
    _ends_terminal,
    _is_caps_heading,
    _normalise_ref,
    _roman_value,
    _section_number_from_heading,
    _starts_lower,
    _title_like,
)


@dataclass(eq=False)
class _Node:
    kind: str  # "num" (numbered clause), "para" (unnumbered paragraph), "item" (list item / bullet)
    label: str | None
    parent: _Node | None
    lines: list[str]
    style: str = ""
    ref: str = ""
    doubts: list[str] = field(default_factory=list)  # why this clause's reading is uncertain


@dataclass(eq=False)
class _Sec:
    number: str | None
    heading: str
    preamble: bool = False
    nodes: list[_Node] = field(default_factory=list)


# "Section 3 Personal use", "Part B: Governors", "PART 2 - Staff": a heading that names its own number.
_NAMED_SECTION_RE = re.compile(
    r"^(?:section|part|chapter)\s+([A-Z]|\d{1,2}|[IVX]{1,4})(?:\.0)?\b\s*[:.\-\u2013\u2014]?\s*(.*)$", re.I
)


_MODAL_RE = re.compile(r"\b(?:must|should|shall|will)\b", re.I)


def _heading_text(rest: str) -> bool:
    """Whether the text after a number reads as a heading: title-like, and not cut off after a word such as
    "for" or "the" (then it is a clause whose sentence wraps onto the next line)."""
    return _title_like(rest) and not _CONNECTOR_END_RE.search(rest.rstrip())


def _item_text(line: str) -> str:
    """A line's text without its list label."""
    for pattern in (_BULLET_RE, _ALPHA_RE, _PAREN_NUM_RE, _SINGLE_RE):
        m = pattern.match(line)
        if m:
            return m.group(m.lastindex)
    return line


def _next_number_follows(line: str, lines: list[str], i: int) -> bool:
    """Whether ``line`` (= lines[i], "1 Staff must ...") is followed by the next number in the same style."""
    this = _SINGLE_RE.match(line.strip())
    following = _SINGLE_RE.match(lines[i + 1].strip()) if this and i + 1 < len(lines) else None
    return bool(following and following.group(2) == this.group(2) and int(following.group(1)) == int(this.group(1)) + 1)


def _label_follows(previous: str, label: str, style: str) -> bool:
    """Whether list label ``label`` comes straight after ``previous`` (2 after 1, c after b, iv after iii)."""
    if previous.isdigit() and label.isdigit():
        return int(label) == int(previous) + 1
    if style.startswith("roman"):
        return _roman_value(label) == _roman_value(previous) + 1
    if len(previous) == 1 and len(label) == 1:
        return ord(label.lower()) == ord(previous.lower()) + 1
    return True


def _is_list_start(s: str) -> bool:
    return bool(_BULLET_RE.match(s) or _ALPHA_RE.match(s) or _SINGLE_RE.match(s) or _PAREN_NUM_RE.match(s))


# "## 2. Scope": a heading marked up by a PDF-to-text converter; the number of #s is its level.
_MARKDOWN_HEADING_RE = re.compile(r"^(#{1,6})\s+(\S.*?)\s*#*$")
# A heading numbered with a roman numeral or a capital letter and a dot or bracket: "IV. RESPONSIBILITIES".
_LABELLED_HEADING_RE = re.compile(r"^([IVX]{1,5}|[A-Z])[.)]\s+(\S.*)$")
# "Scope:" -- a short heading ending in a colon, in documents whose house style is to head sections so.
_VERBISH_RE = re.compile(
    r"\b(?:must|should|will|shall|may|can|could|would|is|are|be|not|include\w*|follow\w*|example\w*|such|e\.g)\b",
    re.I,
)
_NUMBERED_HEADING_RE = re.compile(r"^(\d{1,2})(?:\.0)?[.)]?\s+(\S.*)$")


class _Parser:
    def __init__(self, lines: list[str]) -> None:
        # Markdown headings are headings whatever their wording: note their level, read their text.
        self.md_level: dict[int, int] = {}
        plain: list[str] = []
        for i, line in enumerate(lines):
            m = _MARKDOWN_HEADING_RE.match(line.strip())
            if m:
                self.md_level[i] = len(m.group(1))
                line = m.group(2)
            plain.append(line)
        lines = plain
        levels = sorted(set(self.md_level.values()))
        # The first level-1 heading of a document that uses deeper levels too is its title.
        self.md_title_level = levels[0] if len(levels) > 1 else None
        # Sections are the shallowest level below the title; deeper ones are sub-headings inside a section.
        self.md_section_level = levels[1] if len(levels) > 1 else (levels[0] if levels else None)
        self.loose_doubts: list[tuple[str, str]] = []  # (line, reason) not tied to one clause
        self.pending_doubt = ""  # a doubt about the next list item, noted while deciding its style
        self.lines = lines
        self.sections: list[_Sec] = []
        self.sec = _Sec(number="0", heading="Preamble", preamble=True)
        self.sections.append(self.sec)
        self.cur: _Node | None = None  # node receiving continuation lines
        self.container: _Node | None = None  # node new list items attach to
        self.stack: list[tuple[str, int, _Node]] = []  # open list levels: (style, indent, item)
        self.prev: str | None = None  # previous line's text
        self.prev_kind = "start"  # "start", "heading", "num", "para", "item"
        self.title: str | None = None
        self.last_ref: str | None = None  # the last numbered clause
        colon = [
            i
            for i, line in enumerate(lines)
            if self._colon_heading_shape(line) and (i == 0 or _ends_terminal(lines[i - 1]) or i <= 3)
        ]
        followed_by_text = sum(
            1
            for i in colon
            if i + 1 < len(lines)
            and not _is_list_start(lines[i + 1].strip())
            and not self._colon_heading_shape(lines[i + 1])
        )
        # Sections headed "Scope:" (two or more such lines, one with a paragraph under it, or three anyway)
        self.colon_style = len(colon) >= 3 or (len(colon) >= 2 and followed_by_text >= 1)
        self.caps_style = sum(1 for line in lines if _is_caps_heading(line.strip(), line[:1] == " ")) >= 2
        # Text extracted from a PDF is wrapped at a fairly constant width; text from Word or a .txt typed
        # one paragraph per line is not. Knowing the width lets us tell a wrapped line from a short last line.
        lengths = sorted(len(line.strip()) for line in lines)
        self.wrap_width = 0
        if len(lengths) >= 10:
            p90 = lengths[int(len(lengths) * 0.9)]
            near_full = sum(1 for n in lengths if n >= 0.8 * p90)
            if 40 <= p90 <= 160 and near_full >= 0.3 * len(lengths):
                self.wrap_width = p90

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _colon_heading_shape(line: str) -> bool:
        s = line.strip()
        if line[:1] == " " or not s.endswith(":") or s.endswith("::"):
            return False
        body = s[:-1].strip()
        return 0 < len(body.split()) <= 5 and _title_like(body, 5) and not _VERBISH_RE.search(body)

    def _peek(self, i: int) -> str | None:
        return self.lines[i + 1] if i + 1 < len(self.lines) else None

    @staticmethod
    def _is_bullet_line(line: str | None) -> bool:
        if line is None:
            return False
        s = line.strip()
        if _BULLET_RE.match(s) or _ALPHA_RE.match(s):
            return True
        return line[:1] == " " and not _MULTI_RE.match(s)

    def _is_block_start(self, line: str | None) -> bool:
        if line is None:
            return True
        s = line.strip()
        if _MULTI_RE.match(s) or _BULLET_RE.match(s) or _ALPHA_RE.match(s) or _SINGLE_RE.match(s):
            return True
        if _is_caps_heading(s, line[:1] == " "):
            return True
        return not _starts_lower(s)

    def _prev_is_full_width(self, prev: str | None) -> bool:
        """Whether the previous line ran to the wrapping width (so its paragraph probably continues)."""
        return bool(self.wrap_width) and prev is not None and len(prev) >= 0.85 * self.wrap_width

    def _unpunctuated_list_ended(self, prev_runs_on: bool) -> bool:
        """After a list whose items are one line each and have no full stops ("1 Keep profiles private" /
        "2 Use school email"), the last item's line is complete although it has no full stop."""
        cur = self.cur
        if prev_runs_on or cur is None or not (cur.kind == "item" or (cur.kind == "para" and cur.label)):
            return False
        siblings = [
            n
            for n in self.sec.nodes
            if n is not cur and n.kind == cur.kind and n.parent is cur.parent and n.style == cur.style
        ]
        return bool(siblings) and all(n.lines and not _ends_terminal(n.lines[-1]) for n in siblings)

    def _section_num_int(self) -> int | None:
        """The current section's number, or failing that the leading number of its numbered clauses."""
        num = self.sec.number
        if num and num.isdigit():
            return int(num)
        for node in self.sec.nodes:
            if node.kind == "num" and node.label:
                return int(node.label.split(".")[0])
        return None

    def _expected_next(self, ref: str) -> bool:
        """Whether ``ref`` plausibly follows the last numbered clause (next sibling, first child, next section)."""
        if self.last_ref is None:
            return True
        last = [int(p) for p in self.last_ref.split(".")]
        new = [int(p) for p in _normalise_ref(ref).split(".")]
        if new == [*last, 1] or new[:1] == [last[0] + 1]:
            return True
        return any(new == [*last[:k], last[k] + 1] for k in range(1, len(last)))

    def _new_section(self, number: str | None, heading: str) -> None:
        heading = re.sub(r"\s+", " ", heading).strip().rstrip(":-–").strip()
        labelled = _LABELLED_HEADING_RE.match(heading)
        if number is None and labelled:
            number, heading = labelled.group(1), labelled.group(2)  # "II. SCOPE", "B. Governors": the document's own
        self.sec = _Sec(number=number, heading=heading)
        self.sections.append(self.sec)
        self.cur = self.container = None
        self.stack = []
        self.prev_kind = "heading"

    def _add(self, node: _Node) -> _Node:
        self.sec.nodes.append(node)
        self.cur = node
        return node

    def _in_numbered_context(self) -> bool:
        node = self.container
        while node is not None:
            if node.kind == "num" or (node.kind == "para" and node.label):
                return True
            node = node.parent
        return False

    # -- line handlers ---------------------------------------------------------------------

    def _numbered(self, ref: str, rest: str) -> None:
        ref = _normalise_ref(ref)
        major = ref.split(".")[0]
        sec_int = self._section_num_int()
        if self.sec.preamble or (sec_int is not None and int(major) > sec_int):
            if not (self.sec.number and not self.sec.preamble and self.sec.number == major):
                self._new_section(major, f"Section {major}")
        elif self.sec.number is None and not any(s.number == major for s in self.sections[:-1]):
            # an unnumbered heading takes its clauses' number, unless an earlier section already has it (then
            # the "heading" is more likely a stray line, and the section is given a generated number instead)
            self.sec.number = major
        expected = self._expected_next(ref)
        previous = self.last_ref
        self.last_ref = ref
        node = _Node("num", ref, None, [rest] if rest else [])
        if not expected and ref != previous:  # (a repeated number gets its own doubt when refs are given)
            node.doubts.append(f"The numbering jumps from {previous} to {ref}: check nothing was missed or misread.")
        self._add(node)
        self.container = node
        self.stack = []
        self.prev_kind = "num"

    def _item(self, style: str, indent: int, label: str | None, text: str, intro: bool = False) -> None:
        parent: _Node | None = None
        sibling: _Node | None = None
        while self.stack:
            top_style, top_indent, top_node = self.stack[-1]
            if top_style == style and abs(top_indent - indent) <= 1:
                parent = top_node.parent
                sibling = top_node
                self.stack.pop()
                break
            known_below = any(st == style and abs(ind - indent) <= 1 for st, ind, _ in self.stack[:-1])
            if indent > top_indent + 1 or (not known_below and indent >= top_indent - 1):
                parent = top_node
                break
            self.stack.pop()
        else:
            parent = self.container
        if intro and parent is None:
            node = self._add(_Node("para", None, None, [text]))
            self.container = node
            self.stack = []
            self.prev_kind = "para"
            return
        node = self._add(_Node("item", label, parent, [text], style=style))
        if sibling is not None and sibling.label and label and not _label_follows(sibling.label, label, style):
            node.doubts.append(
                f"The list goes from “{sibling.label}” to “{label}”: check no item was missed or misread."
            )
        if self.pending_doubt:
            node.doubts.append(self.pending_doubt)
            self.pending_doubt = ""
        self.stack.append((style + (":intro" if intro else ""), indent, node))
        self.prev_kind = "item"

    def _alpha_style(self, label: str, paren: bool) -> tuple[str, str]:
        """(style, label) for an (a)/a)/(i) item, deciding between letters and roman numerals."""
        kind = "(" if paren else ")"
        low = label.lower()
        if len(low) == 1 and low not in "ivxlc":
            return f"alpha{kind}", low
        # Prefer the reading that continues a sequence already open: (b) then (c), or (ii) then (iii).
        continues_alpha = (
            any(
                st.startswith("alpha") and node.label and len(node.label) == 1 and ord(low[0]) == ord(node.label) + 1
                for st, _i, node in self.stack
            )
            and len(low) == 1
        )
        continues_roman = any(
            st.startswith("roman") and node.label and _roman_value(low) == _roman_value(node.label) + 1
            for st, _i, node in self.stack
        )
        if continues_alpha and continues_roman:
            self.pending_doubt = f"“({label})” could continue the lettered list or the roman-numbered one."
        if continues_alpha != continues_roman:
            return (f"alpha{kind}", low) if continues_alpha else (f"roman{kind}", low)
        for st, _ind, node in reversed(self.stack):
            if st.startswith("alpha") and node.label and len(node.label) == 1 and ord(low[0]) == ord(node.label) + 1:
                return f"alpha{kind}", low  # (h) then (i): still letters
            if st.startswith("roman"):
                return f"roman{kind}", low
        # Nothing to continue: a roman list starts at (i); a lone (c), (l), (v) or (x) is a letter (a skipped one,
        # flagged as such by the caller).
        if len(low) > 1 or low == "i":
            return f"roman{kind}", low
        return f"alpha{kind}", low

    def _markdown_heading(self, s: str, level: int) -> None:
        """A ``#`` heading: a section (numbered if its text says so), or a sub-heading inside a section."""
        m = _NAMED_SECTION_RE.match(s) or _NUMBERED_HEADING_RE.match(s)
        multi = _MULTI_RE.match(s)
        if multi and multi.group(1).rstrip(".").split(".")[-1].strip("0") != "":
            self._numbered(multi.group(1), multi.group(2).strip())  # "## 2.3 Something": a clause marked up
            return
        if m:
            label = m.group(1)
            self._new_section(str(int(label)) if label.isdigit() else label.upper(), m.group(2) or s)
            return
        if self.md_section_level is not None and level > self.md_section_level and not self.sec.preamble:
            self._para(s)  # a sub-heading: kept as a paragraph of its section, in place
            self.cur = None  # ... that takes no continuation lines
            return
        self._new_section(None, s)

    def _para(self, text: str) -> None:
        node = self._add(_Node("para", None, None, [text]))
        self.container = node
        self.stack = []
        self.prev_kind = "para"

    def _continue(self, text: str) -> None:
        if self.cur is None:
            self._para(text)
        else:
            self.cur.lines.append(text)

    # -- main loop -------------------------------------------------------------------------

    def parse(self) -> tuple[str | None, list[_Sec]]:
        lines = self.lines
        start = 0
        # A title: one to three short unindented lines at the top, followed by a numbered or capitalised heading
        # or a contents list. With several lines, the one naming the document ("... Policy") wins.
        candidates: list[str] = []
        for line in lines[:3]:
            s = line.strip()
            if (
                line[:1] != " "
                and (_title_like(s, 14) or _is_caps_heading(s, False))
                and not _MULTI_RE.match(s)
                and not _SINGLE_RE.match(s)
                and not _CONTENTS_RE.match(s)
            ):
                candidates.append(s)
            else:
                break
        for n in range(len(candidates), 0, -1):
            nxt = lines[n] if n < len(lines) else None
            if nxt is None:
                continue
            nxt_s = nxt.strip()
            single = _SINGLE_RE.match(nxt_s)
            block = candidates[:n]
            named = [
                c for c in block if re.search(r"\b(?:polic(?:y|ies)|guidance|guidelines|code of conduct)\b", c, re.I)
            ]
            multi = _MULTI_RE.match(nxt_s)
            if (
                (multi and multi.group(1).count(".") == 1 and multi.group(1).split(".")[1].strip("0") == "")
                or (single and _heading_text(single.group(3)) and not _next_number_follows(nxt_s, lines, n))
                or _is_caps_heading(nxt_s, nxt[:1] == " ")
                or _CONTENTS_RE.match(nxt_s)
            ):
                self.title = re.sub(r"\s+", " ", (named or block)[0])
                start = n
                break
        if self.title is None:
            md_title = next((i for i in range(min(3, len(lines))) if self.md_level.get(i) == self.md_title_level), None)
            if md_title is not None and self.md_title_level is not None:
                self.title, start = lines[md_title].strip(), md_title + 1
            else:
                # "School name / Online Conduct Policy / Why we have this policy": the line naming the document is
                # its title when a heading-like line follows it.
                for k, c in enumerate(candidates):
                    nxt = lines[k + 1].strip() if k + 1 < len(lines) else ""
                    if re.search(r"\b(?:polic(?:y|ies)|guidance|guidelines|code)\b", c, re.I) and (
                        _title_like(nxt, 10) or _is_caps_heading(nxt, False) or _NAMED_SECTION_RE.match(nxt)
                    ):
                        self.title, start = re.sub(r"\s+", " ", c), k + 1
                        break
        for i in range(start, len(lines)):
            self._line(i)
            self.prev = lines[i].strip()
        return self.title, self.sections

    def _line(self, i: int) -> None:
        raw = self.lines[i]
        s = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        nxt = self._peek(i)
        prev = self.prev
        prev_terminal = prev is None or _ends_terminal(prev) or self.prev_kind in ("start", "heading")
        # A wrapped line that merely begins with a number or letter ("12 months ...") continues the sentence.
        soft_continuation = not prev_terminal and _starts_lower(s) and self.cur is not None

        if i in self.md_level:
            self._markdown_heading(s, self.md_level[i])
            return

        m = _NAMED_SECTION_RE.match(s)
        if (
            m
            and prev_terminal
            and (not m.group(2) or _title_like(m.group(2), 14) or _is_caps_heading(m.group(2), False))
        ):
            label = m.group(1)
            number = str(int(label)) if label.isdigit() else label.upper()
            self._new_section(number, m.group(2) or s)
            return

        if self.colon_style and prev_terminal and self._colon_heading_shape(raw):
            self._new_section(None, s)
            return

        m = _MULTI_RE.match(s)
        if m:
            ref, rest = m.group(1), m.group(2).strip()
            parts = ref.split(".")
            major = int(parts[0])
            sec_int = self._section_num_int()
            if not prev_terminal and self.cur is not None:
                # e.g. "2.5 hours" at the start of a wrapped line, rather than clause 2.5
                wrong_section = sec_int is not None and not self.sec.preamble and major < sec_int
                if wrong_section or (_starts_lower(rest) and not self._expected_next(ref)):
                    self._continue(s)
                    return
            if len(parts) == 2 and parts[1].strip("0") == "" and (not rest or _title_like(rest, 16)):
                self._new_section(_section_number_from_heading(ref), rest or f"Section {major}")
                return
            self._numbered(ref, rest)
            return

        m = _SINGLE_RE.match(s)
        if m and not soft_continuation:
            num, marker, rest = m.group(1), m.group(2), m.group(3).strip()
            # "3. Support" after a "1) 2) 3)" list is a heading; "4)" or a "1." right after "...as follows:" is not.
            continues_list = any(
                st == f"num{marker}"
                and node.label is not None
                and node.label.isdigit()
                and int(node.label) + 1 == int(num)
                for st, _i, node in self.stack
            )
            list_context = self.cur is not None and (continues_list or (prev or "").rstrip().endswith((":", ":-")))
            top = self.container
            continues_top = (
                top is not None and top.kind == "para" and top.label is not None and top.label == str(int(num) - 1)
            )
            if (
                not marker
                and not prev_terminal
                and self.cur is not None
                and not (continues_list or continues_top or _next_number_follows(s, self.lines, i))
            ):
                # "... for" / "12 months after they leave.": a wrapped line that happens to start with a number
                if not _starts_lower(rest):
                    self.cur.doubts.append(f"“{s}” was read as the rest of the sentence above, not a numbered item.")
                self._continue(s)
                return
            nxt_single = _SINGLE_RE.match(nxt.strip()) if nxt is not None else None
            # "1 Staff must keep profiles private" followed by "2 Staff must ...": a list, not a run of headings
            next_in_list = bool(
                nxt_single and nxt_single.group(2) == marker and int(nxt_single.group(1)) == int(num) + 1
            )
            sibling = continues_top and top.style == f"num{marker}"
            # after "1 ..." and "2 ...", "3 Photographs" is a heading only if it is short and says no "must"
            # ... and has text of its own under it (else it is the list's last item, and a heading follows it)
            nxt_body = nxt is not None and (
                _ends_terminal(nxt.strip()) or _is_list_start(nxt.strip()) or bool(_MULTI_RE.match(nxt.strip()))
            )
            heading_after_sibling = len(rest.split()) <= 5 and not _MODAL_RE.search(rest) and nxt_body
            if (
                marker != ")"
                and _heading_text(rest)
                and not list_context
                and not next_in_list
                and (not sibling or heading_after_sibling)
            ):
                if sibling:
                    self.loose_doubts.append(
                        (
                            s,
                            f"“{s}” was read as the heading of section {int(num)}; "
                            f"it could be item {num} of the list above it.",
                        )
                    )
                self._new_section(str(int(num)), rest)
                return
            top = self.container
            if (
                top is not None
                and top.kind == "para"
                and top.label is not None
                and top.style == f"num{marker}"
                and top.label.isdigit()
                and int(top.label) + 1 == int(num)
                and not continues_list
            ):
                # "1 Staff must ..." then "2 Staff must ...": the next in the sequence is a sibling, not a sub-item
                node = self._add(_Node("para", num, None, [rest], style=f"num{marker}"))
                self.container = node
                self.stack = []
                self.prev_kind = "para"
                return
            if self.container is not None:
                self._item(f"num{marker}", indent, num, rest)
            else:
                node = self._add(_Node("para", num, None, [rest], style=f"num{marker}"))
                self.container = node
                self.stack = []
                self.prev_kind = "para"
            return

        m = _PAREN_NUM_RE.match(s)
        if m and not soft_continuation:
            self._item("num()", indent, m.group(1), m.group(2))
            return

        m = _ALPHA_RE.match(s)
        if m and not soft_continuation:
            label = m.group(1) or m.group(2) or m.group(3)
            style, label = self._alpha_style(label, paren=m.group(1) is not None)
            self._item(style, indent, label, m.group(4))
            return

        m = _BULLET_RE.match(s)
        if m and not (m.group(1) in "-–—" and soft_continuation):  # "– a dash" wrapped to a new line
            self._item(_bullet_style(m.group(1)), indent, None, m.group(2))
            return

        indented = indent > 0
        nxt_s = nxt.strip() if nxt is not None else None
        sentence_runs_on = not prev_terminal and nxt_s is not None and _starts_lower(nxt_s)
        if _is_caps_heading(s, indented) and not (indented and soft_continuation) and not sentence_runs_on:
            self._new_section(None, s)
            return

        nxt_multi = _MULTI_RE.match(nxt_s) if nxt_s is not None else None
        nxt_numbered = nxt_multi is not None
        # In a numbered document a heading is followed by the first clause of its section (x.1), not by x.5.
        mid_section = (
            nxt_multi is not None
            and nxt_multi.group(1).rstrip(".").split(".")[-1] not in ("0", "1")
            and any(n.kind == "num" for n in self.sec.nodes)
        )
        # A bullet that ends "... from" or "... pupils," runs on: its next line is the rest of it, not a heading.
        prev_runs_on = prev is not None and (
            bool(_CONNECTOR_END_RE.search(prev.rstrip())) or prev.rstrip().endswith((",", "-", "–", "/", "&"))
        )
        between_items = not indented and self.prev_kind == "item" and self._is_bullet_line(nxt) and not prev_runs_on
        if (
            _title_like(s, 10)
            # "Posts are checked by" / "• the head teacher": a lead-in whose sentence the list completes
            and not (_CONNECTOR_END_RE.search(s) and nxt_s is not None and _starts_lower(_item_text(nxt_s)))
            and not mid_section
            and (
                (
                    not indented
                    and (prev_terminal or self._unpunctuated_list_ended(prev_runs_on))
                    and self._is_block_start(nxt)
                )
                or (indented and prev_terminal and nxt_numbered)
                or between_items
            )
        ):
            if between_items and not prev_terminal and not self.caps_style:
                self.loose_doubts.append(
                    (s, f"“{s}” was read as a heading between two lists; it could be the end of the item above it.")
                )
            if self.caps_style:
                self._para(s)  # a sub-heading such as "The Do's" in a document whose headings are in capitals
            else:
                self._new_section(None, s)
            return

        if indented:
            # Text extraction can indent a wrapped line (typically the first on a page): it continues the
            # sentence when it starts in lower case after an unfinished line, or when a full-width clause line
            # is followed by a capitalised one that does not follow a lead-in such as "as follows:".
            page_top = (
                self._in_numbered_context()
                and not self.stack
                and self._prev_is_full_width(prev)
                and not (prev or "").rstrip().endswith((":", ":-"))
            )
            if soft_continuation or (self.cur is not None and page_top):
                self._continue(s)
                return
            if self.prev_kind == "start":
                self._para(s)  # first line of the document, merely indented
                return
            intro = s.endswith((":", ":-")) and nxt is not None and self._is_bullet_line(nxt)
            self._item("bare", indent, None, s, intro=intro)
            return

        # Plain text line
        if self.cur is None:
            self._para(s)
        elif _starts_lower(s) or self._in_numbered_context():
            self._continue(s)
        elif self.cur.kind == "item":
            # After a list item: a wrapped continuation of the item, or a new paragraph after the list?
            if prev_terminal:
                if self._prev_is_full_width(prev):
                    self._continue(s)
                else:
                    self._para(s)
            elif prev is not None and _CONNECTOR_END_RE.search(prev.rstrip()):
                self._continue(s)
            else:
                self._para(s)  # list items often lack a full stop; a capitalised line starts afresh
        elif not prev_terminal:
            self._continue(s)
        else:
            self._para(s)
