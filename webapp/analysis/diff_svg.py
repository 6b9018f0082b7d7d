"""The differential flamegraph as one standalone SVG file (the "diff SVG" download).

Frame widths come from the head run (or the base run, ``widths="base"``), the colour from
the change of the frame's share of all samples, base -> head: red for more, blue for less,
on ColorBrewer's RdBu diverging scale (readable with the common colour-vision deficiencies),
saturated at the largest change in the picture. Frames present on one side only have a
black outline. Hover shows both sides (an SVG ``<title>``): no script in the file, and
every name reaches it XML-escaped, as text.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from webapp.analysis.diff_tree import totals

WIDTH_PX = 1200
FRAME_HEIGHT_PX = 16
FONT_SIZE_PX = 11
CHAR_WIDTH_PX = FONT_SIZE_PX * 0.6
TOP_PX = 56
MIN_FRAME_WIDTH_PX = 0.5  # narrower frames (and their subtrees) are left out
# RdBu end points and middle, as in static/js/compare/scale.js.
BLUE, WHITE, RED = (33, 102, 172), (247, 247, 247), (178, 24, 43)


def change_colour(change: float, scale: float) -> str:
    """The fill for a change of ``change`` points on a scale saturating at ``scale`` points."""
    share = max(-1.0, min(1.0, change / scale)) if scale > 0 else 0.0
    end = RED if share > 0 else BLUE
    weight = abs(share)
    r, g, b = (round(w + (e - w) * weight) for w, e in zip(WHITE, end))
    return f"rgb({r},{g},{b})"


def render_diff_svg(document: dict[str, Any], *, widths: str = "head") -> bytes:
    """The SVG of a :func:`~webapp.analysis.diff_tree.diff_tree` document."""
    other = "base" if widths == "head" else "head"
    sized, compared = totals(document, widths), totals(document, other)
    base_total = sized if widths == "base" else compared
    head_total = sized if widths == "head" else compared
    n1, n2 = document["base"]["samples"] or 1, document["head"]["samples"] or 1
    changes = [100.0 * (h / n2 - b / n1) for b, h in zip(base_total, head_total)]
    scale = max(max((abs(c) for c in changes[1:]), default=0.0), 1.0)
    depth, frame = document["depth"], document["frame"]
    rows = max(depth, default=0) + 1
    height = TOP_PX + rows * FRAME_HEIGHT_PX + 2 * FONT_SIZE_PX
    whole = sized[0] or 1
    parts = [_head(height, document, widths, scale)]
    x_of = {0: 0.0}
    next_x: dict[int, float] = {}
    chain: list[int] = []
    skip_below = None
    for node, level in enumerate(depth):
        if skip_below is not None and level > skip_below:
            continue
        skip_below = None
        del chain[level:]
        width = WIDTH_PX * sized[node] / whole
        if width < MIN_FRAME_WIDTH_PX:
            skip_below = level
            continue
        parent = chain[-1] if chain else None
        x = x_of[0] if parent is None else next_x[parent]
        if parent is not None:
            next_x[parent] = x + width
        x_of[node] = next_x[node] = x
        chain.append(node)
        y = height - 2 * FONT_SIZE_PX - (level + 1) * FRAME_HEIGHT_PX
        parts.append(_frame(document, node, frame[node], x, y, width, base_total[node], head_total[node],
                            changes[node], scale, n1, n2))
    parts.append("</svg>\n")
    return "".join(parts).encode()


def _head(height: int, document: dict, widths: str, scale: float) -> str:
    base, head = document["base"], document["head"]
    title = f"Differential flamegraph: {base['name']} (base) -> {head['name']} (head)"
    legend = (f"Widths: {widths} run. Red: more time in head than in base; blue: less "
              f"(saturated at {scale:.1f} points of all samples). Outlined: only in one run.")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX}" height="{height}" '
        f'viewBox="0 0 {WIDTH_PX} {height}" font-family="monospace" font-size="{FONT_SIZE_PX}">\n'
        f'<rect width="100%" height="100%" fill="#ffffff"/>\n'
        f'<text x="{WIDTH_PX / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>\n'
        f'<text x="4" y="40">{escape(legend)}</text>\n'
    )


def _frame(document: dict, node: int, function: int, x: float, y: float, width: float, base: int, head: int,
           change: float, scale: float, n1: int, n2: int) -> str:
    if function < 0:
        name, where = "all", ""
    else:
        frames = document["frames"]
        name = frames["name"][function]
        line = frames["line"][function]
        where = frames["file"][function] + (f":{line}" if line else "")
    only_one = function >= 0 and (base == 0 or head == 0)
    status = " (new: only in head)" if base == 0 else " (gone: only in base)" if head == 0 else ""
    tip = (f"{name} {where}{status}\nbase: {base} samples, {100 * base / n1:.2f} %\n"
           f"head: {head} samples, {100 * head / n2:.2f} %\nchange: {change:+.2f} points")
    stroke = ' stroke="#000000" stroke-width="1.5"' if only_one else ""
    label = _fit(name, width - 4)
    text = f'<text x="{x + 2:.2f}" y="{y + FRAME_HEIGHT_PX - 4}">{escape(label)}</text>' if label else ""
    return (f'<g><title>{escape(tip)}</title><rect x="{x:.2f}" y="{y}" width="{max(width - 0.5, 0.1):.2f}" '
            f'height="{FRAME_HEIGHT_PX - 1}" fill="{change_colour(change, scale)}"{stroke}/>{text}</g>\n')


def _fit(text: str, available_px: float) -> str:
    fits = int(available_px // CHAR_WIDTH_PX)
    if fits < 3:
        return ""
    return text if len(text) <= fits else text[: fits - 1] + "\N{HORIZONTAL ELLIPSIS}"
