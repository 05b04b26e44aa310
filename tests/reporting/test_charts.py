"""The pack's SVG charts: every label is escaped (whatever it holds), each chart names its title and
description for screen readers, and nothing in it needs a script or a style attribute (strict CSP)."""

import re

from reporting import charts

HOSTILE = '<script>alert("x")</script> & "quotes"'


def _all_charts(label):
    return [
        charts.stacked_columns("c1", label, ["Sep", label], [("k", label, [1, 2])], label),
        charts.columns_with_line("c2", label, [(label, 3), ("4–8 h", 1)], 1, label, label),
        charts.bars("c3", label, [(label, 2)], label),
    ]


def test_labels_titles_and_descriptions_are_escaped():
    for svg in _all_charts(HOSTILE):
        assert "<script" not in svg and "&lt;script&gt;" in svg
        assert 'alert("x")' not in svg and "&amp; &quot;quotes&quot;" in svg


def test_each_chart_is_an_image_named_by_its_title_and_description():
    for svg in _all_charts("Cases per month"):
        chart_id = re.search(r'<svg[^>]* id="(c\d)"', svg).group(1)
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg and 'role="img"' in svg
        assert f'<title id="{chart_id}-title">Cases per month</title>' in svg
        assert " style=" not in svg and "<script" not in svg and not re.search(r"\son\w+=", svg)


def test_empty_charts_say_so():
    assert "No cases received in this term" in charts.stacked_columns("e1", "t", ["Sep"], [], "d")
    assert "Nothing to show for this term" in charts.bars("e2", "t", [], "d")
