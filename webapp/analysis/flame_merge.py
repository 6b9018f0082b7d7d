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

from typing import Any

import numpy as np

from webapp.profiles.exporters.tree_columns import TreeColumns, tree_columns

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
    return MergedTree(base, head).document()


class MergedTree:
    """Two reports' trees merged, level by level: what :meth:`document` lays out in pre-order and
    :mod:`.diff_preview` cuts down without laying out the whole tree first. Per level: each
    node's parent (index in the level above, ascending), the index of its eldest sibling, its
    place in pre-order; ``starts`` is where each level starts when they are laid end to end, and
    ``place``, ``ranks`` and ``selves`` ("base", "head": all threads) are per node, end to end."""

    def __init__(self, base: TreeColumns, head: TreeColumns) -> None:
        functions = _Functions()
        head_side = _Side(head, functions)  # head first: its lines win
        base_side = _Side(base, functions)
        self.sides = (base_side, head_side)
        rank, keys = functions.ranks()
        for side in self.sides:
            side.rank = rank[side.function]
        self.parents, ranks = _merge_levels(self.sides, max(len(keys), 1))
        self.eldest, self.places = _preorder_places(self.parents)
        self.starts = np.concatenate(([0], np.cumsum([len(level) for level in self.parents])))
        self.place = np.concatenate(self.places)
        self.ranks = np.concatenate(ranks)
        count = len(self.place)
        self.selves = {name: _all_threads_self(side, self.starts, count)
                       for name, side in zip(("base", "head"), self.sides)}
        # Frames are numbered in the order pre-order meets them: by each function's first place.
        first = np.full(max(len(keys), 1), count, dtype=np.int64)
        np.minimum.at(first, self.ranks[1:], self.place[1:])
        appearance = np.flatnonzero(first < count)
        appearance = appearance[np.argsort(first[appearance])].tolist()
        self.number = np.full(len(keys) + 1, ROOT_FRAME, dtype=np.int64)  # rank -> frame; the last slot: the root's
        self.number[appearance] = np.arange(len(appearance))
        line_of_rank = [functions.lines[functions.number[key]] for key in keys]
        self.frames = {"name": [keys[r][0] for r in appearance], "file": [keys[r][1] for r in appearance],
                       "line": [line_of_rank[r] for r in appearance]}
        self.base, self.head = base, head

    def header(self) -> dict[str, Any]:
        """The document without its long columns, its views without their nodes."""
        header: dict[str, Any] = {
            "format": "flamedeck-diff-tree",
            "version": 1,
            "base": _summary(self.base),
            "head": _summary(self.head),
            "frames": self.frames,
            "views": [{"label": label, "base_samples": base_samples, "head_samples": head_samples}
                      for label, (base_samples, head_samples, *_) in self._views().items()],
        }
        if self.head.level == "line":
            header["level"] = "line"
        return header

    def document(self) -> dict[str, Any]:
        """The diff tree document (see :mod:`webapp.analysis.diff_tree`), long columns as numpy arrays."""
        count = len(self.place)
        columns = {"depth": np.repeat(np.arange(len(self.parents)), np.diff(self.starts)),
                   "frame": self.number[self.ranks], "base_self": self.selves["base"], "head_self": self.selves["head"]}
        document = {key: value for key, value in self.header().items() if key not in ("views", "level")}
        for key, by_level in columns.items():
            document[key] = np.empty(count, dtype=by_level.dtype)
            document[key][self.place] = by_level
        document["views"] = self._thread_views()
        if self.head.level == "line":
            document["level"] = "line"
        return document

    def _views(self) -> dict[str, list]:
        """label -> [base samples, head samples, base (nodes, counts)s, head ...]: all threads, then
        one per thread name matched across both runs (head's first), when there are several names."""
        everything = {"All threads": [self.base.sample_count, self.head.sample_count, [], []]}
        labels: dict[str, list] = {}
        for side_number in (1, 0):
            for view in self.sides[side_number].columns.views:
                if view.kind == "thread":
                    entry = labels.setdefault(view.label, [0, 0, [], []])
                    entry[side_number] += view.samples
                    entry[2 + side_number].append((side_number, view))
        return everything | (labels if len(labels) > 1 else {})

    def _thread_views(self) -> list[dict[str, Any]]:
        """The views with, for each thread name, the nodes where its samples end and how many."""
        views = []
        empty = np.empty(0, dtype=np.int64)
        for label, (base_samples, head_samples, *parts) in self._views().items():
            view: dict[str, Any] = {"label": label, "base_samples": base_samples, "head_samples": head_samples}
            views.append(view)
            if label == "All threads" and not any(parts):
                continue
            placed = [[(self.place[self.sides[number].merged(thread.node, self.starts)], thread.self)
                       for number, thread in part] for part in parts]
            where = [np.concatenate([nodes for nodes, _ in part] or [empty]) for part in placed]
            nodes = np.unique(np.concatenate(where))
            counts = [_summed(np.searchsorted(nodes, at), np.concatenate([c for _, c in part] or [empty]), len(nodes))
                      for at, part in zip(where, placed)]
            view.update({"node": nodes.tolist(), "base_self": counts[0].tolist(), "head_self": counts[1].tolist()})
        return views


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


def _preorder_places(parents: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per level, each merged node's eldest sibling and its place in depth-first pre-order. A
    level's nodes are in pre-order with ascending parents, so siblings sit together, eldest first."""
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
    return eldest, places


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


def _summary(columns: TreeColumns) -> dict[str, Any]:
    return {"name": columns.name, "samples": columns.sample_count, "interval_s": columns.interval_s}
