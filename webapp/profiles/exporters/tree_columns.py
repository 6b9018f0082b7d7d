"""One level of a report's flame tree as numpy columns: what the diff merge reads.

``flame.json`` holds both trees (by function and by line) and every frame, as JSON: reading
it back costs a 36 MB parse for a long run, most of it for the tree the merge does not use.
:class:`TreeColumns` is one tree alone, laid out as the merge reads it: level by level (all
nodes of depth 1, in pre-order, then depth 2 ...), each node with its parent's index in the
level above; with only the frames it uses, numbered in the order a depth-first walk meets
them, so the merge can register functions in table order.

It comes from a flame document (:func:`tree_columns`, parsed ``flame.json`` or a fresh
document with numpy columns) or from its binary form (:func:`encode` / :func:`decode`),
which a report keeps for its function tree (``function-tree.bin``, see
:mod:`.function_tree`): a magic line, a JSON header (frames, views, array layout), then
the raw little-endian arrays, each padded to 8 bytes. Loading it is a header parse and
``np.frombuffer`` per column, no per-node parsing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
import orjson

from webapp.profiles.kernels import tree as tree_kernels

ROOT_FRAME = -1
MAGIC = b"flamedeck-tree-columns 1\n"
HEADER_LENGTH = struct.Struct("<I")  # bytes of the JSON header that follows it
ALIGN_BYTES = 8  # each array starts at a multiple of this, so frombuffer reads it aligned


class TreeColumnsError(ValueError):
    """Stored tree columns that cannot be read (damaged or of another format)."""


@dataclass
class TreeView:
    """Where one view's samples end (nodes, level by level) and how many (ints, or floats for weights)."""

    kind: str  # "all", "process" or "thread", as in flame.json
    label: str
    samples: int | float
    node: np.ndarray
    self: np.ndarray


@dataclass
class TreeColumns:
    """One call tree level by level: how many nodes each depth has, each node's parent (its index
    in the level above; -1 for the root) and frame; the frames it uses (numbered by first
    appearance in pre-order); the report's name, interval and sample count; its views."""

    level: str  # "function": a frame is (name, file); "line": (name, file, line)
    name: str
    interval_s: float
    sample_count: int | float
    names: list[str]
    files: list[str]  # per frame, the file's path
    lines: list[int]
    level_sizes: np.ndarray
    parent: np.ndarray
    frame: np.ndarray  # ROOT_FRAME for the root
    views: list[TreeView] = field(default_factory=list)

    def keys(self) -> list[tuple]:
        """Each frame's identity at this level: (name, file), by line (name, file, line)."""
        if self.level == "line":
            return list(zip(self.names, self.files, self.lines))
        return list(zip(self.names, self.files))


def tree_columns(document: dict, level: str) -> TreeColumns:
    """The tree of ``level`` ("function" or "line") of a flame document (format
    flamedeck-flame-tree, version 1), its frames renumbered by first appearance."""
    tree = document["trees"][level]
    frame = np.asarray(tree["frame"], dtype=np.int64)
    frames, files = document["frames"], document["files"]
    used = first_appearances(frame, len(frames["name"]))
    renumber = np.full(len(frames["name"]) + 1, ROOT_FRAME, dtype=np.int64)  # the last slot: the root's -1
    renumber[used] = np.arange(len(used))
    used_list = used.tolist()
    # Level by level: a node's parent is the last node one level up before it in pre-order.
    by_level, level_sizes, parent = tree_kernels.level_order(np.ascontiguousarray(tree["depth"], dtype=np.int32))
    where = np.empty(len(by_level), dtype=np.int64)  # pre-order node -> its place level by level
    where[by_level] = np.arange(len(by_level))
    return TreeColumns(
        level=level, name=document["name"], interval_s=document["interval_s"],
        sample_count=document["sample_count"],
        names=[frames["name"][i] for i in used_list],
        files=[files[frames["file"][i]] for i in used_list],
        lines=[frames["line"][i] for i in used_list],
        level_sizes=level_sizes,
        parent=parent, frame=renumber[frame[by_level]],
        views=[TreeView(view["kind"], view["label"], view["samples"], where[_ints(view[level]["node"])],
                        _counts(view[level]["self"])) for view in document["views"]],
    )


def first_appearances(values: np.ndarray, limit: int) -> np.ndarray:
    """The distinct values in [0, limit) of ``values``, in the order they first occur (no sort of it all)."""
    first = np.full(limit, len(values), dtype=np.int64)
    present = values >= 0
    np.minimum.at(first, values[present], np.flatnonzero(present))
    seen = np.flatnonzero(first < len(values))
    return seen[np.argsort(first[seen])]


def encode(columns: TreeColumns) -> bytes:
    """The binary form of ``columns`` (see the module docstring); the same columns give the same bytes."""
    file_index: dict[str, int] = {}
    for path in columns.files:
        file_index.setdefault(path, len(file_index))
    # Parents ascend within a level: stored as steps (mostly 0 or 1), which compress to almost
    # nothing, so that reading the file back is mostly decompressing the frames.
    steps = np.diff(np.asarray(columns.parent, dtype=np.int64), prepend=0)
    steps[_level_starts(columns.level_sizes)] = np.asarray(columns.parent)[_level_starts(columns.level_sizes)]
    frame_type = "<u2" if len(columns.names) < 1 << 16 else "<i4"  # ROOT_FRAME's -1 is written as 65535
    arrays = [("level_sizes", np.asarray(columns.level_sizes, dtype="<i4")), ("parent_steps", steps.astype("<i4")),
              ("frame", np.asarray(columns.frame).astype(frame_type))]
    for number, view in enumerate(columns.views):
        arrays.append((f"view-{number}-node", np.asarray(view.node, dtype="<i4")))
        arrays.append((f"view-{number}-self", np.asarray(view.self, dtype="<f8" if view.self.dtype.kind == "f"
                                                         else "<i8")))
    header = {
        "level": columns.level, "name": columns.name, "interval_s": columns.interval_s,
        "sample_count": columns.sample_count, "files": list(file_index),
        "frames": {"name": columns.names, "file": [file_index[path] for path in columns.files],
                   "line": columns.lines},
        "views": [{"kind": view.kind, "label": view.label, "samples": view.samples} for view in columns.views],
        "arrays": [{"name": name, "dtype": array.dtype.str, "count": len(array)} for name, array in arrays],
    }
    parts = [MAGIC]
    header_bytes = orjson.dumps(header)
    parts += [HEADER_LENGTH.pack(len(header_bytes)), header_bytes, _padding(len(MAGIC) + HEADER_LENGTH.size
                                                                          + len(header_bytes))]
    for _, array in arrays:
        data = array.tobytes()
        parts += [data, _padding(len(data))]
    return b"".join(parts)


def decode(data: bytes) -> TreeColumns:
    """The columns :func:`encode` wrote; :class:`TreeColumnsError` for anything else."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + HEADER_LENGTH.size:
        raise TreeColumnsError("This is not a flamedeck tree-columns file.")
    (length,) = HEADER_LENGTH.unpack_from(data, len(MAGIC))
    start = len(MAGIC) + HEADER_LENGTH.size
    try:
        header = orjson.loads(data[start:start + length])
        offset = start + length + len(_padding(start + length))
        arrays = {}
        for item in header["arrays"]:
            dtype = np.dtype(item["dtype"])
            if dtype.kind not in "iuf":
                raise TreeColumnsError(f"A tree column has an unexpected type ({item['dtype']}).")
            size = dtype.itemsize * item["count"]
            if offset + size > len(data):
                raise TreeColumnsError("The tree-columns file is cut short.")
            arrays[item["name"]] = np.frombuffer(data, dtype=dtype, count=item["count"], offset=offset)
            offset += size + len(_padding(size))
        files, frames = header["files"], header["frames"]
        level_sizes = arrays["level_sizes"]
        steps = arrays["parent_steps"].astype(np.int64)
        parent = np.cumsum(steps)  # each level restarts from its first node's parent, stored as it is
        starts = _level_starts(level_sizes)
        parent -= np.repeat(parent[starts] - steps[starts], level_sizes)
        frame = arrays["frame"].astype(np.int64)
        if arrays["frame"].dtype.itemsize == 2:
            frame[frame == (1 << 16) - 1] = ROOT_FRAME
        return TreeColumns(
            level=header["level"], name=header["name"], interval_s=header["interval_s"],
            sample_count=header["sample_count"], names=frames["name"], files=[files[i] for i in frames["file"]],
            lines=frames["line"], level_sizes=level_sizes, parent=parent, frame=frame,
            views=[TreeView(view["kind"], view["label"], view["samples"], arrays[f"view-{number}-node"],
                            arrays[f"view-{number}-self"]) for number, view in enumerate(header["views"])],
        )
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError) as error:
        if isinstance(error, TreeColumnsError):
            raise
        raise TreeColumnsError(f"The tree-columns file is damaged ({type(error).__name__}).") from None


def _level_starts(level_sizes: np.ndarray) -> np.ndarray:
    """Where each level starts, its nodes laid end to end."""
    sizes = np.asarray(level_sizes, dtype=np.int64)
    return (np.cumsum(sizes) - sizes)[sizes > 0]


def _ints(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _counts(values) -> np.ndarray:
    """Sample counts as a JSON list gave them: integers, unless one has a fraction."""
    array = np.asarray(values)
    return array if len(array) and array.dtype.kind in "iuf" else array.astype(np.int64)


def _padding(length: int) -> bytes:
    return b"\0" * (-length % ALIGN_BYTES)
