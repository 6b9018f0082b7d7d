// The flamegraph controller: state (view, grouping, orientation, zoom, search), events,
// layout of the scrolling canvas, and the public methods mountFlamegraph() returns.

import { FlameData, ROOT_FRAME, compileQuery, matchFrames } from "./tree.js";
import { FlameCanvas, Viewport, ROW_HEIGHT_PX } from "./draw.js";
import { functionColours } from "./palette.js";
import { buildControls, showTooltip, hideTooltip, formatCount, formatPercent } from "./controls.js";

const ORIENTATION_KEY = "flamedeck.flamegraph.orientation";
const MAX_HEIGHT_VIEWPORT_FRACTION = 0.75;  // the graph scrolls inside at most this much of the window
const MIN_HEIGHT_PX = 180;

export class Flamegraph {
  constructor(element, { url, scriptFile } = {}) {
    this.element = element;
    this.options = { url, scriptFile };
    this.ui = buildControls(element);
    this.painter = new FlameCanvas(this.ui.canvas);
    this.state = {
      view: 0, level: "function", orientation: loadOrientation(), zoom: 0, matches: null,
    };
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
    this.colours = this.frameColours();
    this.ui.setStatus("");
    this.ui.fillViews(this.data.views);
    this.bindEvents();
    this.selectView(0, { keepScroll: false });
    performance.mark("flamegraph:drawn");
    this.element.dispatchEvent(new CustomEvent("flamegraph:ready", { bubbles: true }));
    return this;
  }

  frameColours() {
    const count = this.data.frameCount;
    const fill = new Array(count);
    const faded = new Array(count);
    for (let f = 0; f < count; f++) {
      const colours = functionColours(this.data.names[f], this.data.fileOf(f), this.data.originOf(f));
      fill[f] = colours.fill;
      faded[f] = colours.faded;
    }
    return { fill, faded };
  }

  // -- state changes -------------------------------------------------------------------
  get tree() { return this.data.tree(this.state.view, this.state.level); }

  selectView(view, { keepScroll = false } = {}) {
    this.state.view = view;
    this.state.zoom = 0;
    this.ui.syncControls(this.state);
    this.refreshMatchLabel();
    this.layout(keepScroll);
    this.render();
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
  }

  /** Zoom so that ``node`` fills the width (0 = the root: reset). */
  zoomTo(node, startedAt = performance.now()) {
    this.state.zoom = node;
    this.scrollIntoView(node);
    this.render();
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
      this.ui.setMatch("That regular expression is not valid; fix it or search for plain text.", true);
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
  layout(keepScroll) {
    const contentHeight = (this.tree.maxDepth + 1) * ROW_HEIGHT_PX;
    const limit = Math.max(MIN_HEIGHT_PX, Math.floor(window.innerHeight * MAX_HEIGHT_VIEWPORT_FRACTION));
    const height = Math.min(contentHeight, limit);
    this.contentHeight = contentHeight;
    this.ui.setScrollArea(height, contentHeight);
    this.height = height;
    this.painter.resize(this.ui.viewport.clientWidth, height);  // the scroll range needs the canvas's height
    if (!keepScroll) {
      this.ui.viewport.scrollTop = this.state.orientation === "flame" ? contentHeight - height : 0;
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
      matches: this.state.matches,
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
    const scene = this.scene();
    this.painter.resize(scene.viewport.width, scene.viewport.height);
    this.painter.draw(scene);
    this.ui.setBreadcrumbs(this.breadcrumbs(scene), (node) => this.zoomTo(node));
    this.ui.reset.disabled = this.state.zoom === 0;
  }

  /** Draw at the next animation frame; many resize or scroll events cost one drawing. */
  scheduleRender() {
    if (this.frameScheduled) return;
    this.frameScheduled = true;
    requestAnimationFrame(() => { this.frameScheduled = false; this.render(); });
  }

  scrollIntoView(node) {
    const geometry = this.viewportGeometry();
    const top = geometry.rowTop(this.tree.depth[node]);
    if (top < 0 || top + ROW_HEIGHT_PX > geometry.height) {
      const offset = this.state.orientation === "flame" ? geometry.height - ROW_HEIGHT_PX : 0;
      this.ui.viewport.scrollTop += top - offset;
    }
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
    const file = data.fileOf(frame);
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

  bindEvents() {
    const { ui } = this;
    this.listen(ui.canvas, "mousemove", (event) => this.onHover(event));
    this.listen(ui.canvas, "mouseleave", () => { hideTooltip(ui); ui.canvas.classList.remove("fg-pointer"); });
    this.listen(ui.canvas, "click", (event) => {
      const node = this.nodeAtEvent(event);
      if (node >= 0 && node !== this.state.zoom) this.zoomTo(node, event.timeStamp);
      this.onHover(event);  // the frame under the pointer changed
    });
    this.listen(ui.canvas, "dblclick", (event) => this.reset(event.timeStamp));
    this.listen(ui.reset, "click", (event) => this.reset(event.timeStamp));
    this.listen(ui.viewSelect, "change", () => this.selectView(Number(ui.viewSelect.value)));
    this.listen(ui.search, "input", (event) => this.search(ui.search.value, event.timeStamp));
    for (const button of ui.levelButtons) this.listen(button, "click", () => this.setLevel(button.value));
    for (const button of ui.orientationButtons) this.listen(button, "click", () => this.setOrientation(button.value));
    this.listen(ui.viewport, "scroll", () => this.scheduleRender(), { passive: true });
    this.listen(window, "resize", () => { this.layout(true); this.scheduleRender(); });
    this.listen(document, "keydown", (event) => this.onKey(event));
    this.resizeObserver = new ResizeObserver(() => this.scheduleRender());
    this.resizeObserver.observe(ui.viewport);
  }

  nodeAtEvent(event) {
    const box = this.ui.canvas.getBoundingClientRect();
    return this.painter.hitTest(this.scene(), event.clientX - box.left, event.clientY - box.top);
  }

  onHover(event) {
    const node = this.nodeAtEvent(event);
    this.ui.canvas.classList.toggle("fg-pointer", node >= 0);
    if (node < 0) { hideTooltip(this.ui); return; }
    showTooltip(this.ui, this.describe(node), event.clientX, event.clientY);
  }

  onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target instanceof Element && event.target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      this.ui.search.focus();
      this.ui.search.select();
    } else if (event.key === "Escape") {
      if (event.target === this.ui.search) {
        this.ui.search.value = "";
        this.search("", event.timeStamp);
        this.ui.search.blur();
      }
      hideTooltip(this.ui);
      this.reset(event.timeStamp);
    }
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
      match: this.ui.match.textContent,
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
