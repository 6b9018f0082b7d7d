"""Collapsed ("folded") stacks: ``root;caller;leaf count`` per line.

Brendan Gregg's format, read by flamegraph.pl and inferno and written by their
``stackcollapse-*`` scripts, by ``py-spy record --format raw`` and by our own
collapsed download. Tolerated variants:

* counts with decimals (``a;b 0.5``: inferno and some converters write them);
* frames annotated the flamegraph.pl way, ``name_[k]`` (kernel), ``_[j]`` (JIT),
  ``_[i]`` (inlined), ``_[w]`` (waker): the annotation is removed from the name
  and a kernel frame's file says ``[kernel]``;
* frames written ``name (file:line)`` (py-spy, our export) become a frame with
  that file and line;
* a line with only a count (py-spy writes one for samples without a stack);
* blank lines and ``#`` comments.
"""

from __future__ import annotations

import re

from webapp.profiles.importers.base import Importer, name_from_filename
from webapp.profiles.importers.building import ProfileBuilder, split_located_name
from webapp.profiles.model import Profile

LABEL = "collapsed-stack"
LINE = re.compile(rb"^(.*?)[ \t]+([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)$")
COUNT_ONLY = re.compile(rb"^[ \t]*[0-9]+(?:\.[0-9]+)?$")
ANNOTATION = re.compile(r"_\[([kjiw])\]$")
SNIFF_LINES = 20
DEFAULT_INTERVAL_S = 0.01  # a collapsed file does not say how long a sample is


class CollapsedImporter(Importer):
    name = "collapsed"
    description = "collapsed stacks (flamegraph.pl / inferno input, `py-spy record --format raw`)"
    label = LABEL

    def recognizes(self, data: bytes, filename: str = "") -> bool:
        """Most of its first lines are ``stack count`` lines, at least one with a ``;``
        (a damaged line further on is then reported, not taken for another format)."""
        lines = [line for line in _lines(data[:16 * 1024])[:SNIFF_LINES] if line and not line.startswith(b"#")]
        if len(data) > 16 * 1024 and len(lines) > 1:
            lines = lines[:-1]  # the last one may be cut by the sniffing window
        good = [line for line in lines if LINE.match(line) or COUNT_ONLY.match(line)]
        return any(b";" in line for line in good) and len(good) * 2 >= len(lines)

    def load(self, data: bytes, filename: str = "") -> Profile:
        """Lines are summed per distinct stack first (a collapsed file has no time order),
        so the per-line work is one split and one dict update."""
        builder = ProfileBuilder(LABEL, name_from_filename(filename))
        totals: dict[bytes, float] = {}
        for number, line in enumerate(_lines(data), start=1):
            if not line or line.startswith(b"#"):
                continue
            path, _, count_text = line.rpartition(b" ")
            if not path and b"\t" in count_text:
                path, _, count_text = count_text.rpartition(b"\t")
            try:
                count = float(count_text)
            except ValueError:
                raise builder.error(f"has a line without a count at its end (line {number})") from None
            if not count_text[:1].isdigit():  # float() also reads "nan", "-1", "inf"
                builder.check_weight(count)
                raise builder.error(f"has a count that is not a plain number (line {number})")
            path = path.rstrip()
            totals[path] = totals.get(path, 0.0) + count
        if not totals:
            raise builder.error("has no stack lines")
        thread = builder.thread("all", "all threads")
        for path, count in totals.items():
            builder.add(thread, builder.stack(_frames(builder, path)), count)
        return builder.build(DEFAULT_INTERVAL_S, integral=True)


def _lines(data: bytes) -> list[bytes]:
    return [line.strip() for line in data.removeprefix(b"\xef\xbb\xbf").splitlines()]


def _frames(builder: ProfileBuilder, path: bytes) -> tuple[int, ...]:
    try:
        text = path.decode("utf-8")
    except UnicodeDecodeError:
        text = path.decode("latin-1")
    frames = []
    for part in text.split(";") if text else []:
        if not part:
            continue
        file = ""
        annotation = ANNOTATION.search(part)
        if annotation:
            part = part[: annotation.start()]
            file = "[kernel]" if annotation.group(1) == "k" else ""
        name, located_file, line = split_located_name(part)
        frames.append(builder.frame(name, located_file or file, line))
    return tuple(frames)
