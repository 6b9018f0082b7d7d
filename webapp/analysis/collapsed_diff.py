"""The diff of two collapsed-stack files, in the format FlameGraph's ``difffolded.pl`` writes.

Input: two collapsed ("folded") files, ``frame;frame;frame count`` per line. Output: one
line per stack found in either, ``stack base_count head_count``, a count being 0 where the
stack is absent from that file - what ``difffolded.pl base head`` prints, so the result can go
straight into ``flamegraph.pl`` (and ``--negate`` for the other view) by FlameGraph users.

A line is read as difffolded.pl reads it: the count is the number after the line's last
whitespace character (a whole number, or a decimal), the stack everything before that
character; counts of a stack listed twice add up. Lines without a count are skipped
(difffolded.pl would count them under an empty stack with a warning). We sort the lines
(difffolded.pl prints them in Perl's hash order), so the same pair always gives the same bytes.
``normalize=True`` is difffolded.pl's ``-n``: base counts scaled to the head's total,
truncated to whole numbers.
"""

from __future__ import annotations

import re
from collections import defaultdict

FOLDED_LINE = re.compile(rb"^(.*)\s(\d+(?:\.\d*)?)$", re.DOTALL)


def read_folded(data: bytes) -> dict[bytes, float]:
    """Count per stack of a collapsed file (bytes in, bytes out: frame names stay as written)."""
    counts: dict[bytes, float] = defaultdict(int)
    for line in data.splitlines():
        match = FOLDED_LINE.match(line)
        if match:
            counts[match.group(1)] += _number(match.group(2))
    return counts


def diff_folded(base: bytes, head: bytes, *, normalize: bool = False) -> bytes:
    """``stack base head`` lines for every stack of either file, sorted by stack."""
    old, new = read_folded(base), read_folded(head)
    old_total, new_total = sum(old.values()), sum(new.values())
    lines = []
    for stack in sorted(old.keys() | new.keys()):
        before, after = old.get(stack, 0), new.get(stack, 0)
        if normalize and old_total != new_total and old_total:
            before = int(before * new_total / old_total)
        lines.append(b"%s %s %s\n" % (stack, _text(before), _text(after)))
    return b"".join(lines)


def _number(text: bytes) -> float:
    return int(text) if text.isdigit() else float(text)


def _text(count: float) -> bytes:
    """Whole counts as integers, others as Perl prints a number (up to 15 significant digits)."""
    if float(count).is_integer():
        return b"%d" % count
    return (b"%.15g" % count)
