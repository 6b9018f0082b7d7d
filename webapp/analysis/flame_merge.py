"""Two reports' ``flame.json`` call trees merged into the diff tree, with whole-array operations.

The same document as :func:`webapp.analysis.diff_tree.diff_tree` (see that module's docstring),
built from two trees that are already aggregated. A long server run's function tree has about
two million nodes; merging them node by node in Python took half a minute, so here every pass
is a numpy operation over one depth level of both trees at a time (a call tree of depth 80 is
80 passes):

1. each side's nodes get their parent (from the pre-order depths) and a merged function number
   (functions are keyed by name and file, by line also the line; numbered head first so that
   head's lines win);
2. level by level, a merged node is a distinct (merged parent, function) pair of either side;
3. subtree sizes bottom-up, then pre-order places top-down, children ordered by their key;
4. self counts and thread views are summed onto the merged nodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from webapp.profiles.stack_tree import nodes_by_depth, parents_by_level

ROOT_FRAME = -1


class _Side:
    """One report's function tree as arrays: depth, parent and merged function of every node."""

    def __init__(self, document: dict[str, Any], functions: dict[tuple, int], lines: list[int], level: str):
        tree = document["trees"][level]
        self.depth = np.asarray(tree["depth"], dtype=np.int64)
        frame = np.asarray(tree["frame"], dtype=np.int64)
        frames, files = document["frames"], document["files"]
        lookup = np.full(len(frames["name"]) + 1, ROOT_FRAME, dtype=np.int64)  # the last slot: the root's -1
        for index in _by_first_appearance(frame, len(frames["name"])).tolist():  # as a walk would meet them
            key: tuple = (frames["name"][index], files[frames["file"][index]])
            if level == "line":
                key += (frames["line"][index],)
            if key not in functions:
                functions[key] = len(functions)
                lines.append(frames["line"][index])
            lookup[index] = functions[key]
        self.function = lookup[frame]
        self.at_depth = nodes_by_depth(self.depth)
        self.parent = parents_by_level(self.at_depth, len(self.depth))
        self.merged = np.zeros(len(self.depth), dtype=np.int64)  # filled level by level
        self.views = [(view["kind"], view["label"], view["samples"] if view["kind"] == "thread" else 0,
                       view[level]) for view in document["views"]]


def _by_first_appearance(values: np.ndarray, limit: int) -> np.ndarray:
    """The distinct values in [0, limit) of ``values``, in the order they first occur (no sort of it all)."""
    first = np.full(limit, len(values), dtype=np.int64)
    present = values >= 0
    np.minimum.at(first, values[present], np.flatnonzero(present))
    seen = np.flatnonzero(first < len(values))
    return seen[np.argsort(first[seen])]


def merge_flame_trees(base: dict[str, Any], head: dict[str, Any], level: str = "function") -> dict[str, Any]:
    """The diff tree of two ``flame.json`` documents (format flamedeck-flame-tree, version 1), of
    their trees of ``level``: "function" (a frame is a name and file) or "line" (name, file, line)."""
    functions: dict[tuple, int] = {}  # head first: its lines win
    lines: list[int] = []
    head_side = _Side(head, functions, lines, level)
    base_side = _Side(base, functions, lines, level)
    sides = (base_side, head_side)
    parent, function, level_starts = _merge_levels(sides, len(functions))
    count = len(parent)
    rank = np.empty(len(functions) + 1, dtype=np.int64)  # the last slot: the root's -1
    rank[np.array(sorted(range(len(functions)), key=list(functions).__getitem__), dtype=np.int64)] = np.arange(
        len(functions))
    rank[-1] = -1
    place = _preorder_places(parent, rank[function], level_starts)
    in_order = np.empty(count, dtype=np.int64)
    in_order[place] = np.arange(count)
    depth = np.repeat(np.arange(len(level_starts) - 1), np.diff(level_starts))

    ordered_function = function[in_order]
    appearance = _by_first_appearance(ordered_function, len(functions))  # numbered so, in pre-order
    number = np.full(len(functions) + 1, ROOT_FRAME, dtype=np.int64)
    number[appearance] = np.arange(len(appearance))
    keys = list(functions)
    selves = [_all_threads_self(side, count)[in_order].tolist() for side in sides]
    document: dict[str, Any] = {
        "format": "flamedeck-diff-tree",
        "version": 1,
        "base": _summary(base),
        "head": _summary(head),
        "frames": {"name": [keys[f][0] for f in appearance.tolist()],
                   "file": [keys[f][1] for f in appearance.tolist()],
                   "line": [lines[f] for f in appearance.tolist()]},
        "depth": depth[in_order].tolist(),
        "frame": number[ordered_function].tolist(),
        "base_self": selves[0],
        "head_self": selves[1],
        "views": [{"label": "All threads", "base_samples": base["sample_count"],
                   "head_samples": head["sample_count"]}],
    }
    document["views"].extend(_thread_views(sides, place))
    if level == "line":
        document["level"] = "line"
    return document


def _merge_levels(sides: tuple[_Side, _Side], function_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merged nodes, numbered level by level: each one's parent and function, and where each level starts."""
    parents, functions, starts = [np.array([-1])], [np.array([ROOT_FRAME])], [0, 1]
    levels = max(len(side.at_depth) for side in sides)
    for level in range(1, levels):
        nodes = [side.at_depth[level] if level < len(side.at_depth) else np.empty(0, np.int64) for side in sides]
        keys = np.concatenate([side.merged[side.parent[index]] * function_count + side.function[index]
                               for side, index in zip(sides, nodes)])
        distinct, which = np.unique(keys, return_inverse=True)
        split = len(nodes[0])
        sides[0].merged[nodes[0]] = starts[-1] + which[:split]
        sides[1].merged[nodes[1]] = starts[-1] + which[split:]
        parents.append(distinct // function_count)
        functions.append(distinct % function_count)
        starts.append(starts[-1] + len(distinct))
    return np.concatenate(parents), np.concatenate(functions), np.array(starts)


def _preorder_places(parent: np.ndarray, rank: np.ndarray, level_starts: np.ndarray) -> np.ndarray:
    """Each merged node's place in depth-first pre-order, children by rank (their (name, file) order)."""
    count = len(parent)
    size = np.ones(count, dtype=np.int64)
    for level in range(len(level_starts) - 2, 0, -1):  # subtree sizes, deepest level first
        low, high = level_starts[level], level_starts[level + 1]
        above = level_starts[level - 1]
        size[above:low] += np.bincount(parent[low:high] - above, weights=size[low:high],
                                       minlength=low - above).astype(np.int64)
    place = np.zeros(count, dtype=np.int64)
    for level in range(1, len(level_starts) - 1):
        low, high = level_starts[level], level_starts[level + 1]
        order = low + np.lexsort((rank[low:high], parent[low:high]))
        sizes, parents = size[order], parent[order]
        before = np.cumsum(sizes) - sizes  # the sizes of the siblings sorted before, plus earlier groups
        first_of_group = np.ones(len(order), dtype=bool)
        first_of_group[1:] = parents[1:] != parents[:-1]
        before -= np.maximum.accumulate(np.where(first_of_group, before, 0))
        place[order] = place[parents] + 1 + before
    return place


def _all_threads_self(side: _Side, count: int) -> np.ndarray:
    for kind, _label, _samples, tree in side.views:
        if kind == "all":
            return _summed(side.merged[np.asarray(tree["node"], dtype=np.int64)], tree["self"], count)
    return np.zeros(count, dtype=np.int64)


def _summed(nodes: np.ndarray, counts: list, count: int) -> np.ndarray:
    """``counts`` added up on ``nodes``, as integers unless a count has a fraction."""
    values = np.asarray(counts)
    total = np.zeros(count, dtype=np.int64 if values.dtype.kind in "iub" else np.float64)
    np.add.at(total, nodes, values)
    return total


def _thread_views(sides: tuple[_Side, _Side], place: np.ndarray) -> list[dict[str, Any]]:
    """One view per thread name, matched across both runs; none when there is only one name."""
    labels: dict[str, list] = {}  # label -> [base samples, head samples, base (nodes, counts)s, head ...]
    for side_number in (1, 0):  # head first: the order its threads come in
        for kind, label, samples, tree in sides[side_number].views:
            if kind != "thread":
                continue
            entry = labels.setdefault(label, [0, 0, [], []])
            entry[side_number] += samples
            nodes = sides[side_number].merged[np.asarray(tree["node"], dtype=np.int64)]
            entry[2 + side_number].append((place[nodes], tree["self"]))
    if len(labels) <= 1:
        return []
    views = []
    for label, (base_samples, head_samples, *parts) in labels.items():
        placed = [np.concatenate([nodes for nodes, _ in part] or [np.empty(0, np.int64)]) for part in parts]
        nodes = np.unique(np.concatenate(placed))
        counts = [_summed(np.searchsorted(nodes, where), [c for _, side in part for c in side] or np.empty(0, np.int64),
                          len(nodes)) for where, part in zip(placed, parts)]
        views.append({"label": label, "base_samples": base_samples, "head_samples": head_samples,
                      "node": nodes.tolist(), "base_self": counts[0].tolist(), "head_self": counts[1].tolist()})
    return views


def _summary(document: dict[str, Any]) -> dict[str, Any]:
    return {"name": document["name"], "samples": document["sample_count"], "interval_s": document["interval_s"]}
