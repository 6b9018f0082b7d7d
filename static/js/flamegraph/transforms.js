// View transforms of a flame tree, run in the browser: only my code, collapse recursion,
// merge comprehensions, focus on a function. The same rules as webapp/profiles/transforms.py.
//
// Why here and not as more flame.json files from the server: the toggles combine freely
// (and focus can be any function), far too many variants to render ahead, while the flame
// tree already holds every stack (a node's path with its self samples) and each frame's
// origin. Rebuilding a tree costs one pass over its nodes, a few ms for large profiles.

import { ROOT_FRAME, Tree } from "./tree.js";

// Code objects CPython runs as frames of their own although written inside another function.
export const COMPREHENSION_NAMES = new Set(["<listcomp>", "<genexpr>", "<lambda>", "<dictcomp>", "<setcomp>"]);
export const TOGGLES = ["mine", "recursion", "comprehensions"];  // the on/off transforms, in the order applied

/** No transform at all: the state a view starts in. */
export function noTransforms() { return { mine: false, recursion: false, comprehensions: false, focus: null }; }

export function isIdentity(transforms) {
  return !transforms || (!TOGGLES.some((name) => transforms[name]) && !transforms.focus);
}

/** A short, stable key of the transforms: for caches and the URL ("mine,recursion" + focus). */
export function transformKey(transforms) {
  const on = TOGGLES.filter((name) => transforms[name]).join(",");
  return transforms.focus ? `${on}|${transforms.focus.name}\u0000${transforms.focus.file}` : on;
}

/** Per frame of ``data``: an id shared by all frames of one function (name, file). */
function functionIds(data) {
  if (!data.functionIds) {
    const ids = new Int32Array(data.frameCount);
    const seen = new Map();
    for (let f = 0; f < data.frameCount; f++) {
      const key = `${data.names[f]}\u0000${data.frameFile[f]}`;
      if (!seen.has(key)) seen.set(key, seen.size);
      ids[f] = seen.get(key);
    }
    data.functionIds = ids;
  }
  return data.functionIds;
}

/** Per frame: its position sorted by (name, file, line), the order of siblings in a tree. */
function frameRanks(data) {
  if (!data.frameRanks) {
    const order = [...Array(data.frameCount).keys()];
    const file = (f) => data.fileOf(f);
    const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
    order.sort((a, b) => compare(data.names[a], data.names[b]) || compare(file(a), file(b))
      || data.lines[a] - data.lines[b]);
    const rank = new Int32Array(data.frameCount);
    order.forEach((frame, position) => { rank[frame] = position; });
    data.frameRanks = rank;
  }
  return data.frameRanks;
}

/** The stack rewrite for ``transforms``: frames (root first) -> frames, or null to drop the samples. */
export function stackRewrite(data, transforms) {
  const ids = functionIds(data);
  const steps = [];
  if (transforms.comprehensions) {
    steps.push((frames) => frames.filter((f, k) => k === 0 || !COMPREHENSION_NAMES.has(data.names[f])));
  }
  if (transforms.mine) steps.push((frames) => frames.filter((f) => data.originOf(f) === "script"));
  if (transforms.recursion) {
    steps.push((frames) => {
      const kept = [];
      for (const f of frames) {
        if (kept.length && ids[kept[kept.length - 1]] === ids[f]) kept[kept.length - 1] = f;  // the innermost line
        else kept.push(f);
      }
      return kept;
    });
  }
  if (transforms.focus) {
    const { name, file } = transforms.focus;
    steps.push((frames) => {
      const at = frames.findIndex((f) => data.names[f] === name && (file == null || data.fileOf(f) === file));
      return at < 0 ? null : frames.slice(at);
    });
  }
  return (frames) => {
    let result = frames;
    for (const step of steps) {
      result = step(result);
      if (result === null) return null;
    }
    return result;
  };
}

/** Every stack of ``tree`` with its self samples: calls ``visit(frames, samples)``. */
export function forEachStack(tree, visit) {
  const path = [];
  for (let i = 1; i < tree.n; i++) {
    path.length = tree.depth[i] - 1;
    path.push(tree.frame[i]);
    if (tree.self[i] > 0) visit(path, tree.self[i]);
  }
  if (tree.self[0] > 0) visit([], tree.self[0]);
}

/** A Tree built from (frames, samples) stacks: ``fill(add)`` calls ``add(frames, samples)``. */
export function treeFromStacks(data, fill) {
  const root = { frame: ROOT_FRAME, self: 0, children: new Map() };
  let count = 1;
  fill((frames, samples) => {
    let node = root;
    for (const f of frames) {
      let child = node.children.get(f);
      if (!child) {
        child = { frame: f, self: 0, children: new Map() };
        node.children.set(f, child);
        count++;
      }
      node = child;
    }
    node.self += samples;
  });
  const rank = frameRanks(data);
  const depth = new Int32Array(count);
  const frame = new Int32Array(count);
  const self = new Float64Array(count);
  const total = new Float64Array(count);
  const parentOf = new Int32Array(count);
  let next = 0;
  const pending = [[root, 0, -1]];
  while (pending.length) {  // depth-first pre-order, siblings by rank
    const [node, d, parent] = pending.pop();
    const index = next++;
    depth[index] = d;
    frame[index] = node.frame;
    self[index] = node.self;
    parentOf[index] = parent;
    const children = [...node.children.values()].sort((a, b) => rank[b.frame] - rank[a.frame]);
    for (const child of children) pending.push([child, d + 1, index]);
  }
  total.set(self);
  for (let i = count - 1; i > 0; i--) total[parentOf[i]] += total[i];
  return new Tree(depth, frame, self, total);
}

/** ``tree`` with ``transforms`` applied, as a new Tree (``tree`` itself when there are none). */
export function transformTree(data, tree, transforms) {
  if (isIdentity(transforms)) return tree;
  const rewrite = stackRewrite(data, transforms);
  return treeFromStacks(data, (add) => forEachStack(tree, (frames, samples) => {
    const rewritten = rewrite(frames);
    if (rewritten !== null) add(rewritten, samples);
  }));
}
