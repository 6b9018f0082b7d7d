"""Flame tree exporter: the compact, pre-aggregated tree the in-page flamegraph draws.

One JSON document (``flame.json``) holds everything the browser needs to switch
thread, process and "group by function / line" without another request, and
nothing per sample:

    {
      "format": "flamedeck-flame-tree", "version": 1,
      "name": "script.py", "interval_s": 0.01, "sample_count": 1000000,
      "origins": ["script", "stdlib", "site-packages", "native"],
      "files":  ["", "/usr/lib/python3.11/json/decoder.py", ...],
      "frames": {"name": [...], "file": [index into files], "line": [...],
                 "origin": [index into origins], "defined": [0 or 1]},
      "trees":  {"function": {"depth": [...], "frame": [...]},
                 "line":     {"depth": [...], "frame": [...]}},
      "views":  [{"id": "all", "label": "All threads", "kind": "all", "samples": 1000000,
                  "function": {"node": [...], "self": [...]},
                  "line":     {"node": [...], "self": [...]}}, ...]
    }

Each of the two trees is the call tree of *all* threads as flat arrays in
depth-first pre-order: node 0 is the root (depth 0, frame -1), a node's
children follow it with depth + 1, ordered by function name, then file, then line.
A view (all threads, one process, one thread) gives, per tree, the nodes where
its samples end (``node``, ascending) and how many (``self``). A node's total is
its self plus its children's totals; a thread's tree is the nodes of the shared
tree whose total in that thread is not zero, in the same order. Sharing one
structure keeps the document small: per-thread trees cost only their leaves.

A frame's ``line`` in the "line" tree is the line sampled; in the "function" tree it
is the function's definition line when ``defined`` is 1 (read from the script's
source), else only the first line sampled in it.
:func:`dense_view` spells out the reading rule (the browser does the same).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

from webapp.profiles.exporters.base import Exporter
from webapp.profiles.model import Frame, Profile, Thread

ORIGINS = ("script", "stdlib", "site-packages", "native")
SCRIPT, STDLIB, SITE_PACKAGES, NATIVE = range(len(ORIGINS))
ROOT_FRAME = -1  # the frame index of every tree's root node
LEVELS = ("function", "line")

_SITE_PACKAGES = re.compile(r"[/\\](site|dist)-packages[/\\]")
# CPython's stdlib: .../lib/python3.11/... (POSIX) or ...\Python311\Lib\... (Windows).
_STDLIB = re.compile(r"[/\\]lib(64)?[/\\]python\d+(\.\d+)?t?[/\\]|[/\\]python\d+[/\\]lib[/\\]", re.I)
_NATIVE_FILE = re.compile(r"\.(so(\.\d+)*|dylib|dll|pyd|c|h|cc|cpp|cxx|rs|s)$", re.I)
# Control characters (not allowed in XML 1.0, confusing in labels) and surrogates:
# a Python str only holds a surrogate code point when it is unpaired, and unencodable.
_UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class OriginClassifier:
    """Sorts a frame's file into one of :data:`ORIGINS`.

    With ``script_file`` only that file is "script" and other unrecognised files
    are "native" (shown as "native / unknown"); without it (an imported profile)
    any source file outside the interpreter's directories counts as the program's.
    """

    def __init__(self, script_file: str | Iterable[str] | None = None) -> None:
        # A project has several files of its own: all of them are "script" (the user's code).
        given = [script_file] if isinstance(script_file, str) else list(script_file or ())
        self.script_files = frozenset(path.replace("\\", "/") for path in given if path)
        self.script_file = min(self.script_files) if self.script_files else None

    def origin(self, file: str) -> int:
        """The index into :data:`ORIGINS` of code living in ``file``."""
        if not file:
            return NATIVE
        path = file.replace("\\", "/")
        if self.script_file and self._is_script(path):
            return SCRIPT
        if _SITE_PACKAGES.search(file):
            return SITE_PACKAGES
        if _STDLIB.search(file) or path.startswith("<frozen "):
            return STDLIB
        if _NATIVE_FILE.search(path) or path.startswith("<"):
            return NATIVE
        return NATIVE if self.script_file else SCRIPT

    def _is_script(self, path: str) -> bool:
        if path in self.script_files:
            return True
        # A bare file name ("bench.py") matches wherever the script ran from.
        return any("/" not in script and path.endswith("/" + script) for script in self.script_files)


def clean_text(text: str) -> str:
    """``text`` made safe to encode: lone surrogates and control characters replaced."""
    return _UNSAFE_TEXT.sub("\N{REPLACEMENT CHARACTER}", text)


def frame_ranks(frames: Sequence[Frame]) -> list[int]:
    """Each frame's position when sorted by (name, file, line): the order of siblings."""
    order = sorted(range(len(frames)), key=lambda i: (frames[i].name, frames[i].file, frames[i].line))
    rank = [0] * len(frames)
    for position, index in enumerate(order):
        rank[index] = position
    return rank


@dataclass(slots=True)
class CallTree:
    """A call tree as flat pre-order arrays, plus the node where each stack ends."""

    depth: list[int]
    frame: list[int]
    parent: list[int]
    leaf: dict[int, int]  # stack id -> node index

    def selves(self, counts: Counter[int]) -> dict[int, int]:
        """Samples ending in each node, for ``counts`` (stack id -> samples)."""
        ending: dict[int, int] = {}
        for stack_id, count in counts.items():
            if count:
                node = self.leaf[stack_id]
                ending[node] = ending.get(node, 0) + count
        return ending

    def totals(self, selves: dict[int, int]) -> list[int]:
        """Samples passing through each node: children come after parents, so sum backwards."""
        total = [0] * len(self.depth)
        for node, count in selves.items():
            total[node] = count
        parent = self.parent
        for node in range(len(total) - 1, 0, -1):
            total[parent[node]] += total[node]
        return total


def build_tree(stacks: Sequence[tuple[int, ...]], stack_ids: Iterable[int], rank: Sequence[int]) -> CallTree:
    """The call tree of the given stacks (root first), siblings ordered by ``rank``.

    Sorting the stacks by their frames' ranks puts every prefix before its
    extensions, so one pass over the sorted stacks emits nodes in pre-order:
    a stack shares its first ``p`` nodes with the previous one and adds the rest.
    """
    by_rank = [0] * len(rank)
    for frame, position in enumerate(rank):
        by_rank[position] = frame
    keyed = sorted((tuple(map(rank.__getitem__, stacks[sid])), sid) for sid in stack_ids)
    depth, frame, parent, leaf = [0], [ROOT_FRAME], [-1], {}
    path = [0]  # node indexes from the root down to the previous stack's leaf
    previous: tuple[int, ...] = ()
    for key, stack_id in keyed:
        shared = _common_prefix_length(previous, key)
        del path[shared + 1:]
        added = len(key) - shared
        if added:
            first = len(frame)
            depth.extend(range(shared + 1, shared + 1 + added))
            frame.extend(map(by_rank.__getitem__, key[shared:]))
            parent.append(path[-1])
            parent.extend(range(first, first + added - 1))  # each new node is the next one's parent
            path.extend(range(first, first + added))
        leaf[stack_id] = path[-1]
        previous = key
    return CallTree(depth, frame, parent, leaf)


def _common_prefix_length(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """How many leading items ``a`` and ``b`` share: a binary search of slice comparisons,
    which run in C, instead of a Python loop over every frame."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class FlameTreeExporter(Exporter):
    """Renders a Profile as ``flame.json`` for ``static/js/flamegraph.js``.

    Both levels are always in the document, so ``line_level`` is not an option here.
    """

    name = "flame-tree"
    file_suffix = ".flame.json"
    media_type = "application/json"

    def __init__(self, script_file: str | Iterable[str] | None = None) -> None:
        super().__init__(line_level=False)
        self.classifier = OriginClassifier(script_file)

    def render(self, profile: Profile) -> bytes:
        """The flame tree document of ``profile`` as UTF-8 JSON."""
        return orjson.dumps(self.document(profile))

    def document(self, profile: Profile) -> dict:
        """The flame tree document as plain Python data (see the module docstring)."""
        table = _FrameTable(self.classifier, profile.definition_lines)
        members_of_views = _views(profile)
        views = [{**view, "samples": sum(profile.threads[i].sample_count for i in members)}
                 for view, members in members_of_views]
        trees = {}
        for level, leveled in (("function", profile.function_level()), ("line", profile)):
            output_frame = [table.add(frame) for frame in leveled.frames]
            per_thread = [thread.stack_counts() for thread in leveled.threads]
            used = set().union(*per_thread) if per_thread else set()
            tree = build_tree(leveled.stacks, used, frame_ranks(leveled.frames))
            trees[level] = {
                "depth": tree.depth,
                "frame": [ROOT_FRAME] + [output_frame[f] for f in tree.frame[1:]],
            }
            for view, (_, members) in zip(views, members_of_views):
                counts: Counter[int] = Counter()
                for index in members:
                    counts.update(per_thread[index])
                ending = sorted(tree.selves(counts).items())
                view[level] = {"node": [node for node, _ in ending], "self": [count for _, count in ending]}
        return {
            "format": "flamedeck-flame-tree",
            "version": 1,
            "name": clean_text(profile.name),
            "interval_s": profile.interval_s,
            "sample_count": profile.sample_count,
            "origins": list(ORIGINS),
            "files": table.files,
            "frames": table.columns,
            "trees": trees,
            "views": views,
        }


def dense_view(document: dict, view_index: int, level: str) -> dict:
    """One view's own tree, as flat pre-order arrays depth, frame, self, total.

    The reference reading of the format: totals are summed from the selves, and
    the nodes no sample of the view passes through are left out.
    """
    shared, view = document["trees"][level], document["views"][view_index][level]
    depth = shared["depth"]
    own = [0] * len(depth)
    for node, count in zip(view["node"], view["self"]):
        own[node] = count
    parent, last_at_depth = [-1] * len(depth), {}
    for node, d in enumerate(depth):
        parent[node] = last_at_depth.get(d - 1, -1)
        last_at_depth[d] = node
    total = list(own)
    for node in range(len(depth) - 1, 0, -1):  # children come after their parent
        total[parent[node]] += total[node]
    keep = [node for node in range(len(depth)) if node == 0 or total[node]]
    return {
        "depth": [depth[n] for n in keep],
        "frame": [shared["frame"][n] for n in keep],
        "self": [own[n] for n in keep],
        "total": [total[n] for n in keep],
    }


def _views(profile: Profile) -> list[tuple[dict, list[int]]]:
    """(view description, thread indexes) for "All threads", each process, each thread."""
    everything = list(range(len(profile.threads)))
    views = [({"id": "all", "label": "All threads", "kind": "all"}, everything)]
    processes: dict[str, list[int]] = {}
    for index, thread in enumerate(profile.threads):
        processes.setdefault(thread.process, []).append(index)
    if len(processes) > 1:
        for number, (process, members) in enumerate(processes.items()):
            label = clean_text(process) or "(no process)"
            views.append(({"id": f"process-{number}", "label": label, "kind": "process"}, members))
    for index, thread in enumerate(profile.threads):
        views.append(({"id": f"thread-{index}", "label": _thread_label(thread), "kind": "thread"}, [index]))
    return views


def _thread_label(thread: Thread) -> str:
    return clean_text(thread.label) or "(unnamed thread)"


class _FrameTable:
    """The output frames table, shared by the function- and line-level trees."""

    def __init__(self, classifier: OriginClassifier, definition_lines: dict[tuple[str, str], int]) -> None:
        self.classifier = classifier
        self.definition_lines = definition_lines
        self.files: list[str] = []
        self.columns: dict[str, list] = {"name": [], "file": [], "line": [], "origin": [], "defined": []}
        self._file_index: dict[str, int] = {}
        self._frame_index: dict[Frame, int] = {}

    def add(self, frame: Frame) -> int:
        """The frame's row in the table, added on first sight."""
        index = self._frame_index.get(frame)
        if index is None:
            index = self._frame_index[frame] = len(self.columns["name"])
            file_index = self._file_index.get(frame.file)
            if file_index is None:
                file_index = self._file_index[frame.file] = len(self.files)
                self.files.append(clean_text(frame.file))
            self.columns["name"].append(clean_text(frame.name))
            self.columns["file"].append(file_index)
            self.columns["line"].append(frame.line)
            self.columns["origin"].append(self.classifier.origin(frame.file))
            self.columns["defined"].append(int(frame.function_key in self.definition_lines))
        return index
