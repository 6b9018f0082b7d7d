// The source view's heat (templates/reports/_source.html): each line of the script gets its
// self and total samples, counted from the flamegraph's line-level tree of the selected
// thread, so the heat follows the Threads menu. A click on a line highlights its frames in the
// flamegraph; the flamegraph's "Source" button and a row of the complexity table scroll here to a line.
//
// Numbers reach the page as attribute and text values only; widths through CSSOM.

import { ROOT_FRAME } from "./tree.js";
import { forEachStack } from "./transforms.js";
import { formatCount, formatPercent } from "./controls.js";

/** The key of a line of one of the user's files in ``lineHeat``'s map. */
export const lineKey = (file, line) => `${file}\u0000${line}`;

/** Per line of the user's files (origin "script"): {self, total} samples in ``tree`` (a line-level
 *  tree), keyed by ``lineKey(file, line)``: a project's files each have a line 1. */
export function lineHeat(data, tree) {
  const heat = new Map();
  const at = (line) => {
    let entry = heat.get(line);
    if (!entry) heat.set(line, (entry = { self: 0, total: 0 }));
    return entry;
  };
  forEachStack(tree, (frames, samples) => {
    const seen = new Set();  // a line twice on one stack (recursion) counts once
    for (const frame of frames) {
      if (data.originOf(frame) !== "script" || !data.lines[frame]) continue;
      const key = lineKey(data.fileOf(frame), data.lines[frame]);
      if (seen.has(key)) continue;
      seen.add(key);
      at(key).total += samples;
    }
    const leaf = frames[frames.length - 1];
    if (leaf !== undefined && data.originOf(leaf) === "script" && data.lines[leaf]) {
      at(lineKey(data.fileOf(leaf), data.lines[leaf])).self += samples;
    }
  });
  return heat;
}

/** Paint the heat of ``graph``'s selected thread on the source view, if the page has one. */
export function paintSource(graph) {
  const section = document.getElementById("source");
  if (!section || !graph.data) return;
  if (section.paintedBy === graph && section.dataset.view === graph.data.views[graph.state.view].id) return;
  section.paintedBy = graph;
  const tree = graph.data.tree(graph.state.view, "line");
  const heat = lineHeat(graph.data, tree);
  const whole = tree.total[0] || 1;
  let hottest = 1;
  for (const { total } of heat.values()) hottest = Math.max(hottest, total);
  for (const row of section.querySelectorAll("tr[data-line]")) {
    const entry = heat.get(lineKey(fileOfRow(row), Number(row.dataset.line))) || { self: 0, total: 0 };
    row.querySelector(".src-total").style.width = `${(100 * entry.total) / hottest}%`;
    row.querySelector(".src-self").style.width = `${(100 * entry.self) / hottest}%`;
    row.classList.toggle("src-cold", entry.total === 0);
    row.dataset.self = String(entry.self);
    row.dataset.total = String(entry.total);
    row.querySelector(".src-heat").title = entry.total
      ? `Self: ${formatCount(entry.self)} samples (${formatPercent(entry.self / whole)}) \u00b7 `
        + `Total: ${formatCount(entry.total)} samples (${formatPercent(entry.total / whole)})`
      : "Not sampled";
  }
  const status = section.querySelector(".src-status");
  if (status) status.textContent = `Heat of ${graph.data.views[graph.state.view].label} (${formatCount(tree.total[0])} samples).`;
  section.dataset.view = graph.data.views[graph.state.view].id;
}

/** The file a row of the source view belongs to. */
function fileOfRow(row) {
  const table = row.closest("table[data-file]");
  return table ? table.dataset.file : "";
}

/** The row of ``line`` of ``file`` (default: the script, or a project's entry) in the source view. */
function sourceRow(line, file) {
  if (!file) {
    const row = document.getElementById(`L${line}`);
    return row && row.closest("#source") ? row : null;
  }
  for (const table of document.querySelectorAll("#source table[data-file]")) {
    if (table.dataset.file === file) return table.querySelector(`tr[data-line="${Number(line)}"]`);
  }
  return null;
}

/** Scroll the source view to ``line`` of ``file`` and mark it; false when the page has no such line. */
export function revealLine(line, file = "") {
  const row = line ? sourceRow(line, file) : null;
  if (!row) return false;
  const details = row.closest("details");
  if (details) details.open = true;
  for (const current of document.querySelectorAll("#source .src-current")) current.classList.remove("src-current");
  row.classList.add("src-current");
  row.scrollIntoView({ block: "center" });
  row.focus({ preventScroll: true });
  return true;
}

/** Highlight, in ``graph``, the frames of the user's ``file`` at ``line`` (grouped by line, where lines are frames). */
export function highlightLine(graph, line, file = "") {
  if (!graph.data) return;
  if (graph.state.level !== "line") graph.setLevel("line");
  const { data } = graph;
  const flags = new Uint8Array(data.frameCount);
  for (let f = 0; f < data.frameCount; f++) {
    flags[f] = data.originOf(f) === "script" && data.lines[f] === line && (!file || data.fileOf(f) === file) ? 1 : 0;
  }
  graph.ui.search.value = "";
  graph.state.matches = flags;
  graph.refreshMatchLabel();
  graph.render();
}

/** The script line of the frame at ``node`` of ``graph``'s tree, or 0. */
export function scriptLineOf(graph, node) {
  const frame = graph.tree.frame[node];
  if (frame === undefined || frame === ROOT_FRAME || graph.data.originOf(frame) !== "script") return 0;
  return graph.data.lines[frame] || 0;
}

/** The user's file of the frame at ``node`` of ``graph``'s tree ("" when it is not one). */
export function scriptFileOf(graph, node) {
  const frame = graph.tree.frame[node];
  if (frame === undefined || frame === ROOT_FRAME || graph.data.originOf(frame) !== "script") return "";
  return graph.data.fileOf(frame);
}

/** Wire the source view to ``graph``: paint now and on every change of thread; clicks on lines. */
export function bindSource(graph) {
  paintSource(graph);
  graph.listen(graph.element, "flamegraph:view", () => paintSource(graph));
  graph.listen(document, "click", (event) => {
    if (!(event.target instanceof Element)) return;
    const row = event.target.closest("#source tr[data-line]");
    if (row) highlightLine(graph, Number(row.dataset.line), fileOfRow(row));
    // a row of the complexity table opens its function in the source (its Lines cell holds the def line),
    // a hot-functions row of one of the user's functions too (at its def line)
    const fn = event.target.closest("#complexity tbody tr");
    const hot = event.target.closest("#hot-functions tbody tr[data-source-line]");
    if (fn && fn.cells[1]) graph.openSource(Number(fn.cells[1].dataset.value), fn.dataset.sourceFile || "");
    else if (hot) graph.openSource(Number(hot.dataset.sourceLine), hot.dataset.flameFile || "");
  });
}
