// The sandwich view (as in speedscope): a table of functions, and for the picked one its
// callers as an inverted flamegraph above it and its callees as an icicle below, with its
// self and total samples. Built from the tree the flamegraph shows, so the thread,
// grouping and transforms apply here too; drawn with the flamegraph's own painter.
//
// A function is (name, file): at line grouping its frames at different lines are one function.
// Text reaches the page through textContent and canvas text only.

import { ROOT_FRAME } from "./tree.js";
import { FlameCanvas, Viewport, ROW_HEIGHT_PX } from "./draw.js";
import { forEachStack, treeFromStacks } from "./transforms.js";
import { formatCount, formatPercent, showTooltip, hideTooltip } from "./controls.js";

const MAX_ROWS_DRAWN = 16;       // per half; callers keep the nearest rows, callees the first
const MAX_TABLE_ROWS = 200;      // the heaviest functions listed; search narrows the list

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Per function of ``tree``: {name, file, frame (one of its frames), self, total}, heaviest first. */
export function functionTable(data, tree) {
  const byKey = new Map();
  const entry = (frame) => {
    const key = `${data.names[frame]}\u0000${data.fileOf(frame)}`;
    let row = byKey.get(key);
    if (!row) byKey.set(key, (row = { name: data.names[frame], file: data.fileOf(frame), frame, self: 0, total: 0, seen: -1 }));
    return row;
  };
  let stackNumber = 0;
  forEachStack(tree, (frames, samples) => {
    stackNumber++;
    for (const frame of frames) {
      const row = entry(frame);
      if (row.seen !== stackNumber) { row.total += samples; row.seen = stackNumber; }  // recursion counts once
    }
    if (frames.length) entry(frames[frames.length - 1]).self += samples;
  });
  return [...byKey.values()].sort((a, b) => b.total - a.total || b.self - a.self || (a.name < b.name ? -1 : 1));
}

/** The callers tree (root: the function, children: its callers) and the callees tree of ``fn``. */
export function sandwichTrees(data, tree, fn) {
  const isFn = (frame) => data.names[frame] === fn.name && data.fileOf(frame) === fn.file;
  const stacks = [];
  forEachStack(tree, (frames, samples) => {
    const at = frames.findIndex(isFn);  // the outermost call: recursion counts once
    if (at >= 0) stacks.push([frames.slice(0, at).reverse(), frames.slice(at + 1), samples]);
  });
  return {
    callers: treeFromStacks(data, (add) => { for (const [up, , n] of stacks) add(up, n); }),
    callees: treeFromStacks(data, (add) => { for (const [, down, n] of stacks) add(down, n); }),
  };
}

export class Sandwich {
  constructor(graph) {
    this.graph = graph;
    this.root = make("section", "fg-sandwich");
    this.root.hidden = true;
    this.root.setAttribute("aria-label", "Sandwich view");
    this.empty = make("p", "fg-sandwich-empty",
      "Pick a function: a row below, a frame of the flamegraph (then Sandwich), or a row of the hot functions table.");
    this.table = make("table", "fg-sandwich-table");
    const head = make("tr");
    for (const text of ["Function", "Self", "Total"]) head.append(make("th", "", text));
    this.tbody = make("tbody");
    this.table.append(make("thead"), this.tbody);
    this.table.tHead.append(head);
    this.title = make("h3", "fg-sandwich-title");
    this.figures = make("p", "fg-sandwich-figures");
    this.halves = {};
    const panels = make("div", "fg-sandwich-panels");
    for (const [key, label, orientation] of [["callers", "Callers", "flame"], ["callees", "Callees", "icicle"]]) {
      const canvas = make("canvas", "fg-canvas fg-sandwich-canvas");
      canvas.setAttribute("aria-label", `${label} of the picked function`);
      this.halves[key] = { canvas, painter: new FlameCanvas(canvas), orientation, tree: null, scene: null };
      panels.append(make("h4", "fg-sandwich-label", label), make("div", "fg-sandwich-frame"));
      panels.lastChild.append(canvas);
      if (key === "callers") panels.append(this.title, this.figures);
    }
    const tableBox = make("div", "fg-sandwich-list");
    tableBox.append(this.table);
    this.root.append(tableBox, make("div", "fg-sandwich-detail"));
    this.root.lastChild.append(this.empty, panels);
    this.panels = panels;
    graph.ui.viewport.after(this.root);
    for (const half of Object.values(this.halves)) this.bindCanvas(half);
    graph.listen(this.tbody, "click", (event) => this.pickRow(event));
    graph.listen(this.tbody, "keydown", (event) => { if (event.key === "Enter") this.pickRow(event); });
    // Enter in the search box picks the first function the search left in the table
    graph.listen(graph.ui.search, "keydown", (event) => {
      const first = this.tbody.rows[0];
      if (event.key !== "Enter" || graph.state.tab !== "sandwich" || !first) return;
      event.preventDefault();
      const fn = this.rows[Number(first.dataset.index)];
      graph.pickFunction(fn.name, fn.file);
    });
  }

  bindCanvas(half) {
    const { graph } = this;
    const nodeAt = (event) => {
      if (!half.scene) return -1;
      const box = half.canvas.getBoundingClientRect();
      return half.painter.hitTest(half.scene, event.clientX - box.left, event.clientY - box.top);
    };
    graph.listen(half.canvas, "pointermove", (event) => {
      const node = nodeAt(event);
      half.canvas.classList.toggle("fg-pointer", node > 0);
      if (node >= 0) showTooltip(graph.ui, this.describe(half.tree, node), event.clientX, event.clientY);
      else hideTooltip(graph.ui);
    });
    graph.listen(half.canvas, "pointerleave", () => hideTooltip(graph.ui));
    graph.listen(half.canvas, "click", (event) => {  // a caller or callee becomes the picked function
      const node = nodeAt(event);
      if (node > 0) graph.pickFunction(this.graph.data.names[half.tree.frame[node]], this.graph.data.fileOf(half.tree.frame[node]));
    });
  }

  pickRow(event) {
    const row = event.target instanceof Element && event.target.closest("tr[data-index]");
    if (!row) return;
    const fn = this.rows[Number(row.dataset.index)];
    this.graph.pickFunction(fn.name, fn.file);
  }

  /** Show or hide; when shown, fill the table and draw the picked function's halves. */
  render(visible) {
    this.root.hidden = !visible;
    if (!visible) return;
    const { graph } = this;
    const { data, tree } = graph;
    const picked = graph.state.picked;
    this.rows = functionTable(data, tree);
    this.fillTable(picked);
    const row = picked && this.rows.find((r) => r.name === picked.name && r.file === picked.file);
    this.empty.hidden = Boolean(row);
    this.panels.hidden = !row;
    if (!row) return;
    const whole = tree.total[0] || 1;
    this.title.textContent = row.name;
    this.figures.textContent = `${row.file || "no source file"} \u00b7 Self: ${formatCount(row.self)} samples (${formatPercent(row.self / whole)})`
      + ` \u00b7 Total: ${formatCount(row.total)} samples (${formatPercent(row.total / whole)})`;
    const trees = sandwichTrees(data, tree, picked);
    for (const [key, half] of Object.entries(this.halves)) this.draw(half, trees[key], row.name);
  }

  fillTable(picked) {
    const matches = this.graph.state.matches;
    const whole = this.graph.tree.total[0] || 1;
    const shown = [];
    this.rows.forEach((row, index) => {
      if (shown.length >= MAX_TABLE_ROWS || (matches && !matches[row.frame])) return;
      const tr = make("tr");
      tr.dataset.index = String(index);
      tr.tabIndex = 0;
      const isPicked = Boolean(picked) && row.name === picked.name && row.file === picked.file;
      tr.setAttribute("aria-selected", String(isPicked));
      const name = make("td", "", row.name);
      name.title = row.file;
      tr.append(name, make("td", "fg-num", formatPercent(row.self / whole)), make("td", "fg-num", formatPercent(row.total / whole)));
      shown.push(tr);
    });
    this.tbody.replaceChildren(...shown);
  }

  draw(half, tree, name) {
    const { graph } = this;
    const width = half.canvas.parentElement.clientWidth || graph.ui.root.clientWidth;
    const rows = Math.min(tree.maxDepth + 1, MAX_ROWS_DRAWN);
    const contentHeight = (tree.maxDepth + 1) * ROW_HEIGHT_PX;
    const height = rows * ROW_HEIGHT_PX;
    // callers grow upwards from the function at the bottom: show the rows nearest to it
    const scrollTop = half.orientation === "flame" ? contentHeight - height : 0;
    half.tree = tree;
    half.scene = {
      tree, zoom: 0, colours: graph.colours, theme: graph.theme, matches: null, selected: -1,
      viewport: new Viewport({ width, height, contentHeight, scrollTop, orientation: half.orientation }),
      labelOf: (node) => (node === 0 ? name : graph.data.names[tree.frame[node]]),
    };
    half.painter.resize(width, height);
    half.painter.draw(half.scene);
  }

  describe(tree, node) {
    const { data } = this.graph;
    const frame = tree.frame[node];
    const whole = tree.total[0] || 1;
    const share = (n) => `${formatCount(n)} samples \u00b7 ${formatPercent(n / whole)} of the function's`;
    return {
      title: frame === ROOT_FRAME ? this.title.textContent : data.names[frame],
      location: frame === ROOT_FRAME ? "" : data.fileOf(frame),
      origin: frame === ROOT_FRAME ? "" : data.originOf(frame),
      total: `Total: ${share(tree.total[node])}`,
      self: `Self: ${share(tree.self[node])}`,
    };
  }

  /** For tests: what the sandwich shows. */
  snapshot() {
    const labels = (half) => (half.tree ? Array.from({ length: half.tree.n }, (_, n) => half.scene.labelOf(n)) : []);
    return {
      visible: !this.root.hidden,
      title: this.panels.hidden ? null : this.title.textContent,
      figures: this.panels.hidden ? null : this.figures.textContent,
      callers: labels(this.halves.callers),
      callees: labels(this.halves.callees),
      drawn: this.halves.callers.painter.drawnFrames + this.halves.callees.painter.drawnFrames,
    };
  }
}
