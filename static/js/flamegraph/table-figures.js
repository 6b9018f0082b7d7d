// The hot-functions and complexity tables' figures from a (transformed) function-level tree, so the
// tables follow the flamegraph's transforms ("only my code" gives a library's time to the user's
// function that called it). Counting rules as the server's (webapp/analysis/stats.py) and
// report.js's: self to the innermost frame, total once per sample to every function on the stack.

import { ROOT_FRAME } from "./tree.js";
import { forEachStack } from "./transforms.js";

/** Map "name\0file" -> {name, file, line, defined, self, total, selfPercent, totalPercent}. */
export function figuresOfTree(data, tree) {
  const figures = new Map();
  const entryOf = (frame) => {
    const file = data.fileOf(frame);
    const key = `${data.names[frame]}\u0000${file}`;
    let entry = figures.get(key);
    if (!entry) {
      entry = { name: data.names[frame], file, line: data.lines[frame], defined: !!data.defined[frame], self: 0, total: 0 };
      figures.set(key, entry);
    }
    return entry;
  };
  forEachStack(tree, (frames, samples) => {
    const seen = new Set();  // a recursive function counts once per sample
    for (const frame of frames) {
      if (frame === ROOT_FRAME) continue;
      const entry = entryOf(frame);
      if (seen.has(entry)) continue;
      seen.add(entry);
      entry.total += samples;
    }
    const leaf = frames[frames.length - 1];
    if (leaf !== undefined && leaf !== ROOT_FRAME) entryOf(leaf).self += samples;
  });
  const samples = tree.total[0] || 0;
  for (const entry of figures.values()) {
    entry.selfPercent = samples ? (100 * entry.self) / samples : 0;
    entry.totalPercent = samples ? (100 * entry.total) / samples : 0;
  }
  return figures;
}
