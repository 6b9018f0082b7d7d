// The flamegraph's input: pointer (mouse, pen, touch), keyboard, scrolling, resizing and
// theme changes, turned into calls on the Flamegraph controller (graph.js).
//
// A mouse hovers for info and clicks to zoom; a touch has no hover, so a tap selects a
// frame and shows its info, a second tap zooms, a tap elsewhere clears. The keyboard walks
// the frames while the canvas has focus (navigate.js), and Escape resets only while focus
// is inside this flamegraph, so it never steals Escape from the rest of the page.

import { showTooltip, hideTooltip } from "./controls.js";
import { NAVIGATION_KEYS, isDrawn, neighbour } from "./navigate.js";

const DARK_SCHEME_QUERY = "(prefers-color-scheme: dark)";
const THEME_EVENT = "flamedeck:themechange";  // sent by the page's theme toggle

/** Wire every listener of ``graph``; graph.destroy() removes them (graph.listen). */
export function bindEvents(graph) {
  const { ui } = graph;
  graph.listen(ui.canvas, "pointerdown", (event) => { graph.pointerType = event.pointerType || "mouse"; });
  // Hover info follows a mouse or pen only: a touch has no hover, and the mouse events a
  // browser makes up after a tap would leave the tooltip stuck.
  graph.listen(ui.canvas, "pointermove", (event) => { if (event.pointerType !== "touch") onHover(graph, event); });
  graph.listen(ui.canvas, "pointerleave", (event) => {
    if (event.pointerType === "touch") return;
    ui.canvas.classList.remove("fg-pointer");
    showSelectionOrHide(graph);
  });
  graph.listen(ui.canvas, "click", (event) => (graph.pointerType === "touch" ? onTap(graph, event) : onClick(graph, event)));
  graph.listen(ui.canvas, "dblclick", (event) => { if (graph.pointerType !== "touch") graph.reset(event.timeStamp); });
  graph.listen(ui.canvas, "blur", () => { if (graph.pointerType !== "touch") hideTooltip(ui); });
  graph.listen(ui.canvas, "focus", () => graph.showSelection());
  graph.listen(ui.reset, "click", (event) => graph.reset(event.timeStamp));
  graph.listen(ui.viewSelect, "change", () => graph.selectView(Number(ui.viewSelect.value)));
  graph.listen(ui.search, "input", (event) => graph.search(ui.search.value, event.timeStamp));
  for (const button of ui.levelButtons) graph.listen(button, "click", () => graph.setLevel(button.value));
  for (const button of ui.orientationButtons) graph.listen(button, "click", () => graph.setOrientation(button.value));
  // The tooltip is fixed to the window: when the graph or the page scrolls under it, the
  // selected frame's tooltip follows the frame.
  graph.listen(ui.viewport, "scroll", () => graph.scheduleRender({ retip: true }), { passive: true });
  graph.listen(window, "scroll", () => graph.scheduleRender({ retip: true }), { passive: true });
  // A tap or click anywhere else ends a selection (and its tooltip).
  graph.listen(document, "pointerdown", (event) => {
    if (!(event.target instanceof Node) || !ui.canvas.contains(event.target)) graph.clearSelection();
  });
  graph.listen(window, "resize", () => { graph.layout(true); graph.scheduleRender(); });
  graph.listen(document, "keydown", (event) => onKey(graph, event));
  graph.listen(document, THEME_EVENT, () => graph.onThemeChange());
  const darkScheme = window.matchMedia(DARK_SCHEME_QUERY);
  graph.listen(darkScheme, "change", () => graph.onThemeChange());
  graph.resizeObserver = new ResizeObserver(() => {
    // a new width may draw more or fewer rows; a new height alone (ours) changes nothing
    if (ui.viewport.clientWidth !== graph.layoutWidth) graph.layout(true);
    graph.scheduleRender();
  });
  graph.resizeObserver.observe(ui.viewport);
}

function nodeAtEvent(graph, event) {
  const box = graph.ui.canvas.getBoundingClientRect();
  return graph.painter.hitTest(graph.scene(), event.clientX - box.left, event.clientY - box.top);
}

function onHover(graph, event) {
  const node = nodeAtEvent(graph, event);
  graph.ui.canvas.classList.toggle("fg-pointer", node >= 0);
  if (node >= 0) showTooltip(graph.ui, graph.describe(node), event.clientX, event.clientY);
  else showSelectionOrHide(graph);
}

/** Away from a hovered frame, the tooltip goes back to the selected one while the graph has focus. */
function showSelectionOrHide(graph) {
  if (graph.state.selected >= 0 && document.activeElement === graph.ui.canvas) graph.showSelection();
  else hideTooltip(graph.ui);
}

function onClick(graph, event) {
  const node = nodeAtEvent(graph, event);
  if (node >= 0 && node !== graph.state.zoom) graph.zoomTo(node, event.timeStamp);
  onHover(graph, event);  // the frame under the pointer changed
}

/** A tap selects a frame and shows what it is; a second tap on it zooms; elsewhere clears. */
function onTap(graph, event) {
  const node = nodeAtEvent(graph, event);
  if (node < 0) graph.clearSelection();
  else if (node !== graph.state.selected) graph.select(node);
  else if (node !== graph.state.zoom) graph.zoomTo(node, event.timeStamp, { keepSelection: true });
}

/**
 * Keys: "/" searches from anywhere on the page; the rest only while focus is in this
 * flamegraph: arrows walk the frames, Enter zooms into the selected one, Escape clears
 * the search (in the search box) and resets the zoom.
 */
function onKey(graph, event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target instanceof Element && event.target.closest("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !typing) {
    event.preventDefault();
    graph.ui.search.focus();
    graph.ui.search.select();
    return;
  }
  if (!(event.target instanceof Node) || !graph.ui.root.contains(event.target)) return;
  if (event.key === "Escape") {
    if (event.target === graph.ui.search) {
      graph.ui.search.value = "";
      graph.search("", event.timeStamp);
      graph.ui.search.blur();
    }
    hideTooltip(graph.ui);
    graph.reset(event.timeStamp);
  } else if (event.target === graph.ui.canvas && NAVIGATION_KEYS.includes(event.key)) {
    event.preventDefault();  // the arrows move the selection, not the page
    const { selected, zoom } = graph.state;
    const from = selected >= 0 && isDrawn(graph.tree, zoom, graph.ui.viewport.clientWidth, selected) ? selected : -1;
    graph.select(from < 0 ? zoom : neighbour(graph.tree, zoom, graph.ui.viewport.clientWidth, from, event.key));
  } else if (event.target === graph.ui.canvas && event.key === "Enter" && graph.state.selected >= 0) {
    event.preventDefault();
    graph.zoomTo(graph.state.selected, event.timeStamp, { keepSelection: true });
  }
}
