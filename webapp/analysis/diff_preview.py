"""The first picture of a differential flamegraph: the diff tree cut to the frames it can show.

Two long runs merge into millions of nodes, but the differential flamegraph's first picture
(the whole tree, nothing zoomed) draws only the frames at least one pixel wide, a few
thousand: a frame whose share of all samples is below 1/width is skipped, and so is its
subtree. The preview is the diff tree (see :mod:`webapp.analysis.diff_tree`) without the
nodes whose share is below ``min_share`` on both sides, with what the page needs to draw the
rest exactly as the full tree would:

    "preview": {"min_share": 0.0001,
                "base_hidden": [...], "head_hidden": [...],  # per kept node: its cut children's totals
                "base_gap": [...], "head_gap": [...],        # per kept node: the cut siblings' totals
                                                             # since the kept sibling before it
                "largest_change": {"share": points, "time": seconds}}  # over the whole tree

A kept node's total is then its self, plus its hidden, plus its kept children's totals; a child
starts after the kept sibling before it (or at its parent's start) and its gap.
``largest_change`` is where the colour scale saturates, computed on the whole tree as the page
would (``static/js/compare/model.js``).
The preview has the "All threads" figures only; the page waits for the full tree to zoom,
search, walk with the keyboard or show one thread. A page narrower than 1 / (2 × min_share)
pixels draws exactly what the full tree gives (wider ones wait for it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from webapp.analysis.flame_merge import MergedTree

PREVIEW_MIN_SHARE = 1e-4  # the page uses the preview up to 5,000 px wide (one pixel = 2e-4 of the width)
SIDES = ("base", "head")
BOUND_SLACK = 1 + 1e-9  # room for rounding when a bound decides that cut nodes cannot matter


def diff_preview(merged: MergedTree, min_share: float = PREVIEW_MIN_SHARE) -> dict[str, Any]:
    """The preview of a merged tree (long columns as numpy arrays). Everything is computed a level
    at a time on contiguous arrays (the levels list siblings together, eldest first), without
    laying the whole tree out in pre-order."""
    totals = {side: _totals(merged.selves[side], merged) for side in SIDES}
    keep = np.zeros(len(merged.place), dtype=bool)
    for side in SIDES:
        keep |= totals[side] >= min_share * totals[side][0]
    keep[0] = True  # the root (a node's share is never above its parent's, so kept nodes hang together)
    kept = np.flatnonzero(keep)
    kept = kept[np.argsort(merged.place[kept])]  # in pre-order
    preview: dict[str, Any] = {"min_share": min_share}
    for side in SIDES:
        hidden, gap = _cut_off(totals[side], keep, merged)
        preview[f"{side}_hidden"] = hidden[kept]
        preview[f"{side}_gap"] = gap[kept]
    result = merged.header()
    views = result["views"]
    samples = {side: views[0][f"{side}_samples"] or 1 for side in SIDES}
    interval = {side: result[side]["interval_s"] or 0 for side in SIDES}
    preview["largest_change"] = _largest_changes(totals, keep, min_share, samples, interval)
    result["depth"] = np.searchsorted(merged.starts, kept, side="right") - 1
    result["frame"] = merged.number[merged.ranks[kept]]
    for side in SIDES:
        result[f"{side}_self"] = merged.selves[side][kept]
    result["preview"] = preview
    return result


def _totals(selves: np.ndarray, levels: MergedTree) -> np.ndarray:
    """Each node's self plus its subtree's (level by level), summed from the deepest level up."""
    total = selves.copy()
    bounds = levels.starts
    for number in range(len(levels.parents) - 1, 0, -1):
        parent = levels.parents[number]
        here = total[bounds[number]:bounds[number + 1]]
        runs = np.flatnonzero(levels.eldest[number] == np.arange(len(parent)))
        total[bounds[number - 1] + parent[runs]] += np.add.reduceat(here, runs)
    return total


def _cut_off(total: np.ndarray, keep: np.ndarray, levels: MergedTree) -> tuple[np.ndarray, np.ndarray]:
    """Per node (level by level): the totals of its children that are cut (hidden), and, for a
    kept node, of the cut siblings between it and the kept sibling before it, or the eldest (gap)."""
    hidden = np.zeros_like(total)
    gap = np.zeros_like(total)
    bounds = levels.starts
    cut = np.where(keep, 0, total)
    # Below the deepest kept node's children nothing is kept, so nothing there has a gap or hidden.
    deepest = int(np.searchsorted(bounds, np.flatnonzero(keep)[-1], side="right")) - 1
    for number in range(1, min(deepest + 2, len(levels.parents))):
        low, high = bounds[number], bounds[number + 1]
        parent, eldest = levels.parents[number], levels.eldest[number]
        here = cut[low:high]
        runs = np.flatnonzero(eldest == np.arange(len(parent)))
        hidden[bounds[number - 1] + parent[runs]] = np.add.reduceat(here, runs)
        before = np.cumsum(here) - here  # cut totals earlier in this level
        kept = np.flatnonzero(keep[low:high])
        since = before[kept]
        previous = np.concatenate(([0], since[:-1]))  # where the kept sibling before it was
        eldest_kept = np.concatenate(([True], eldest[kept[1:]] != eldest[kept[:-1]])) if len(kept) else kept
        previous[eldest_kept] = before[eldest[kept[eldest_kept]]]
        gap[low + kept] = since - previous
    return hidden, gap


def _largest_changes(totals: dict[str, np.ndarray], keep: np.ndarray, min_share: float,
                     samples: dict[str, float], interval: dict[str, float]) -> dict[str, float]:
    """The largest change below the root, in points of share and in seconds, computed as model.js
    does. A cut node's change is at most the larger of its two sides' figures, and each is below
    ``min_share`` of its run's: when a kept node's change is above that bound, the cut nodes (most
    of the tree) need not be looked at."""
    kept = np.flatnonzero(keep[1:]) + 1
    largest = _changes({side: totals[side][kept] for side in SIDES}, samples, interval)
    whole = {side: float(totals[side][0]) for side in SIDES}
    cut_bound = {"share": 100 * min_share * max(whole[side] / samples[side] for side in SIDES),
                 "time": min_share * max(whole[side] * interval[side] for side in SIDES)}
    if all(largest[mode] > cut_bound[mode] * BOUND_SLACK for mode in largest):
        return largest
    return _changes({side: totals[side][1:] for side in SIDES}, samples, interval)


def _changes(totals: dict[str, np.ndarray], samples: dict[str, float], interval: dict[str, float]) -> dict[str, float]:
    base, head = (totals[side].astype(np.float64) for side in SIDES)
    present = (base != 0) | (head != 0)
    share = np.abs(100 * (head / samples["head"] - base / samples["base"]))[present]
    time = np.abs(head * interval["head"] - base * interval["base"])[present]
    return {"share": float(share.max(initial=0.0)), "time": float(time.max(initial=0.0))}
