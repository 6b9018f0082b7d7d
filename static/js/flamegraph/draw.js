// Drawing a laid-out flame tree on a canvas, and finding the frame under the pointer.
//
// Only what can be seen is touched: a frame narrower than MIN_FRAME_WIDTH_PX is skipped
// with its whole subtree (its children are narrower still), rows outside the scrolled
// viewport are skipped, rectangles are batched per colour (one path and one fill per
// colour), text widths are cached and long labels lose their middle, not their end.

import { ROOT_FRAME } from "./tree.js";

export const ROW_HEIGHT_PX = 18;
export const MIN_FRAME_WIDTH_PX = 1;
const GAP_PX = 1;                    // space between neighbouring frames and rows
const GAP_MIN_FRAME_WIDTH_PX = 3;    // narrower frames get no gap, or they would vanish
const LABEL_PADDING_PX = 4;
const SELECTED_OUTLINE_PX = 2;
const MIN_LABEL_WIDTH_PX = 20;
const MIN_LABEL_CHARS = 3;
const TEXT_CACHE_MAX_ENTRIES = 20000;
const FONT = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace';
const ELLIPSIS = "\u2026";

/** Row geometry shared by drawing and hit testing. */
export class Viewport {
  constructor({ width, height, contentHeight, scrollTop, orientation }) {
    Object.assign(this, { width, height, contentHeight, scrollTop, orientation });
  }

  /** Top edge (CSS px, canvas coordinates) of the row at ``depth``. */
  rowTop(depth) {
    const fromTop = this.orientation === "icicle"
      ? depth * ROW_HEIGHT_PX
      : this.contentHeight - (depth + 1) * ROW_HEIGHT_PX;
    return fromTop - this.scrollTop;
  }

  /** The depth of the row at canvas ``y``. */
  depthAt(y) {
    const fromTop = y + this.scrollTop;
    return this.orientation === "icicle"
      ? Math.floor(fromTop / ROW_HEIGHT_PX)
      : Math.floor((this.contentHeight - fromTop) / ROW_HEIGHT_PX);
  }
}

export class FlameCanvas {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.textWidths = new Map();
    this.dpr = 1;
    this.drawnFrames = 0;
  }

  /** Size the backing store for the device pixel ratio; CSS size set through CSSOM. */
  resize(width, height) {
    this.dpr = window.devicePixelRatio || 1;
    const pixelWidth = Math.max(1, Math.round(width * this.dpr));
    const pixelHeight = Math.max(1, Math.round(height * this.dpr));
    if (this.canvas.width !== pixelWidth) this.canvas.width = pixelWidth;
    if (this.canvas.height !== pixelHeight) this.canvas.height = pixelHeight;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
  }

  /**
   * Draw ``scene``: {tree, zoom, viewport, colours, theme, labelOf, matches, selected}, where
   * ``colours`` holds each frame's fill and faded colour and ``theme`` the rest (palette.js).
   * Returns the number of frames drawn.
   */
  draw(scene) {
    const { tree, zoom, viewport } = scene;
    const ctx = this.ctx;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, viewport.width, viewport.height);
    const batch = new Batch();
    this.selectedBox = null;
    const x0 = tree.start[zoom];
    const scale = viewport.width / (tree.total[zoom] || 1);
    const path = tree.path(zoom);
    for (let k = 0; k < path.length - 1; k++) this.place(batch, scene, path[k], 0, viewport.width, true);
    const icicle = viewport.orientation === "icicle";
    const { depth, total, start, end } = tree;
    for (let i = zoom; i < end[zoom];) {
      const width = total[i] * scale;
      if (width < MIN_FRAME_WIDTH_PX) { i = end[i]; continue; }
      const top = viewport.rowTop(depth[i]);
      const below = top >= viewport.height;
      const above = top + ROW_HEIGHT_PX <= 0;
      // Deeper rows lie further down in an icicle graph and further up in a flame graph.
      if ((below && icicle) || (above && !icicle)) { i = end[i]; continue; }
      if (!below && !above) this.place(batch, scene, i, (start[i] - x0) * scale, width, false);
      i++;
    }
    this.flush(batch);
    if (this.selectedBox) this.outline(this.selectedBox, scene.theme.focus);
    this.drawnFrames = batch.count;
    return batch.count;
  }

  /** Queue the rectangle and label of ``node`` at x, width (CSS px). */
  place(batch, scene, node, x, width, isAncestor) {
    const { tree, viewport, colours, matches, theme } = scene;
    const frame = tree.frame[node];
    const snap = (v) => Math.round(v * this.dpr) / this.dpr;
    const left = snap(x);
    const gap = width >= GAP_MIN_FRAME_WIDTH_PX ? GAP_PX : 0;
    const right = Math.max(left + 1 / this.dpr, snap(x + width) - gap);
    const top = viewport.rowTop(tree.depth[node]);
    let fill;
    let text = theme.text;
    if (frame === ROOT_FRAME) fill = theme.root;
    else if (matches && matches[frame]) { fill = theme.match; text = theme.matchText; }
    else if (matches || isAncestor) { fill = colours.faded[frame]; text = theme.dimText; }
    else fill = colours.fill[frame];
    batch.rect(fill, left, top, right - left, ROW_HEIGHT_PX - GAP_PX);
    if (node === scene.selected) this.selectedBox = { x: left, y: top, width: right - left, height: ROW_HEIGHT_PX - GAP_PX };
    if (right - left >= MIN_LABEL_WIDTH_PX) {
      const label = this.fitLabel(scene.labelOf(node), right - left - 2 * LABEL_PADDING_PX);
      if (label) batch.text(text, label, left + LABEL_PADDING_PX, top + (ROW_HEIGHT_PX - GAP_PX) / 2);
    }
  }

  /** Issue the queued rectangles (one fill per colour), then the labels. */
  flush(batch) {
    const ctx = this.ctx;
    for (const [colour, rects] of batch.rects) {
      ctx.fillStyle = colour;
      ctx.beginPath();
      for (let k = 0; k < rects.length; k += 4) ctx.rect(rects[k], rects[k + 1], rects[k + 2], rects[k + 3]);
      ctx.fill();
    }
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    for (const [colour, texts] of batch.texts) {
      ctx.fillStyle = colour;
      for (let k = 0; k < texts.length; k += 3) ctx.fillText(texts[k], texts[k + 1], texts[k + 2]);
    }
  }

  /** A ring inside ``box``, so neighbours do not cover it. */
  outline(box, colour) {
    const ctx = this.ctx;
    const inset = SELECTED_OUTLINE_PX / 2;
    ctx.strokeStyle = colour;
    ctx.lineWidth = SELECTED_OUTLINE_PX;
    ctx.strokeRect(box.x + inset, box.y + inset, Math.max(0, box.width - SELECTED_OUTLINE_PX),
      Math.max(0, box.height - SELECTED_OUTLINE_PX));
  }

  /** ``text`` shortened in the middle to fit ``available`` CSS px, or null if nothing useful fits. */
  fitLabel(text, available) {
    const full = this.measure(text);
    if (full <= available) return text;
    let keep = Math.floor((available / full) * text.length);
    for (; keep >= MIN_LABEL_CHARS; keep--) {
      const head = Math.ceil(keep / 2);
      const trimmed = text.slice(0, head) + ELLIPSIS + text.slice(text.length - (keep - head));
      if (this.measure(trimmed) <= available) return trimmed;
    }
    return null;
  }

  measure(text) {
    let width = this.textWidths.get(text);
    if (width === undefined) {
      if (this.textWidths.size > TEXT_CACHE_MAX_ENTRIES) this.textWidths.clear();
      this.ctx.font = FONT;
      width = this.ctx.measureText(text).width;
      this.textWidths.set(text, width);
    }
    return width;
  }

  /** The node drawn at canvas point (x, y), or -1. */
  hitTest(scene, x, y) {
    const { tree, zoom, viewport } = scene;
    const depth = viewport.depthAt(y);
    if (depth < 0 || depth > tree.maxDepth || x < 0 || x >= viewport.width) return -1;
    const scale = viewport.width / (tree.total[zoom] || 1);
    const node = tree.nodeAt(zoom, depth, tree.start[zoom] + x / scale);
    if (node < 0 || (tree.depth[node] >= tree.depth[zoom] && tree.total[node] * scale < MIN_FRAME_WIDTH_PX)) return -1;
    return node;
  }
}

/** Rectangles grouped by fill colour and labels grouped by text colour. */
class Batch {
  constructor() {
    this.rects = new Map();
    this.texts = new Map();
    this.count = 0;
  }

  rect(colour, x, y, width, height) {
    let list = this.rects.get(colour);
    if (!list) this.rects.set(colour, (list = []));
    list.push(x, y, width, height);
    this.count++;
  }

  text(colour, label, x, y) {
    let list = this.texts.get(colour);
    if (!list) this.texts.set(colour, (list = []));
    list.push(label, x, y);
  }
}
