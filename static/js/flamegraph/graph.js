// The flamegraph controller: state (view, grouping, orientation, zoom, search), events,
// layout of the scrolling canvas, and the public methods mountFlamegraph() returns.

import { FlameData, INVALID_QUERY_MESSAGE, ROOT_FRAME, compileQuery, matchFrames } from "./tree.js";
import { FlameCanvas, Viewport, ROW_HEIGHT_PX, MIN_FRAME_WIDTH_PX } from "./draw.js";
import { functionColours, readTheme } from "./palette.js";
import { buildControls, showTooltipAt, hideTooltip, formatCount, formatPercent } from "./controls.js";
import { isDrawn } from "./navigate.js";
import { bindEvents } from "./events.js";
import { noTransforms, transformKey, transformTree } from "./transforms.js";
import { addTransformControls } from "./transform-controls.js";
import { Sandwich } from "./sandwich.js";
import { syncWithUrl } from "./view-state.js";
import { displayFile } from "./locations.js";
import { bindSource, revealLine } from "./source-heat.js";
import { figuresOfTree } from "./table-figures.js";

const ORIENTATION_KEY = "flamedeck.flamegraph.orientation";
const MAX_HEIGHT_VIEWPORT_FRACTION = 0.75;  // the graph scrolls inside at most this much of the window
const MIN_HEIGHT_PX = 180;
const TRANSFORMED_TREES_KEPT = 8;  // transformed trees cached per graph; more are rebuilt on demand

export class Flamegraph {
  constructor(element, { url, scriptFile, syncUrl = true } = {}) {
    this.element = element;
    this.options = { url, scriptFile, syncUrl };  // syncUrl: keep the view in the page's URL (view-state.js)
    this.ui = buildControls(element);
    this.painter = new FlameCanvas(this.ui.canvas);
    this.ui.paintLegend(readTheme(this.ui.root));  // the legend shows while the data loads
    this.state = {
      view: 0, level: "function", orientation: loadOrientation(), zoom: 0, matches: null,
      selected: -1,  // the frame chosen with the keyboard or a tap, or -1
      transforms: noTransforms(),  // see transforms.js
      tab: "flame",   // "flame" or "sandwich"
      picked: null,   // the function {name, file} the sandwich shows (a table row, frame or search)
      source: null,   // {line, file}: the source view was opened there (the "source" tab of the URL)
    };
    this.transformed = new Map();  // "view:level:transforms" -> Tree
    this.pointerType = "mouse";  // of the last pointerdown: a tap and a click behave differently
    this.frameScheduled = false;
    this.listeners = [];
    this.ready = this.load();
  }

  // -- loading -------------------------------------------------------------------------
  async load() {
    this.ui.setStatus("Loading the flamegraph\u2026");
    try {
      const response = await fetch(this.options.url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`the server answered HTTP ${response.status}`);
      this.data = new FlameData(await response.json(), this.options);
    } catch (error) {
      this.ui.setStatus(`The flamegraph could not be loaded (${error.message}). Reload the page to try again.`);
      throw error;
    }
    if (this.destroyed) return this;  // removed from the page while loading
    this.applyTheme();
    this.ui.setStatus("");
    this.ui.fillViews(this.data.views);
    bindEvents(this);
    this.syncTransforms = addTransformControls(this);
    this.selectView(0, { keepScroll: false });
    if (this.options.syncUrl !== false) this.recordView = syncWithUrl(this);
    performance.mark("flamegraph:drawn");
    this.element.dispatchEvent(new CustomEvent("flamegraph:ready", { bubbles: true }));
    bindSource(this);  // after the graph is drawn: the line heat is not on the way to the first picture
    return this;
  }

  /** Read the page's theme (CSS custom properties) and colour every frame and the legend with it. */
  applyTheme() {
    this.theme = readTheme(this.ui.root);
    const count = this.data.frameCount;
    const fill = new Array(count);
    const faded = new Array(count);
    for (let f = 0; f < count; f++) {
      const colours = functionColours(this.data.names[f], this.data.fileOf(f), this.data.originOf(f), this.theme);
      fill[f] = colours.fill;
      faded[f] = colours.faded;
    }
    this.colours = { fill, faded };
    this.ui.paintLegend(this.theme);
  }

  onThemeChange() {
    if (!this.data) return;
    this.applyTheme();
    this.render();
  }

  // -- state changes -------------------------------------------------------------------
  get tree() { return this.treeAt(this.state.level); }

  /** The function figures of the selected view under the transforms, for the tables (see report.js);
   * null when no transform is on (the tables' own figures are then the right ones). */
  tableFigures() {
    if (!this.data || !transformKey(this.state.transforms)) return null;
    return figuresOfTree(this.data, this.treeAt("function"));
  }

  /** The tree of the selected view at ``level`` under the transforms (cached). */
  treeAt(level) {
    const { view, transforms } = this.state;
    const plain = this.data.tree(view, level);
    const key = transformKey(transforms);
    if (!key) return plain;
    const cacheKey = `${view}:${level}:${key}`;
    if (!this.transformed.has(cacheKey)) {
      if (this.transformed.size >= TRANSFORMED_TREES_KEPT) this.transformed.clear();
      this.transformed.set(cacheKey, transformTree(this.data, plain, transforms));
    }
    return this.transformed.get(cacheKey);
  }

  /** Change some transforms (e.g. {mine: true} or {focus: null}): node numbers change, so the zoom resets. */
  setTransforms(patch) {
    this.state.transforms = { ...this.state.transforms, ...patch };
    this.selectView(this.state.view);
    this.element.dispatchEvent(new CustomEvent("flamegraph:transforms", { bubbles: true, detail: this.state.transforms }));
  }

  /** Show the flamegraph ("flame") or the sandwich ("sandwich"), which shows the function picked
   * last: a zoomed or selected frame's, a hot-functions row's, or one from its own table. */
  setTab(tab) {
    if (tab !== "flame" && tab !== "sandwich") return;
    this.state.tab = tab;
    this.state.source = null;  // a tab picked closes the source line the view was on
    hideTooltip(this.ui);
    this.ui.breadcrumbs.parentElement.hidden = this.ui.viewport.hidden = tab !== "flame";
    if (tab === "flame") this.layout(false);
    this.render();
    this.element.dispatchEvent(new CustomEvent("flamegraph:tab", { bubbles: true, detail: tab }));
  }

  /** Open the source view at ``line`` of the user's ``file`` ("": the script): the "source" tab of
   * the view's URL (the flamegraph stays as it is, the page scrolls to the line). */
  openSource(line, file = "") {
    if (!revealLine(line, file)) return false;
    if (this.state.tab !== "flame") this.setTab("flame");
    this.state.source = { line, file };
    if (this.recordView) this.recordView();
    return true;
  }

  /** The sandwich of function ``name`` in ``file``: callers above, callees below. */
  pickFunction(name, file) {
    this.state.picked = { name, file };
    if (this.state.tab !== "sandwich") this.setTab("sandwich");
    else this.render();
  }

  /** The function of the frame at ``node`` becomes the one the sandwich shows (not for the root). */
  pickFrameOf(node) {
    const frame = node >= 0 ? this.tree.frame[node] : ROOT_FRAME;
    if (frame !== undefined && frame !== ROOT_FRAME) this.state.picked = { name: this.data.names[frame], file: this.data.fileOf(frame) };
  }

  /** Focus on the function of the frame at ``node`` (nothing for the root). */
  focusOnNode(node) {
    const frame = this.tree.frame[node];
    if (frame === undefined || frame === ROOT_FRAME) return;
    this.setTransforms({ focus: { name: this.data.names[frame], file: this.data.fileOf(frame) } });
  }

  selectView(view, { keepScroll = false } = {}) {
    this.state.view = view;
    this.state.zoom = 0;
    this.state.selected = -1;
    hideTooltip(this.ui);
    this.ui.syncControls(this.state);
    this.refreshMatchLabel();
    this.layout(keepScroll);
    this.render();
    this.element.dispatchEvent(new CustomEvent("flamegraph:view", { bubbles: true, detail: this.state }));
  }

  setLevel(level) {
    if (level !== "function" && level !== "line") return;
    this.state.level = level;
    this.selectView(this.state.view);
  }

  setOrientation(orientation) {
    if (orientation !== "flame" && orientation !== "icicle") return;
    this.state.orientation = orientation;
    try { localStorage.setItem(ORIENTATION_KEY, orientation); } catch { /* storage may be disabled */ }
    this.ui.syncControls(this.state);
    this.layout(false);
    this.render();
    this.showSelection();
  }

  /**
   * Zoom so that ``node`` fills the width (0 = the root: reset). The graph takes the height
   * of what is now drawn and scrolls the zoomed frame to its edge, its subtree in view.
   * A selected frame stays selected only when asked (the keyboard's Enter, a second tap).
   */
  zoomTo(node, startedAt = performance.now(), { keepSelection = false } = {}) {
    this.state.zoom = node;
    this.pickFrameOf(node);
    if (!keepSelection) this.select(-1);
    this.layout(false);
    this.render();
    if (keepSelection) this.showSelection();
    performance.measure("flamegraph:zoom", { start: startedAt, end: performance.now() });
  }

  reset(startedAt) { this.zoomTo(0, startedAt); }

  /** Highlight frames matching the search text (plain, or /regex/flags). */
  search(text, startedAt = performance.now()) {
    let predicate = null;
    try {
      predicate = compileQuery(text);
    } catch {
      this.state.matches = null;
      this.ui.setMatch(INVALID_QUERY_MESSAGE, true);
      this.render();
      return;
    }
    this.state.matches = predicate ? matchFrames(this.data, predicate) : null;
    this.refreshMatchLabel();
    this.render();
    performance.measure("flamegraph:search", { start: startedAt, end: performance.now() });
  }

  /** Highlight one function, e.g. from a row of the hot-functions table; no name clears. */
  highlight(name, file) {
    if (!this.data) return this.ready.then(() => this.highlight(name, file));
    this.ui.search.value = name || "";
    if (!name) return this.search("");
    const startedAt = performance.now();
    this.state.matches = matchFrames(this.data, (n, f) => n === name && (file == null || f === file));
    const first = this.state.matches.indexOf(1);
    if (first >= 0) this.state.picked = { name, file: this.data.fileOf(first) };  // what the sandwich shows
    this.refreshMatchLabel();
    this.render();
    performance.measure("flamegraph:search", { start: startedAt, end: performance.now() });
    return undefined;
  }

  refreshMatchLabel() {
    const { matches } = this.state;
    if (!matches) { this.ui.setMatch("", false); return; }
    const tree = this.tree;
    const share = tree.total[0] ? tree.matchedSamples(matches) / tree.total[0] : 0;
    this.ui.setMatch(`matched: ${formatPercent(share)} of samples`, false);
  }

  // -- layout and drawing --------------------------------------------------------------
  /**
   * Size the graph to the rows drawn at the current zoom and width: a deep stack holding a
   * few samples, too narrow to draw, adds no height. Taller than MAX_HEIGHT_VIEWPORT_FRACTION
   * of the window, it scrolls. Unless ``keepScroll``, the zoomed frame's row goes to the
   * edge the graph grows from (bottom for flame, top for icicle), its subtree in view.
   */
  layout(keepScroll) {
    const { tree, state } = this;
    const width = this.ui.viewport.clientWidth;
    const minTotal = (tree.total[state.zoom] || 1) * MIN_FRAME_WIDTH_PX / Math.max(1, width);
    const rows = tree.visibleDepthUnder(state.zoom, minTotal) + 1;
    const contentHeight = rows * ROW_HEIGHT_PX;
    const limit = Math.max(MIN_HEIGHT_PX, Math.floor(window.innerHeight * MAX_HEIGHT_VIEWPORT_FRACTION));
    const height = Math.min(contentHeight, limit);
    this.layoutWidth = width;
    this.contentHeight = contentHeight;
    this.ui.setScrollArea(height, contentHeight);
    this.height = height;
    this.painter.resize(width, height);  // the scroll range needs the canvas's height
    if (!keepScroll) {
      const zoomDepth = tree.depth[state.zoom] * ROW_HEIGHT_PX;
      const top = state.orientation === "flame" ? contentHeight - height - zoomDepth : zoomDepth;
      this.ui.viewport.scrollTop = Math.max(0, Math.min(contentHeight - height, top));
    }
  }

  viewportGeometry() {
    return new Viewport({
      width: this.ui.viewport.clientWidth,
      height: this.height,
      contentHeight: this.contentHeight,
      scrollTop: this.ui.viewport.scrollTop,
      orientation: this.state.orientation,
    });
  }

  scene() {
    const level = this.state.level;
    const data = this.data;
    const tree = this.tree;
    const view = data.views[this.state.view];
    return {
      tree,
      zoom: this.state.zoom,
      viewport: this.viewportGeometry(),
      colours: this.colours,
      theme: this.theme,
      matches: this.state.matches,
      selected: this.state.selected,
      labelOf: (node) => {
        const frame = tree.frame[node];
        if (frame === ROOT_FRAME) return `${view.label} (${formatCount(tree.total[0])} samples)`;
        return level === "line" && data.lines[frame] ? `${data.names[frame]}:${data.lines[frame]}` : data.names[frame];
      },
    };
  }

  /** Draw now; used by interactions so their performance measures include the drawing. */
  render() {
    if (!this.data) return;
    if (this.syncTransforms) this.syncTransforms(this.state);
    // built on first use: a page that never opens the sandwich has only the flamegraph's canvas
    if (this.state.tab === "sandwich" && !this.sandwich) this.sandwich = new Sandwich(this);
    if (this.sandwich) this.sandwich.render(this.state.tab === "sandwich");
    if (this.recordView) this.recordView();
    if (this.state.tab !== "flame") return;
    const scene = this.scene();
    this.painter.resize(scene.viewport.width, scene.viewport.height);
    this.painter.draw(scene);
    this.ui.setBreadcrumbs(this.breadcrumbs(scene), (node) => this.zoomTo(node));
    this.ui.reset.disabled = this.state.zoom === 0;
  }

  /**
   * Draw at the next animation frame; many resize or scroll events cost one drawing.
   * ``retip``: things moved, so the selected frame's tooltip follows it (a hover tooltip
   * follows the pointer's next move on its own).
   */
  scheduleRender({ retip = false } = {}) {
    this.retip = this.retip || retip;
    if (this.frameScheduled) return;
    this.frameScheduled = true;
    requestAnimationFrame(() => {
      this.frameScheduled = false;
      this.render();
      if (!this.retip) return;
      this.retip = false;
      if (this.state.selected >= 0) this.showSelection();
    });
  }

  /** Scroll the graph (not the page) just enough to show the row of ``node``. */
  scrollRowIntoView(node) {
    const geometry = this.viewportGeometry();
    const top = geometry.rowTop(this.tree.depth[node]);
    if (top < 0) this.ui.viewport.scrollTop += top;
    else if (top + ROW_HEIGHT_PX > geometry.height) this.ui.viewport.scrollTop += top + ROW_HEIGHT_PX - geometry.height;
  }

  // -- selection (keyboard and touch) --------------------------------------------------
  /** Select ``node`` (-1: none), draw its ring and show and announce what it is. */
  select(node) {
    this.state.selected = node;
    this.pickFrameOf(node);
    if (node < 0) {
      hideTooltip(this.ui);
      this.ui.announce.textContent = "";
      return;
    }
    this.scrollRowIntoView(node);
    this.render();
    this.showSelection();
  }

  showSelection() {
    const node = this.state.selected;
    if (node < 0) return;
    const info = this.describe(node);
    this.ui.announce.textContent = [info.title, info.location, info.total, info.self].filter(Boolean).join(". ");
    const box = this.boxOf(node);
    if (box) showTooltipAt(this.ui, info, box);
    else hideTooltip(this.ui);
  }

  clearSelection() {
    if (this.state.selected < 0) return;
    this.select(-1);
    this.render();
  }

  /** Client-coordinate box of ``node`` as drawn, or null when it is not drawn or scrolled away. */
  boxOf(node) {
    const { tree, zoom, viewport } = this.scene();
    if (!isDrawn(tree, zoom, viewport.width, node)) return null;
    const scale = viewport.width / (tree.total[zoom] || 1);
    const ancestor = tree.depth[node] < tree.depth[zoom];
    const width = ancestor ? viewport.width : tree.total[node] * scale;
    const left = ancestor ? 0 : (tree.start[node] - tree.start[zoom]) * scale;
    const top = viewport.rowTop(tree.depth[node]);
    if (top + ROW_HEIGHT_PX <= 0 || top >= viewport.height) return null;
    const canvas = this.ui.canvas.getBoundingClientRect();
    return { x: canvas.left + left, y: canvas.top + top, width, height: ROW_HEIGHT_PX };
  }

  breadcrumbs(scene = this.scene()) {
    return this.tree.path(this.state.zoom).map((node) => ({ node, label: scene.labelOf(node) }));
  }

  describe(node) {
    const { data, tree } = this;
    const frame = tree.frame[node];
    const zoomTotal = tree.total[this.state.zoom] || 1;
    const whole = tree.total[0] || 1;
    const inZoom = tree.depth[node] >= tree.depth[this.state.zoom];
    const figures = (samples) => {
      const parts = [`${formatCount(samples)} samples`, `${formatPercent(samples / whole)} of all`];
      if (inZoom && this.state.zoom !== 0) parts.push(`${formatPercent(samples / zoomTotal)} of zoom`);
      return parts.join(" \u00b7 ");
    };
    const file = displayFile(data.fileOf(frame));
    const line = frame === ROOT_FRAME ? 0 : data.lines[frame];
    // Grouped by function, a line is the definition only where the script's source told us.
    const note = line && this.state.level === "function" && !data.defined[frame] ? " (first sampled line)" : "";
    return {
      title: this.scene().labelOf(node),
      location: frame === ROOT_FRAME ? "" : (file ? (line ? `${file}:${line}${note}` : file) : "no source file"),
      origin: frame === ROOT_FRAME ? "" : data.originOf(frame),
      total: `Total: ${figures(tree.total[node])}`,
      self: `Self: ${figures(tree.self[node])}`,
    };
  }

  // -- events --------------------------------------------------------------------------
  listen(target, type, handler, options) {
    target.addEventListener(type, handler, options);
    this.listeners.push(() => target.removeEventListener(type, handler, options));
  }

  /** Client-coordinate box of the first visible frame labelled ``label``, or null. */
  locate(label) {
    const scene = this.scene();
    const { tree, zoom, viewport } = scene;
    const scale = viewport.width / (tree.total[zoom] || 1);
    const box = this.ui.canvas.getBoundingClientRect();
    const candidates = [...tree.path(zoom).slice(0, -1)];
    for (let i = zoom; i < tree.end[zoom]; i++) candidates.push(i);
    for (const node of candidates) {
      if (scene.labelOf(node) !== label) continue;
      const ancestor = tree.depth[node] < tree.depth[zoom];
      const width = ancestor ? viewport.width : tree.total[node] * scale;
      const top = viewport.rowTop(tree.depth[node]);
      if (width < 1 || top < 0 || top + ROW_HEIGHT_PX > viewport.height) continue;
      const left = ancestor ? 0 : (tree.start[node] - tree.start[zoom]) * scale;
      return { x: box.left + left, y: box.top + top, width, height: ROW_HEIGHT_PX };
    }
    return null;
  }

  /** Snapshot of what is shown, for tests and the benchmark. */
  snapshot() {
    return {
      view: this.data.views[this.state.view].id,
      level: this.state.level,
      orientation: this.state.orientation,
      zoom: this.breadcrumbs().map((crumb) => crumb.label),
      drawnFrames: this.painter.drawnFrames,
      rows: this.contentHeight / ROW_HEIGHT_PX,
      selected: this.state.selected >= 0 ? this.scene().labelOf(this.state.selected) : null,
      match: this.ui.match.textContent,
      transforms: transformKey(this.state.transforms),
      tab: this.state.tab,
      source: this.state.source || null,
      sandwich: this.sandwich ? this.sandwich.snapshot() : null,
      total: this.tree.total[0],
    };
  }

  destroy() {
    for (const remove of this.listeners) remove();
    this.listeners = [];
    if (this.resizeObserver) this.resizeObserver.disconnect();
    this.destroyed = true;
    this.ui.root.remove();
    delete this.element.flamegraph;
    if (this.onDestroy) this.onDestroy(this);
  }
}

function loadOrientation() {
  try {
    const saved = localStorage.getItem(ORIENTATION_KEY);
    if (saved === "flame" || saved === "icicle") return saved;
  } catch { /* storage may be disabled */ }
  return "flame";
}
