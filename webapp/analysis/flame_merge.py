"""Two reports' call trees merged into the diff tree, with whole-array operations.

The same document as :func:`webapp.analysis.diff_tree.diff_tree` (see that module's docstring),
built from two trees that are already aggregated (:class:`TreeColumns`, from ``flame.json`` or
a report's ``function-tree.bin``). A long server run's function tree has about two million
nodes; merging them node by node in Python took half a minute, so here every pass is a numpy
operation over one depth level of both trees at a time (a call tree of depth 80 is 80 passes):

1. each side's nodes get their parent (from the pre-order depths) and the rank of their
   function among all functions of both sides, sorted by key (name, file; by line also the
   line) - the order of siblings;
2. level by level, a merged node is a distinct (merged parent, rank) pair of either side,
   and a level's merged nodes are numbered in that pair's order. Numbered so, each level lists
   its nodes in pre-order, and so does each side's level already (a tree's pre-order lists
   siblings by rank, under parents in pre-order): the two sides' pairs are two sorted runs,
   which a stable sort merges in one linear pass instead of sorting them from scratch;
3. subtree sizes bottom-up, then pre-order places top-down (a node follows its parent and
   its elder siblings' subtrees), needing no sort at all;
4. self counts and thread views are summed onto the merged nodes.

The long columns of the result are numpy arrays (orjson writes them with
``OPT_SERIALIZE_NUMPY``); :func:`merge_flame_trees` gives plain lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from webapp.profiles.exporters.tree_columns import TreeColumns, first_appearances, tree_columns

ROOT_FRAME = -1
LONG_COLUMNS = ("depth", "frame", "base_self", "head_self")


class _Functions:
    """The functions of both sides, numbered as first registered (head first: its lines win)."""

    def __init__(self) -> None:
        self.number: dict[tuple, int] = {}
        self.lines: list[int] = []

    def register(self, columns: TreeColumns) -> np.ndarray:
        """The function number of each of ``columns``' frames, with ROOT_FRAME in a last slot."""
        numbers = np.empty(len(columns.names) + 1, dtype=np.int64)
        numbers[-1] = ROOT_FRAME
        for index, (key, line) in enumerate(zip(columns.keys(), columns.lines)):
            found = self.number.get(key)
            if found is None:
                found = self.number[key] = len(self.lines)
                self.lines.append(line)
            numbers[index] = found
        return numbers

    def ranks(self) -> tuple[np.ndarray, list[tuple]]:
        """Each function's rank when sorted by key (ROOT_FRAME in a last slot), and the keys in rank order."""
        keys = sorted(self.number)
        rank = np.empty(len(keys) + 1, dtype=np.int64)
        rank[[self.number[key] for key in keys]] = np.arange(len(keys))
        rank[-1] = ROOT_FRAME
        return rank, keys


class _Side:
    """One report's tree, level by level as :class:`TreeColumns` lays it out (pre-order within a
    level, so the merge reads each level as contiguous slices): each node's rank, the index of its
    parent in the level above and, once merged, its merged node's index in its level."""

    def __init__(self, columns: TreeColumns, functions: _Functions) -> None:
        self.columns = columns
        self.function = functions.register(columns)[np.asarray(columns.frame)]
        self.bounds = np.concatenate(([0], np.cumsum(columns.level_sizes)))
        self.parent = np.asarray(columns.parent)
        self.rank = np.empty(0, dtype=np.int64)  # set once both sides' functions are known
        self.slot = np.zeros(len(self.function), dtype=np.int64)

    def level(self, number: int) -> slice:
        """The level's nodes (an empty slice below the deepest)."""
        last = len(self.bounds) - 1
        return slice(int(self.bounds[min(number, last)]), int(self.bounds[min(number + 1, last)]))

    def merged(self, nodes: np.ndarray, level_starts: np.ndarray) -> np.ndarray:
        """The merged node (numbered level by level) of each of ``nodes``."""
        depth = np.searchsorted(self.bounds, nodes, side="right") - 1
        return level_starts[depth] + self.slot[nodes]


def merge_flame_trees(base: dict[str, Any], head: dict[str, Any], level: str = "function") -> dict[str, Any]:
    """The diff tree of two ``flame.json`` documents (format flamedeck-flame-tree, version 1), of
    their trees of ``level``: "function" (a frame is a name and file) or "line" (name, file, line),
    as plain lists."""
    document = merge_tree_columns(tree_columns(base, level), tree_columns(head, level))
    for key in LONG_COLUMNS:
        document[key] = document[key].tolist()
    return document


def merge_tree_columns(base: TreeColumns, head: TreeColumns) -> dict[str, Any]:
    """The diff tree of two reports' trees of the same level; its long columns as numpy arrays."""
    return merge_with_levels(base, head)[0]


def merge_with_levels(base: TreeColumns, head: TreeColumns) -> tuple[dict[str, Any], MergedLevels]:
    """:func:`merge_tree_columns`, and the merged tree level by level (for :mod:`.diff_preview`)."""
    functions = _Functions()
    head_side = _Side(head, functions)  # head first: its lines win
    base_side = _Side(base, functions)
    sides = (base_side, head_side)
    rank, keys = functions.ranks()
    for side in sides:
        side.rank = rank[side.function]
    parents, ranks = _merge_levels(sides, max(len(keys), 1))
    levels = _preorder_places(parents)
    level_starts = levels.starts
    place = np.concatenate(levels.places)
    count = len(place)
    depth = np.empty(count, dtype=np.int64)
    depth[place] = np.repeat(np.arange(len(parents)), np.diff(level_starts))
    ordered_rank = np.empty(count, dtype=np.int64)
    ordered_rank[place] = np.concatenate(ranks)

    appearance = first_appearances(ordered_rank, len(keys))  # frames numbered so, in pre-order
    number = np.full(len(keys) + 1, ROOT_FRAME, dtype=np.int64)
    number[appearance] = np.arange(len(appearance))
    lines = functions.lines
    line_of_rank = [lines[functions.number[key]] for key in keys]
    levels.selves = {name: _all_threads_self(side, level_starts, count) for name, side in zip(("base", "head"), sides)}
    selves = []
    for name in ("base", "head"):  # in pre-order
        ordered = np.empty(count, dtype=levels.selves[name].dtype)
        ordered[place] = levels.selves[name]
        selves.append(ordered)
    appearing = appearance.tolist()
    document: dict[str, Any] = {
        "format": "flamedeck-diff-tree",
        "version": 1,
        "base": _summary(base),
        "head": _summary(head),
        "frames": {"name": [keys[r][0] for r in appearing],
                   "file": [keys[r][1] for r in appearing],
                   "line": [line_of_rank[r] for r in appearing]},
        "depth": depth,
        "frame": number[ordered_rank],
        "base_self": selves[0],
        "head_self": selves[1],
        "views": [{"label": "All threads", "base_samples": base.sample_count, "head_samples": head.sample_count}],
    }
    document["views"].extend(_thread_views(sides, place, level_starts))
    if head.level == "line":
        document["level"] = "line"
    return document, levels


def _merge_levels(sides: tuple[_Side, _Side], rank_count: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per level, the merged nodes' parents (index in the level above) and ranks, in pre-order;
    each side node's slot is set on the way."""
    parents, ranks = [np.array([-1])], [np.array([ROOT_FRAME])]
    for level in range(1, max(len(side.bounds) - 1 for side in sides)):
        spans = [side.level(level) for side in sides]
        above = [side.slot[side.level(level - 1)] for side in sides]
        keys = np.concatenate([slots[side.parent[span]] * rank_count + side.rank[span]
                               for side, span, slots in zip(sides, spans, above)])
        order = np.argsort(keys, kind="stable")  # two sorted runs: one merge pass
        ordered = keys[order]
        first = np.ones(len(ordered), dtype=bool)
        first[1:] = ordered[1:] != ordered[:-1]
        slot = np.empty(len(keys), dtype=np.int64)
        slot[order] = np.cumsum(first) - 1
        split = spans[0].stop - spans[0].start
        sides[0].slot[spans[0]] = slot[:split]
        sides[1].slot[spans[1]] = slot[split:]
        distinct = ordered[first]
        parents.append(distinct // rank_count)
        ranks.append(distinct % rank_count)
    return parents, ranks


@dataclass
class MergedLevels:
    """The merged tree level by level (what the preview reads): per level, each node's parent
    (index in the level above, ascending), the index of its eldest sibling, and its place in
    pre-order; ``starts``: where each level starts when the levels are laid end to end."""

    parents: list[np.ndarray]
    eldest: list[np.ndarray]
    places: list[np.ndarray]
    starts: np.ndarray
    selves: dict[str, np.ndarray] = field(default_factory=dict)  # "base", "head": all threads, level by level


def _preorder_places(parents: list[np.ndarray]) -> MergedLevels:
    """Each merged node's place in depth-first pre-order, level by level. A level's nodes are
    in pre-order with ascending parents, so siblings sit together, eldest first."""
    sizes = [np.ones(len(level), dtype=np.int64) for level in parents]
    eldest = [np.zeros(1, dtype=np.int64)] + [np.empty(0, dtype=np.int64)] * (len(parents) - 1)
    for number in range(len(parents) - 1, 0, -1):  # subtree sizes, deepest level first
        parent = parents[number]
        runs = np.flatnonzero(np.concatenate(([True], parent[1:] != parent[:-1]))) if len(parent) else parent
        eldest[number] = np.repeat(runs, np.diff(np.append(runs, len(parent))))
        if len(parent):
            sizes[number - 1][parent[runs]] += np.add.reduceat(sizes[number], runs)
    places = [np.zeros(1, dtype=np.int64)]
    for number in range(1, len(parents)):
        size = sizes[number]
        before = np.cumsum(size) - size  # the subtrees before it in this level
        places.append(places[-1][parents[number]] + 1 + before - before[eldest[number]])
    starts = np.concatenate(([0], np.cumsum([len(level) for level in parents])))
    return MergedLevels(parents, eldest, places, starts)


def _all_threads_self(side: _Side, level_starts: np.ndarray, count: int) -> np.ndarray:
    """Samples ending in each merged node (numbered level by level) on this side, all threads."""
    for view in side.columns.views:
        if view.kind == "all":
            return _summed(side.merged(view.node, level_starts), view.self, count)
    return np.zeros(count, dtype=np.int64)


def _summed(nodes: np.ndarray, counts: np.ndarray, count: int) -> np.ndarray:
    """``counts`` added up on ``nodes``, as integers unless a count has a fraction."""
    integers = counts.dtype.kind in "iub"
    total = np.zeros(count, dtype=np.int64 if integers else np.float64)
    np.add.at(total, nodes, counts.astype(total.dtype, copy=False))
    return total


def _thread_views(sides: tuple[_Side, _Side], place: np.ndarray, level_starts: np.ndarray) -> list[dict[str, Any]]:
    """One view per thread name, matched across both runs; none when there is only one name."""
    labels: dict[str, list] = {}  # label -> [base samples, head samples, base (nodes, counts)s, head ...]
    for side_number in (1, 0):  # head first: the order its threads come in
        side = sides[side_number]
        for view in side.columns.views:
            if view.kind != "thread":
                continue
            entry = labels.setdefault(view.label, [0, 0, [], []])
            entry[side_number] += view.samples
            entry[2 + side_number].append((place[side.merged(view.node, level_starts)], view.self))
    if len(labels) <= 1:
        return []
    views = []
    empty = np.empty(0, dtype=np.int64)
    for label, (base_samples, head_samples, *parts) in labels.items():
        placed = [np.concatenate([nodes for nodes, _ in part] or [empty]) for part in parts]
        nodes = np.unique(np.concatenate(placed))
        counts = [_summed(np.searchsorted(nodes, where), np.concatenate([c for _, c in part] or [empty]), len(nodes))
                  for where, part in zip(placed, parts)]
        views.append({"label": label, "base_samples": base_samples, "head_samples": head_samples,
                      "node": nodes.tolist(), "base_self": counts[0].tolist(), "head_self": counts[1].tolist()})
    return views


def _summary(columns: TreeColumns) -> dict[str, Any]:
    return {"name": columns.name, "samples": columns.sample_count, "interval_s": columns.interval_s}
