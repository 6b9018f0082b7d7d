// The differential flamegraph of the compare page: canvas, toggles, legend, hover, zoom path,
// search, grouping by function or line, and walking the frames with the keyboard.
//
// Widths come from the head run (or the base run: toggle), the colour from the change of each
// frame's share of all samples, base → head (or of its time, samples × interval: toggle).
// Frames present in only one run get a dashed outline. The first picture comes from the
// preview when it arrives first (the same picture from a tree of the frames wide enough to
// draw, see model.js); the full tree replaces it as soon as it is here, and zoom, search, the
// keyboard, threads and grouping by line wait for it. Zoom, search and keyboard behave as in
// the single flamegraph and use its modules: the search syntax and frame matching (tree.js),
// the arrow-key walk (navigate.js, over each side as a tree.js Tree), the zoom path
// (breadcrumbs.js). Every name from a profile reaches the page as canvas text or textContent,
// never as HTML.

import { DiffTree } from "./model.js";
import { buildDiffControls } from "./diff-controls.js";
import { describeNode } from "./diff-figures.js";
import { changeColour, formatChange, formatPercent } from "./scale.js";
import { INVALID_QUERY_MESSAGE, compileQuery, matchFrames } from "../flamegraph/tree.js";
import { MIN_FRAME_WIDTH_PX } from "../flamegraph/draw.js";
import { NAVIGATION_KEYS, isDrawn, neighbour } from "../flamegraph/navigate.js";

const ROW_PX = 18;
const FONT = "12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";
const LABEL_MIN_PX = 24;
const TEXT_COLOUR = "#1d1d1f";
const SELECTED_OUTLINE_PX = 2;
const TOOLTIP_OFFSET_PX = 12;

/** The JSON document at ``url``; an Error saying the status when the server refuses. */
function fetchJson(url) {
  return fetch(url, { credentials: "same-origin" }).then((response) => {
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    return response.json();
  });
}

export class DiffFlamegraph {
  constructor(element, url, previewUrl) {
    this.element = element;
    this.url = url;
    this.previewUrl = previewUrl;
    this.state = { widths: "head", normalise: "share", level: "function", focus: 0, selected: -1, search: "" };
    this.trees = {};  // level -> DiffTree, or a promise of it while it loads
    this.status = document.createElement("p");
    this.status.className = "muted diff-status";
    this.status.textContent = "Loading the differential flamegraph…";
    element.append(this.status);
    this.complete = Promise.resolve();  // settles once the full tree is in use (see load)
    this.ready = this.load()
      .catch((error) => { this.status.textContent = `The differential flamegraph could not be loaded: ${error.message}. Reload the page to try again.`; });
  }

  /** Draw the preview, then swap in the full tree; or draw the full tree when there is no preview
   *  (reports compared from their profiles) or it cannot draw this page (wider than it serves).
   *  The full tree (6 MB to download and 24 MB of JSON to read for two long runs) is asked for
   *  only after the first picture, so that it does not compete with it for the CPU; the server
   *  has been building it since the page was asked for. */
  async load() {
    const preview = this.previewUrl
      ? await fetchJson(this.previewUrl).then((doc) => new DiffTree(doc)).catch(() => null) : null;
    if (preview && preview.draws(0, MIN_FRAME_WIDTH_PX / this.graphWidth())) {
      this.mount(preview);
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));  // painted first
      this.complete = this.fetchTree("function").then((tree) => this.upgrade(tree), (error) => {
        this.ui.levelStatus.textContent = `The full differential flamegraph could not be loaded (${error.message}): `
          + "zoom, search and threads need it. Reload the page to try again.";
        this.ui.levelStatus.hidden = false;
      });
    } else {
      this.mount(await this.fetchTree("function"));
    }
  }

  /** The full tree in place of the preview: the same picture, now every frame of every thread. */
  upgrade(tree) {
    this.tree = tree;
    this.draw();
    this.showSelection();
    performance.mark("diffgraph:complete");
  }

  /** ``action`` for an event, run once the full tree is in use (at once when it already is;
   *  never when it could not be loaded). */
  whenComplete(action) {
    return (event) => {
      if (!this.tree.preview) action(event);
      else this.complete.then(() => { if (!this.tree.preview) action(event); });
    };
  }

  /** The merged tree grouped by ``level`` ("line": diff.json?level=line, fetched on first use). */
  fetchTree(level) {
    if (!this.trees[level]) {
      const url = level === "line" ? `${this.url}${this.url.includes("?") ? "&" : "?"}level=line` : this.url;
      this.trees[level] = fetchJson(url)
        .then((doc) => (this.trees[level] = new DiffTree(doc)))
        .catch((error) => { delete this.trees[level]; throw error; });
    }
    return Promise.resolve(this.trees[level]);
  }

  mount(tree) {
    this.tree = tree;
    this.status.remove();
    this.ui = buildDiffControls(this.element, tree.views);
    Object.assign(this, { canvas: this.ui.canvas, tooltip: this.ui.tooltip });  // what the tests and hover use
    const { ui } = this;
    ui.widthToggle.addEventListener("change", (event) => this.set({ widths: event.target.value, focus: 0, selected: -1 }));
    ui.normaliseToggle.addEventListener("change", (event) => this.set({ normalise: event.target.value }));
    ui.levelToggle.addEventListener("change", this.whenComplete((event) => this.setLevel(event.target.value)));
    if (ui.threadSelect) {
      ui.threadSelect.addEventListener("change", this.whenComplete(() => {
        this.tree.setView(this.tree.viewIndex(tree.views[Number(ui.threadSelect.value)].label));
        this.search(this.state.search);
        this.set({ focus: 0, selected: -1 });
      }));
    }
    ui.searchBox.addEventListener("input", this.whenComplete(() => { this.search(ui.searchBox.value); this.draw(); }));
    ui.resetButton.addEventListener("click", () => this.set({ focus: 0, selected: -1 }));
    ui.canvas.addEventListener("mousemove", (event) => this.hover(event));
    ui.canvas.addEventListener("mouseleave", () => this.showSelection());
    ui.canvas.addEventListener("click", (event) => {
      const box = this.boxAt(event);
      if (box) this.whenComplete(() => this.set({ focus: box.node, selected: -1 }))(event);
    });
    ui.canvas.addEventListener("focus", () => this.showSelection());
    ui.canvas.addEventListener("blur", () => { ui.tooltip.hidden = true; });
    this.element.addEventListener("keydown", this.whenComplete((event) => this.onKey(event)));
    new ResizeObserver(() => this.draw()).observe(this.element);
    this.draw();
    // The first picture is on the canvas: what benchmarks/browser.py times from navigation.
    performance.mark("diffgraph:drawn");
  }

  set(changes) {
    Object.assign(this.state, changes);
    this.element.dataset.widths = this.state.widths;
    this.element.dataset.normalise = this.state.normalise;
    this.element.dataset.level = this.state.level;
    this.draw();
    this.showSelection();
  }

  /** Group by "function" or "line": the other tree, same thread, zoom and selection reset. */
  async setLevel(level) {
    const { ui } = this;
    const previous = this.state.level;
    ui.levelStatus.hidden = level === "function" || this.trees[level] instanceof DiffTree;
    ui.levelStatus.textContent = "Loading the frames grouped by line…";
    let tree;
    try {
      tree = await this.fetchTree(level);
    } catch (error) {
      ui.levelStatus.textContent = `Grouping by line could not be loaded (${error.message}); the graph stays `
        + "grouped by function. Reload the page to try again.";
      ui.levelStatus.hidden = false;
      ui.levelToggle.querySelector(`input[value="${previous}"]`).checked = true;
      return;
    }
    ui.levelStatus.hidden = true;
    tree.setView(tree.viewIndex(this.tree.view.label));
    this.tree = tree;
    this.search(this.state.search);
    this.set({ level, focus: 0, selected: -1 });
  }

  /** Match frames against the search box's text: plain text or /regex/flags, as in the single flamegraph. */
  search(text) {
    this.state.search = text.trim();
    this.state.searchError = false;
    let predicate = null;
    try {
      predicate = compileQuery(text);
    } catch {
      this.state.searchError = true;
    }
    this.state.matches = predicate ? matchFrames(this.tree, predicate) : null;
  }

  /** The canvas width in CSS pixels: the element's, inside its padding. */
  graphWidth() {
    const style = getComputedStyle(this.element);
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    return Math.max(Math.floor(this.element.clientWidth - padding), 100);
  }

  draw() {
    const { tree, state, canvas } = this;
    if (!tree) return;
    const width = this.graphWidth();
    if (!tree.draws(state.focus, MIN_FRAME_WIDTH_PX / width)) return;  // the full tree redraws when here
    this.width = width;
    this.boxes = tree.layout(state.widths, state.focus, MIN_FRAME_WIDTH_PX / width);
    const rows = this.boxes.reduce((most, box) => Math.max(most, box.row + 1), 1);
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(rows * ROW_PX * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${rows * ROW_PX}px`;
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.font = FONT;
    context.textBaseline = "middle";
    this.limit = tree.largestChange(state.normalise);
    const { matches } = state;
    const other = state.widths === "head" ? "base" : "head";
    let matchedFrames = 0;
    for (const box of this.boxes) {
      const x = box.x * width;
      const w = box.width * width;
      const y = box.row * ROW_PX;
      const frame = tree.frame[box.node];
      const matched = !matches || (frame >= 0 && matches[frame] === 1);
      if (matches && matched) matchedFrames += 1;
      context.globalAlpha = matched ? 1 : 0.3;
      context.fillStyle = changeColour(tree.change(box.node, state.normalise), this.limit);
      context.fillRect(x, y, Math.max(w - 0.5, 0.5), ROW_PX - 1);
      if (box.node > 0 && tree.total[other][box.node] === 0) {
        context.setLineDash([3, 2]);
        context.strokeStyle = TEXT_COLOUR;
        context.strokeRect(x + 0.5, y + 0.5, Math.max(w - 1.5, 0.5), ROW_PX - 2);
        context.setLineDash([]);
      }
      if (w >= LABEL_MIN_PX) {
        context.fillStyle = TEXT_COLOUR;
        context.fillText(this.fit(context, tree.label(box.node), w - 6), x + 3, y + ROW_PX / 2);
      }
    }
    context.globalAlpha = 1;
    const selected = this.boxes.find((box) => box.node === state.selected);
    if (selected) {
      const inset = SELECTED_OUTLINE_PX / 2;
      context.lineWidth = SELECTED_OUTLINE_PX;
      context.strokeStyle = TEXT_COLOUR;
      context.strokeRect(selected.x * width + inset, selected.row * ROW_PX + inset,
        Math.max(selected.width * width - SELECTED_OUTLINE_PX, 0), ROW_PX - 1 - SELECTED_OUTLINE_PX);
      context.lineWidth = 1;
    }
    this.matchedFrames = matchedFrames;
    this.updateMatchLabel();
    this.ui.showBreadcrumbs(tree.path(state.focus)
      .map((node) => ({ node, label: tree.label(node) })), (node) => this.set({ focus: node, selected: -1 }));
    this.ui.resetButton.disabled = state.focus === 0;
    this.updateLegend();
  }

  /** How much the search matched, on both sides (each sample once: a match's subtree is not counted again). */
  updateMatchLabel() {
    const { matched } = this.ui;
    const { matches, searchError, search } = this.state;
    matched.classList.toggle("fg-error", Boolean(searchError));
    if (searchError) { matched.textContent = INVALID_QUERY_MESSAGE; return; }
    if (!matches || !search) { matched.textContent = ""; return; }
    const share = (side) => formatPercent(this.tree.sideTree(side).matchedSamples(matches), this.tree.total[side][0]);
    const frames = this.matchedFrames === 1 ? "1 frame" : `${this.matchedFrames} frames`;
    matched.textContent = `${frames} matched: ${share("head")} of head, ${share("base")} of base`;
  }

  fit(context, text, available) {
    if (context.measureText(text).width <= available) return text;
    let keep = text.length;
    while (keep > 1 && context.measureText(text.slice(0, keep) + "…").width > available) keep -= 1;
    return keep > 1 ? text.slice(0, keep) + "…" : "";
  }

  updateLegend() {
    const { ui } = this;
    const mode = this.state.normalise;
    ui.legendLow.textContent = `${formatChange(-this.limit, mode)} (less in head)`;
    ui.legendHigh.textContent = `${formatChange(this.limit, mode)} (more in head)`;
    ui.legendOnly.textContent = this.state.widths === "head"
      ? "Dashed outline: new, only in head. Widths: head run."
      : "Dashed outline: gone, only in base. Widths: base run.";
  }

  boxAt(event) {
    if (!this.boxes) return null;
    const bounds = this.canvas.getBoundingClientRect();
    const x = (event.clientX - bounds.left) / bounds.width;
    const row = Math.floor((event.clientY - bounds.top) / ROW_PX);
    return this.boxes.find((box) => box.row === row && x >= box.x && x < box.x + box.width) || null;
  }

  hover(event) {
    const box = this.boxAt(event);
    if (!box) { this.showSelection(); return; }
    const host = this.element.getBoundingClientRect();
    this.showTooltip(describeNode(this.tree, box.node), event.clientX - host.left + TOOLTIP_OFFSET_PX,
      event.clientY - host.top + TOOLTIP_OFFSET_PX);
  }

  /** The tooltip at (left, top) in the graph element's coordinates, kept inside it. */
  showTooltip(lines, left, top) {
    const { tooltip } = this;
    tooltip.replaceChildren(...lines.map((line, i) => {
      const row = document.createElement("div");
      if (i === 0) row.className = "diff-tooltip-name";
      row.textContent = line;
      return row;
    }));
    tooltip.hidden = false;
    const room = this.element.getBoundingClientRect().width - tooltip.offsetWidth - 4;
    tooltip.style.left = `${Math.max(Math.min(left, room), 0)}px`;
    tooltip.style.top = `${top}px`;
  }

  // -- the keyboard (as the single flamegraph's events.js) -----------------------------
  /** Select ``node`` (-1: none): its ring, its tooltip under it and the read-out. */
  select(node) {
    this.state.selected = node;
    this.draw();
    this.showSelection();
  }

  showSelection() {
    const node = this.state.selected;
    const box = node >= 0 && this.boxes ? this.boxes.find((b) => b.node === node) : null;
    if (!box) {
      this.ui.announce.textContent = "";
      this.tooltip.hidden = true;
      return;
    }
    const lines = describeNode(this.tree, node);
    this.ui.announce.textContent = lines.join(". ");
    if (document.activeElement !== this.canvas) return;
    const host = this.element.getBoundingClientRect();
    const canvas = this.canvas.getBoundingClientRect();
    this.showTooltip(lines, canvas.left - host.left + box.x * canvas.width,
      canvas.top - host.top + (box.row + 1) * ROW_PX + 2);
  }

  /** Arrows walk the drawn frames, Enter zooms into the selected one, Escape resets the zoom
   *  (and, in the search box, clears the search). */
  onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const { state, ui } = this;
    if (event.key === "Escape") {
      if (event.target === ui.searchBox) {
        ui.searchBox.value = "";
        this.search("");
      }
      this.set({ focus: 0, selected: -1 });
    } else if (event.target === this.canvas && NAVIGATION_KEYS.includes(event.key)) {
      event.preventDefault();  // the arrows move the selection, not the page
      const tree = this.tree.sideTree(state.widths);
      const from = state.selected >= 0 && isDrawn(tree, state.focus, this.width, state.selected) ? state.selected : -1;
      this.select(from < 0 ? state.focus : neighbour(tree, state.focus, this.width, from, event.key));
    } else if (event.target === this.canvas && event.key === "Enter" && state.selected >= 0) {
      event.preventDefault();
      this.set({ focus: state.selected });
    }
  }
}
