"""The call tree of a profile's stacks, built and read with numpy.

The tree is the stack table the Firefox Profiler uses - every node is a frame
plus its parent node, so each distinct call path is stored once - laid out in
depth-first pre-order with siblings ordered by frame rank (name, file, line for
the exporters): exactly the order the flame tree and SVG exporters write.

Building it sorts the distinct stacks once (by their ranks, as bytes: a C
comparison per pair) and reads the shared prefix of each stack with the one
before it; everything else is a whole-array operation. Statistics then read
nodes, not samples: a node's samples are the samples of the stacks ending in
it (``selves``), its total is the sum over its subtree, a prefix-sum difference
in pre-order (``totals``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from webapp.profiles.stack_arrays import blocks, segment_indexes

ROOT_FRAME = -1
COMPARE_CHUNK_FRAMES = 1 << 20  # frames compared per step when building: bounds the scratch arrays


@dataclass(slots=True)
class CallTree:
    """Pre-order node arrays, the node where each stack ends, and subtree sizes."""

    depth: np.ndarray  # int32, node 0 is the root (depth 0)
    frame: np.ndarray  # int32 frame index, ROOT_FRAME for the root
    parent: np.ndarray  # int32 node index, -1 for the root
    leaf: np.ndarray  # int32 per stack id: its last node; -1 for stacks left out
    end: np.ndarray  # int32 per node: one past the last node of its subtree

    @classmethod
    def of_profile(cls, profile, rank: Sequence[int] | None = None) -> CallTree:
        """The tree of ``profile``'s stacks that have samples, siblings ordered by ``rank``
        (default: frames sorted by name, file, line)."""
        weights = profile.stack_weights()
        frames, starts, lengths = profile.stacks.arrays()
        used = np.flatnonzero(weights > 0)
        if rank is None:
            rank = frame_ranks(profile.frames)
        return build(frames, starts[used], lengths[used], used, len(weights), np.asarray(rank, dtype=np.int64))

    def selves(self, stack_weights: np.ndarray) -> np.ndarray:
        """Samples ending in each node, for samples per stack id (int64 per node)."""
        used = np.flatnonzero(stack_weights)
        leaves = self.leaf[used]
        if (leaves < 0).any():
            raise ValueError("stack weights for stacks outside this tree")
        return np.bincount(leaves, weights=stack_weights[used], minlength=len(self.depth)).astype(np.int64)

    def totals(self, selves: np.ndarray) -> np.ndarray:
        """Samples passing through each node: its subtree's selves, summed."""
        running = np.concatenate(([0], np.cumsum(selves)))
        return running[self.end] - running[:-1]


def frame_ranks(frames) -> list[int]:
    """Each frame's position when sorted by (name, file, line): the order of siblings."""
    order = sorted(range(len(frames)), key=lambda i: (frames[i].name, frames[i].file, frames[i].line))
    rank = [0] * len(frames)
    for position, index in enumerate(order):
        rank[index] = position
    return rank


def build(frames: np.ndarray, starts: np.ndarray, lengths: np.ndarray, stack_ids: np.ndarray,
          stack_count: int, rank: np.ndarray) -> CallTree:
    """The call tree of the stacks ``frames[starts[i]:starts[i] + lengths[i]]`` (ids
    ``stack_ids[i]`` among ``stack_count``), siblings ordered by ``rank[frame]``."""
    lengths = lengths.astype(np.int64)
    # Each stack as big-endian (rank + 1) bytes: byte order is then rank order, and a
    # stack sorts before its extensions, so the sorted stacks list the tree in pre-order.
    ranked = (rank[frames] + 1).astype(">u4") if len(frames) else np.zeros(0, ">u4")
    raw = ranked.tobytes()
    keys = [raw[4 * s:4 * (s + n)] for s, n in zip(starts.tolist(), lengths.tolist())]
    order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
    del keys, raw
    starts, lengths, stack_ids = starts[order], lengths[order], stack_ids[order]
    shared = _shared_prefixes(ranked, starts, lengths)
    added = lengths - shared  # new nodes each stack adds below what the one before it had
    node_count = 1 + int(added.sum())
    first_new = np.cumsum(added) - added  # among the new nodes, 0-based
    within = np.arange(node_count - 1, dtype=np.int64) - np.repeat(first_new, added)
    depth = np.zeros(node_count, dtype=np.int32)
    depth[1:] = np.repeat(shared, added) + 1 + within
    frame = np.full(node_count, ROOT_FRAME, dtype=np.int32)
    frame[1:] = frames[np.repeat(starts + shared, added) + within]
    leaf = np.full(stack_count, -1, dtype=np.int32)
    leaf[stack_ids] = np.cumsum(added)  # the last node added so far (the root for an empty stack)
    parent, end = _parents_and_ends(depth)
    return CallTree(depth=depth, frame=frame, parent=parent, leaf=leaf, end=end)


def _shared_prefixes(ranked: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """How many leading frames each (sorted) stack shares with the stack before it.

    Compares the frames of neighbouring stacks in whole-array steps, a bounded number
    of frames at a time (memory stays small however deep the stacks are)."""
    shared = np.zeros(len(starts), dtype=np.int64)
    compared = np.minimum(lengths[1:], lengths[:-1])
    for part in blocks(compared, COMPARE_CHUNK_FRAMES):
        shared[1 + part.start:1 + part.stop] = _first_mismatches(
            ranked, starts[part], starts[part.start + 1:part.stop + 1], compared[part])
    return shared


def _first_mismatches(ranked: np.ndarray, a: np.ndarray, b: np.ndarray, compared: np.ndarray) -> np.ndarray:
    """Per pair, the first k < compared where ranked[a + k] != ranked[b + k], else compared."""
    result = compared.copy()
    mismatch = ranked[segment_indexes(a, compared)] != ranked[segment_indexes(b, compared)]
    position = segment_indexes(np.zeros(len(compared), dtype=np.int64), compared)
    first_mismatch = np.where(mismatch, position, np.iinfo(np.int64).max)
    pairs = np.flatnonzero(compared)
    if len(pairs):
        offsets = (np.cumsum(compared) - compared)[pairs]
        result[pairs] = np.minimum(np.minimum.reduceat(first_mismatch, offsets), compared[pairs])
    return result


def nodes_by_depth(depth: np.ndarray) -> list[np.ndarray]:
    """The nodes of a pre-order tree grouped by depth (index d: the nodes at depth d), each
    group in pre-order."""
    by_depth = np.argsort(_small(depth), kind="stable")
    bounds = np.searchsorted(depth[by_depth], np.arange(int(depth.max(initial=0)) + 2))
    return [by_depth[bounds[d]:bounds[d + 1]] for d in range(len(bounds) - 1)]


def parents_by_level(levels: list[np.ndarray], node_count: int) -> np.ndarray:
    """Each node's parent (int64, -1 for the root), from :func:`nodes_by_depth`'s groups:
    in pre-order, the last node one level up before it."""
    parent = np.full(node_count, -1, dtype=np.int64)
    for above, level in zip(levels, levels[1:]):
        parent[level] = above[np.searchsorted(above, level) - 1]
    return parent


def _parents_and_ends(depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parent of each pre-order node, and the end of its subtree, one depth level at a time."""
    node_count = len(depth)
    levels = nodes_by_depth(depth)
    parent = parents_by_level(levels, node_count)
    size = np.ones(node_count, dtype=np.int64)
    for level in reversed(levels[1:]):
        # A level's nodes are in pre-order, so siblings sit together and their parents
        # ascend: one reduceat per run of equal parents (np.add.at is many times slower).
        parents = parent[level]
        if len(parents):
            firsts = np.flatnonzero(np.concatenate(([True], parents[1:] != parents[:-1])))
            size[parents[firsts]] += np.add.reduceat(size[level], firsts)
    return parent.astype(np.int32), (np.arange(node_count, dtype=np.int64) + size).astype(np.int32)


def _small(values: np.ndarray) -> np.ndarray:
    """``values`` as uint16 when they fit: numpy's stable sort is then a radix sort."""
    return values.astype(np.uint16) if len(values) and 0 <= values.min() and values.max() < 1 << 16 else values
