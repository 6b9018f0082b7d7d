// The merged call tree of two runs (diff.json, see webapp/analysis/diff_tree.py) and its layout.
// Nodes are in depth-first pre-order; totals are computed here, once per side. The same
// document grouped by line (diff.json?level=line) gives a tree whose frames are lines.
//
// For walking and searching, each side is also a Tree of the single flamegraph (tree.js):
// same nodes, that side's totals, so navigate.js and Tree.matchedSamples serve both graphs.
//
// The first picture may come from the preview (diff-preview.json, see
// webapp/analysis/diff_preview.py): the tree without the frames too narrow to draw, plus each
// kept node's cut children (hidden) and the cut siblings just before it (gap), so that totals and places
// come out as from the full tree. A preview has the "All threads" view only and is drawn
// unzoomed; the page swaps in the full tree for everything else.

import { Tree } from "../flamegraph/tree.js";

export class DiffTree {
  constructor(doc) {
    this.doc = doc;
    this.frames = doc.frames;
    this.depth = doc.depth;
    this.frame = doc.frame;
    this.level = doc.level === "line" ? "line" : "function";
    this.preview = doc.preview || null;
    const count = doc.depth.length;
    // Typed arrays, not a list of children per node: a long run's tree has millions of nodes.
    // In pre-order a node's first child is the next node, and each child's subtree is followed
    // by its next sibling, so the subtree sizes are all the layout needs to walk the children.
    this.parent = new Int32Array(count).fill(-1);
    this.size = new Int32Array(count).fill(1);
    const chain = [];
    for (let node = 0; node < count; node += 1) {
      chain.length = doc.depth[node];
      if (chain.length) this.parent[node] = chain[chain.length - 1];
      chain.push(node);
    }
    for (let node = count - 1; node > 0; node -= 1) this.size[this.parent[node]] += this.size[node];
    this.views = doc.views || [{ label: "All threads", base_samples: doc.base.samples, head_samples: doc.head.samples }];
    this.interval = { base: doc.base.interval_s || 0, head: doc.head.interval_s || 0 };
    this.setView(0);
  }

  /** Show one view: all threads (0) or one thread name, matched across both runs. */
  setView(index) {
    const view = this.views[index] || this.views[0];
    const count = this.depth.length;
    if (view.node) {
      this.self = { base: new Float64Array(count), head: new Float64Array(count) };
      view.node.forEach((node, i) => {
        this.self.base[node] = view.base_self[i];
        this.self.head[node] = view.head_self[i];
      });
    } else {
      this.self = { base: this.doc.base_self, head: this.doc.head_self };
    }
    this.total = { base: Float64Array.from(this.self.base), head: Float64Array.from(this.self.head) };
    for (const side of ["base", "head"]) {
      const total = this.total[side];
      if (this.preview) this.preview[`${side}_hidden`].forEach((hidden, node) => { total[node] += hidden; });
      for (let node = count - 1; node > 0; node -= 1) total[this.parent[node]] += total[node];
    }
    this.samples = { base: view.base_samples || 1, head: view.head_samples || 1 };
    this.view = view;
    this.sideTrees = {};
  }

  /** The index of the view labelled ``label`` (another grouping's thread), or 0. */
  viewIndex(label) {
    return Math.max(0, this.views.findIndex((view) => view.label === label));
  }

  /** The selected view as the single flamegraph's Tree, sized by ``side`` ("base" or "head"). */
  sideTree(side) {
    if (!this.sideTrees[side]) {
      this.sideTrees[side] = new Tree(Int32Array.from(this.depth), Int32Array.from(this.frame), this.self[side], this.total[side]);
    }
    return this.sideTrees[side];
  }

  /** Node indexes from the root down to ``node``, both included: the zoom path. */
  path(node) {
    const nodes = [];
    for (let up = node; up >= 0; up = this.parent[up]) nodes.unshift(up);
    return nodes;
  }

  // What matchFrames (tree.js) asks of a flame document.
  get frameCount() { return this.frames.name.length; }
  get names() { return this.frames.name; }
  fileOf(frame) { return frame < 0 ? "" : this.frames.file[frame]; }

  /** The node's change, head − base: in points of all samples ("share") or in seconds ("time"). */
  change(node, mode) {
    if (mode === "time") {
      return this.total.head[node] * this.interval.head - this.total.base[node] * this.interval.base;
    }
    return 100 * (this.total.head[node] / this.samples.head - this.total.base[node] / this.samples.base);
  }

  /** Whether this tree draws what the full one would at ``minWidth`` (a share of the width):
   *  the full tree always; the preview unzoomed, when it kept every frame that wide. */
  draws(focus, minWidth) {
    return !this.preview || (focus === 0 && minWidth >= 2 * this.preview.min_share);
  }

  /** The largest change anywhere below the root: where the colour scale saturates. */
  largestChange(mode) {
    if (this.preview) return this.preview.largest_change[mode] || (mode === "time" ? 0.001 : 1);
    let largest = 0;
    for (let node = 1; node < this.depth.length; node += 1) {
      if (this.total.base[node] || this.total.head[node]) largest = Math.max(largest, Math.abs(this.change(node, mode)));
    }
    return largest || (mode === "time" ? 0.001 : 1);
  }

  name(node) {
    return this.frame[node] < 0 ? "all" : this.frames.name[this.frame[node]];
  }

  /** What a frame is called on the canvas, in breadcrumbs and the read-out: grouped by line,
   *  "name:line" as in the single flamegraph; the root is the view ("All threads"). */
  label(node) {
    const frame = this.frame[node];
    if (frame < 0) return this.view.label;
    const line = this.frames.line[frame];
    return this.level === "line" && line ? `${this.frames.name[frame]}:${line}` : this.frames.name[frame];
  }

  where(node) {
    const index = this.frame[node];
    if (index < 0) return "";
    const line = this.frames.line[index];
    return this.frames.file[index] + (line ? `:${line}` : "");
  }

  /** Frames to draw: {node, x, width, row} with x and width in [0, 1], for ``sizedBy`` widths,
   *  zoomed on ``focus`` (its ancestors full width above it); narrower than ``minWidth`` left out. */
  layout(sizedBy, focus, minWidth) {
    const total = this.total[sizedBy];
    const boxes = [];
    const ancestors = this.path(focus).slice(0, -1);
    ancestors.forEach((node, row) => boxes.push({ node, x: 0, width: 1, row }));
    const whole = total[focus] || 1;
    const gap = this.preview ? this.preview[`${sizedBy}_gap`] : null;
    const pending = [[focus, 0, 1, ancestors.length]];
    while (pending.length) {
      const [node, x, width, row] = pending.pop();
      if (width < minWidth || total[node] <= 0) continue;
      boxes.push({ node, x, width, row });
      let left = x;
      for (let child = node + 1; child < node + this.size[node]; child += this.size[child]) {
        if (gap) left += gap[child] / whole;  // the cut siblings before it
        const childWidth = total[child] / whole;
        pending.push([child, left, childWidth, row + 1]);
        left += childWidth;
      }
    }
    return boxes;
  }
}
