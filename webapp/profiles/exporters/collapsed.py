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

from webapp.profiles.exporters.base import Exporter
from webapp.profiles.model import Frame, Profile

FRAME_SEPARATOR = ";"
SEPARATOR_BYTES = FRAME_SEPARATOR.encode()
SEPARATOR_STAND_IN = ":"
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

    def render(self, profile: Profile) -> bytes:
        """One ``frame;frame;frame count`` line per distinct stack, sorted."""
        source = self.frames_of(profile)
        # Bytes all the way: a million-sample profile gives tens of MB of text,
        # and each str -> bytes copy of it would cost as much again in memory.
        labels = [frame_text(frame).encode() for frame in source.frames]
        paths = [SEPARATOR_BYTES.join(map(labels.__getitem__, stack)) for stack in source.stacks]
        totals: Counter[bytes] = Counter()  # escaping may make two stacks one line: sum them
        if self.per_thread:
            for position, thread in enumerate(source.threads):
                prefix = escape(thread.label or f"Thread {position + 1}").encode() + SEPARATOR_BYTES
                for stack_id, count in thread.stack_counts().items():
                    if paths[stack_id]:
                        totals[prefix + paths[stack_id]] += count
        else:
            for stack_id, count in source.stack_counts().items():
                if paths[stack_id]:
                    totals[paths[stack_id]] += count
        del paths
        ordered = sorted(totals)  # UTF-8 bytes sort like their text
        return b"".join(chain.from_iterable((path, b" %d\n" % totals[path]) for path in ordered))
