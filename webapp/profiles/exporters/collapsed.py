"""Collapsed ("folded") stacks: one ``root;caller;leaf count`` line per distinct stack.

The text format of Brendan Gregg's flamegraph.pl, inferno, speedscope and
py-spy's ``--format raw``. Counts are whole samples, summed over threads
(or per thread with ``per_thread=True``, which puts the thread's label in
front as an extra root frame). Lines are sorted, so output is deterministic.

Frame text is ``name (file:line)`` as py-spy writes it, ``name (file)`` when
the line is unknown and just ``name`` when the file is too. Function-level
frames by default: the line is then the function's definition line where the
script's source told us (``Profile.definition_lines``), else the smallest line
sampled in it.

Escaping, because the format has no quoting: inside a frame's text

* ``;`` (the frame separator) becomes ``:``;
* every line break - ``\\n``, ``\\r`` and the other characters
  :meth:`str.splitlines` splits on - becomes a space.

The count is always after the last space of a line, so spaces in names are safe.
Samples with an empty stack (py-spy writes a few, e.g. while a thread starts)
have no line.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain
from typing import BinaryIO

import numpy as np

from webapp.profiles.exporters.base import Exporter
from webapp.profiles.model import Frame, Profile
from webapp.profiles.kernels import text
from webapp.profiles.stack_arrays import blocks
from webapp.profiles.stack_tree import build, frame_ranks

FRAME_SEPARATOR = ";"
SEPARATOR_BYTES = FRAME_SEPARATOR.encode()
SEPARATOR_STAND_IN = ":"
JOIN_FRAMES = 1 << 16  # frames written as text at a time (see _write_sorted): about 3 MB, cache-sized
LINE_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def escape(text: str) -> str:
    """Make ``text`` safe inside one frame of a collapsed line (see module docstring)."""
    return LINE_BREAKS.sub(" ", text.replace(FRAME_SEPARATOR, SEPARATOR_STAND_IN))


def frame_text(frame: Frame) -> str:
    """``name (file:line)``, shortened when file or line is unknown; escaped."""
    if frame.file and frame.line:
        text = f"{frame.name} ({frame.file}:{frame.line})"
    elif frame.file:
        text = f"{frame.name} ({frame.file})"
    else:
        text = frame.name
    return escape(text)


class CollapsedExporter(Exporter):
    """Profile -> ``*.collapsed.txt``; function-level frames unless ``line_level``."""

    name = "collapsed"
    file_suffix = ".collapsed.txt"
    media_type = "text/plain; charset=utf-8"

    def __init__(self, line_level: bool = False, per_thread: bool = False):
        super().__init__(line_level)
        self.per_thread = per_thread

    def write(self, profile: Profile, out: BinaryIO) -> None:
        """One ``frame;frame;frame count`` line per distinct stack, sorted."""
        source = self.frames_of(profile)
        # Bytes all the way: a million-sample profile gives hundreds of MB of text,
        # and each str -> bytes copy of it would cost as much again in memory.
        labels = [frame_text(frame).encode() for frame in source.frames]
        if self.per_thread:
            out.write(_render_per_thread(source, labels))
        else:
            _write_sorted(out, source, labels, source.stack_weights())


def _write_sorted(out: BinaryIO, profile: Profile, labels: list[bytes], weights: np.ndarray) -> None:
    """The lines of the stacks with weight, sorted as bytes.

    The call tree with siblings ordered by label lists the paths in the order of
    their texts, as long as no label is a proper prefix of another (``"f"`` and
    ``"f (x.py)"`` would interleave with ";"); it also merges paths that escaping
    made equal. The lines' text is then written by a compiled loop
    (:mod:`webapp.profiles.kernels.text`), a block at a time.
    """
    distinct = sorted(set(labels))
    if any(b.startswith(a) for a, b in zip(distinct, distinct[1:])):
        out.write(_render_by_text(profile, labels, weights))
        return
    label_rank = {label: rank for rank, label in enumerate(distinct)}
    frames, starts, lengths = profile.stacks.arrays()
    used = np.flatnonzero(weights)
    rank = [label_rank[label] for label in labels]
    if len(distinct) == len(labels) and rank == frame_ranks(profile.frames):
        tree = profile.call_tree()  # labels sort like (name, file, line): the shared tree will do
    else:
        tree = build(frames, starts[used], lengths[used], used, len(weights), np.array(rank, dtype=np.int64))
    leaves = tree.leaf[used]
    del tree  # only the order of the lines is needed from it: free it before the text exists
    keep = lengths[used] > 0  # an empty stack has no line
    used, leaves = used[keep], leaves[keep]
    order = np.argsort(leaves, kind="stable")  # pre-order: the lines' text order
    used, leaves = used[order], leaves[order]
    first = np.concatenate(([True], leaves[1:] != leaves[:-1])) if len(leaves) else np.zeros(0, bool)
    line_of = np.cumsum(first) - 1
    totals = np.bincount(line_of, weights=weights[used], minlength=int(first.sum())).astype(np.int64)
    chosen = used[first]
    del used, leaves, order, first, line_of
    texts = np.frombuffer(b"".join(labels), dtype=np.uint8)
    text_ends = np.cumsum(np.fromiter(map(len, labels), dtype=np.int64, count=len(labels)))
    # A block of lines at a time, each handed on at once: the whole text never has to
    # exist in memory.
    for part in blocks(lengths[chosen], JOIN_FRAMES):
        out.write(text.stack_text(texts, text_ends, frames, starts, lengths, chosen[part],
                                  SEPARATOR_BYTES, b"", b" ", b"", totals[part]))


def _render_by_text(profile: Profile, labels: list[bytes], weights: np.ndarray) -> bytes:
    """The plain way: every line's text built, then sorted (for labels that prefix others)."""
    totals: Counter[bytes] = Counter()  # escaping may make two stacks one line: sum them
    for stack_id in np.flatnonzero(weights).tolist():
        path = SEPARATOR_BYTES.join(map(labels.__getitem__, profile.stacks[stack_id]))
        if path:
            totals[path] += int(weights[stack_id])
    ordered = sorted(totals)  # UTF-8 bytes sort like their text
    return b"".join(chain.from_iterable((path, b" %d\n" % totals[path]) for path in ordered))


def _render_per_thread(profile: Profile, labels: list[bytes]) -> bytes:
    """Each thread's stacks under its label as an extra root frame, all lines sorted."""
    totals: Counter[bytes] = Counter()
    paths = {}
    for position, thread in enumerate(profile.threads):
        prefix = escape(thread.label or f"Thread {position + 1}").encode() + SEPARATOR_BYTES
        for stack_id, count in thread.stack_counts().items():
            if stack_id not in paths:
                paths[stack_id] = SEPARATOR_BYTES.join(map(labels.__getitem__, profile.stacks[stack_id]))
            if paths[stack_id]:
                totals[prefix + paths[stack_id]] += count
    del paths
    ordered = sorted(totals)
    return b"".join(chain.from_iterable((path, b" %d\n" % totals[path]) for path in ordered))
