"""Deep recursion: a tree walk a few hundred levels deep and Ackermann's function.

What it shows: tall flamegraphs and recursion in the tables. ``walk_tree``
recurses through a lopsided tree about 300 levels deep, ``ackermann`` goes a
few hundred levels deep too, and ``is_even``/``is_odd`` call each other. In
the hot-function table each recursive function's total stays at or below
100 %: a sample counts once per function however often it is on the stack.

Run:  python deep_recursion.py --runtime 3
"""

import argparse
import sys
import time

TREE_DEPTH = 300
ACKERMANN_N = 150
PARITY_N = 400
REPEATS_PER_ROUND = 40  # cheap walks per (expensive) Ackermann call, to balance the flamegraph


class Node:
    """A tree node with a value and children."""

    __slots__ = ("value", "children")

    def __init__(self, value, children=()):
        self.value = value
        self.children = list(children)


def build_tree(depth):
    """A lopsided tree: a long spine, with a small bush every tenth level."""
    node = Node(depth)
    for level in range(depth - 1, 0, -1):
        bush = [Node(level * 10 + i, [Node(i)]) for i in range(3)] if level % 10 == 0 else []
        node = Node(level, [node, *bush])
    return node


def walk_tree(node):
    """Sum all values below ``node``, recursively."""
    return node.value + sum(walk_tree(child) for child in node.children)


def ackermann(m, n):
    """Ackermann's function; A(2, n) = 2n + 3 recurses about 2n levels deep."""
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


def is_even(n):
    """Mutual recursion with ``is_odd``."""
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    """Mutual recursion with ``is_even``."""
    return False if n == 0 else is_even(n - 1)


def run(runtime_s):
    """Alternate the three kinds of recursion until ``runtime_s`` seconds pass."""
    tree = build_tree(TREE_DEPTH)
    deadline, rounds = time.perf_counter() + runtime_s, 0
    while time.perf_counter() < deadline:
        for _ in range(REPEATS_PER_ROUND):
            walk_tree(tree)
            is_even(PARITY_N)
        ackermann(2, ACKERMANN_N)
        rounds += 1
    return rounds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", type=float, default=3.0, help="seconds to run (default 3)")
    args = parser.parse_args()
    # walk_tree uses two frames per level (the generator expression), so allow room.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * TREE_DEPTH + 1000))
    print(f"{run(args.runtime)} rounds of tree walk + ackermann + parity")


if __name__ == "__main__":
    main()
