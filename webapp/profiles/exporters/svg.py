"""Standalone SVG flamegraph: one self-contained file, interactive offline.

Function-level, all threads merged, root at the bottom. Frames are laid out here,
so the picture shows in any SVG viewer; a small script inside the file adds click
to zoom, hover details, search (text or /regex/, with "matched: x %") and reset.
The script carries no data: it reads the frames from the drawing itself, and every
name reaches the file XML-escaped, as text.

Frames narrower than ``min_frame_width_px`` at full width are left out (with their
subtrees) to keep the file small; the in-page flamegraph keeps everything.

The picture is as tall as the rows that hold a frame at least VISIBLE_FRAME_WIDTH_PX wide,
like the in-page flamegraph: a deep stack of a few samples, too thin to see, does not
squash the real work. Frames deeper than that are in the file, hidden; a zoom makes the
picture as tall as what it then shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from webapp.profiles.exporters.base import Exporter
import numpy as np

from webapp.profiles.exporters.flame_tree import ORIGINS, OriginClassifier, clean_text
from webapp.profiles.model import Frame, Profile
from webapp.profiles.stack_tree import ROOT_FRAME, CallTree

# Same palettes as static/js/flamegraph/palette.js: hue range, saturation, lightness range.
_PALETTES = {
    "script": ((6, 30), 86, (55, 63)),
    "stdlib": ((40, 54), 88, (54, 62)),
    "site-packages": ((334, 352), 66, (66, 73)),
    "native": ((22, 34), 14, (66, 74)),
}
_ROOT_COLOUR = "hsl(24, 10%, 78%)"
VISIBLE_FRAME_WIDTH_PX = 1.0  # static/js/flamegraph/draw.js MIN_FRAME_WIDTH_PX
_ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"
_MIN_LABEL_CHARS = 3


@dataclass(frozen=True)
class _Geometry:
    width_px: int
    frame_height_px: int
    font_size_px: int
    padding_px: int
    rows: int

    @property
    def char_width_px(self) -> float:
        return self.font_size_px * 0.6  # a monospace advance; the script assumes the same

    @property
    def top_px(self) -> int:
        return 3 * self.font_size_px

    @property
    def height_px(self) -> int:
        return self.top_px + self.rows * self.frame_height_px + 2 * self.font_size_px

    def row_top(self, depth: int) -> int:
        """Flame orientation: the root on the bottom row."""
        return self.top_px + (self.rows - 1 - depth) * self.frame_height_px


class SvgExporter(Exporter):
    """Renders a Profile as a standalone, interactive ``flamegraph.svg`` (function level)."""

    name = "svg"
    file_suffix = ".svg"
    media_type = "image/svg+xml"

    def __init__(
        self,
        script_file: str | Iterable[str] | None = None,  # several: a project's files
        width_px: int = 1200,
        frame_height_px: int = 17,
        font_size_px: int = 12,
        padding_px: int = 4,
        min_frame_width_px: float = 0.25,
    ) -> None:
        super().__init__(line_level=False)
        self.classifier = OriginClassifier(script_file)
        self.width_px = width_px
        self.frame_height_px = frame_height_px
        self.font_size_px = font_size_px
        self.padding_px = padding_px
        self.min_frame_width_px = min_frame_width_px

    def render(self, profile: Profile) -> bytes:
        """The SVG document of ``profile`` as UTF-8 XML."""
        leveled = profile.function_level()
        tree = leveled.call_tree()
        selves = tree.selves(leveled.stack_weights())
        totals = tree.totals(selves)
        whole = int(totals[0]) or 1
        # Rows as deep as the frames wide enough to draw: a deep stack of a few samples adds none.
        drawn = totals / whole * self.width_px >= VISIBLE_FRAME_WIDTH_PX
        visible_rows = 1 + (int(tree.depth[drawn].max()) if drawn.any() else 0)
        geometry = _Geometry(self.width_px, self.frame_height_px, self.font_size_px, self.padding_px, visible_rows)
        title = f"{clean_text(profile.name)} \N{EM DASH} {int(totals[0]):,} samples"
        parts = [self._head(geometry, title)]
        parts.extend(self._frames(geometry, leveled.frames, tree, selves, totals))
        parts.append(f"</g>\n<script><![CDATA[{SVG_SCRIPT}]]></script>\n</svg>\n")
        return "".join(parts).encode("utf-8")

    def _head(self, g: _Geometry, title: str) -> str:
        w, h, fs, pad = g.width_px, g.height_px, g.font_size_px, g.padding_px
        heading_y, footer_y = fs * 1.8, h - fs * 0.6
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-size="{fs}" '
            'font-family="ui-monospace, Menlo, Consolas, &apos;DejaVu Sans Mono&apos;, monospace" '
            f'data-char-width="{g.char_width_px:.3f}" data-padding="{pad}" data-rows="{g.rows}" '
            f'data-frame-height="{g.frame_height_px}" data-top="{g.top_px}" '
            f'data-min-visible="{VISIBLE_FRAME_WIDTH_PX}">\n'
            f"<title>{_text(title)}</title>\n<style>{SVG_STYLE}</style>\n"
            f'<rect id="background" class="background" x="0" y="0" width="{w}" height="{h}"/>\n'
            f'<text id="title" x="{w / 2}" y="{heading_y}" text-anchor="middle">{_text(title)}</text>\n'
            f'<text id="reset" class="button" x="{pad}" y="{heading_y}" visibility="hidden">Reset zoom</text>\n'
            f'<text id="search" class="button" x="{w - pad}" y="{heading_y}" text-anchor="end">Search</text>\n'
            f'<text id="details" x="{pad}" y="{footer_y}"> </text>\n'
            f'<text id="matched" x="{w - pad}" y="{footer_y}" text-anchor="end"> </text>\n'
            '<g id="frames">\n'
        )

    def _frames(
        self, g: _Geometry, frames: list[Frame], tree: CallTree, selves: np.ndarray, totals: np.ndarray
    ) -> list[str]:
        """One ``<g class="frame">`` per node wide enough to see, in depth-first order.

        A node is never wider than its parent, so the visible nodes are simply those
        wide enough, and every hidden node's subtree is hidden too. A node starts where
        the samples of the nodes before it in pre-order end, less those of its ancestors
        (which lie above it, not to its left)."""
        looks = [self._look(frame) for frame in frames]  # per frame, not per node: few of them
        root_look = self._look(None)
        whole = int(totals[0]) or 1
        visible = np.flatnonzero(totals / whole * g.width_px >= self.min_frame_width_px)
        before = np.cumsum(selves) - selves
        ancestors_self: dict[int, int] = {-1: 0}
        element = _FrameElements(g, whole)
        out: list[str] = []
        rows = zip(visible.tolist(), tree.parent[visible].tolist(), tree.depth[visible].tolist(),
                   tree.frame[visible].tolist(), totals[visible].tolist(), selves[visible].tolist(),
                   before[visible].tolist())
        for node, parent, depth, frame, total, own, earlier in rows:
            above = ancestors_self[parent]
            ancestors_self[node] = above + own
            out.append(element(root_look if frame == ROOT_FRAME else looks[frame], depth, earlier - above, total, own))
        return out

    def _look(self, frame: Frame | None) -> tuple[str, str, str]:
        """(name, escaped "name, location" title lines, fill colour) of a frame; None: the root."""
        if frame is None:
            return "all", "all\n", _ROOT_COLOUR
        name = clean_text(frame.name)
        fill = _colour(frame, ORIGINS[self.classifier.origin(frame.file)])
        return name, _text(f"{name}\n{_location(frame)}"), fill


class _FrameElements:
    """Makes the ``<g>`` of one node (hover title, rectangle, label), with what every node
    shares worked out once: about 17,000 of them in a big profile's SVG."""

    def __init__(self, g: _Geometry, whole: int):
        self.g, self.whole, self.scale = g, whole, g.width_px / whole
        self.padding, self.char_width, self.rows = g.padding_px, g.char_width_px, g.rows
        self.height = g.frame_height_px - 1
        self.label_y = g.frame_height_px * 0.72
        self.labels: dict[tuple[str, int], str] = {}  # (name, characters that fit) -> escaped label

    def __call__(self, look: tuple[str, str, str], depth: int, start: int, total: int, own: int) -> str:
        name, title, fill = look
        whole, g = self.whole, self.g
        x_px, width_px, top = start * self.scale, total * self.scale, g.row_top(depth)
        fits = int((width_px - 2 * self.padding) // self.char_width)
        label = self.labels.get((name, fits))
        if label is None:
            label = self.labels[(name, fits)] = _text(_fit(name, fits))
        hidden = " hidden" if depth >= self.rows else ""  # deeper than any frame wide enough to see
        return (
            f'<g class="frame{hidden}" data-x="{start / whole:.10g}" data-w="{total / whole:.10g}" data-d="{depth}">'
            f"<title>{title}\nTotal: {total:,} samples ({100 * total / whole:.2f} %)"
            f" \N{MIDDLE DOT} self: {own:,} ({100 * own / whole:.2f} %)</title>"
            f'<rect x="{x_px:.2f}" y="{top}" width="{max(width_px - 0.5, 0.1):.2f}" '
            f'height="{self.height}" rx="1.5" fill="{fill}"/>'
            f'<text x="{x_px + self.padding:.2f}" y="{top + self.label_y:.1f}">{label}</text>'
            "</g>\n"
        )


def _text(value: str) -> str:
    """``value`` (already cleaned) escaped for XML text or a quoted attribute."""
    return escape(value, {'"': "&quot;", "'": "&apos;"})


def _location(frame: Frame) -> str:
    if not frame.file:
        return "no source file"
    return f"{clean_text(frame.file)}:{frame.line}" if frame.line else clean_text(frame.file)


def _fit(text: str, fits: int) -> str:
    """``text`` shortened in the middle to ``fits`` characters; "" when too little fits."""
    if len(text) <= fits:
        return text
    keep = fits - 1
    if keep < _MIN_LABEL_CHARS:
        return ""
    head = (keep + 1) // 2
    return text[:head] + _ELLIPSIS + text[len(text) - (keep - head):]


def _hash32(text: str) -> int:
    """FNV-1a over UTF-16 code units, then murmur3's finaliser: the hash palette.js uses."""
    value = 0x811C9DC5
    units = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(units), 2):
        value = ((value ^ (units[i] | units[i + 1] << 8)) * 0x01000193) & 0xFFFFFFFF
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & 0xFFFFFFFF
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & 0xFFFFFFFF
    return value ^ (value >> 16)


def _colour(frame: Frame, origin: str) -> str:
    """The function's stable colour in its origin's palette (same as in the page)."""
    (hue_low, hue_high), saturation, (light_low, light_high) = _PALETTES.get(origin, _PALETTES["native"])
    hashed = _hash32(f"{frame.name}\0{frame.file}")
    h1, h2 = (hashed & 0xFFFF) / 65536, (hashed >> 16) / 65536
    hue = _js_round(hue_low + (hue_high - hue_low) * h1) % 360
    light = _js_round(light_low + (light_high - light_low) * h2)
    return f"hsl({hue}, {saturation}%, {light}%)"


def _js_round(value: float) -> int:
    """Math.round: halves go up (Python's round() goes to even)."""
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


SVG_STYLE = """
.background { fill: #fffdfb; }
text { fill: #2b2420; }
#title { font-size: 1.2em; font-weight: 600; }
.button { fill: #d9480f; cursor: pointer; }
.button:hover { text-decoration: underline; }
#matched { fill: #6d28d9; font-weight: 600; }
.frame { cursor: pointer; }
.frame text { fill: #110d0b; pointer-events: none; }
.frame:hover rect { stroke: #2b2420; stroke-width: 0.8; }
.frame.match rect { fill: hsl(268, 72%, 58%); }
.frame.match text { fill: #ffffff; }
.frame.ancestor { opacity: 0.55; }
.frame.hidden { display: none; }
"""

# Plain script for the downloaded file. It must never contain the CDATA terminator.
SVG_SCRIPT = r"""
(function () {
  "use strict";
  var svg = document.documentElement;
  var width = parseFloat(svg.getAttribute("width"));
  var charWidth = parseFloat(svg.getAttribute("data-char-width"));
  var padding = parseFloat(svg.getAttribute("data-padding"));
  var allRows = parseInt(svg.getAttribute("data-rows"), 10);
  var frameHeight = parseFloat(svg.getAttribute("data-frame-height"));
  var top = parseFloat(svg.getAttribute("data-top"));
  var fontSize = parseFloat(svg.getAttribute("font-size"));
  var minVisible = parseFloat(svg.getAttribute("data-min-visible"));
  var framesGroup = document.getElementById("frames");
  var background = document.getElementById("background");
  var details = document.getElementById("details");
  var matched = document.getElementById("matched");
  var resetButton = document.getElementById("reset");
  var searchButton = document.getElementById("search");
  var frames = Array.prototype.map.call(document.querySelectorAll("g.frame"), function (g) {
    var lines = g.querySelector("title").textContent.split("\n");
    return { g: g, rect: g.querySelector("rect"), text: g.querySelector("text"),
             name: lines[0], location: lines[1] || "", summary: lines.slice(0, 3).filter(Boolean).join("  \u00b7  "),
             x: parseFloat(g.getAttribute("data-x")), w: parseFloat(g.getAttribute("data-w")),
             d: parseInt(g.getAttribute("data-d"), 10) };
  });
  var byElement = new Map(frames.map(function (f) { return [f.g, f]; }));
  var EPSILON = 1e-9;
  var query = "";

  function fit(text, available) {
    var fits = Math.floor(available / charWidth);
    if (text.length <= fits) return text;
    var keep = fits - 1;
    if (keep < 3) return "";
    var head = Math.ceil(keep / 2);
    return text.slice(0, head) + "\u2026" + text.slice(text.length - (keep - head));
  }

  function place(f, x, w) {
    f.rect.setAttribute("x", (x * width).toFixed(2));
    f.rect.setAttribute("width", Math.max(w * width - 0.5, 0.1).toFixed(2));
    f.text.setAttribute("x", (x * width + padding).toFixed(2));
    f.text.textContent = fit(f.name, w * width - 2 * padding);
  }

  // As tall as the rows holding a frame wide enough to see; frames are laid out for allRows.
  function fitHeight(rows) {
    var height = top + rows * frameHeight + 2 * fontSize;
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    background.setAttribute("height", height);
    framesGroup.setAttribute("transform", "translate(0 " + (rows - allRows) * frameHeight + ")");
    details.setAttribute("y", height - fontSize * 0.6);
    matched.setAttribute("y", height - fontSize * 0.6);
  }

  function zoom(target) {
    var rows = target.d + 1;
    var shown = [];
    frames.forEach(function (f) {
      var inside = f.x >= target.x - EPSILON && f.x + f.w <= target.x + target.w + EPSILON;
      var contains = f.x <= target.x + EPSILON && f.x + f.w >= target.x + target.w - EPSILON;
      f.g.classList.remove("hidden", "ancestor");
      if (f.d < target.d && contains) { f.g.classList.add("ancestor"); place(f, 0, 1); }
      else if (f.d >= target.d && inside) {
        place(f, (f.x - target.x) / target.w, f.w / target.w);
        shown.push(f);
        if (f.w / target.w * width >= minVisible) rows = Math.max(rows, f.d + 1);
      }
      else f.g.classList.add("hidden");
    });
    shown.forEach(function (f) { if (f.d >= rows) f.g.classList.add("hidden"); });
    fitHeight(rows);
    resetButton.setAttribute("visibility", target.d === 0 ? "hidden" : "visible");
  }

  function reset() { zoom(frames[0]); }

  function matcher(text) {
    var regex = /^\/(.+)\/([a-z]*)$/.exec(text);
    if (regex) {
      var pattern = new RegExp(regex[1], regex[2].replace(/[gy]/g, ""));
      return function (f) { return pattern.test(f.name) || pattern.test(f.location); };
    }
    var needle = text.toLowerCase();
    return function (f) { return f.name.toLowerCase().indexOf(needle) >= 0 || f.location.toLowerCase().indexOf(needle) >= 0; };
  }

  function search(text) {
    query = (text || "").trim();
    var test;
    try { test = query ? matcher(query) : null; }
    catch (error) { matched.textContent = "not a valid regular expression"; return; }
    var spans = [];
    frames.forEach(function (f) {
      var hit = Boolean(test) && f.d > 0 && test(f);
      f.g.classList.toggle("match", hit);
      if (hit) spans.push([f.x, f.x + f.w]);
    });
    // Each sample once: nested matches lie inside their ancestor's span, so measure the union.
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var covered = 0, end = -1;
    spans.forEach(function (s) {
      if (s[1] <= end) return;
      covered += s[1] - Math.max(s[0], end);
      end = s[1];
    });
    matched.textContent = query ? "matched: " + (covered * 100).toFixed(1) + " % of samples" : " ";
    searchButton.textContent = query ? "Clear search" : "Search";
  }

  function askSearch() {
    if (query) { search(""); return; }
    var text = window.prompt("Search functions and files (text or /regex/):", "");
    if (text) search(text);
  }

  svg.addEventListener("click", function (event) {
    var g = event.target.closest && event.target.closest("g.frame");
    if (g) zoom(byElement.get(g));
  });
  svg.addEventListener("mouseover", function (event) {
    var g = event.target.closest && event.target.closest("g.frame");
    details.textContent = g ? byElement.get(g).summary : " ";
  });
  resetButton.addEventListener("click", function (event) { event.stopPropagation(); reset(); });
  searchButton.addEventListener("click", function (event) { event.stopPropagation(); askSearch(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" || (event.key === "f" && (event.ctrlKey || event.metaKey))) {
      event.preventDefault();
      askSearch();
    } else if (event.key === "Escape") {
      reset();
      search("");
    }
  });
  window.flamegraphSvg = { zoom: function (i) { zoom(frames[i]); }, reset: reset, search: search };
})();
"""
