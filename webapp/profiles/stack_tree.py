"""The call tree of a profile's stacks, built and read with numpy.

The tree is the stack table the Firefox Profiler uses - every node is a frame
plus its parent node, so each distinct call path is stored once - laid out in
depth-first pre-order with siblings ordered by frame rank (name, file, line for
the exporters): exactly the order the flame tree and SVG exporters write.

Building it sorts the distinct stacks once by their frames' ranks and reads
each stack's shared prefix with the one before it, in one compiled pass
(:mod:`webapp.profiles.kernels.tree`); reading it is whole-array operations. Statistics then read
nodes, not samples: a node's samples are the samples of the stacks ending in
it (``selves``), its total is the sum over its subtree, a prefix-sum difference
in pre-order (``totals``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from webapp.profiles.kernels import tree

ROOT_FRAME = -1


@dataclass(slots=True)
class CallTree:
    """Pre-order node arrays, the node where each stack ends, and subtree sizes."""

    depth: np.ndarray  # int32, node 0 is the root (depth 0)
    frame: np.ndarray  # int32 frame index, ROOT_FRAME for the root
    parent: np.ndarray  # int32 node index, -1 for the root
    leaf: np.ndarray  # int32 per stack id: its last node; -1 for stacks left out
    end: np.ndarray  # int32 per node: one past the last node of its subtree
    _by_leaf: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # see ending_selves

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

    def ending_selves(self, stack_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`selves` without the zeros: (nodes where samples end, ascending; their
        samples). Works on the stacks, not on every node, so asking for many threads' views
        costs a pass over the stacks each."""
        if self._by_leaf is None:
            stacks = np.flatnonzero(self.leaf >= 0)
            stacks = stacks[np.argsort(self.leaf[stacks], kind="stable")]
            leaves = self.leaf[stacks]
            starts = np.flatnonzero(np.concatenate(([True], leaves[1:] != leaves[:-1]))) if len(leaves) else stacks
            self._by_leaf = (stacks, starts, leaves[starts])
        stacks, starts, nodes = self._by_leaf
        if stack_weights[self.leaf[:len(stack_weights)] < 0].any() or len(stack_weights) > len(self.leaf):
            raise ValueError("stack weights for stacks outside this tree")
        sums = np.add.reduceat(stack_weights[stacks], starts) if len(stacks) else np.zeros(0, np.int64)
        ending = sums > 0
        return nodes[ending], sums[ending].astype(np.int64)

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
    depth, frame, parent, end, leaf = tree.lay_out(
        np.ascontiguousarray(rank, dtype=np.int64), np.ascontiguousarray(frames, dtype=np.int32),
        np.ascontiguousarray(starts, dtype=np.int64), np.ascontiguousarray(lengths, dtype=np.int64),
        np.ascontiguousarray(stack_ids, dtype=np.int64), stack_count)
    return CallTree(depth=depth, frame=frame, parent=parent, leaf=leaf, end=end)
