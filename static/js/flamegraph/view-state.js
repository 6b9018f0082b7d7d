// The flamegraph's view in the page's URL: thread, grouping, zoom path, search, transforms,
// open tab (flamegraph, sandwich, or source: the line the source view was opened at) and picked function live in the fragment (#v=thread-1&z=3.7&q=parse...), so Back
// and Forward walk through the views and a copied link opens the same view elsewhere.
//
// The fragment, not the query: it never reaches the server, so the page stays one cached
// document and nobody's search text ends up in a log. Each change of view is a history entry;
// typing in the search box only replaces the current one (one entry per keystroke would make
// Back useless). A zoom is stored as the frame numbers on its path, which stay valid for the
// same flame.json whatever the thread's tree looks like.

import { ROOT_FRAME } from "./tree.js";
import { TOGGLES } from "./transforms.js";
import { revealLine } from "./source-heat.js";

/** The view of ``graph`` as URLSearchParams; defaults are left out, so the plain view is "". */
export function encodeView(graph) {
  const { state, data } = graph;
  const params = new URLSearchParams();
  const view = data.views[state.view];
  if (view && state.view !== 0) params.set("v", view.id);
  if (state.level !== "function") params.set("g", state.level);
  const tree = graph.tree;
  const path = tree.path(state.zoom).slice(1).map((node) => tree.frame[node]);
  if (path.length) params.set("z", path.join("."));
  const query = graph.ui.search.value.trim();
  if (query) params.set("q", query);
  const toggles = TOGGLES.filter((name) => state.transforms[name]);
  if (toggles.length) params.set("t", toggles.join(","));
  if (state.transforms.focus) {
    params.set("f", state.transforms.focus.name);
    params.set("ff", state.transforms.focus.file);
  }
  if (state.tab !== "flame") params.set("tab", state.tab);
  else if (state.source) {  // the source tab: the line the source view was opened at
    params.set("tab", "source");
    params.set("l", String(state.source.line));
    if (state.source.file) params.set("lf", state.source.file);
  }
  if (state.picked) {
    params.set("p", state.picked.name);
    params.set("pf", state.picked.file);
  }
  return params;
}

/** Put the view described by ``params`` (URLSearchParams) on ``graph``; unknown values are ignored. */
export function applyView(graph, params) {
  const { state, data } = graph;
  const viewIndex = data.views.findIndex((view) => view.id === params.get("v"));
  state.view = viewIndex >= 0 ? viewIndex : 0;
  state.level = params.get("g") === "line" ? "line" : "function";
  const on = new Set((params.get("t") || "").split(","));
  const focus = params.get("f");
  state.transforms = {
    ...Object.fromEntries(TOGGLES.map((name) => [name, on.has(name)])),
    focus: focus ? { name: focus, file: params.get("ff") || "" } : null,
  };
  const picked = params.get("p");
  state.picked = picked ? { name: picked, file: params.get("pf") || "" } : null;
  state.selected = -1;
  state.zoom = nodeOfPath(graph.tree, (params.get("z") || "").split(".").filter(Boolean).map(Number));
  graph.ui.syncControls(state);
  graph.ui.search.value = params.get("q") || "";
  graph.search(graph.ui.search.value);
  graph.setTab(params.get("tab") === "sandwich" ? "sandwich" : "flame");
  const line = Number(params.get("l"));
  if (params.get("tab") === "source" && Number.isInteger(line) && line > 0 && revealLine(line, params.get("lf") || "")) {
    state.source = { line, file: params.get("lf") || "" };
  }
}

/** The node reached from the root by following children with these frames (as far as they exist). */
function nodeOfPath(tree, frames) {
  let node = 0;
  for (const frame of frames) {
    const child = tree.children(node).find((c) => tree.frame[c] === frame && frame !== ROOT_FRAME);
    if (child === undefined) break;
    node = child;
  }
  return node;
}

/** Does the fragment describe a view? "#main" or "#L12" are the page's own anchors, left alone. */
export function isViewFragment(hash) { return hash.length <= 1 || hash.includes("="); }

/** Keep ``graph``'s view and the URL in step: restore it now, follow Back and Forward, record changes. */
export function syncWithUrl(graph) {
  let applying = false;
  let recorded = null;  // the view last written to (or read from) the URL
  const restore = () => {
    if (!isViewFragment(location.hash)) return;
    applying = true;
    try { applyView(graph, new URLSearchParams(location.hash.slice(1))); } finally { applying = false; }
    // what was understood, so the next change compares with it and not with a hand-made link
    const canonical = encodeView(graph).toString();
    recorded = canonical;
    history.replaceState(history.state, "", `${location.pathname}${location.search}${canonical ? `#${canonical}` : ""}`);
  };
  if (location.hash.length > 1) restore();  // on load: a copied link's view
  graph.listen(window, "popstate", restore);
  return function record() {
    if (applying || !graph.data) return;
    const next = encodeView(graph);
    const current = new URLSearchParams(isViewFragment(location.hash) ? location.hash.slice(1) : "");
    if (next.toString() === current.toString()) return;
    // A redraw that changed nothing (say, after the page jumped to its own anchor "#L12") keeps
    // that anchor: only a change of the view itself is recorded.
    if (!isViewFragment(location.hash) && next.toString() === recorded) return;
    recorded = next.toString();
    const url = `${location.pathname}${location.search}${next.toString() ? `#${next}` : ""}`;
    // only the search text differs: the same view being typed, not a new one
    current.delete("q");
    const withoutQuery = new URLSearchParams(next);
    withoutQuery.delete("q");
    const method = current.toString() === withoutQuery.toString() ? "replaceState" : "pushState";
    history[method]({ flamedeckView: true }, "", url);
  };
}

/** The address of this view: ``base`` (the report's share link) with the current fragment. */
export function viewLink(base) {
  return `${base.split("#")[0]}${location.hash}`;
}
