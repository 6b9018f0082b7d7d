// The differential flamegraph of the compare page: canvas, toggles, legend, hover, zoom, search.
//
// Widths come from the head run (or the base run: toggle), the colour from the change of each
// frame's share of all samples, base → head (or of its time, samples × interval: toggle).
// Frames present in only one run get a dashed outline. Every name from a profile reaches the
// page as canvas text or textContent, never as HTML.

import { DiffTree } from "./model.js";
import { changeColour, formatChange, formatPercent, formatSeconds } from "./scale.js";

const ROW_PX = 18;
const FONT = "12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";
const MIN_WIDTH_PX = 0.5;
const LABEL_MIN_PX = 24;
const TEXT_COLOUR = "#1d1d1f";

function make(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function radioGroup(legend, name, choices, checked) {
  const fieldset = make("fieldset", "diff-toggle");
  fieldset.append(make("legend", "", legend));
  for (const [value, label] of choices) {
    const wrapper = make("label");
    const input = make("input");
    Object.assign(input, { type: "radio", name, value, checked: value === checked });
    wrapper.append(input, document.createTextNode(" " + label));
    fieldset.append(wrapper);
  }
  return fieldset;
}

export class DiffFlamegraph {
  constructor(element, url) {
    this.element = element;
    this.state = { widths: "head", normalise: "share", focus: 0, search: "" };
    this.status = make("p", "muted diff-status", "Loading the differential flamegraph…");
    element.append(this.status);
    this.ready = fetch(url, { credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(`the server answered ${response.status}`);
        return response.json();
      })
      .then((doc) => this.mount(new DiffTree(doc)))
      .catch((error) => { this.status.textContent = `The differential flamegraph could not be loaded: ${error.message}.`; });
  }

  mount(tree) {
    this.tree = tree;
    this.status.remove();
    const controls = make("div", "diff-controls");
    this.widthToggle = radioGroup("Widths from", "diff-widths", [["head", "head run"], ["base", "base run"]], "head");
    this.normaliseToggle = radioGroup("Normalise by", "diff-normalise",
      [["share", "share of samples"], ["time", "time (samples × interval)"]], "share");
    this.searchBox = make("input", "diff-search");
    Object.assign(this.searchBox, { type: "search", placeholder: "Search functions", ariaLabel: "Search functions" });
    this.matched = make("span", "muted diff-matched");
    this.resetButton = make("button", "button small diff-reset", "Reset zoom");
    this.resetButton.type = "button";
    controls.append(this.widthToggle, this.normaliseToggle);
    if (tree.views.length > 1) {
      const label = make("label", "diff-thread", "Thread ");
      this.threadSelect = make("select");
      tree.views.forEach((view, index) => this.threadSelect.append(new Option(view.label, String(index))));
      label.append(this.threadSelect);
      controls.append(label);
      this.threadSelect.addEventListener("change", () => {
        tree.setView(Number(this.threadSelect.value));
        this.set({ focus: 0 });
      });
    }
    controls.append(this.searchBox, this.matched, this.resetButton);
    this.legend = make("div", "diff-legend");
    this.legendLow = make("span", "diff-legend-low");
    this.legendHigh = make("span", "diff-legend-high");
    this.legendOnly = make("span", "diff-legend-only muted");
    this.legend.append(this.legendLow, make("span", "diff-legend-bar"), this.legendHigh, this.legendOnly);
    this.canvas = make("canvas", "diff-canvas");
    this.canvas.setAttribute("role", "img");
    this.canvas.tabIndex = 0; // Escape zooms back out from the keyboard
    this.canvas.setAttribute("aria-label", "Differential flamegraph: red frames take more time in head than in base, blue frames less");
    this.tooltip = make("div", "diff-tooltip");
    this.tooltip.hidden = true;
    const words = this.element.querySelector(".diff-legend-words");
    if (words) words.after(controls, this.legend); else this.element.append(controls, this.legend);
    this.element.append(this.canvas, this.tooltip);
    this.widthToggle.addEventListener("change", (event) => this.set({ widths: event.target.value, focus: 0 }));
    this.normaliseToggle.addEventListener("change", (event) => this.set({ normalise: event.target.value }));
    this.searchBox.addEventListener("input", () => this.set({ search: this.searchBox.value.trim() }));
    this.resetButton.addEventListener("click", () => this.set({ focus: 0 }));
    this.canvas.addEventListener("mousemove", (event) => this.hover(event));
    this.canvas.addEventListener("mouseleave", () => { this.tooltip.hidden = true; });
    this.canvas.addEventListener("click", (event) => {
      const box = this.boxAt(event);
      if (box) this.set({ focus: box.node });
    });
    this.canvas.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.state.focus !== 0) this.set({ focus: 0 });
    });
    new ResizeObserver(() => this.draw()).observe(this.element);
    this.draw();
  }

  set(changes) {
    Object.assign(this.state, changes);
    this.element.dataset.widths = this.state.widths;
    this.element.dataset.normalise = this.state.normalise;
    this.draw();
  }

  draw() {
    const { tree, state, canvas } = this;
    if (!tree) return;
    const style = getComputedStyle(this.element);
    const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    const width = Math.max(Math.floor(this.element.clientWidth - padding), 100);
    this.boxes = tree.layout(state.widths, state.focus, MIN_WIDTH_PX / width);
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
    const needle = state.search.toLowerCase();
    const other = state.widths === "head" ? "base" : "head";
    let matchedSamples = 0;
    for (const box of this.boxes) {
      const x = box.x * width;
      const w = box.width * width;
      const y = box.row * ROW_PX;
      const name = tree.name(box.node);
      const matches = !needle || name.toLowerCase().includes(needle);
      if (needle && matches && !this.hasMatchingAncestor(box.node, needle)) matchedSamples += tree.total[state.widths][box.node];
      context.globalAlpha = matches ? 1 : 0.3;
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
        context.fillText(this.fit(context, name, w - 6), x + 3, y + ROW_PX / 2);
      }
    }
    context.globalAlpha = 1;
    this.matched.textContent = needle
      ? `matched: ${formatPercent(matchedSamples, tree.total[state.widths][0])} of ${state.widths}` : "";
    this.resetButton.hidden = state.focus === 0;
    this.updateLegend();
  }

  hasMatchingAncestor(node, needle) {
    for (let up = this.tree.parent[node]; up > 0; up = this.tree.parent[up]) {
      if (this.tree.name(up).toLowerCase().includes(needle)) return true;
    }
    return false;
  }

  fit(context, text, available) {
    if (context.measureText(text).width <= available) return text;
    let keep = text.length;
    while (keep > 1 && context.measureText(text.slice(0, keep) + "…").width > available) keep -= 1;
    return keep > 1 ? text.slice(0, keep) + "…" : "";
  }

  updateLegend() {
    const mode = this.state.normalise;
    this.legendLow.textContent = `${formatChange(-this.limit, mode)} (less in head)`;
    this.legendHigh.textContent = `${formatChange(this.limit, mode)} (more in head)`;
    this.legendOnly.textContent = this.state.widths === "head"
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
    if (!box) { this.tooltip.hidden = true; return; }
    const { tree } = this;
    const node = box.node;
    const lines = [tree.name(node)];
    if (tree.where(node)) lines.push(tree.where(node));
    if (node > 0 && tree.total.base[node] === 0) lines.push("new: only in head");
    if (node > 0 && tree.total.head[node] === 0) lines.push("gone: only in base");
    for (const side of ["base", "head"]) {
      const total = tree.total[side][node];
      const own = tree.self[side][node];
      lines.push(`${side}: self ${own} samples (${formatPercent(own, tree.samples[side])}), ` +
        `total ${total} samples (${formatPercent(total, tree.samples[side])}, ${formatSeconds(total * tree.interval[side])})`);
    }
    lines.push(`change: ${formatChange(tree.change(node, "share"), "share")}, ` +
      `${formatChange(tree.change(node, "time"), "time")}`);
    this.tooltip.replaceChildren(...lines.map((line, i) => make("div", i === 0 ? "diff-tooltip-name" : "", line)));
    this.tooltip.hidden = false;
    const host = this.element.getBoundingClientRect();
    const left = Math.min(event.clientX - host.left + 12, host.width - this.tooltip.offsetWidth - 4);
    this.tooltip.style.left = `${Math.max(left, 0)}px`;
    this.tooltip.style.top = `${event.clientY - host.top + 14}px`;
  }
}
