// The flame tree document (flame.json) turned into typed arrays the renderer can walk.
//
// The server sends, per grouping level, one shared call tree of all threads as flat
// pre-order arrays (depth, frame; node 0 is the root), and per view the nodes where its
// samples end. Here a view's tree is summed up (self, total), stripped of nodes it never
// passes through, and given what layout and navigation need: parent, end (one past the
// last descendant) and start (the left edge in samples from the root's left edge).
// Positions come from the full tree, so a zoom only changes the scale: frames too
// narrow at one level appear at the next.

export const ROOT_FRAME = -1;
export const ORIGIN_LABELS = {
  "script": "your script",
  "stdlib": "standard library",
  "site-packages": "site-packages",
  "native": "native / unknown",
};

/** One call tree (one view at one grouping level) with its layout arrays. */
export class Tree {
  constructor(depth, frame, self, total) {
    const n = depth.length;
    Object.assign(this, { n, depth, frame, self, total });
    this.parent = new Int32Array(n);
    this.end = new Int32Array(n);
    this.start = new Float64Array(n);
    this.maxDepth = 0;
    this.link();
  }

  /** Fill parent, end, start and maxDepth in two linear passes. */
  link() {
    const { n, depth, total, parent, end, start } = this;
    const lastAtDepth = [];
    const cursor = [0, 0];  // cursor[d]: where the next node of depth d starts
    const open = [];        // nodes whose subtree is not closed yet
    for (let i = 0; i < n; i++) {
      const d = depth[i];
      while (open.length && depth[open[open.length - 1]] >= d) end[open.pop()] = i;
      open.push(i);
      parent[i] = d === 0 ? -1 : lastAtDepth[d - 1];
      lastAtDepth[d] = i;
      start[i] = cursor[d] || 0;
      cursor[d] = start[i] + total[i];
      cursor[d + 1] = start[i];
      if (d > this.maxDepth) this.maxDepth = d;
    }
    while (open.length) end[open.pop()] = n;
  }

  /** Node indexes from the root down to ``node``, both included. */
  path(node) {
    const nodes = [];
    for (let i = node; i >= 0; i = this.parent[i]) nodes.push(i);
    return nodes.reverse();
  }

  /**
   * The deepest depth in the subtree of ``node`` that holds a frame at least ``minTotal``
   * samples wide: narrower frames are not drawn, and neither are their subtrees, so they
   * must not make the graph taller.
   */
  visibleDepthUnder(node, minTotal) {
    let deepest = this.depth[node];
    for (let i = node; i < this.end[node];) {
      if (this.total[i] < minTotal) { i = this.end[i]; continue; }
      if (this.depth[i] > deepest) deepest = this.depth[i];
      i++;
    }
    return deepest;
  }

  /** The children of ``node``, left to right. */
  children(node) {
    const found = [];
    for (let child = node + 1; child < this.end[node]; child = this.end[child]) found.push(child);
    return found;
  }

  /** Is ``node`` inside the subtree of ``ancestor`` (itself included)? */
  contains(ancestor, node) { return node >= ancestor && node < this.end[ancestor]; }

  /** Samples in nodes whose frame matches, each sample once: a match's subtree is skipped. */
  matchedSamples(frameMatches) {
    let sum = 0;
    for (let i = 0; i < this.n;) {
      const f = this.frame[i];
      if (f !== ROOT_FRAME && frameMatches[f]) { sum += this.total[i]; i = this.end[i]; } else i++;
    }
    return sum;
  }

  /** The node at ``depth`` under the sample position ``x`` (root coordinates), or -1. */
  nodeAt(from, depth, x) {
    if (depth < this.depth[from]) {
      const path = this.path(from);
      return path[depth];
    }
    let node = from;
    if (x < this.start[node] || x >= this.start[node] + this.total[node]) return -1;
    while (this.depth[node] < depth) {
      let child = node + 1;
      let found = -1;
      while (child < this.end[node]) {
        if (x >= this.start[child] && x < this.start[child] + this.total[child]) { found = child; break; }
        child = this.end[child];
      }
      if (found < 0) return -1;
      node = found;
    }
    return node;
  }
}

/** The whole document: frames table, views, and lazily built trees. */
export class FlameData {
  constructor(doc, { scriptFile } = {}) {
    if (!doc || doc.format !== "flamedeck-flame-tree") {
      throw new Error("This file is not a flamedeck flame tree.");
    }
    this.doc = doc;
    this.views = doc.views;
    this.files = doc.files;
    this.origins = doc.origins;
    this.names = doc.frames.name;
    this.frameFile = doc.frames.file;
    this.lines = doc.frames.line;
    // 1 where a frame's function has a known definition line; older documents have none, and
    // their function lines were all first sampled lines, which is what the tooltip then says.
    this.defined = doc.frames.defined || [];
    this.frameOrigin = Int32Array.from(doc.frames.origin);
    if (scriptFile) this.markScript(scriptFile);
    this.sharedTrees = new Map();
    this.trees = new Map();
  }

  get frameCount() { return this.names.length; }

  /** Treat frames from ``scriptFile`` (a path, or a bare file name) as the script's. */
  markScript(scriptFile) {
    const script = this.origins.indexOf("script");
    const bare = !scriptFile.includes("/");
    for (let f = 0; f < this.frameCount; f++) {
      const file = this.files[this.frameFile[f]];
      if (file === scriptFile || (bare && file.endsWith("/" + scriptFile))) this.frameOrigin[f] = script;
    }
  }

  /** The shared tree of ``level`` as typed arrays, with each node's parent. */
  shared(level) {
    if (!this.sharedTrees.has(level)) {
      const raw = this.doc.trees[level];
      const depth = Int32Array.from(raw.depth);
      const parent = new Int32Array(depth.length);
      const lastAtDepth = [];
      for (let i = 0; i < depth.length; i++) {
        parent[i] = depth[i] === 0 ? -1 : lastAtDepth[depth[i] - 1];
        lastAtDepth[depth[i]] = i;
      }
      this.sharedTrees.set(level, { depth, parent, frame: Int32Array.from(raw.frame) });
    }
    return this.sharedTrees.get(level);
  }

  /** The Tree of view ``viewIndex`` at ``level`` ("function" or "line"), built once. */
  tree(viewIndex, level) {
    const key = `${viewIndex}:${level}`;
    if (!this.trees.has(key)) this.trees.set(key, this.buildTree(this.views[viewIndex][level], this.shared(level)));
    return this.trees.get(key);
  }

  buildTree(ending, shared) {
    const n = shared.depth.length;
    const self = new Float64Array(n);
    for (let k = 0; k < ending.node.length; k++) self[ending.node[k]] = ending.self[k];
    const total = Float64Array.from(self);
    for (let i = n - 1; i > 0; i--) total[shared.parent[i]] += total[i];
    let kept = 1;
    for (let i = 1; i < n; i++) if (total[i] > 0) kept++;
    if (kept === n) return new Tree(shared.depth, shared.frame, self, total);
    const pick = (from, into) => {
      into[0] = from[0];
      for (let i = 1, j = 1; i < n; i++) if (total[i] > 0) into[j++] = from[i];
      return into;
    };
    return new Tree(pick(shared.depth, new Int32Array(kept)), pick(shared.frame, new Int32Array(kept)),
      pick(self, new Float64Array(kept)), pick(total, new Float64Array(kept)));
  }

  fileOf(frame) { return frame === ROOT_FRAME ? "" : this.files[this.frameFile[frame]]; }

  originOf(frame) { return frame === ROOT_FRAME ? "native" : this.origins[this.frameOrigin[frame]]; }
}

/** What the search box says when compileQuery throws. */
export const INVALID_QUERY_MESSAGE = "That regular expression is not valid; fix it or search for plain text.";

/**
 * A predicate over (name, file) for the search box: "/regex/flags" or plain,
 * case-insensitive text. Returns null for an empty query; throws SyntaxError
 * for a regular expression that does not compile.
 */
export function compileQuery(text) {
  const query = text.trim();
  if (!query) return null;
  const regex = /^\/(.+)\/([a-z]*)$/.exec(query);
  if (regex) {
    const pattern = new RegExp(regex[1], regex[2].replace(/[gy]/g, ""));
    return (name, file) => pattern.test(name) || pattern.test(file);
  }
  const needle = query.toLowerCase();
  return (name, file) => name.toLowerCase().includes(needle) || file.toLowerCase().includes(needle);
}

/** One flag per frame of ``data``: does ``predicate(name, file)`` hold for it? */
export function matchFrames(data, predicate) {
  const flags = new Uint8Array(data.frameCount);
  for (let f = 0; f < data.frameCount; f++) flags[f] = predicate(data.names[f], data.fileOf(f)) ? 1 : 0;
  return flags;
}
