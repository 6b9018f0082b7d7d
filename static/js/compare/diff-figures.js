// What the differential flamegraph says about one frame, in its tooltip and, joined, in the
// screen readers' read-out: name, place, both sides' self and total samples, and the change.

import { formatChange, formatPercent, formatSeconds } from "./scale.js";

/** Lines describing ``node`` of ``tree`` (a DiffTree), its label first. */
export function describeNode(tree, node) {
  const lines = [tree.label(node)];
  if (tree.where(node)) lines.push(tree.where(node));
  if (node > 0 && tree.total.base[node] === 0) lines.push("new: only in head");
  if (node > 0 && tree.total.head[node] === 0) lines.push("gone: only in base");
  for (const side of ["base", "head"]) {
    const total = tree.total[side][node];
    const own = tree.self[side][node];
    lines.push(`${side}: self ${own} samples (${formatPercent(own, tree.samples[side])}), `
      + `total ${total} samples (${formatPercent(total, tree.samples[side])}, ${formatSeconds(total * tree.interval[side])})`);
  }
  lines.push(`change: ${formatChange(tree.change(node, "share"), "share")}, `
    + `${formatChange(tree.change(node, "time"), "time")}`);
  return lines;
}
