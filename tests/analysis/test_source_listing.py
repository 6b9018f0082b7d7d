"""The source view's lines: Pygments' highlighting, escaped, one self-contained line each."""

from __future__ import annotations

import re

from webapp.analysis.source_listing import CSS_SCOPE, source_lines, stylesheet

HOSTILE = '\n\ndef spin(n):\n    """Docs\n</code></pre><script>alert(1)</script>\n"""\n    return "<b>&amp;"  # <i>\n'


def test_every_line_is_escaped_highlighted_and_numbered_as_in_the_file():
    complexity = [{"name": "spin", "line": 3, "end_line": 7, "complexity": 1, "rank": "A", "total_percent": 40.0}]
    lines = source_lines(HOSTILE, complexity)
    assert [line.number for line in lines] == list(range(1, 8))  # leading blank lines kept
    html = "".join(line.html for line in lines)
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in lines[4].html
    assert '&quot;&lt;b&gt;&amp;amp;&quot;' in lines[6].html or '"&lt;b&gt;&amp;amp;"' in lines[6].html
    assert '<span class="k">def</span>' in lines[2].html
    for line in lines:  # a docstring over three lines is closed and reopened on each one
        assert line.html.count("<span") == line.html.count("</span>")
    assert [line.function["name"] if line.function else None for line in lines] == [None, None, "spin"] + [None] * 4


def test_the_stylesheet_is_scoped_and_carries_a_dark_variant():
    css = stylesheet()
    rules = [rule for rule in css.splitlines() if "{" in rule and not rule.startswith("@media")]
    assert rules and all(f"{CSS_SCOPE} ." in rule for rule in rules), "no rule outside the source view"
    assert re.search(r':root\[data-theme="dark"\] \.src-code \.k \{', css)
    assert "@media (prefers-color-scheme: dark)" in css and "background: #" not in css
