// The row under the flamegraph's toolbar: Flamegraph / Sandwich, and the transform toggles: only my code, collapse recursion,
// merge comprehensions, and focus on a function (the selected frame's, else the zoomed one's).
// DOM built with textContent only: a function name never becomes markup.

import { ROOT_FRAME } from "./tree.js";
import { scriptFileOf, scriptLineOf } from "./source-heat.js";

const TOGGLE_LABELS = [
  ["mine", "Only my code", "Frames outside your files count for their caller in your code"],
  ["recursion", "Collapse recursion", "A function calling itself shows once"],
  ["comprehensions", "Merge comprehensions", "<listcomp>, <genexpr>, <lambda>\u2026 count for the function around them"],
];

function button(text, attrs) {
  const node = document.createElement("button");
  node.type = "button";
  node.textContent = text;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

/** Add the transform row to ``graph``'s DOM and wire it; returns its sync(state) function. */
export function addTransformControls(graph) {
  const { ui } = graph;
  const row = document.createElement("div");
  row.className = "fg-transforms";
  row.setAttribute("role", "group");
  row.setAttribute("aria-label", "Transforms");
  const toggles = TOGGLE_LABELS.map(([value, text, title]) => {
    const toggle = button(text, { value, title, "aria-pressed": "false", class: "fg-toggle" });
    graph.listen(toggle, "click", () => graph.setTransforms({ [value]: !graph.state.transforms[value] }));
    return toggle;
  });
  const focus = button("Focus on function", { class: "fg-focus",
    title: "Only the stacks through the selected (or zoomed) frame's function, rooted at it" });
  const focusName = document.createElement("span");
  focusName.className = "fg-focus-name";
  const clear = button("\u00d7", { class: "fg-focus-clear", title: "Stop focusing", "aria-label": "Stop focusing" });
  graph.listen(focus, "click", () => {
    if (graph.state.tab === "sandwich") {  // the sandwich's function
      if (graph.state.picked) graph.setTransforms({ focus: { ...graph.state.picked } });
      return;
    }
    graph.focusOnNode(graph.state.selected >= 0 ? graph.state.selected : graph.state.zoom);
  });
  graph.listen(clear, "click", () => graph.setTransforms({ focus: null }));
  const tabs = document.createElement("div");
  tabs.className = "fg-tabs";  // not .fg-segmented: tests and styles of the toolbar own that
  tabs.setAttribute("role", "group");
  tabs.setAttribute("aria-label", "Show");
  const tabButtons = [["flame", "Flamegraph"], ["sandwich", "Sandwich"]].map(([value, text]) => {
    const tab = button(text, { value, "aria-pressed": "false",
      title: value === "sandwich" ? "A function's callers above it and its callees below" : "The whole call tree" });
    graph.listen(tab, "click", () => graph.setTab(value));
    return tab;
  });
  tabs.append(...tabButtons);
  const source = button("Source", { class: "fg-source", title: "Show the selected (or zoomed) frame's line in the source view" });
  graph.listen(source, "click", () => {
    const node = graph.state.selected >= 0 ? graph.state.selected : graph.state.zoom;
    graph.openSource(scriptLineOf(graph, node), scriptFileOf(graph, node));
  });
  row.append(tabs, ...toggles, focus, focusName, clear, source);
  ui.toolbar.after(row);

  return function sync(state) {
    for (const tab of tabButtons) tab.setAttribute("aria-pressed", String(tab.value === state.tab));
    for (const toggle of toggles) toggle.setAttribute("aria-pressed", String(Boolean(state.transforms[toggle.value])));
    const focused = state.transforms.focus;
    focusName.textContent = focused ? `Focused on ${focused.name}` : "";
    focusName.hidden = clear.hidden = !focused;
    const target = state.selected >= 0 ? state.selected : state.zoom;
    const nothingToFocus = state.tab === "sandwich" ? !state.picked : graph.tree.frame[target] === ROOT_FRAME;
    focus.disabled = Boolean(focused) || !graph.data || nothingToFocus;
    source.hidden = !document.getElementById("source");
    source.disabled = !graph.data || state.tab !== "flame" || !scriptLineOf(graph, target);
  };
}
