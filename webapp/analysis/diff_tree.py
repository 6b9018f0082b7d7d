"""The merged call tree of two runs, the data of the differential flamegraph.

Both profiles are taken at function level (a frame is a function, name and file) and their
call trees are merged: a node is a call path present in either run, carrying how many
samples ended there in the base run and in the head run. The document is flat arrays in
depth-first pre-order, like ``flame.json``:

    {
      "format": "flamedeck-diff-tree", "version": 1,
      "base": {"name": ..., "samples": n1, "interval_s": ...},
      "head": {"name": ..., "samples": n2, "interval_s": ...},
      "frames": {"name": [...], "file": [...], "line": [...]},
      "depth": [...], "frame": [...], "base_self": [...], "head_self": [...],
      "views": [{"label": "All threads", "base_samples": n1, "head_samples": n2},
                {"label": "MainThread", "base_samples": ..., "head_samples": ...,
                 "node": [...], "base_self": [...], "head_self": [...]}, ...]
    }

Node 0 is the root (depth 0, frame -1); a node's children follow it with depth + 1,
ordered by function name, then file. A node's total on a side is its self plus its
children's totals on that side (:func:`totals` spells it out; the browser does the same).
A frame's ``line`` is the head's (the definition line when known), else the base's.

``views`` lets the page show one thread at a time: the first is all threads (the dense
``base_self`` / ``head_self`` above); each other is one thread *name* (process and name, as
the report shows it), matched across the two runs by that name since thread ids differ from
run to run, with the nodes where its samples end (ascending) and how many on each side.
"""

from __future__ import annotations

from typing import Any

from webapp.profiles.model import Profile

ROOT_FRAME = -1


def diff_tree(base: Profile, head: Profile) -> dict[str, Any]:
    """The merged tree of two function-level profiles (see the module docstring)."""
    functions: dict[tuple[str, str], int] = {}
    lines: list[int] = []
    children: list[dict[int, int]] = [{}]
    selves: list[list[int]] = [[0, 0]]
    views: dict[str, dict[int, list[int]]] = {}  # thread label -> node -> [base, head]
    view_samples: dict[str, list[int]] = {}
    for side, profile in ((1, head), (0, base)):  # head first: its lines win
        function_of = []
        for frame in profile.frames:
            index = functions.setdefault(frame.function_key, len(functions))
            if index == len(lines):
                lines.append(frame.line)
            function_of.append(index)
        node_of_stack: dict[int, int] = {}
        for position, thread in enumerate(profile.threads):
            label = thread.label or f"Thread {position + 1}"
            view = views.setdefault(label, {})
            view_samples.setdefault(label, [0, 0])[side] += thread.sample_count
            for stack_id, count in thread.stack_counts().items():
                node = node_of_stack.get(stack_id)
                if node is None:
                    node = node_of_stack[stack_id] = _walk(children, selves, profile.stacks[stack_id], function_of)
                selves[node][side] += count
                view.setdefault(node, [0, 0])[side] += count
    names = list(functions)
    document: dict[str, Any] = {
        "format": "flamedeck-diff-tree",
        "version": 1,
        "base": _side(base),
        "head": _side(head),
        "frames": {"name": [n for n, _ in names], "file": [f for _, f in names], "line": lines},
        "depth": [], "frame": [], "base_self": [], "head_self": [],
    }
    order_of = _flatten(document, children, selves, names)
    document["views"] = [{"label": "All threads", "base_samples": base.sample_count,
                          "head_samples": head.sample_count}]
    if len(views) > 1:
        for label, nodes in views.items():
            placed = sorted((order_of[node], counts) for node, counts in nodes.items())
            document["views"].append({
                "label": label, "base_samples": view_samples[label][0], "head_samples": view_samples[label][1],
                "node": [node for node, _ in placed], "base_self": [counts[0] for _, counts in placed],
                "head_self": [counts[1] for _, counts in placed],
            })
    return document


def _walk(children: list[dict[int, int]], selves: list[list[int]], stack: tuple[int, ...],
          function_of: list[int]) -> int:
    """The node of a stack's call path, adding the nodes it lacks."""
    node = 0
    for frame_index in stack:
        function = function_of[frame_index]
        child = children[node].get(function)
        if child is None:
            child = children[node][function] = len(children)
            children.append({})
            selves.append([0, 0])
        node = child
    return node


def _side(profile: Profile) -> dict[str, Any]:
    return {"name": profile.name, "samples": profile.sample_count, "interval_s": profile.interval_s}


def _flatten(document: dict, children: list[dict[int, int]], selves: list[list[int]],
             names: list[tuple[str, str]]) -> list[int]:
    """Write the nodes in depth-first pre-order, children by (name, file); each node's place."""
    order_of = [0] * len(children)
    depth, frame, base_self, head_self = (document[key] for key in ("depth", "frame", "base_self", "head_self"))
    pending = [(0, 0, ROOT_FRAME)]
    while pending:
        node, level, function = pending.pop()
        order_of[node] = len(depth)
        depth.append(level)
        frame.append(function)
        base_self.append(selves[node][0])
        head_self.append(selves[node][1])
        ordered = sorted(children[node].items(), key=lambda item: names[item[0]], reverse=True)
        pending.extend((child, level + 1, fn) for fn, child in ordered)
    return order_of


def totals(document: dict[str, Any], side: str) -> list[int]:
    """Each node's total samples on ``side`` ("base" or "head"): self plus its subtree's."""
    depth, own = document["depth"], document[f"{side}_self"]
    result = list(own)
    # Walk forward keeping the chain of ancestors; add each node's total to its parent afterwards.
    chain: list[int] = []
    parent_of = [-1] * len(depth)
    for node, level in enumerate(depth):
        del chain[level:]
        parent_of[node] = chain[-1] if chain else -1
        chain.append(node)
    for node in range(len(depth) - 1, 0, -1):
        result[parent_of[node]] += result[node]
    return result
