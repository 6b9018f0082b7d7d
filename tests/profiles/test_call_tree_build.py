"""The compiled call-tree build against a plain recursive definition of the same tree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.profiles.kernels import tree
from webapp.profiles.stack_tree import build

stacks_strategy = st.lists(st.lists(st.integers(0, 5), max_size=7), max_size=40)


def reference_tree(stacks: list[list[int]], rank: list[int]) -> dict[str, list[int]]:
    """Pre-order (depth, frame, parent, end) and each stack's leaf, from a dict trie."""
    trie: dict = {}
    for stack in stacks:
        level = trie
        for frame in stack:
            level = level.setdefault(rank[frame], (frame, {}))[1]
    depth, frame, parent, end = [0], [-1], [-1], [0]
    leaf_of_path: dict[tuple, int] = {(): 0}

    def visit(children: dict, parent_node: int, path: tuple) -> None:
        for key in sorted(children):
            node_frame, grandchildren = children[key]
            node = len(depth)
            depth.append(len(path) + 1)
            frame.append(node_frame)
            parent.append(parent_node)
            end.append(0)
            leaf_of_path[path + (key,)] = node
            visit(grandchildren, node, path + (key,))
            end[node] = len(depth)

    visit(trie, 0, ())
    end[0] = len(depth)
    leaf = [leaf_of_path[tuple(rank[f] for f in stack)] for stack in stacks]
    return {"depth": depth, "frame": frame, "parent": parent, "end": end, "leaf": leaf}


def flat(stacks: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lengths = np.array([len(s) for s in stacks], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    frames = np.array([f for s in stacks for f in s], dtype=np.int32)
    return frames, starts, lengths


@settings(max_examples=300, deadline=None)
@given(stacks=stacks_strategy, rank=st.permutations(range(6)))
def test_the_built_tree_is_the_trie_in_rank_order(stacks, rank):
    frames, starts, lengths = flat(stacks)
    built = build(frames, starts, lengths, np.arange(len(stacks)), len(stacks), np.array(rank, dtype=np.int64))
    expected = reference_tree(stacks, rank)
    for column in ("depth", "frame", "parent", "end", "leaf"):
        assert getattr(built, column).tolist() == expected[column], column


def test_equal_ranks_share_a_node_and_the_first_frame_names_it():
    # Frames 0 and 1 rank the same (as two line-level frames of one function would at
    # function level): one node, named by the stack that sorts first.
    frames, starts, lengths = flat([[1, 2], [0, 2]])
    built = build(frames, starts, lengths, np.arange(2), 2, np.array([0, 0, 1], dtype=np.int64))
    assert built.depth.tolist() == [0, 1, 2]
    assert built.frame.tolist() == [-1, 1, 2]
    assert built.leaf.tolist() == [2, 2]


def test_indexes_out_of_range_are_refused():
    frames = np.array([0, 1], dtype=np.int32)
    rank = np.array([1, 0], dtype=np.int64)
    one = np.array([1], dtype=np.int64)
    with pytest.raises(ValueError, match="outside the frame array"):
        tree.lay_out(rank, frames, one, np.array([2], dtype=np.int64), np.array([0], dtype=np.int64), 1)
    with pytest.raises(ValueError, match="stack id is out of range"):
        tree.lay_out(rank, frames, one, one, np.array([1], dtype=np.int64), 1)
    with pytest.raises(ValueError, match="frame index is out of range"):
        tree.lay_out(rank[:1], frames, one, one, np.array([0], dtype=np.int64), 1)


@settings(max_examples=200, deadline=None)
@given(stacks=stacks_strategy, rank=st.permutations(range(6)))
def test_level_order_lists_each_depth_in_pre_order_with_parents(stacks, rank):
    frames, starts, lengths = flat(stacks)
    built = build(frames, starts, lengths, np.arange(len(stacks)), len(stacks), np.array(rank, dtype=np.int64))
    order, sizes, parent = tree.level_order(built.depth)
    depths = built.depth.tolist()
    levels = [[node for node, d in enumerate(depths) if d == depth] for depth in range(max(depths) + 1)]
    assert order.tolist() == [node for level in levels for node in level]
    assert sizes.tolist() == [len(level) for level in levels]
    where = {node: place - sum(sizes[:built.depth[node]]) for place, node in enumerate(order.tolist())}
    assert parent.tolist() == [-1 if built.parent[node] < 0 else where[built.parent[node]] for node in order.tolist()]


def test_level_order_refuses_depths_no_tree_has():
    for depth in ([1], [0, 2], [0, 1, 0], [0, -1]):
        with pytest.raises(ValueError):
            tree.level_order(np.array(depth, dtype=np.int32))
