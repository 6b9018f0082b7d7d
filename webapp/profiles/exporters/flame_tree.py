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
from collections.abc import Iterable

import numpy as np
import orjson

from webapp.profiles.exporters.base import Exporter
from webapp.profiles.model import Frame, Profile, Thread
from webapp.profiles.stack_tree import ROOT_FRAME, frame_ranks

__all__ = ["ROOT_FRAME", "FlameTreeExporter", "OriginClassifier", "clean_text", "dense_view", "frame_ranks"]

ORIGINS = ("script", "stdlib", "site-packages", "native")
SCRIPT, STDLIB, SITE_PACKAGES, NATIVE = range(len(ORIGINS))
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
        return orjson.dumps(self.document(profile), option=orjson.OPT_SERIALIZE_NUMPY)

    def document(self, profile: Profile, levels: tuple[str, ...] = ("function", "line")) -> dict:
        """The flame tree document (see the module docstring): Python data, with the long
        per-node columns as numpy arrays, which orjson writes without a Python int each.
        ``levels`` leaves out a tree that is not wanted (the function tree exporter's)."""
        table = _FrameTable(self.classifier, profile.definition_lines)
        members_of_views = _views(profile)
        views = [{**view, "samples": sum(profile.threads[i].sample_count for i in members)}
                 for view, members in members_of_views]
        trees = {}
        for level in levels:
            leveled = profile.function_level() if level == "function" else profile
            output_frame = np.array([table.add(frame) for frame in leveled.frames], dtype=np.int64)
            tree = leveled.call_tree()
            trees[level] = {
                "depth": tree.depth,
                "frame": np.concatenate(([ROOT_FRAME], output_frame[tree.frame[1:]])),
            }
            per_thread = [leveled.stack_weights([thread]) for thread in leveled.threads]
            for view, (_, members) in zip(views, members_of_views):
                ending, selves = tree.ending_selves(
                    sum((per_thread[index] for index in members), np.zeros(len(leveled.stacks), np.int64)))
                view[level] = {"node": ending, "self": selves}
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
