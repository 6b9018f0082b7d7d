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

:func:`diff_tree_from_flame` can merge the reports' "line" trees instead (``level="line"``): the
same document with ``"level": "line"``, a frame being a function at one sampled line (name,
file, line), as the single flamegraph groups by line.

``views`` lets the page show one thread at a time: the first is all threads (the dense
``base_self`` / ``head_self`` above); each other is one thread *name* (process and name, as
the report shows it), matched across the two runs by that name since thread ids differ from
run to run, with the nodes where its samples end (ascending) and how many on each side.
"""

from __future__ import annotations

from typing import Any

from webapp.analysis.flame_merge import merge_flame_trees
from webapp.profiles.exporters.flame_tree import clean_text
from webapp.profiles.model import Profile, Thread

ROOT_FRAME = -1


class _MergedTree:
    """The merged tree being built: nodes keyed by (parent, function), counts per side and per thread name."""

    def __init__(self) -> None:
        self.functions: dict[tuple[str, ...], int] = {}  # (name, file) or, by line, (name, file, line)
        self.lines: list[int] = []
        self.children: list[dict[int, int]] = [{}]
        self.selves: list[list[int]] = [[0, 0]]
        self.views: dict[str, dict[int, list[int]]] = {}  # thread label -> node -> [base, head]
        self.view_samples: dict[str, list[int]] = {}

    def function(self, key: tuple[str, ...], line: int) -> int:
        index = self.functions.setdefault(key, len(self.functions))
        if index == len(self.lines):
            self.lines.append(line)  # the first side seen (head) gives the line
        return index

    def child(self, node: int, function: int) -> int:
        found = self.children[node].get(function)
        if found is None:
            found = self.children[node][function] = len(self.children)
            self.children.append({})
            self.selves.append([0, 0])
        return found

    def thread(self, label: str, side: int, samples: int) -> dict[int, list[int]]:
        self.view_samples.setdefault(label, [0, 0])[side] += samples
        return self.views.setdefault(label, {})

    def document(self, base: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
        names = list(self.functions)
        document: dict[str, Any] = {
            "format": "flamedeck-diff-tree",
            "version": 1,
            "base": base,
            "head": head,
            "frames": {},  # filled below, in order of first appearance
            "depth": [], "frame": [], "base_self": [], "head_self": [],
        }
        order_of = _flatten(document, self.children, self.selves, names)
        # Number the functions in order of first appearance, so both roads give the same document.
        renumber: dict[int, int] = {}
        for function in document["frame"]:
            if function >= 0 and function not in renumber:
                renumber[function] = len(renumber)
        document["frame"] = [renumber[f] if f >= 0 else f for f in document["frame"]]
        ordered = sorted(renumber, key=renumber.__getitem__)
        document["frames"] = {"name": [names[f][0] for f in ordered], "file": [names[f][1] for f in ordered],
                              "line": [self.lines[f] for f in ordered]}
        document["views"] = [{"label": "All threads", "base_samples": base["samples"],
                              "head_samples": head["samples"]}]
        if len(self.views) > 1:
            for label, nodes in self.views.items():
                placed = sorted((order_of[node], counts) for node, counts in nodes.items())
                document["views"].append({
                    "label": label, "base_samples": self.view_samples[label][0],
                    "head_samples": self.view_samples[label][1],
                    "node": [node for node, _ in placed], "base_self": [counts[0] for _, counts in placed],
                    "head_self": [counts[1] for _, counts in placed],
                })
        return document


def diff_tree(base: Profile, head: Profile) -> dict[str, Any]:
    """The merged tree of two function-level profiles (see the module docstring)."""
    merged = _MergedTree()
    for side, profile in ((1, head), (0, base)):  # head first: its lines win
        function_of = [merged.function(frame.function_key, frame.line) for frame in profile.frames]
        node_of_stack: dict[int, int] = {}
        for thread in profile.threads:
            view = merged.thread(thread_label(thread), side, thread.sample_count)
            for stack_id, count in thread.stack_counts().items():
                node = node_of_stack.get(stack_id)
                if node is None:
                    node = 0
                    for frame_index in profile.stacks[stack_id]:
                        node = merged.child(node, function_of[frame_index])
                    node_of_stack[stack_id] = node
                merged.selves[node][side] += count
                view.setdefault(node, [0, 0])[side] += count
    return merged.document(_side(base), _side(head))


def readable_flame_tree(document: Any) -> bool:
    """Whether ``document`` is a flame.json this module can merge (see :func:`diff_tree_from_flame`)."""
    return (isinstance(document, dict) and document.get("format") == "flamedeck-flame-tree"
            and document.get("version") == 1)


def diff_tree_from_flame(base: dict[str, Any], head: dict[str, Any], level: str = "function") -> dict[str, Any]:
    """The same merged tree from two reports' ``flame.json`` documents (their trees of ``level``,
    "function" or "line", already aggregated): far cheaper than reading two profiles, which it needs not."""
    return merge_flame_trees(base, head, level)


def thread_label(thread: Thread) -> str:
    """A thread's name as flame.json's views give it, so that both roads name threads alike."""
    return clean_text(thread.label) or "(unnamed thread)"


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
