// Walking the drawn frames with the arrow keys.
//
// Up goes to the parent, Down to the heaviest drawn child (the first of equals), Left and
// Right to the neighbouring drawn siblings. Only frames that are drawn can be reached:
// inside the zoom, those at least MIN_FRAME_WIDTH_PX wide; above it, the zoom's ancestors,
// drawn full width, whose siblings are not drawn.

import { MIN_FRAME_WIDTH_PX } from "./draw.js";

export const NAVIGATION_KEYS = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"];

/** Is ``node`` drawn at ``zoom`` when the zoom's samples span ``width`` px? */
export function isDrawn(tree, zoom, width, node) {
  if (node < 0 || node >= tree.n) return false;
  if (tree.contains(node, zoom)) return true;  // the zoom itself or one of its ancestors
  const scale = width / (tree.total[zoom] || 1);
  // a parent is never narrower than its child, so the node's own width decides
  return tree.contains(zoom, node) && tree.total[node] * scale >= MIN_FRAME_WIDTH_PX;
}

/** The node ``key`` moves to from ``node``, or ``node`` itself when there is nowhere to go. */
export function neighbour(tree, zoom, width, node, key) {
  const drawn = (candidate) => isDrawn(tree, zoom, width, candidate);
  if (key === "ArrowUp") return tree.parent[node] >= 0 ? tree.parent[node] : node;
  if (key === "ArrowDown") {
    if (node !== zoom && tree.contains(node, zoom)) return tree.path(zoom)[tree.depth[node] + 1];
    let best = node;
    for (const child of tree.children(node)) {
      if (drawn(child) && (best === node || tree.total[child] > tree.total[best])) best = child;
    }
    return best;
  }
  if (key === "ArrowLeft" || key === "ArrowRight") {
    if (tree.contains(node, zoom)) return node;  // above the zoom only one frame per row is drawn
    const siblings = tree.children(tree.parent[node]).filter(drawn);
    const next = siblings.indexOf(node) + (key === "ArrowLeft" ? -1 : 1);
    return next >= 0 && next < siblings.length ? siblings[next] : node;
  }
  return node;
}
