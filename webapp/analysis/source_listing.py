"""The uploaded script as highlighted lines, for the report's source view.

Highlighting is Pygments' (a well-kept lexer for every Python version's syntax), with its
class-based HTML formatter: the colours come from a stylesheet (:func:`stylesheet`),
never from style attributes, so the page keeps its strict Content-Security-Policy.
Pygments escapes every token it writes, and closes and reopens its spans at each line
end, so each line's HTML stands on its own: a string or docstring spanning lines stays
text inside its own line. No Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

CSS_SCOPE = ".src-code"  # the stylesheet's rules apply inside elements of this class only
LIGHT_STYLE = "default"
DARK_STYLE = "monokai"


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One line of the script: its number, its highlighted HTML, and the function defined there."""

    number: int
    html: str
    function: dict[str, Any] | None = None  # a function_complexity row, on the line of its ``def``


def highlighted_lines(source: str) -> list[str]:
    """The HTML of each line of ``source``, escaped and coloured with Pygments' classes."""
    if not source:
        return []
    # stripnl=False / ensurenl: keep leading blank lines, so numbers match the file's lines
    lexer = PythonLexer(stripnl=False, ensurenl=True)
    html = highlight(source, lexer, HtmlFormatter(nowrap=True))
    lines = html.split("\n")
    expected = len(source.splitlines())
    return (lines + [""] * expected)[:expected]


def source_lines(source: str, complexity: list[dict[str, Any]] | None = None) -> list[SourceLine]:
    """Each line of ``source`` with its highlighting and, on ``def`` lines, the function's
    complexity row (from ``function_complexity``: name, line, rank, shares of the samples)."""
    by_line = {row["line"]: row for row in complexity or [] if row.get("line")}
    return [SourceLine(number, html, by_line.get(number))
            for number, html in enumerate(highlighted_lines(source), start=1)]


def stylesheet() -> str:
    """Pygments' colours for the source view, light, and dark when the page is dark
    (data-theme="dark", or the system's dark scheme unless the page chose light)."""
    light = _scoped(LIGHT_STYLE, ':root:not([data-theme="dark"])')
    dark_forced = _scoped(DARK_STYLE, ':root[data-theme="dark"]')
    dark_system = _scoped(DARK_STYLE, ':root:not([data-theme="light"])')
    return f"{light}\n{dark_forced}\n@media (prefers-color-scheme: dark) {{\n{dark_system}\n}}\n"


def _scoped(style: str, prefix: str) -> str:
    rules = HtmlFormatter(style=style).get_style_defs(CSS_SCOPE).splitlines()
    return "\n".join(filter(None, (_prefixed(rule, prefix) for rule in rules)))


def _prefixed(rule: str, prefix: str) -> str:
    """A ``.src-code .k { ... }`` rule scoped under ``prefix``; "" for Pygments' rules outside
    the scope (pre, line numbers) and for the block's own background and colour, which are the page's."""
    if not rule.startswith(CSS_SCOPE):
        return ""
    selectors, _, body = rule.partition("{")
    scoped = ", ".join(f"{prefix} {selector.strip()}" for selector in selectors.split(","))
    if selectors.strip() == CSS_SCOPE:
        return ""
    return f"{scoped} {{{body}"
