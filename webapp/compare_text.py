"""A comparison document as terminal text or as a Markdown table for a pull-request comment.

Both read the comparison's JSON document (what ``GET /api/v1/compare/<base>/<head>`` answers
and what ``flamedeck compare`` builds locally), so the server and the CLI print the same.
Rows are in the document's order: significant regressions first, largest first.
"""

from __future__ import annotations

from typing import Any

ROWS_SHOWN = 15  # rows of a table; the rest are counted, not listed


def _points(value: float) -> str:
    return f"{value:+.1f}"


def _interval(row: dict[str, Any]) -> str:
    return f"[{row['interval_low_points']:+.1f}, {row['interval_high_points']:+.1f}]"


def _mark(row: dict[str, Any]) -> str:
    if row["verdict"] == "~":
        return "~"
    return "slower" if row["verdict"] == "regression" else "faster"


def _where(row: dict[str, Any]) -> str:
    return f"{row['file']}:{row['line']}" if row.get("line") else row.get("file") or ""


def _shown(document: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    rows = document["functions"]
    return rows[:ROWS_SHOWN], max(len(rows) - ROWS_SHOWN, 0)


def _side_label(side: dict[str, Any] | None, fallback: str) -> str:
    if not side:
        return fallback
    return side.get("url") or side.get("script_name") or fallback


def format_text(document: dict[str, Any]) -> str:
    """The comparison as a fixed-width table for a terminal."""
    lines = [f"base: {_side_label(document.get('base'), 'base')}  ({document['base_samples']} samples)",
             f"head: {_side_label(document.get('head'), 'head')}  ({document['head_samples']} samples)"]
    for sentence in (document.get("options_check") or {}).get("differences", []):
        lines.append(f"warning: {sentence}")
    lines.append(f"{'function':<40} {'where':<28} {'self base':>9} {'self head':>9} {'change':>7}  "
                 f"{'95 % interval':<16} verdict")
    rows, hidden = _shown(document)
    for row in rows:
        lines.append(
            f"{row['name'][:40]:<40} {_where(row)[-28:]:<28} {row['base_self_percent']:>8.1f}% "
            f"{row['head_self_percent']:>8.1f}% {_points(row['self_change_points']):>7}  "
            f"{_interval(row):<16} {_mark(row)}")
    if hidden:
        lines.append(f"... and {hidden} more functions (--format json lists them all)")
    lines.append(document["verdict"])
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell, shown literally (code span, pipes escaped)."""
    text = text.replace("`", "'").replace("|", "\\|").replace("\n", " ")
    return f"`{text}`" if text else ""


def format_markdown(document: dict[str, Any]) -> str:
    """The comparison as a Markdown table fit for a pull-request comment."""
    base, head = document.get("base") or {}, document.get("head") or {}
    lines = ["### flamedeck: base → head", ""]
    links = []
    if base.get("url"):
        links.append(f"[base]({base['url']})")
    if head.get("url"):
        links.append(f"[head]({head['url']})")
    if document.get("compare_url"):
        links.append(f"[compare page]({document['compare_url']})")
    if links:
        lines += [" · ".join(links), ""]
    lines += [f"**{document['verdict']}**", ""]
    for sentence in (document.get("options_check") or {}).get("differences", []):
        lines.append(f"> ⚠ {sentence}")
    if (document.get("options_check") or {}).get("differences"):
        lines.append("")
    lines += ["| function | self base | self head | change (points) | 95 % interval | |",
              "|---|---:|---:|---:|---|---|"]
    rows, hidden = _shown(document)
    for row in rows:
        lines.append(
            f"| {_cell(row['name'])} {_cell(_where(row))} | {row['base_self_percent']:.1f} % | "
            f"{row['head_self_percent']:.1f} % | {_points(row['self_change_points'])} | {_interval(row)} | "
            f"{_mark(row)} |")
    if hidden:
        lines += ["", f"… and {hidden} more functions: see the compare page."]
    lines += ["", f"Shares of all samples ({document['base_samples']} in base, {document['head_samples']} in head); "
                  "`~`: within sampling noise at 95 %."]
    return "\n".join(lines) + "\n"
