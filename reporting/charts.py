"""Charts drawn on the server as SVG ([9] item 2): no script, no style attribute (the strict CSP
allows neither), presentation attributes only, so they print as they show. Each chart has a title
and a description for screen readers, and the page puts its figures in a table beside it.

Every element is written through format_html, so each text and value that goes into the SVG is
escaped (labels come from choices, but the rule does not depend on that).
"""

from django.utils.html import format_html, format_html_join

# Colour-blind-safe palette (Okabe-Ito), dark enough against white for the bars to be seen.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#7F6B00")
INK = "#212529"
GRID = "#ADB5BD"
WIDTH = 640


def _svg(chart_id: str, title: str, desc: str, height: int, body: list) -> str:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" '
        'role="img" aria-labelledby="{}-title {}-desc" class="report-chart" '
        'font-family="sans-serif" font-size="13" id="{}">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        WIDTH,
        height,
        chart_id,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        desc,
        format_html_join("", "{}", ((part,) for part in body)),
    )


def _n(value: float) -> str:
    return f"{value:.1f}"


def _text(x, y, text, *, anchor="start", size=13, weight="normal") -> str:
    return format_html(
        '<text x="{}" y="{}" text-anchor="{}" font-size="{}" font-weight="{}" fill="{}">{}</text>',
        _n(x),
        _n(y),
        anchor,
        size,
        weight,
        INK,
        text,
    )


def _line(x1, x2, y1, y2, *, colour=GRID, width=1, dash="") -> str:
    return format_html(
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="{}"{}/>',
        _n(x1),
        _n(x2),
        _n(y1),
        _n(y2),
        colour,
        width,
        format_html(' stroke-dasharray="{}"', dash) if dash else "",
    )


def _rect(x, y, width, height, colour) -> str:
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>', _n(x), _n(y), _n(width), _n(height), colour
    )


def _scale_top(value: int) -> int:
    """A round top for the value axis (at least 1)."""
    for top in (1, 2, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= top:
            return top
    return -(-value // 1000) * 1000


def stacked_columns(chart_id: str, title: str, columns: list[str], series: list, desc: str) -> str:
    """Columns (months) stacked by series [(key, label, [n per column])], with a legend below."""
    left, top, plot_h, bottom_labels = 40, 16, 200, 28
    legend_rows = len(series)
    height = top + plot_h + bottom_labels + 20 * legend_rows + 10
    totals = [sum(s[2][i] for s in series) for i in range(len(columns))]
    peak = _scale_top(max(totals, default=0))
    plot_w = WIDTH - left - 10
    slot = plot_w / max(len(columns), 1)
    bar = min(60, slot * 0.6)
    body = []
    for tick in (0, peak / 2, peak):
        y = top + plot_h - plot_h * tick / peak
        body.append(_line(left, WIDTH - 10, y, y))
        body.append(_text(left - 6, y + 4, f"{tick:g}", anchor="end", size=11))
    for i, label in enumerate(columns):
        x = left + slot * i + (slot - bar) / 2
        base = top + plot_h
        for j, (_key, _label, values) in enumerate(series):
            h = plot_h * values[i] / peak
            if h:
                base -= h
                colour = PALETTE[j % len(PALETTE)]
                body.append(_rect(x, base, bar, h, colour))
        body.append(_text(x + bar / 2, top + plot_h + 18, label, anchor="middle", size=12))
        if totals[i]:
            body.append(_text(x + bar / 2, base - 4, str(totals[i]), anchor="middle", size=11))
    y = top + plot_h + bottom_labels + 10
    for j, (_key, label, values) in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        body.append(_rect(left, y - 10, 12, 12, colour))
        body.append(_text(left + 18, y, f"{label} ({sum(values)})", size=12))
        y += 20
    if not series:
        body.append(_text(WIDTH / 2, top + plot_h / 2, "No cases received in this term", anchor="middle"))
    return _svg(chart_id, title, desc, height, body)


def columns_with_line(chart_id: str, title: str, bands: list, line_after: int, line_label: str, desc: str) -> str:
    """Columns [(label, n)] with a dashed vertical line after column `line_after` (the deadline)."""
    left, top, plot_h = 40, 24, 180
    height = top + plot_h + 40
    peak = _scale_top(max((n for _label, n in bands), default=0))
    plot_w = WIDTH - left - 10
    slot = plot_w / max(len(bands), 1)
    bar = slot * 0.7
    body = []
    for tick in (0, peak / 2, peak):
        y = top + plot_h - plot_h * tick / peak
        body.append(_line(left, WIDTH - 10, y, y))
        body.append(_text(left - 6, y + 4, f"{tick:g}", anchor="end", size=11))
    for i, (label, n) in enumerate(bands):
        x = left + slot * i + (slot - bar) / 2
        h = plot_h * n / peak
        colour = PALETTE[0] if i < line_after else PALETTE[1]
        if h:
            body.append(_rect(x, top + plot_h - h, bar, h, colour))
        body.append(_text(x + bar / 2, top + plot_h - h - 4, str(n), anchor="middle", size=11))
        body.append(_text(x + bar / 2, top + plot_h + 16, label, anchor="middle", size=10))
    x = left + slot * line_after
    body.append(_line(x, x, top - 10, top + plot_h, colour=INK, width=2, dash="6 4"))
    body.append(_text(x + 4, top - 12 + 10, line_label, size=11, weight="bold"))
    return _svg(chart_id, title, desc, height, body)


def bars(chart_id: str, title: str, rows: list, desc: str) -> str:
    """Horizontal bars [(label, n)], the label above each bar (long labels fit a phone's width)."""
    top, row_h = 8, 40
    height = top + row_h * max(len(rows), 1) + 8
    peak = _scale_top(max((n for _label, n in rows), default=0))
    body = []
    plot_w = WIDTH - 60
    for i, (label, n) in enumerate(rows):
        y = top + row_h * i
        body.append(_text(0, y + 13, label, size=12))
        w = plot_w * n / peak
        if w:
            body.append(_rect(0, y + 18, w, 14, PALETTE[2]))
        body.append(_text(w + 6, y + 30, str(n), size=12, weight="bold"))
    if not rows:
        body.append(_text(WIDTH / 2, top + 20, "Nothing to show for this term", anchor="middle"))
    return _svg(chart_id, title, desc, height, body)
