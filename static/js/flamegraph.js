// The interactive flamegraph of a report page: a plain ES module, no framework.
//
//   import { mountFlamegraph } from "/static/js/flamegraph.js";
//   const graph = mountFlamegraph(element, { url: "/r/<token>/flame.json", scriptFile: "bench.py" });
//   graph.highlight("parse", "/job/bench.py");
//
// Loaded with <script type="module">, it also mounts itself on every element carrying a
// non-empty data-flamegraph-url or data-flame-url (and optional data-script-file), now or
// when one is added later (an htmx swap), and any element carrying data-flame-name (and
// data-flame-file) highlights that function when clicked or activated with Enter, so a
// page needs no inline script under a strict Content-Security-Policy. The graph is
// appended to the element, after whatever it already holds (a heading, say).
//
// Every name from the profile reaches the page as canvas text or textContent, never HTML.

import { Flamegraph } from "./flamegraph/graph.js";
import { viewLink } from "./flamegraph/view-state.js";

/** Mount a flamegraph in ``element``; returns the controller (see the file's header). */
export function mountFlamegraph(element, options) {
  const graph = new Flamegraph(element, options);
  graph.onDestroy = (gone) => mounted.splice(mounted.indexOf(gone), 1);
  graph.ready.catch(() => { /* the status line already tells the user */ });
  element.flamegraph = graph;
  mounted.push(graph);
  return graph;
}

const mounted = [];
const MOUNT_SELECTOR = "[data-flamegraph-url]:not([data-flamegraph-url='']), [data-flame-url]:not([data-flame-url=''])";

function mountWithin(root) {
  const found = root.matches && root.matches(MOUNT_SELECTOR) ? [root] : [];
  if (root.querySelectorAll) found.push(...root.querySelectorAll(MOUNT_SELECTOR));
  for (const element of found) {
    if (element.flamegraph) continue;
    const url = element.dataset.flamegraphUrl || element.dataset.flameUrl;
    mountFlamegraph(element, { url, scriptFile: element.dataset.scriptFile || undefined });
  }
}

/** Forget graphs whose element left the page (e.g. swapped out by htmx). */
function dropDetached() {
  for (const graph of [...mounted]) if (!graph.element.isConnected) graph.destroy();
}

function highlightFromRow(event) {
  const row = event.target instanceof Element && event.target.closest("[data-flame-name]");
  if (!row) return;
  if (event.type === "keydown" && event.key !== "Enter") return;
  dropDetached();
  if (!mounted.length) return;
  if (event.type === "keydown") event.preventDefault();
  const graph = mounted[0];
  graph.highlight(row.dataset.flameName, row.dataset.flameFile);
  graph.element.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

/** "Copy link to this view": <button data-copy-view="<the report's link>"> copies it with the view's fragment. */
function copyViewLink(event) {
  const button = event.target instanceof Element && event.target.closest("button[data-copy-view]");
  if (!button) return;
  const link = viewLink(button.dataset.copyView);
  button.dataset.link = link;  // what was copied, also where the clipboard is not available
  const label = button.dataset.label || (button.dataset.label = button.textContent);
  const done = (text) => { button.textContent = text; setTimeout(() => { button.textContent = label; }, COPIED_MESSAGE_MS); };
  if (!navigator.clipboard) { done("Copy failed"); return; }
  navigator.clipboard.writeText(link).then(() => done("Copied!"), () => done("Copy failed"));
}
const COPIED_MESSAGE_MS = 1500;

function watchForMounts() {
  mountWithin(document);
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) if (node.nodeType === Node.ELEMENT_NODE) mountWithin(node);
      if (mutation.removedNodes.length && mounted.length) dropDetached();
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watchForMounts);
  else watchForMounts();
  document.addEventListener("click", highlightFromRow);
  document.addEventListener("keydown", highlightFromRow);
  document.addEventListener("click", copyViewLink);
}
